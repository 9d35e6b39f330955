"""The grid and map pages under load: fragments cached per run and view, shared by analysts
and never by anyone else, sessions read from a shared cache, the reference read once per
request and roles read again on every request."""

import re
import runpy
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies import roles
from companies.models import Territory
from observatory import selectors, services
from observatory.models import GridRun, Lens
from observatory.views import grid
from observatory.views.common import RunRef
from tests.companies.factories import EstablishmentFactory, JobPositionFactory

pytestmark = pytest.mark.django_db

GRID = reverse("observatory:grid")
MAP = reverse("observatory:map")
SETTINGS = Path(__file__).resolve().parents[2] / "observatory" / "settings.py"


def _compute(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return _compute()


def _main(response) -> str:
    """The page's <main>: the header around it holds the CSRF token, new on every request."""
    return re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)


def _cell_reads(queries) -> list:
    return [q for q in queries.captured_queries if "observatory_gridcell" in q["sql"]]


def _three_companies_in_lille(secretary):
    """Three more companies in the Nord on M1607 (5 employees each, same shares): the default
    view's single cell goes from 4 companies and 65 employees to 7 and 80. Three, so that the
    new edition may publish it (fewer changed companies would have it withheld)."""
    lille = Territory.objects.get(level="commune", code="59350")
    for _ in range(3):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=lille),
            occupation=secretary,
            headcount=5,
            rc=50,
            rm=0,
            nra=30,
            nri=20,
            nrm=0,
        )


