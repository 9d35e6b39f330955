"""The one cache of what runs publish (observatory.published.cached): one key scheme by run,
methodology and parameters, read by every page that draws from a run, and no page keeping a
run's data in a cache of its own."""

import ast
from collections import namedtuple
from pathlib import Path

import pytest
from django.urls import reverse

from observatory import published, services
from observatory.models import Lens
from observatory.views import overview, runs

OBSERVATORY = Path(published.__file__).resolve().parent
Run = namedtuple("Run", ["pk", "methodology_id"])


def _counting(monkeypatch, module, name):
    """Replace `module.name` by the same function counting its calls."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


# --- The key and the cache ---------------------------------------------------------------------


def test_a_key_names_what_the_runs_their_methodology_and_the_sorted_parameters():
    key = published.cache_key("grid-heatmap", Run(12, 3), territory="departement:59", rows="section")
    assert key == "observatory:published:v1:grid-heatmap:12.3:rows=section&territory=departement%3A59"
    assert key == published.cache_key("grid-heatmap", Run(12, 3), rows="section", territory="departement:59")
    # Another methodology, run, page or value: another entry.
    others = {
        published.cache_key("grid-heatmap", Run(12, 4), territory="departement:59", rows="section"),
        published.cache_key("grid-heatmap", Run(13, 3), territory="departement:59", rows="section"),
        published.cache_key("map", Run(12, 3), territory="departement:59", rows="section"),
        published.cache_key("grid-heatmap", Run(12, 3), territory="departement:62", rows="section"),
        published.cache_key("run-comparison", Run(12, 3), Run(13, 3), territory="departement:59", rows="section"),
    }
    assert len(others) == 5 and key not in others


def test_a_parameter_cannot_pass_for_another():
    """Values are escaped: « a=1&b=2 » as one value is not the two parameters a and b."""
    assert published.cache_key("page", Run(1, 1), a="1&b=2") != published.cache_key("page", Run(1, 1), a="1", b="2")


def test_a_long_key_is_hashed_short_enough_for_any_cache():
    long_scope = "x" * 5_000
    key = published.cache_key("overview", Run(7, 2), scope=long_scope)
    assert len(key) < 250 and " " not in key
    assert key.startswith("observatory:published:v1:overview:7.2:sha256=")
    assert key != published.cache_key("overview", Run(7, 2), scope=long_scope + "y")


def test_an_entry_is_drawn_from_a_run():
    with pytest.raises(ValueError):
        published.cache_key("overview", scope="")


def test_an_entry_is_built_once_and_none_is_kept_like_any_value():
    built = []

    def build():
        built.append(1)
        return None

    assert published.cached("figure", Run(1, 1), code="M1607", build=build) is None
    assert published.cached("figure", Run(1, 1), code="M1607", build=build) is None
    assert len(built) == 1
    published.cached("figure", Run(1, 1), code="M1203", build=build)
    published.cached("figure", Run(2, 1), code="M1607", build=build)
    assert len(built) == 3


# --- The pages read it -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_overview_is_drawn_once_per_run_and_scope(client, analyst, hand_worked, monkeypatch):
    draws = _counting(monkeypatch, overview, "_draw_overview")
    services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    client.force_login(analyst)
    url = reverse("observatory:overview")
    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert first.context["total"] == again.context["total"]
    assert len(draws) == 1
    client.get(url, {"territory": "departement:59"})
    assert len(draws) == 2
    # A new edition is drawn afresh.
    services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    client.get(url)
    assert len(draws) == 3


@pytest.mark.django_db
def test_a_comparison_draws_its_summary_once_for_every_level(client, analyst, hand_worked, monkeypatch):
    summaries = _counting(monkeypatch, runs.selectors, "run_comparison_summary")
    frames = _counting(monkeypatch, runs.selectors, "run_comparison_frame")
    a = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    b = services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)
    client.force_login(analyst)
    url = reverse("observatory:run_compare")
    for rows in ("section", "division", "section"):
        response = client.get(url, {"a": a.pk, "b": b.pk, "rows": rows, "cols": "domaine"})
        assert response.status_code == 200
    assert len(summaries) == 1
    assert len(frames) == 2


# --- Nobody else keeps a run's data ------------------------------------------------------------

# The modules that may call the cache themselves, and what they keep: nothing drawn from a run.
OWN_CACHES = {
    "published.py": "the one cache",
    "selectors/grid.py": "the nomenclatures' labels",
    "selectors/map.py": "how many outlines are loaded",
    "selectors/runs.py": "the list of runs and its version",
    "provenance.py": "the sources of the reference data",
    "views/filter_form.py": "the filters' options (nomenclatures)",
    "views/grid.py": "the page's rendered fragments, keyed by run and parameters",
    "views/map.py": "the page's rendered fragment, keyed by run and parameters",
}


def _cache_calls(path: Path) -> list[int]:
    """Lines of `path` calling a method of an object named `cache`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "cache"
    ]


def test_no_page_keeps_a_runs_data_in_a_cache_of_its_own():
    callers = {
        path.relative_to(OBSERVATORY).as_posix()
        for path in OBSERVATORY.rglob("*.py")
        if "migrations" not in path.parts and _cache_calls(path)
    }
    assert callers == set(OWN_CACHES)


def test_the_scan_finds_a_cache_call():
    """The scan above can fail: a module calling cache.get is found."""
    source = OBSERVATORY / "views" / "grid.py"
    assert _cache_calls(source)
