"""Runs pages: history with live progress, launching a run, comparing two runs cell by cell."""

import json
import re
from datetime import timedelta

import pandas as pd
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from observatory import selectors, services
from observatory.models import GridCell, GridRun, Lens, Methodology
from skills.models import ExposureIndex

pytestmark = pytest.mark.django_db

# The engine's hand-worked case (M1607, 65 employees, E = 5.6 / 9), reused as it is.

RUNS = reverse("observatory:runs")
LAUNCH = reverse("observatory:run_launch")
COMPARE = reverse("observatory:run_compare")


def _compute(lens=Lens.DEFAULT):
    run = services.grid_run_create(lens=lens)
    return services.grid_run_compute(run.pk)


def _run(lens=Lens.DEFAULT, **fields):
    """A run written directly, for the states a real computation passes through too fast."""
    return GridRun.objects.create(methodology=Methodology.objects.current(lens), **fields)


def _ready_run(lens=Lens.DEFAULT, cells=()):
    """A finished run holding the given cells, each a dict of coordinates and values."""
    now = timezone.now()
    run = _run(lens, status=GridRun.Status.READY, progress=100, finished_at=now, published_at=now)
    defaults = {
        "territory_level": "all",
        "territory_code": "",
        "sector_level": "all",
        "sector_code": "",
        "occupation_level": "fiche",
        "occupation_code": "",
        "size_band": "all",
        "companies": 5,
        "establishments": 5,
        "employees": 100,
        "secret": False,
        "secret_reason": "",
    }
    GridCell.objects.bulk_create([GridCell(run=run, **(defaults | cell)) for cell in cells])
    return run


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Access -------------------------------------------------------------------------------


@pytest.fixture
def progress_url():
    run = _run(status=GridRun.Status.RUNNING, progress=45, step="Agrégation du cube")
    return reverse("observatory:run_progress", args=[run.pk])


@pytest.mark.parametrize("route", ["runs", "compare", "progress"])
def test_pages_are_refused_to_anonymous_visitors(client, route, progress_url):
    url = {"runs": RUNS, "compare": COMPARE, "progress": progress_url}[route]
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("user", ["plain_user", "curator"])
@pytest.mark.parametrize("route", ["runs", "compare", "progress"])
def test_pages_are_refused_to_company_members_and_curators(client, request, user, route, progress_url):
    client.force_login(request.getfixturevalue(user))
    url = {"runs": RUNS, "compare": COMPARE, "progress": progress_url}[route]
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("user", ["analyst", "superuser"])
@pytest.mark.parametrize("route", ["runs", "compare", "progress"])
def test_pages_are_open_to_analysts_and_superusers(client, request, user, route, progress_url):
    client.force_login(request.getfixturevalue(user))
    url = {"runs": RUNS, "compare": COMPARE, "progress": progress_url}[route]
    assert client.get(url).status_code == 200