# --- Settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "engine"),
    [
        ({}, "django.contrib.sessions.backends.db"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "django.contrib.sessions.backends.cached_db"),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/3", "DJANGO_SESSION_ENGINE": "django.contrib.sessions.backends.db"},
            "django.contrib.sessions.backends.db",
        ),
    ],
)
def test_sessions_are_read_from_the_cache_only_when_it_is_shared(monkeypatch, environment, engine):
    for name in ("REDIS_URL", "DJANGO_SESSION_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(SETTINGS))
    assert values["SESSION_ENGINE"] == engine
    expected_cache = "redis.RedisCache" if environment else "locmem.LocMemCache"
    assert values["CACHES"]["default"]["BACKEND"].endswith(expected_cache)


# --- The grid page ----------------------------------------------------------------------------


def test_a_cached_grid_page_reads_no_cell_and_shows_the_same_page(client, analyst, run):
    client.force_login(analyst)
    first = client.get(GRID)
    assert first.context["rows"][0]["employees"] == 65
    with CaptureQueriesContext(connection) as again:
        second = client.get(GRID)
    # Session, user and groups: no run, no cell, no reference (sessions come from the database
    # in the tests, from Redis in production).
    assert len(again.captured_queries) == 3
    assert _cell_reads(again) == []
    assert set(second.context["fragments"]) == {"form", "heatmap", "table"}
    assert _main(second) == _main(first)
    assert '<td class="num">65</td>' in _main(second)
    # What the template did not need is still there for whoever asks, read on demand.
    assert second.context["rows"][0]["employees"] == 65
    assert second.context["run"] == run


def test_a_new_run_gets_new_fragments(client, analyst, hand_worked):  # noqa: F811
    first_run = _compute()
    client.force_login(analyst)
    before = client.get(GRID)
    assert f"Calcul n° {first_run.pk} " in _main(before)
    assert '<td class="num">65</td>' in _main(before)

    _three_companies_in_lille(hand_worked)
    second_run = _compute()
    assert GridRun.objects.current(Lens.DEFAULT) == second_run
    after = client.get(GRID)
    assert after.context["fragments"] == {}  # nothing of the first run's pages is reused
    assert after.context["rows"][0]["companies"] == 7 and after.context["rows"][0]["employees"] == 80
    page = _main(after)
    assert f"Calcul n° {second_run.pk} " in page and f"Calcul n° {first_run.pk} " not in page
    assert '<td class="num">80</td>' in page and '<td class="num">65</td>' not in page
    # The first run stays reachable by its number, with its own figures.
    pinned = client.get(GRID, {"run": first_run.pk})
    assert '<td class="num">65</td>' in _main(pinned)


def test_the_runs_are_read_again_once_per_change(analyst, run):
    with CaptureQueriesContext(connection) as first:
        summaries = selectors.grid_run_summaries()
    assert [row[0] for row in summaries] == [run.pk] and len(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as again:
        assert selectors.grid_run_summaries() == summaries
    assert again.captured_queries == []

    genai = _compute(Lens.GENAI)  # saved: a new state
    with CaptureQueriesContext(connection) as after:
        summaries = selectors.grid_run_summaries()
    assert len(after.captured_queries) == 1
    expected = [(genai.pk, "genai", True), (run.pk, "default", True)]
    assert [(row[0], row[2], bool(row[4])) for row in summaries] == expected
    genai.delete()
    assert [row[0] for row in selectors.grid_run_summaries()] == [run.pk]
    # A state the receivers cannot see (a plain UPDATE) shows once the token expires (10 s).
    GridRun.objects.filter(pk=run.pk).update(is_current=False)
    assert selectors.grid_run_summaries()[0][4] in (True, 1)
    cache.delete(selectors.GRID_RUNS_VERSION_KEY)
    assert selectors.grid_run_summaries()[0][4] in (False, 0)


def test_fragment_keys_name_the_run_and_its_methodology():
    params = {"territory": "all", "size_band": "all", "rows": "section", "columns": "grand_domaine"}
    common = {"picker": "2*,1", "requested": "", "params": params, "sort": "", "page": ""}
    keys = grid.fragment_keys(RunRef(1, 1, "default", None), **common)
    for other in (RunRef(2, 1, "default", None), RunRef(1, 2, "default", None)):
        other_keys = grid.fragment_keys(other, **common)
        assert all(other_keys[name] != keys[name] for name in keys)


def test_two_filter_sets_never_share_a_fragment(client, analyst, run):
    base = {"territory": "all", "size_band": "all", "rows": "section", "columns": "grand_domaine"}
    ref = RunRef(run.pk, run.methodology_id, "default", None)
    common = {"picker": "", "requested": ""}
    whole = grid.fragment_keys(ref, params=base, sort="", page="", **common)
    for change in ({"territory": "departement:59"}, {"sector": "section:J"}, {"rows": "division"}):
        other = grid.fragment_keys(ref, params={**base, **change}, sort="", page="", **common)
        assert all(other[name] != whole[name] for name in whole)
    # Sort and page change the table; the sort also the heatmap's download links; the form
    # stays the same.
    sorted_keys = grid.fragment_keys(ref, params=base, sort="-employees", page="", **common)
    assert sorted_keys["form"] == whole["form"]
    assert sorted_keys["heatmap"] != whole["heatmap"] and sorted_keys["table"] != whole["table"]
    second_page = grid.fragment_keys(ref, params=base, sort="", page="2", **common)
    assert second_page["heatmap"] == whole["heatmap"] and second_page["table"] != whole["table"]

    # Through the page: the whole area (65 employees) and then the Nord (a secret cell).
    client.force_login(analyst)
    assert '<td class="num">65</td>' in _main(client.get(GRID))
    nord = client.get(GRID, {"territory": "departement:59"})
    assert nord.context["fragments"] == {}
    page = _main(nord)
    assert '<span class="badge badge-secret">secret</span> secret secondaire' in page
    assert '<td class="num">65</td>' not in page
    assert 'value="departement:59" selected' in page
    assert client.get(GRID).context["fragments"].keys() == {"form", "heatmap", "table"}


def test_a_run_of_another_lens_changes_the_run_picker_only(client, analyst, run):
    client.force_login(analyst)
    client.get(GRID)
    genai = _compute(Lens.GENAI)
    response = client.get(GRID)
    # The cells shown are the same run's: only the form, whose picker lists the new run, is new.
    assert set(response.context["fragments"]) == {"heatmap", "table"}
    assert f'<option value="{genai.pk}">n° {genai.pk} — IA générative' in _main(response)


def test_invalid_filters_are_never_cached(client, analyst, run):
    client.force_login(analyst)
    for _ in range(2):
        response = client.get(GRID, {"territory": "departement:99"})
        assert response.status_code == 400
        assert "Certains filtres ne sont pas valides" in response.content.decode()
        assert 'aria-invalid="true"' in response.content.decode()
        assert response.context["fragments"] == {}
    # Not one fragment of the request was kept, under its own key or the valid one's.
    for name, key in response.context["fragment_keys"].items():
        fragment = grid.FRAGMENTS[name][0]
        assert cache.get(make_template_fragment_key(fragment, [key])) is None
        assert cache.get(make_template_fragment_key(fragment, [key.removesuffix(", invalid")])) is None


def test_analysts_share_the_fragments_and_nobody_else_reads_them(client, analyst, superuser, plain_user, curator, run):
    client.force_login(analyst)
    first = client.get(GRID)
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(GRID)
    assert _cell_reads(queries) == [] and _main(second) == _main(first)
    # The header is not cached: each one reads their own name.
    assert 'title="Mon compte">analyste</a>' in first.content.decode()
    assert 'title="Mon compte">admin</a>' in second.content.decode()
    for user in (plain_user, curator):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(GRID).status_code == 403
        assert _cell_reads(queries) == []
    client.logout()
    assert client.get(GRID).status_code == 302


def test_the_filter_options_mark_the_selected_value_only():
    options = (
        '<option value="">Tous</option><option value="section:C">C</option><option value="section:C1">C1</option>'
    )
    assert grid._select(options, "section:C") == (
        '<option value="">Tous</option><option value="section:C" selected>C</option>'
        '<option value="section:C1">C1</option>'
    )
    assert grid._select(options, "") == options.replace('value="">', 'value="" selected>')
    assert grid._select(options, "section:Z") == options


def test_the_reference_is_read_once_per_request(run, monkeypatch):
    reads = []
    original = cache.get

    def counting_get(key, *args, **kwargs):
        reads.append(key)
        return original(key, *args, **kwargs)

    selectors.grid_reference()  # in the cache
    monkeypatch.setattr(cache, "get", counting_get)
    with selectors.grid_reference_scope():
        first = selectors.grid_reference()
        assert selectors.grid_reference() is first
    assert reads.count(selectors.GRID_REFERENCE_CACHE_KEY) == 1
    assert selectors.grid_reference() is not first  # outside a request, read again
    assert reads.count(selectors.GRID_REFERENCE_CACHE_KEY) == 2


def test_a_cold_grid_page_reads_the_reference_once(client, analyst, run, monkeypatch):
    client.force_login(analyst)
    client.get(GRID)
    cache.clear()
    reads = []
    original = cache.get

    def counting_get(key, *args, **kwargs):
        reads.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counting_get)
    assert client.get(GRID, {"rows": "division", "sector": "section:J"}).status_code == 200
    assert reads.count(selectors.GRID_REFERENCE_CACHE_KEY) == 1


# --- The map ------------------------------------------------------------------------------------


def test_the_map_fragment_follows_the_run_and_its_parameters(client, analyst, hand_worked):  # noqa: F811
    first_run = _compute()
    client.force_login(analyst)
    first = client.get(MAP)
    assert first.context["fragment"] is None
    with CaptureQueriesContext(connection) as again:
        cached = client.get(MAP)
    assert cached.context["fragment"] is not None
    assert len(again.captured_queries) == 3  # session, user, groups
    assert _main(cached) == _main(first)
    assert f"Calcul n°{first_run.pk} du" in _main(cached)

    other = client.get(MAP, {"indicator": "share_high"})
    assert other.context["fragment"] is None
    assert _main(other) != _main(first)

    second_run = _compute()
    response = client.get(MAP)
    assert response.context["fragment"] is None
    assert f"Calcul n°{second_run.pk} du" in _main(response) and f"Calcul n°{first_run.pk} du" not in _main(response)


def test_the_map_without_a_run_is_never_cached(client, analyst):
    client.force_login(analyst)
    for _ in range(2):
        response = client.get(MAP)
        assert "Aucune grille n'a encore été calculée" in response.content.decode()
        assert response.context["fragment"] is None
    assert cache.get(make_template_fragment_key("observatory-map", [response.context["fragment_key"]])) is None


# --- Roles ----------------------------------------------------------------------------------


def test_a_role_taken_away_applies_at_the_next_request(client, analyst, run):
    client.force_login(analyst)
    assert client.get(GRID).status_code == 200
    assert client.get(MAP).status_code == 200
    analyst.groups.remove(Group.objects.get(name=roles.ANALYST))
    assert client.get(GRID).status_code == 403
    assert client.get(MAP).status_code == 403
    analyst.groups.add(Group.objects.get(name=roles.CURATOR))
    fresh = type(analyst).objects.get(pk=analyst.pk)
    assert roles.is_curator(fresh) and not roles.is_analyst(fresh)
    assert roles._group_names(fresh) == {"curator"}


def test_group_names_are_those_of_the_user(django_user_model, analyst, plain_user):
    both = django_user_model.objects.create_user(username="les-deux", password="motdepasse-test-2026")
    both.groups.add(*Group.objects.filter(name__in=[roles.ANALYST, roles.CURATOR]))
    assert roles._group_names(both) == {"analyst", "curator"}
    assert roles._group_names(analyst) == {"analyst"}
    assert roles._group_names(plain_user) == set()
    with CaptureQueriesContext(connection) as queries:
        assert roles.is_analyst(both) and roles.is_curator(both)
    assert len(queries.captured_queries) == 1  # kept on the user for the request
