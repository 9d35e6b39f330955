"""A grid run end to end on a hand-worked case: positions → scores → cube → secrecy → cells."""

import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from companies.models import JobPosition
from observatory import services
from observatory.models import CELL_COORDINATES, GridCell, GridRun, Lens, OccupationScore
from skills.models import OccupationTaskProfile

pytestmark = pytest.mark.django_db


def _cell(run, **coordinates):
    defaults = {
        "territory_level": "all",
        "territory_code": "",
        "sector_level": "all",
        "sector_code": "",
        "occupation_level": "all",
        "occupation_code": "",
        "size_band": "all",
    }
    return GridCell.objects.get(run=run, **(defaults | coordinates))


def _compute(lens=Lens.DEFAULT):
    run = services.grid_run_create(lens=lens)
    return services.grid_run_compute(run.pk)


def test_occupation_scores_match_the_hand_worked_figures(hand_worked):
    run = _compute()
    score = OccupationScore.objects.get(run=run, occupation=hand_worked)
    assert score.n_companies == 4
    assert score.employees == 65
    assert (score.field_rc, score.field_nra, score.field_nri) == pytest.approx((0.5, 0.3, 0.2))
    assert score.ref_rc == pytest.approx(0.6)
    assert score.rc == pytest.approx(5 / 9)
    assert score.rm == pytest.approx(0.5 / 9)
    assert score.nra == pytest.approx(1.7 / 9)
    assert score.nri == pytest.approx(1.3 / 9)
    assert score.nrm == pytest.approx(0.5 / 9)
    assert score.exposure == pytest.approx(5.6 / 9)
    assert score.rti == pytest.approx(math.log(33))
    assert score.exposure_class == "high"


def test_cells_carry_the_indicators_and_secrecy(hand_worked):
    run = _compute()
    assert run.status == GridRun.Status.READY and run.is_current and run.progress == 100

    total = _cell(run)
    assert (total.companies, total.establishments, total.employees) == (4, 4, 65)
    assert total.exposure_mean == pytest.approx(5.6 / 9)
    assert (total.share_high, total.share_medium, total.share_low) == pytest.approx((1, 0, 0))
    assert total.rti_mean == pytest.approx(math.log(33))
    assert total.training_need_share == pytest.approx(20 / 65)
    assert not total.secret

    # Pas-de-Calais: one company → primary secrecy.
    pas_de_calais = _cell(run, territory_level="departement", territory_code="62")
    assert pas_de_calais.secret and pas_de_calais.secret_reason == "companies"
    # Nord would give Pas-de-Calais away by subtraction from the région: masked too.
    nord = _cell(run, territory_level="departement", territory_code="59")
    assert nord.secret and nord.secret_reason == "secondary"
    region = _cell(run, territory_level="region", territory_code="32")
    assert not region.secret and region.employees == 65


def test_the_dominance_rule_masks_a_cell_held_by_one_company(hand_worked):
    JobPosition.objects.filter(headcount=30).update(headcount=400)
    run = _compute()
    nord = _cell(run, territory_level="departement", territory_code="59")
    # 400 of the Nord's 430 employees (93 %) are in one company, above the 85 % rule.
    assert nord.secret and nord.secret_reason == "dominance"


def test_a_failed_run_leaves_the_current_grid_in_place(hand_worked, monkeypatch):
    good = _compute()
    cells = GridCell.objects.filter(run=good).count()

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services.secrecy, "apply_secrecy", broken)
    failing = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(RuntimeError):
        services.grid_run_compute(failing.pk)
    failing.refresh_from_db()
    good.refresh_from_db()
    assert failing.status == GridRun.Status.FAILED and "disque plein" in failing.error
    assert not failing.is_current and failing.cells.count() == 0
    assert good.is_current and GridCell.objects.filter(run=good).count() == cells
    assert GridRun.objects.current(Lens.DEFAULT) == good

    # The same run retried once the cause is gone: ready, current, and no duplicated cell.
    monkeypatch.undo()
    services.grid_run_compute(failing.pk)
    failing.refresh_from_db()
    good.refresh_from_db()
    assert failing.status == GridRun.Status.READY and failing.is_current and not good.is_current
    assert failing.cells.count() == cells


