"""The site's icon: linked from every page, served as a static file by whitenoise (no inline
script or style, the Content-Security-Policy stays as it is)."""

import pytest
from django.templatetags.static import static

pytestmark = pytest.mark.django_db


@pytest.fixture
def static_client(client, settings):
    # Whitenoise serves STATIC_ROOT after `collectstatic`; in tests it reads the static folders.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    return client


def test_the_favicon_is_served_as_svg(static_client):
    response = static_client.get(static("favicon.svg"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.lstrip().startswith(b"<svg") and b"<script" not in body and b"style=" not in body


def test_every_page_links_the_favicon(client):
    content = client.get("/").content.decode()
    assert f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">' in content