def test_launching_is_refused_to_anonymous_visitors_company_members_and_curators(client, plain_user, curator):
    response = client.post(LAUNCH, {"lens": "default", "source": "tasks"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.post(LAUNCH, {"lens": "default", "source": "tasks"}).status_code == 403
    assert not GridRun.objects.exists()


def test_launching_needs_a_post(client, analyst):
    client.force_login(analyst)
    assert client.get(LAUNCH).status_code == 405


def test_launching_needs_the_csrf_token(analyst):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post(LAUNCH, {"lens": "default", "source": "tasks"}).status_code == 403
    assert not GridRun.objects.exists()


# --- Launching ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("user", ["analyst", "superuser"])
def test_launching_creates_and_computes_a_run_then_redirects(client, request, migration_data, user, hand_worked):
    # A transactional test, so that the run is enqueued on commit as in production; with
    # eager Celery it is computed before the view answers.
    launcher = request.getfixturevalue(user)
    client.force_login(launcher)
    response = client.post(LAUNCH, {"lens": "genai", "source": "tasks"})
    assert response.status_code == 302 and response.url == RUNS

    run = GridRun.objects.get()
    assert run.status == GridRun.Status.READY and run.is_current
    assert run.methodology.lens == Lens.GENAI and run.index is None
    assert run.launched_by == launcher and run.trigger == "manual"
    assert run.stats["cells"] == run.cells.count() > 0
    # Generative-AI α on the hand-worked fiche: 5.92 / 9.
    total = run.cells.get(territory_level="all", sector_level="all", occupation_level="all", size_band="all")
    assert total.exposure_mean == pytest.approx(5.92 / 9)
    assert any(f"Calcul n°{run.pk}" in text and "terminé" in text for text in _messages(response))


def test_launching_with_an_external_index(client, analyst, hand_worked, django_capture_on_commit_callbacks):
    from skills.models import ExposureIndexScore

    index = ExposureIndex.objects.create(name="OIT 2025", code_system="isco08")
    ExposureIndexScore.objects.create(index=index, occupation=hand_worked, score=0.8)
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(LAUNCH, {"lens": "default", "source": str(index.pk)})
    run = GridRun.objects.get()
    assert run.index == index and run.status == GridRun.Status.READY
    total = run.cells.get(territory_level="all", sector_level="all", occupation_level="all", size_band="all")
    assert total.exposure_mean == pytest.approx(0.8)


@pytest.mark.parametrize("status", [GridRun.Status.PENDING, GridRun.Status.RUNNING])
def test_launching_is_refused_while_the_same_lens_and_source_is_pending_or_running(
    client, analyst, status, django_capture_on_commit_callbacks
):
    waiting = _run(Lens.GENAI, status=status, started_at=timezone.now() if status == "running" else None)
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(LAUNCH, {"lens": "genai", "source": "tasks"}, follow=True)
    assert not callbacks
    assert GridRun.objects.get() == waiting  # no run created
    assert response.redirect_chain == [(RUNS, 302)]
    text = response.content.decode()
    assert f"déjà {waiting.get_status_display().lower()} (n°{waiting.pk})" in text


def test_another_lens_or_source_is_not_blocked(client, analyst, django_capture_on_commit_callbacks):
    index = ExposureIndex.objects.create(name="Frey-Osborne", code_system="soc2010")
    _run(Lens.DEFAULT, status=GridRun.Status.PENDING)
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(LAUNCH, {"lens": "genai", "source": "tasks"})
        client.post(LAUNCH, {"lens": "default", "source": str(index.pk)})
    assert GridRun.objects.count() == 3 and len(callbacks) == 2


def test_a_run_stuck_past_the_task_time_limit_no_longer_blocks(client, analyst, django_capture_on_commit_callbacks):
    _run(Lens.GENAI, status=GridRun.Status.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(LAUNCH, {"lens": "genai", "source": "tasks"})
    assert GridRun.objects.count() == 2


def test_an_invalid_source_creates_no_run(client, analyst):
    client.force_login(analyst)
    response = client.post(LAUNCH, {"lens": "genai", "source": "999"})
    assert response.status_code == 302 and not GridRun.objects.exists()
    assert any("valides" in text for text in _messages(response))


@pytest.mark.django_db(transaction=True)
def test_a_failing_computation_is_reported_and_leaves_a_failed_run(
    client,
    migration_data,
    analyst,
    hand_worked,
    monkeypatch,
):
    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services.secrecy, "apply_secrecy", broken)
    client.force_login(analyst)
    response = client.post(LAUNCH, {"lens": "default", "source": "tasks"})
    assert response.status_code == 302
    run = GridRun.objects.get()
    assert run.status == GridRun.Status.FAILED and not run.is_current
    assert any("a échoué" in text and "disque plein" in text for text in _messages(response))
    # The history shows the error of the failed run.
    assert "RuntimeError: disque plein" in client.get(RUNS).content.decode()


# --- Progress -------------------------------------------------------------------------------


def test_progress_json_of_a_running_run(client, analyst):
    run = _run(status=GridRun.Status.RUNNING, progress=45, step="Agrégation du cube", started_at=timezone.now())
    client.force_login(analyst)
    response = client.get(reverse("observatory:run_progress", args=[run.pk]))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert json.loads(response.content) == {
        "id": run.pk,
        "status": "running",
        "status_label": "En cours",
        "progress": 45,
        "step": "Agrégation du cube",
        "finished": False,
    }


def test_progress_json_of_a_finished_run(client, analyst, hand_worked):
    run = _compute()
    client.force_login(analyst)
    data = client.get(reverse("observatory:run_progress", args=[run.pk])).json()
    assert data == {
        "id": run.pk,
        "status": "ready",
        "status_label": "Terminé",
        "progress": 100,
        "step": "Terminé",
        "finished": True,
    }
    failed = _run(status=GridRun.Status.FAILED, progress=65, step="Secret statistique")
    data = client.get(reverse("observatory:run_progress", args=[failed.pk])).json()
    assert (data["status_label"], data["finished"]) == ("Échec", True)


def test_progress_json_of_an_unknown_run(client, analyst):
    client.force_login(analyst)
    assert client.get(reverse("observatory:run_progress", args=[999])).status_code == 404


# --- History --------------------------------------------------------------------------------


def test_history_shows_status_timings_counts_and_the_current_run(client, analyst, hand_worked):
    ready = _compute()
    running = _run(Lens.GENAI, status=GridRun.Status.RUNNING, progress=45, step="Agrégation du cube")
    running.started_at = timezone.now()
    running.save()
    client.force_login(analyst)
    response = client.get(RUNS)
    text = response.content.decode()

    page = list(response.context["page"])
    assert page == [running, ready]
    assert [run.pk for run in response.context["current_runs"]] == [ready.pk]
    # A live progress bar for the running run only, accessible without JavaScript too.
    assert text.count("<progress") == 1
    assert f'data-progress-url="{reverse("observatory:run_progress", args=[running.pk])}"' in text
    assert 'value="45"' in text and 'aria-live="polite"' in text and "45 % — Agrégation du cube" in text
    assert "js/progress.js" in text
    # The finished run: method version, source, current, cells and secret cells, step timings.
    assert "Par défaut v2" in text and "Tâches (méthode de l&#x27;observatoire)" in text
    assert "en vigueur" in text
    # The reference profiles it used (hand_worked imports M1607's: the others keep their
    # domaine's default, as no ROME item is loaded).
    digest = ready.profile_source.rsplit(":", 1)[1]
    assert f"profils : profil par défaut du domaine (v0+1 importés, empreinte {digest})" in text
    row = text[text.index(f'id="run-{ready.pk}"') :]
    assert f"{ready.stats['cells']}" in row.replace("\u202f", "")
    assert f"dont {ready.stats['secret_cells']} secrètes" in row
    for label in ("Lecture des données", "Agrégation du cube", "Secret statistique", "Enregistrement"):
        assert label in row
    # The launch form posts to its route with a CSRF token, every control labelled.
    assert f'action="{LAUNCH}"' in text and "csrfmiddlewaretoken" in text
    assert '<label for="id_lens">' in text and '<label for="id_source">' in text


def test_history_is_paginated_with_bounded_queries(client, analyst, django_assert_max_num_queries):
    for _ in range(45):
        _run(status=GridRun.Status.READY, timings={"load": 0.1, "cube": 0.2}, stats={"cells": 1, "secret_cells": 0})
    client.force_login(analyst)
    with django_assert_max_num_queries(9):
        response = client.get(RUNS + "?page=3")
    assert response.context["page"].number == 3 and len(response.context["page"]) == 5
    assert "Page 3 sur 3" in response.content.decode()


# --- Comparison -----------------------------------------------------------------------------


def test_comparing_the_default_and_generative_ai_lenses(client, analyst, hand_worked):
    default, genai = _compute(Lens.DEFAULT), _compute(Lens.GENAI)

    fiches = selectors.compared_cells(
        default, genai, territory_level="all", sector_level="all", occupation_level="fiche", size_band="all"
    )
    cell = fiches.set_index("occupation_code").loc["M1607"]
    # Hand-worked: genai 5.92 / 9 − default 5.6 / 9 = 0.32 / 9.
    assert cell["exposure_a"] == pytest.approx(5.6 / 9)
    assert cell["exposure_b"] == pytest.approx(5.92 / 9)
    assert cell["difference"] == pytest.approx(0.32 / 9)

    client.force_login(analyst)
    response = client.get(COMPARE, {"a": default.pk, "b": genai.pk, "rows": "section", "cols": "grand_domaine"})
    assert response.status_code == 200
    rows = list(response.context["page"])
    # Section J × grand domaine M holds only the fiche M1607: the same difference.
    assert [(row["sector_code"], row["occupation_code"]) for row in rows] == [("J", "M")]
    assert rows[0]["exposure_a"] == pytest.approx(5.6 / 9) and rows[0]["exposure_b"] == pytest.approx(5.92 / 9)
    text = response.content.decode()
    assert "0,622" in text and "0,658" in text and "+0,036" in text
    summary = response.context["summary"]
    assert summary["common"] == default.cells.count() == genai.cells.count()
    assert summary["only_a"] == summary["only_b"] == 0
    public = default.cells.filter(secret=False, exposure_mean__isnull=False).count()
    assert summary["public_common"] == public
    # Every public cell holds only the one fiche: each differs by 0.32 / 9.
    assert summary["mean_abs_difference"] == pytest.approx(0.32 / 9)
    assert summary["spearman"] is None and summary["spearman_fiches"] == 1  # one fiche: no ranking
    figure = json.loads(response.context["fig_json"])
    assert figure["data"][0]["zmid"] == 0
    assert figure["data"][0]["z"] == [[pytest.approx(0.32 / 9)]]
    assert 'role="img"' in text and 'data-figure="compare-figure"' in text


def test_without_a_choice_the_current_default_and_generative_ai_grids_are_compared(
    client,
    analyst,
    hand_worked,
):
    default, genai = _compute(Lens.DEFAULT), _compute(Lens.GENAI)
    client.force_login(analyst)
    response = client.get(COMPARE)
    assert (response.context["run_a"], response.context["run_b"]) == (default, genai)


def test_spearman_and_presence_on_a_built_case(client, analyst):
    # Five public fiches; B swaps the ranks of the first two and of the next two:
    # d = (1, −1, 1, −1, 0), Σd² = 4, ρ = 1 − 6·4 / (5·(25 − 1)) = 0.8.
    exposures_a = {"A1101": 0.1, "A1102": 0.2, "A1103": 0.3, "A1104": 0.4, "A1105": 0.5}
    exposures_b = {"A1101": 0.2, "A1102": 0.1, "A1103": 0.4, "A1104": 0.3, "A1105": 0.5}
    cells_a = [{"occupation_code": code, "exposure_mean": value} for code, value in exposures_a.items()]
    cells_b = [{"occupation_code": code, "exposure_mean": value} for code, value in exposures_b.items()]
    # A sixth fiche, secret in B, would break the correlation if it counted (0.9 vs 0.0).
    cells_a.append({"occupation_code": "A1106", "exposure_mean": 0.9})
    cells_b.append({"occupation_code": "A1106", "exposure_mean": 0.0, "secret": True, "secret_reason": "companies"})
    # One cell only in A (a grand domaine), two only in B.
    cells_a.append({"occupation_level": "grand_domaine", "occupation_code": "A", "exposure_mean": 0.3})
    cells_b.append({"occupation_level": "grand_domaine", "occupation_code": "B", "exposure_mean": 0.3})
    cells_b.append({"occupation_level": "grand_domaine", "occupation_code": "C", "exposure_mean": 0.3})
    run_a, run_b = _ready_run(Lens.DEFAULT, cells_a), _ready_run(Lens.GENAI, cells_b)

    summary = selectors.run_comparison_summary(run_a, run_b)
    assert summary["spearman"] == pytest.approx(0.8)
    assert summary["spearman_fiches"] == 5
    assert (summary["common"], summary["only_a"], summary["only_b"]) == (6, 1, 2)
    assert summary["public_common"] == 5
    assert summary["mean_abs_difference"] == pytest.approx(0.4 / 5)  # |.1|+|−.1|+|.1|+|−.1|+0

    client.force_login(analyst)
    response = client.get(COMPARE, {"a": run_a.pk, "b": run_b.pk})
    assert response.context["summary"] == summary
    assert "0,80" in response.content.decode()


def test_rank_correlation_matches_pandas_spearman():
    frame = pd.DataFrame({"exposure_a": [0.1, 0.4, 0.4, 0.7, 0.2, None], "exposure_b": [0.3, 0.2, 0.5, 0.9, 0.1, 0.4]})
    rho, n = selectors.rank_correlation(frame)
    assert n == 5
    # DataFrame.corr ranks with average ranks for ties, as the selector does (no scipy needed).
    assert rho == pytest.approx(frame.dropna().corr(method="spearman").loc["exposure_a", "exposure_b"])
    assert selectors.rank_correlation(frame.head(2)) == (None, 2)


def test_compare_cells_masks_a_cell_secret_in_either_run():
    keys = ["sector_code", "occupation_code"]
    a = pd.DataFrame(
        [
            ["J", "M", 65, 0.6, False, ""],
            ["J", "K", 12, 0.777, True, "dominance"],
            ["C", "M", 40, 0.5, False, ""],
        ],
        columns=[*keys, "employees", "exposure_mean", "secret", "secret_reason"],
    )
    b = pd.DataFrame(
        [
            ["J", "M", 65, 0.7, False, ""],
            ["J", "K", 12, 0.2, False, ""],
            ["C", "M", 40, 0.888, True, "secondary"],
        ],
        columns=a.columns,
    )
    compared = selectors.compare_cells(a, b, keys).set_index(keys)
    assert compared.loc[("J", "M"), "difference"] == pytest.approx(0.1)
    for key, reason in ((("J", "K"), "dominance"), (("C", "M"), "secondary")):
        row = compared.loc[key]
        assert row["secret"] and row["secret_reason"] == reason
        assert row[["exposure_a", "exposure_b", "difference", "employees_a", "employees_b"]].isna().all()


def test_a_cell_secret_in_either_run_is_never_shown_with_a_number(client, analyst):
    sector = {"sector_level": "section", "occupation_level": "grand_domaine"}
    cells_a = [
        {**sector, "sector_code": "J", "occupation_code": "M", "exposure_mean": 0.611, "employees": 4321},
        {
            **sector,
            "sector_code": "J",
            "occupation_code": "K",
            "exposure_mean": 0.777,
            "employees": 777,
            "secret": True,
            "secret_reason": "companies",
        },
        {**sector, "sector_code": "C", "occupation_code": "M", "exposure_mean": 0.444, "employees": 888},
    ]
    cells_b = [
        {**sector, "sector_code": "J", "occupation_code": "M", "exposure_mean": 0.655, "employees": 4321},
        {**sector, "sector_code": "J", "occupation_code": "K", "exposure_mean": 0.222, "employees": 777},
        {
            **sector,
            "sector_code": "C",
            "occupation_code": "M",
            "exposure_mean": 0.999,
            "employees": 888,
            "secret": True,
            "secret_reason": "dominance",
        },
    ]
    run_a, run_b = _ready_run(Lens.DEFAULT, cells_a), _ready_run(Lens.GENAI, cells_b)
    client.force_login(analyst)
    for sort in ("ecart", "exposition_a", "exposition_b", "salaries", "baisse"):
        response = client.get(COMPARE, {"a": run_a.pk, "b": run_b.pk, "tri": sort})
        # The logout form's CSRF token is random text: « 777 » may turn up in it.
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
        rows = list(response.context["page"])
        # Secret rows carry no value and come last whatever the sort.
        assert [row["secret"] for row in rows] == [False, True, True]
        assert rows[0]["difference"] == "+0,044"
        for row in rows[1:]:
            assert row["exposure_a"] is row["exposure_b"] is row["employees_a"] is row["employees_b"] is None
            assert row["difference"] == "—"
        # Neither in the page nor in the figure's data: no value, employees or difference
        # (−0,555 and +0,555) of a secret cell.
        data = json.dumps(json.loads(response.context["fig_json"])["data"])
        for hidden in ("0,777", "0,222", "0,444", "0,999", "777", "888", "0,555"):
            assert hidden not in text, hidden
        for hidden in ("0.777", "0.222", "0.444", "0.999", "777", "888", "0.555"):
            assert hidden not in data, hidden
    assert "moins de 3 entreprises" in text and "une entreprise dépasse 85 % des salariés" in text
    figure = json.loads(response.context["fig_json"])
    public, secret = figure["data"][0], figure["data"][1]
    assert [value for line in public["z"] for value in line if value is not None] == [pytest.approx(0.044)]
    assert sum(mark == "S" for line in secret["text"] for mark in line) == 2


def test_only_finished_runs_can_be_compared(client, analyst):
    ready = _ready_run(Lens.DEFAULT, [{"occupation_code": "M1607", "exposure_mean": 0.5}])
    pending = _run(Lens.GENAI, status=GridRun.Status.PENDING)
    client.force_login(analyst)
    response = client.get(COMPARE, {"a": ready.pk, "b": pending.pk})
    assert response.status_code == 200
    assert "b" in response.context["form"].errors and "run_a" not in response.context


def test_the_comparison_runs_a_bounded_number_of_queries(client, analyst, django_assert_max_num_queries):
    cells = [
        {
            "territory_level": territory,
            "territory_code": code,
            "sector_level": "division",
            "sector_code": f"{division:02d}",
            "occupation_level": "domaine",
            "occupation_code": f"M{domaine:02d}",
            "exposure_mean": (division * domaine % 97) / 97,
            "secret": (division + domaine) % 5 == 0,
            "secret_reason": "companies" if (division + domaine) % 5 == 0 else "",
        }
        for territory, code in (("all", ""), ("departement", "59"), ("departement", "62"))
        for division in range(10, 40)
        for domaine in range(10, 40)
    ]
    run_a = _ready_run(Lens.DEFAULT, cells)
    run_b = _ready_run(Lens.GENAI, [cell | {"exposure_mean": 1 - cell["exposure_mean"]} for cell in cells])
    client.force_login(analyst)
    params = {"a": run_a.pk, "b": run_b.pk, "rows": "division", "cols": "domaine"}
    with django_assert_max_num_queries(12):
        response = client.get(COMPARE, params)
    assert response.context["summary"]["common"] == 2700
    assert response.context["page"].paginator.count == 900
    # Sorting and paging reuse the cached comparison.
    with django_assert_max_num_queries(5):
        response = client.get(COMPARE, params | {"tri": "metier", "page": 4})
    assert response.context["page"].number == 4


def test_a_run_from_before_the_rome_profiles_stays_comparable(client, analyst, hand_worked):
    old = _compute()
    GridRun.objects.filter(pk=old.pk).update(profile_source="domain_defaults:v0")
    new = _compute()
    client.force_login(analyst)
    response = client.get(reverse("observatory:run_compare"), {"a": old.pk, "b": new.pk})
    assert response.status_code == 200
    text = response.content.decode()
    assert "profils : profil par défaut du domaine (v0)" in text
    assert f"empreinte {new.profile_source.rsplit(':', 1)[1]}" in text


def test_an_analyst_publishes_an_internal_run_and_others_are_refused(client, analyst, plain_user, hand_worked):
    edition = _compute()
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    url = reverse("observatory:run_publish", args=[internal.pk])

    client.force_login(analyst)
    text = client.get(RUNS).content.decode()
    row = text[text.index(f'id="run-{internal.pk}"') :]
    assert "interne" in row[:600] and f'action="{url}"' in row

    # Neither a company member nor anyone anonymous may publish.
    client.force_login(plain_user)
    assert client.post(url).status_code == 403
    client.logout()
    assert client.post(url).status_code in (302, 403)
    internal.refresh_from_db()
    assert not internal.is_current

    client.force_login(analyst)
    response = client.post(url, follow=True)
    assert "publié : c&#x27;est désormais l&#x27;édition en vigueur" in response.content.decode()
    internal.refresh_from_db()
    edition.refresh_from_db()
    assert internal.is_current and internal.published_by == analyst and not edition.is_current
    # Publishing it again is refused with a message.
    response = client.post(url, follow=True)
    assert "Seul un calcul terminé et non encore publié peut être publié." in response.content.decode()


def test_an_internal_run_cannot_be_read_nor_compared(client, analyst, hand_worked):
    """The run-to-run attack: the difference between an edition and the recomputation after one
    more company's answers is that company. The internal run is named by no reader."""
    edition = _compute()
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    client.force_login(analyst)
    for url in (
        reverse("observatory:grid_export_csv"),
        reverse("observatory:occupations_export_csv"),
        "/api/v1/grid-cells/",
        "/api/v1/occupations/",
    ):
        assert client.get(url, {"run": internal.pk}).status_code == 404, url
        assert client.get(url, {"run": edition.pk}).status_code == 200, url
    response = client.get(COMPARE, {"a": edition.pk, "b": internal.pk})
    assert response.status_code == 200
    assert "summary" not in response.context and "run_b" not in response.context
    assert internal.pk not in response.context["form"].runs
