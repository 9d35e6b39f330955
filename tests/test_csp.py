"""Every page is served with its Content-Security-Policy (django-csp): scripts and requests
from the site only, no framing; and no template holds an inline script or handler."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.mark.parametrize("url", ["/", "/formations/", "/comptes/login/", "/metiers/", "/api/v1/schema/"])
def test_pages_carry_the_policy(client, analyst, url):
    client.force_login(analyst)
    response = client.get(url)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in re.search(r"script-src[^;]*", policy).group(0)


def test_the_api_docs_start_swagger_from_a_file(client, analyst):
    client.force_login(analyst)
    html = client.get(reverse("api:docs")).content.decode()
    assert re.search(r"<script[^>]+src=\"[^\"]*\?script", html)


def test_no_template_holds_an_inline_script_or_handler():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path}: {tag}"
        assert not re.search(r"\son[a-z]+=\"", text), path


def test_the_geo_assets_file_sets_an_empty_topology():
    """The map's empty world topology (no base map fetched from a CDN) now lives in a file."""
    text = (TEMPLATES.parent / "static" / "js" / "plotly-geo-assets.js").read_text(encoding="utf-8")
    assert "window.PlotlyGeoAssets" in text and "world_110m" in text