def test_a_run_stopped_by_its_time_limit_says_at_which_step_in_french(hand_worked, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    good = _compute()

    def too_long(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services.secrecy, "audit_secrecy", too_long)
    stopped = services.grid_run_create(lens=Lens.DEFAULT)
    with pytest.raises(SoftTimeLimitExceeded):
        services.grid_run_compute(stopped.pk)
    stopped.refresh_from_db()
    assert stopped.status == GridRun.Status.FAILED
    assert stopped.error == (
        "Le calcul a dépassé le temps alloué à une tâche (60 min) pendant l'étape "
        "« Audit du secret statistique » et a été interrompu."
    )
    assert stopped.cells.count() == 0
    assert GridRun.objects.current(Lens.DEFAULT) == good
    # The minutes quoted are the tasks' own limit.
    from observatory.tasks import compute_grid_run, merge_grid_run

    assert compute_grid_run.soft_time_limit == merge_grid_run.soft_time_limit == 60 * 60


def test_recomputing_a_ready_run_changes_nothing(hand_worked):
    run = _compute()
    cells = run.cells.count()
    services.grid_run_compute(run.pk)
    assert run.cells.count() == cells


def test_lenses_give_their_own_current_run(hand_worked):
    default = _compute(Lens.DEFAULT)
    genai = _compute(Lens.GENAI)
    default.refresh_from_db()
    assert default.is_current and genai.is_current
    # Generative-AI α: (.90·5 + .10·.5 + .60·1.7 + .25·1.3 + .05·.5) / 9 = 5.92 / 9.
    assert OccupationScore.objects.get(run=genai).exposure == pytest.approx(5.92 / 9)


def test_compute_grid_command(hand_worked, capsys):
    call_command("compute_grid")
    run = GridRun.objects.current(Lens.DEFAULT)
    assert run is not None and run.trigger == "command"
    assert "terminé" in capsys.readouterr().out


def test_compute_grid_refuses_an_unknown_index(hand_worked):
    with pytest.raises(CommandError, match="inconnu"):
        call_command("compute_grid", "--index", "nope")


def test_new_field_data_queues_one_debounced_recomputation(hand_worked, settings, django_capture_on_commit_callbacks):
    from companies.signals import field_data_changed

    settings.OBSERVATORY_AUTO_RECOMPUTE = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        field_data_changed.send(sender=JobPosition, source="test", positions=1)
        field_data_changed.send(sender=JobPosition, source="test", positions=1)
    # Two arrivals, one queued run.
    assert GridRun.objects.filter(trigger="auto", status=GridRun.Status.PENDING).count() == 1
    assert len(callbacks) == 1
    callbacks[0]()  # eager Celery: the run computes now
    run = GridRun.objects.get(trigger="auto")
    # Computed, but internal: no reader sees it until it is published as an edition.
    assert run.status == GridRun.Status.READY and not run.is_current and run.is_internal
    assert run.published_at is None


def test_an_internal_run_becomes_the_edition_once_published(hand_worked, django_user_model):
    edition = _compute()
    assert edition.is_current and edition.published_at is not None and not edition.is_internal
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    assert GridRun.objects.get(is_current=True) == edition

    analyst = django_user_model.objects.create_user("analyste")
    services.grid_run_publish(run=internal, user=analyst)
    internal.refresh_from_db()
    edition.refresh_from_db()
    assert internal.is_current and internal.published_by == analyst and not internal.is_internal
    assert not edition.is_current and edition.published_at is not None  # still readable, by id
    with pytest.raises(ValueError, match="non encore publié"):
        services.grid_run_publish(run=internal, user=analyst)


def test_a_run_with_an_external_index_uses_its_scores(hand_worked):
    from skills.models import ExposureIndex, ExposureIndexScore

    index = ExposureIndex.objects.create(name="OIT 2025", code_system="isco08")
    ExposureIndexScore.objects.create(index=index, occupation=hand_worked, score=0.8, raw_score=0.58)
    task_run = _compute()
    call_command("compute_grid", "--index", "OIT 2025")
    index_run = GridRun.objects.get(index=index)
    assert index_run.status == GridRun.Status.READY and index_run.is_current
    # The task-based grid stays current for its own source.
    task_run.refresh_from_db()
    assert task_run.is_current
    assert GridRun.objects.current(Lens.DEFAULT, index=index) == index_run
    assert OccupationScore.objects.get(run=index_run).exposure == pytest.approx(0.8)
    total = _cell(index_run)
    assert total.exposure_mean == pytest.approx(0.8)
    assert (total.share_high, total.share_medium) == pytest.approx((1, 0))
    # RTI still comes from the blended task profile.
    assert total.rti_mean == pytest.approx(math.log(33))


def test_the_nightly_schedule_recomputes_every_lens(hand_worked, settings, django_capture_on_commit_callbacks):
    from observatory.tasks import compute_current_grids

    schedule = settings.CELERY_BEAT_SCHEDULE["recompute-grids-nightly"]
    assert schedule["task"] == "observatory.compute_current_grids"
    assert schedule["schedule"].hour == {2}
    with django_capture_on_commit_callbacks(execute=True):
        run_ids = compute_current_grids.delay().get()
    runs = GridRun.objects.filter(pk__in=run_ids)
    assert sorted(runs.values_list("methodology__lens", flat=True)) == sorted(Lens.values)
    assert all(run.status == GridRun.Status.READY and run.trigger == "nightly" for run in runs)


def test_a_run_records_the_source_of_its_reference_profiles(hand_worked):
    from skills.models import OccupationItem, RomeItem

    before = _compute()
    assert before.profile_source.startswith("domain_defaults:v0+1 importés:")

    # The imported profile withdrawn and one classified ROME item linked: the next run's
    # reference is that item (RC 1) shrunk towards M16's pool, which is the same item.
    OccupationTaskProfile.objects.all().delete()
    item = RomeItem.objects.create(
        code="1",
        kind="savoir_faire",
        label="Saisir des documents",
        rule="verbe:saisir",
        **{"rc": 1, "rm": 0, "nra": 0, "nri": 0, "nrm": 0},
    )
    OccupationItem.objects.create(occupation=hand_worked, item=item, core="principale")
    after = _compute()
    assert after.profile_source.startswith("rome_items:v1:")
    score = OccupationScore.objects.get(run=after, occupation=hand_worked)
    assert [score.ref_rc, score.ref_rm, score.ref_nra, score.ref_nri, score.ref_nrm] == pytest.approx([1, 0, 0, 0, 0])
    # The earlier run keeps what it was computed with, so both stay comparable.
    before.refresh_from_db()
    assert before.profile_source.startswith("domain_defaults:v0+1 importés:")


def _coordinates(run, **filters):
    return set(GridCell.objects.filter(run=run, **filters).values_list(*CELL_COORDINATES))


def test_a_version_publishing_only_the_epci_totals_leaves_their_crossings_out(hand_worked):
    full = _compute()
    assert GridCell.objects.filter(run=full, territory_level="epci", occupation_level="fiche").exists()

    services.methodology_create_version(lens=Lens.DEFAULT, epci_detail="size")
    planned = _compute()

    assert planned.status == GridRun.Status.READY and planned.is_current and planned.audit["passed"]
    assert planned.methodology.epci_detail == "size"
    # The communes are in no EPCI: the région's unknown EPCI, in total and in the one band of
    # the companies (10 to 49 employees).
    assert _coordinates(planned, territory_level="epci") == {
        ("epci", "inconnu-32", "all", "", "all", "", band) for band in ("all", "10-49")
    }
    assert _coordinates(planned, territory_level="epci") < _coordinates(full, territory_level="epci")
    unknown = _cell(planned, territory_level="epci", territory_code="inconnu-32")
    assert (unknown.companies, unknown.employees) == (4, 65)
    # The other territory levels keep every cell.
    others = GridCell.objects.exclude(territory_level="epci")
    assert _coordinates(planned, pk__in=others) == _coordinates(full, pk__in=others)
    assert planned.stats["cells"] == GridCell.objects.filter(run=planned).count()
