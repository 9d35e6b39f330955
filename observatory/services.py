"""Writes of the observatory: launching and computing grid runs, new methodology versions."""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import numpy as np
import pandas as pd
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from skills.jobs import start_heartbeat
from skills.selectors import profile_source_tag, reference_profiles_frame

from . import concurrency, editions, national_runs, partitions
from .analysis import cube, exposure, secrecy
from .models import (
    CATEGORIES,
    CELL_COORDINATES,
    CELL_FIGURES,
    GridRun,
    GridRunInput,
    Lens,
    Methodology,
    OccupationScore,
)
from .partitions import bulk_insert as _bulk_insert
from .provenance import forget_site_data
from .selectors import (
    active_grid_run,
    epci_departements,
    index_scores_frame,
    positions_frame,
    renew_grid_runs_token,
    training_coverage_frame,
)

logger = logging.getLogger(__name__)

# The time a grid task may take (tasks.py): past it, the run stops and says so.
GRID_TASK_MINUTES = 60
GRID_TASK_LIMITS = {"soft_time_limit": GRID_TASK_MINUTES * 60, "time_limit": (GRID_TASK_MINUTES + 5) * 60}
CELL_COLUMNS = [*CELL_COORDINATES, *CELL_FIGURES, "secret", "secret_reason"]
SCORE_COLUMNS = (
    ["n_companies", "employees"]
    + [f"ref_{c}" for c in CATEGORIES]
    + [f"field_{c}" for c in CATEGORIES]
    + list(CATEGORIES)
    + ["exposure", "rti", "exposure_class", "ref_source", "ref_items", "field_companies", "field_basis_id"]
)


def methodology_create_version(*, lens: str, user=None, notes: str = "", **params) -> Methodology:
    """A new version of a lens: the previous version's parameters with `params` changed."""
    with transaction.atomic():
        previous = Methodology.objects.select_for_update().filter(lens=lens).order_by("-version").first()
        fields = {}
        if previous:
            fields = {
                name: getattr(previous, name) for name in (*Methodology.PARAMETERS, *Methodology.AUDIT_PARAMETERS)
            }
        fields.update(params)
        methodology = Methodology(
            lens=lens, version=(previous.version + 1) if previous else 1, notes=notes, created_by=user, **fields
        )
        methodology.full_clean()
        methodology.save()
    return methodology


class RunAlreadyActive(Exception):
    """A run of the same lens and source is already waiting or computing (`active`)."""

    def __init__(self, active: GridRun):
        super().__init__(f"run {active.pk} is {active.status}")
        self.active = active


def grid_run_launch(*, lens: str, index=None, user=None) -> GridRun:
    """Launch a run of `lens` on a source (the tasks, or an ExposureIndex), unless one is
    already waiting or computing (RunAlreadyActive); it is sent to the broker once committed.
    ValueError when the lens has no methodology."""
    with transaction.atomic():
        # Lock the lens's method versions so that two analysts clicking together cannot both
        # pass the check below (on PostgreSQL; SQLite, the single-user default, ignores it).
        list(Methodology.objects.select_for_update().filter(lens=lens).values_list("pk", flat=True))
        active = active_grid_run(lens=lens, index_id=index.pk if index else None)
        if active is not None:
            raise RunAlreadyActive(active)
        run = grid_run_create(lens=lens, index=index, user=user, trigger=GridRun.Trigger.MANUAL)
        transaction.on_commit(partial(grid_run_enqueue, run.pk))
    return run


def grid_run_create(
    *, lens: str = Lens.DEFAULT, index=None, user=None, trigger: str = GridRun.Trigger.MANUAL
) -> GridRun:
    methodology = Methodology.objects.current(lens)
    if methodology is None:
        raise ValueError(f"no methodology for lens {lens!r}")
    return GridRun.objects.create(methodology=methodology, index=index, launched_by=user, trigger=trigger)


def _make_current(run: GridRun, user=None) -> None:
    """Make `run` the edition of its lens and source (inside the caller's transaction)."""
    GridRun.objects.filter(is_current=True, methodology__lens=run.methodology.lens, index=run.index_id).exclude(
        pk=run.pk
    ).update(is_current=False)
    run.is_current = True
    run.published_at = timezone.now()
    run.published_by = user
    GridRun.objects.filter(pk=run.pk).update(is_current=True, published_at=run.published_at, published_by=user)


# Why a batch cannot be published yet (French: the runs page shows it to analysts).
SIBLING_NOT_READY = (
    "La lecture « {lens} » de ce lot n'est pas prête ({status}) : les trois lectures sont publiées "
    "ensemble, une fois toutes terminées."
)
SIBLING_FAILED = (
    "Le calcul de la lecture « {lens} » de ce lot a échoué : lancez un nouveau calcul pour publier ces données."
)
SIBLINGS_DIFFER = (
    "Les lectures de ce lot n'ont pas été calculées à partir des mêmes données : lancez un nouveau calcul "
    "pour les publier ensemble."
)


@transaction.atomic
def grid_run_publish(*, run: GridRun, user) -> GridRun:
    """Publish an internal run as its lens's edition, and with it the other lenses of its
    batch: one edition, every lens from the same data and the same date. Refused, with
    nothing published, when a sibling is not ready or any of them may not be published."""
    run = GridRun.objects.select_for_update().select_related("methodology").get(pk=run.pk)
    if not run.is_internal:
        raise ValueError("Seul un calcul terminé et non encore publié peut être publié.")
    runs = [run]
    if run.batch:
        runs = list(
            GridRun.objects.select_for_update().select_related("methodology").filter(batch=run.batch).order_by("pk")
        )
        _check_batch(runs)
    # Every refusal before any publication: a sibling made current first would be « an
    # edition published since » the others started.
    for member in runs:
        refusal = editions.publication_refusal(member)
        if refusal:
            raise ValueError(refusal)
    published_at = timezone.now()
    for member in runs:
        _make_current(member, user)
        member.published_at = published_at
    # One edition, one date.
    GridRun.objects.filter(pk__in=[member.pk for member in runs]).update(published_at=published_at)
    transaction.on_commit(editions.prune_inputs)
    transaction.on_commit(renew_grid_runs_token)
    transaction.on_commit(forget_site_data)
    return next(member for member in runs if member.pk == run.pk)


def _check_batch(runs: list[GridRun]) -> None:
    """Raise ValueError (in French) unless every run of a batch may be published with the others."""
    for member in runs:
        lens = member.methodology.get_lens_display()
        if member.status == GridRun.Status.FAILED:
            raise ValueError(SIBLING_FAILED.format(lens=lens))
        if not member.is_internal:
            raise ValueError(SIBLING_NOT_READY.format(lens=lens, status=member.get_status_display().lower()))
    # The lenses of one edition share their counts (companies, employees): computed from
    # different positions, their differences would give one company's answers away.
    digests = set(GridRunInput.objects.filter(run__in=runs).values_list("digest", flat=True))
    if len(digests) > 1:
        raise ValueError(SIBLINGS_DIFFER)


def _progress(run: GridRun, progress: int, step: str) -> None:
    # A plain UPDATE outside the run's transaction, so the progress bar moves while it computes;
    # each step is also a heartbeat (between steps, the thread of grid_run_compute beats).
    GridRun.objects.filter(pk=run.pk, task_id=run.task_id).update(
        progress=progress, step=step, heartbeat_at=timezone.now()
    )


def grid_run_compute(run_id: int, *, task_id: str | None = None, queue: str | None = None) -> GridRun:
    """Compute a run and make it current.

    Idempotent: a finished run is returned as it is, and a retried one starts again from
    scratch (its partial cells are replaced in the final transaction, so cells are never
    duplicated). `task_id` is the Celery message's id when a worker computes the run: then a
    run failed meanwhile (reaped, or refused by the audit) is left as it is, and so is a run
    that another message is computing and that still beats (grid_run_claim). Called without
    it (the demo, a test, a command), any run not ready is computed again.

    Positions lying in GRID_SPLIT_MIN_REGIONS régions or more are aggregated one part per
    région by a chord of Celery tasks on `queue` (observatory.national_runs): this returns
    once they are sent, and the chord's callback (grid_run_merge) finishes the run.
    """
    run, claimed = grid_run_claim(run_id, task_id=task_id)
    if not claimed:
        return run
    timings = {}
    return _attempting(run, timings, partial(_compute, run, timings, queue))


def _attempting(run: GridRun, timings: dict, work) -> GridRun:
    """`work()` under the run's heartbeat (grid_runs_reap): beats from a thread, since the
    secrecy protection is one long call into analysis/ that knows nothing of runs. An
    attempt that lost its run writes nothing (`_taken_over`); one that fails records why
    with the `timings` it reached (`_fail`) and raises."""
    stop_beating = _heartbeat(run)
    try:
        return work()
    except RunTakenOver:
        return _taken_over(run)
    except Exception as exc:
        _fail(run, exc, timings)
        raise
    finally:
        stop_beating()


def _heartbeat(run: GridRun):
    """Start beating for `run`'s attempt; returns the function that stops it."""
    return start_heartbeat(partial(_beat, run.pk, run.task_id), every=settings.RUN_HEARTBEAT_INTERVAL)


def _compute(run: GridRun, timings: dict, queue: str | None) -> GridRun:
    """grid_run_compute's work, once the run is claimed: `timings` fills as steps end."""
    params = run.methodology.as_params()
    clock = time.perf_counter()
    _progress(run, 5, "Lecture des postes")
    positions, reference, coverage = read_inputs(run.methodology)
    run.profile_source = profile_source_tag(reference)
    GridRun.objects.filter(pk=run.pk).update(profile_source=run.profile_source)
    reference_origin = reference[["source", "items"]]
    reference = reference[list(CATEGORIES)]
    timings["load"] = time.perf_counter() - clock

    clock = time.perf_counter()
    _progress(run, 25, "Profils et exposition des métiers")
    # A fiche whose answers too few companies changed since an edition published its
    # field profile keeps that profile: the difference would be one company's answers.
    inputs = {}  # positions of the published editions, read once for both comparisons
    fresh = exposure.field_profiles(positions)
    field, field_basis, frozen = editions.freeze_field_profiles(
        run, positions, fresh, min_companies=params["min_companies"], cache=inputs
    )
    scores = exposure.occupation_scores(reference, positions, params, field=field)
    scores["field_companies"] = scores["n_companies"]
    scores["n_companies"] = fresh["n_companies"].reindex(scores.index).fillna(0).astype("int64")
    scores["field_basis_id"] = field_basis.reindex(scores.index)
    scores["employees"] = positions.groupby("occupation")["headcount"].sum().reindex(scores.index).fillna(0)
    if run.index_id:
        scores = _with_index_exposure(scores, index_scores_frame(run.index_id), params)
    scores["ref_source"] = reference_origin["source"].reindex(scores.index)
    scores["ref_items"] = reference_origin["items"].reindex(scores.index)
    # The positions are kept for the comparisons to come (and for the merge of a split run).
    editions.store_input(run, positions)
    timings["scores"] = time.perf_counter() - clock

    if national_runs.split_regions(positions):
        clock = time.perf_counter()
        _progress(run, 30, "Agrégation par région")
        keys = national_runs.store_inputs(run, positions, scores, coverage, frozen=frozen)
        timings["split"] = time.perf_counter() - clock
        GridRun.objects.filter(pk=run.pk).update(timings=_stored_timings(timings))
        _send_parts(run, keys, queue)
        return GridRun.objects.get(pk=run.pk)

    clock = time.perf_counter()
    _progress(run, 45, "Agrégation du cube")
    cells = cube.build_cube(positions, scores, training_coverage=coverage)
    timings["cube"] = time.perf_counter() - clock
    return _complete(run, positions, scores, cells, timings, frozen=frozen, inputs=inputs)


def read_inputs(methodology: Methodology) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What a run reads: the positions, the reference profiles (`reference_profiles_frame`)
    and the training coverage. The profiles, a few tenths of a second of Python over the
    ROME's items, are built by a second thread while the positions stream
    (observatory.concurrency)."""
    with ThreadPoolExecutor(1) as pool:
        reference = concurrency.beside(pool, reference_profiles_frame, methodology.profile_params())
        positions = positions_frame()
        coverage = training_coverage_frame()
        return positions, reference.result(), coverage


def _stored_timings(timings: dict) -> dict:
    """A run's step durations as GridRun.timings keeps them: seconds to the millisecond."""
    return {step: round(seconds, 3) for step, seconds in timings.items()}


def _taken_over(run: GridRun) -> GridRun:
    """This attempt lost its run (reaped, or taken by a later message): it writes nothing and
    leaves the run's pieces to the attempt that owns it."""
    logger.warning("grid run %s was reaped or taken by another attempt: its cells are not written", run.pk)
    partitions.discard_staging(run.pk)
    return GridRun.objects.get(pk=run.pk)


def _fail(run: GridRun, exc: Exception, timings: dict) -> None:
    """Record why this attempt of `run` failed, and drop what it had begun to write."""
    logger.error("grid run %s failed", run.pk, exc_info=exc)
    # The audit's refusal is a verdict written for people, not a crash; so is the task's
    # time limit, which says at which step the run was stopped.
    if isinstance(exc, secrecy.SecrecyAuditFailed):
        error = str(exc)
    elif isinstance(exc, SoftTimeLimitExceeded):
        step = GridRun.objects.filter(pk=run.pk).values_list("step", flat=True).first() or ""
        error = (
            f"Le calcul a dépassé le temps alloué à une tâche ({GRID_TASK_MINUTES} min)"
            + (f" pendant l'étape « {step} »" if step else "")
            + " et a été interrompu."
        )
    else:
        error = f"{type(exc).__name__}: {exc}"
    GridRun.objects.filter(pk=run.pk, task_id=run.task_id).update(
        status=GridRun.Status.FAILED,
        error=error,
        finished_at=timezone.now(),
        timings=_stored_timings(timings),
    )
    partitions.discard_staging(run.pk)
    national_runs.discard(run.pk)


def _send_parts(run: GridRun, keys: list[str], queue: str | None) -> None:
    """One task per part of a split run, and the merge as the chord's callback, all on the
    queue of the run's own message (a worker's queue in tests, the default one otherwise)."""
    from celery import chord

    from .tasks import compute_grid_part, merge_grid_run

    options = {"queue": queue} if queue else {}
    header = [compute_grid_part.si(run.pk, key, run.task_id).set(**options) for key in keys]
    _grant_parts_time(run)
    chord(header)(merge_grid_run.s(run.pk, run.task_id).set(**options))


def _grant_parts_time(run: GridRun) -> None:
    """Parts may wait in the queue behind other tasks, and nothing beats meanwhile: the
    reaper spares a running run until `due_at`, RUN_PENDING_TIMEOUT after the parts were
    sent or after the last one ended."""
    now = timezone.now()
    GridRun.objects.filter(pk=run.pk, status=GridRun.Status.RUNNING, task_id=run.task_id).update(
        heartbeat_at=now, due_at=now + timedelta(seconds=settings.RUN_PENDING_TIMEOUT)
    )


def _attempt(run_id: int, task_id: str | None) -> GridRun | None:
    """The run, when it is still being computed by the attempt of message `task_id` (the
    run's own): a part or a merge delivered late, or twice, finds it taken or ended."""
    run = GridRun.objects.select_related("methodology", "index").get(pk=run_id)
    if run.status != GridRun.Status.RUNNING or run.task_id != (task_id or ""):
        return None
    return run


def grid_run_part(run_id: int, key: str, *, task_id: str | None = None) -> dict:
    """Aggregate one part of a split run (observatory.national_runs.compute_part); a part
    that fails fails the run, whose other pieces are dropped."""
    run = _attempt(run_id, task_id)
    if run is None:
        return {"run": run_id, "part": key, "skipped": True}
    stop_beating = _heartbeat(run)
    try:
        outcome = national_runs.compute_part(run.pk, key)
        _grant_parts_time(run)
        return outcome
    except Exception as exc:
        _fail(run, exc, dict(run.timings or {}))
        raise
    finally:
        stop_beating()


def grid_run_merge(run_id: int, *, task_id: str | None = None) -> GridRun:
    """The chord's callback of a split run: merge its parts into the grid, then finish the run
    as one process does (comparison with the editions, secrecy, audit, cells)."""
    run = _attempt(run_id, task_id)
    if run is None:
        return GridRun.objects.get(pk=run_id)
    timings = dict(run.timings or {})
    return _attempting(run, timings, partial(_merge, run, timings))


def _merge(run: GridRun, timings: dict) -> GridRun:
    """grid_run_merge's work, once the run is found still computed by this attempt."""
    clock = time.perf_counter()
    _progress(run, 50, "Fusion des régions")
    keys = national_runs.part_keys(run.pk)
    timings.update(national_runs.part_timings(run.pk))
    cells = national_runs.merged_cells(run.pk, keys)
    scores, frozen = national_runs.stored_scores(run.pk)
    positions = editions.edition_positions(run.pk)
    timings["merge"] = time.perf_counter() - clock
    run = _complete(run, positions, scores, cells, timings, frozen=frozen, parts=keys)
    national_runs.discard(run.pk)
    return run


def _complete(
    run: GridRun,
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    cells: pd.DataFrame,
    timings: dict,
    *,
    frozen: dict,
    inputs: dict | None = None,
    parts: list[str] | None = None,
) -> GridRun:
    """From the cube to a finished run: the comparison with the published editions,
    statistical secrecy, its audit, then the cells and scores written and the run made
    current (unless it is internal)."""
    params = run.methodology.as_params()
    # The version's publication plan leaves out whole level combinations, before the
    # editions, secrecy and the audit see any of their cells.
    cells = cube.within_plan(cells, params["epci_detail"])
    # Compared with every published edition: cells too few companies changed in since
    # are withheld, then protected and audited with the other secrets.
    clock = time.perf_counter()
    _progress(run, 55, "Comparaison avec les éditions publiées")
    withheld, compared = editions.compare_with_editions(
        run,
        positions,
        scores,
        secrecy.primary_secrecy(cells, params["min_companies"], params["dominance"]),
        min_companies=params["min_companies"],
        cache=inputs,
    )
    compared["field_frozen"] = frozen
    timings["editions"] = time.perf_counter() - clock
    position_count = len(positions)
    del positions, inputs  # a million rows need not stay alive while the cells are written

    clock = time.perf_counter()
    _progress(run, 60, "Secret statistique")
    # The reader knows the COG: which EPCI lie in which département.
    protection = {
        "protection": params["protection"],
        "protection_floor": params["protection_floor"],
        "inside": epci_departements(),
    }
    report = {}
    cells = secrecy.apply_secrecy(
        cells,
        min_companies=params["min_companies"],
        dominance=params["dominance"],
        report=report,
        withheld=withheld,
        **protection,
    )
    timings["secrecy"] = time.perf_counter() - clock

    # The audit attacks the cells as they would be published; a run it fails is never
    # made current. The protection's witness tables spare it searching again, and it
    # checks each of them against the published equations before trusting it.
    clock = time.perf_counter()
    _progress(run, 72, "Audit du secret statistique")
    audit = secrecy.audit_secrecy(cells, witnesses=report.get("witnesses"), **protection)
    timings["audit"] = time.perf_counter() - clock
    run.audit = {**audit.summary(), "protection": report.get("summary", {}), "editions": compared}
    GridRun.objects.filter(pk=run.pk).update(audit=run.audit)
    if not audit.passed:
        raise secrecy.SecrecyAuditFailed(audit.explanation())

    clock = time.perf_counter()
    _progress(run, 80, "Enregistrement des cellules")
    # The cells are loaded and indexed before the final transaction, which only attaches
    # them (observatory/partitions.py): it stays short, whatever the number of cells.
    staged = _write_cells(run, cells)
    with transaction.atomic():
        _hold(run)
        partitions.attach_run_cells(staged)
        OccupationScore.objects.filter(run=run).delete()
        _write_scores(run, scores)
        # A recomputation after new field data stays internal: published, its difference
        # with the edition before would be one company's answers.
        publish = run.trigger not in GridRun.INTERNAL_TRIGGERS
        refusal = editions.publication_refusal(run) if publish else ""
        if refusal:
            run.audit["editions"]["refused"] = refusal
        elif publish:
            _make_current(run)
            transaction.on_commit(editions.prune_inputs)
        timings["write"] = time.perf_counter() - clock
        run.status = GridRun.Status.READY
        run.progress = 100
        run.step = "Terminé"
        run.finished_at = timezone.now()
        run.timings = _stored_timings(timings)
        commit_clock = time.perf_counter()
        run.stats = {
            "positions": position_count,
            "cells": len(cells),
            "secret_cells": int(cells["secret"].sum()) if len(cells) else 0,
            "secondary_cells": int((cells["secret_reason"] == "secondary").sum()) if len(cells) else 0,
            "occupations": len(scores),
        }
        if parts:
            run.stats["parts"] = parts
        run.save()
        # The run picker changes once this commits: pages that read the runs meanwhile
        # stored the old state under the token the save renewed.
        transaction.on_commit(renew_grid_runs_token)
    # The commit is part of the run's honest duration (on PostgreSQL it attaches a loaded partition).
    timings["commit"] = time.perf_counter() - commit_clock
    run.finished_at = timezone.now()
    run.timings = _stored_timings(timings)
    GridRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at, timings=run.timings)
    return run


class RunTakenOver(Exception):
    """The run is no longer this attempt's: the reaper failed it, or a later message took it."""


def grid_run_claim(run_id: int, *, task_id: str | None = None) -> tuple[GridRun, bool]:
    """Take a run for one attempt (status running, heartbeat now), or say why not: the run
    and whether it was taken.

    Never taken: a ready run (a message delivered twice, or sent again by the reaper, computes
    once). With a Celery message's `task_id`, also a failed run (reaped or refused: an analyst
    relaunches it, a late message does not) and a run that another message is computing and
    that still beats. The same message delivered again (its worker died, the broker gave it
    back) takes its run over and starts again from scratch.
    """
    now = timezone.now()
    with transaction.atomic():
        run = GridRun.objects.select_for_update().get(pk=run_id)
        if run.status == GridRun.Status.READY:
            return run, False
        if task_id is not None:
            beats = run.heartbeat_at is not None and run.heartbeat_at > now - timedelta(
                seconds=settings.RUN_HEARTBEAT_TIMEOUT
            )
            taken = run.status == GridRun.Status.RUNNING and run.task_id not in ("", task_id) and beats
            if run.status == GridRun.Status.FAILED or taken:
                return run, False
        run.status = GridRun.Status.RUNNING
        run.started_at = run.heartbeat_at = now
        run.error = ""
        run.task_id = task_id or ""
        run.save(update_fields=["status", "started_at", "heartbeat_at", "error", "task_id"])
    return GridRun.objects.select_related("methodology", "index").get(pk=run_id), True


def _beat(run_pk: int, task_id: str) -> None:
    """One heartbeat of a computing run. A row locked by the run's final transaction is
    skipped: the lock already says the run is alive (the reaper skips it too), and waiting for
    it would only beat once the run has ended."""
    with transaction.atomic():
        alive = list(
            GridRun.objects.select_for_update(skip_locked=True)
            .filter(pk=run_pk, status=GridRun.Status.RUNNING, task_id=task_id)
            .values_list("pk", flat=True)
        )
        GridRun.objects.filter(pk__in=alive).update(heartbeat_at=timezone.now())


def _hold(run: GridRun) -> None:
    """Lock the run for its final transaction, and go on only while it is still this
    attempt's: two attempts never both write cells, and a reaped run stays failed."""
    held = GridRun.objects.select_for_update().filter(pk=run.pk).values_list("status", "task_id").first()
    if held != (GridRun.Status.RUNNING, run.task_id):
        raise RunTakenOver(run.pk)


def _with_index_exposure(scores: pd.DataFrame, index_scores: pd.Series, params: dict) -> pd.DataFrame:
    """Replace the task-based exposure by an external index; fiches the index does not cover
    keep no exposure (they drop out of the exposure means, not of the counts)."""
    scores = scores.copy()
    scores["exposure"] = index_scores.reindex(scores.index)
    scores["exposure_class"] = exposure.exposure_class(
        scores["exposure"], high=params["high_threshold"], medium=params["medium_threshold"]
    )
    return scores


# The order of the gridcell_levels index: rows written in that order keep the cells of one
# level combination, which a page reads together, on neighbouring pages of the table.
INDEX_ORDER = [
    "territory_level",
    "sector_level",
    "occupation_level",
    "size_band",
    "territory_code",
    "sector_code",
    "occupation_code",
]


def _write_cells(run: GridRun, cells: pd.DataFrame) -> partitions.StagedCells:
    """Load the run's cells, in gridcell_levels order, for attach_run_cells."""
    frame = cells.reindex(columns=CELL_COLUMNS)
    frame = frame.iloc[_index_order(frame)]
    frame.insert(0, "run_id", run.pk)
    return partitions.load_run_cells(run.pk, frame)


def _index_order(frame: pd.DataFrame):
    """Row positions sorted by INDEX_ORDER in code-point order (PostgreSQL's C collation);
    categoricals are sorted on their codes after ordering their categories alphabetically."""
    keys = []
    for name in reversed(INDEX_ORDER):
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            ordered = sorted(column.cat.categories, key=str)
            keys.append(column.cat.reorder_categories(ordered).cat.codes.to_numpy())
        else:
            keys.append(column.astype(str).to_numpy())
    return np.lexsort(keys)


def _write_scores(run: GridRun, scores: pd.DataFrame) -> None:
    frame = scores.reindex(columns=SCORE_COLUMNS).copy()
    frame["exposure"] = frame["exposure"].astype(float)
    frame["exposure_class"] = frame["exposure_class"].astype(object).fillna("")
    frame["n_companies"] = frame["n_companies"].fillna(0).astype("int64")
    frame["employees"] = frame["employees"].fillna(0).astype("int64")
    frame["ref_source"] = frame["ref_source"].astype(object).fillna("")
    frame["ref_items"] = frame["ref_items"].astype("Int64")
    frame["field_companies"] = frame["field_companies"].astype("Int64")
    frame["field_basis_id"] = frame["field_basis_id"].astype("Int64")
    frame.insert(0, "occupation_id", scores.index.astype(str))
    frame.insert(0, "run_id", run.pk)
    _bulk_insert(OccupationScore._meta.db_table, frame.reset_index(drop=True))


def schedule_recomputation(*, delay_seconds: int) -> GridRun | None:
    """Queue one recomputation of every lens after new field data, unless one is already
    waiting: bursts of imports or submissions give a single batch (the debounce).

    The batch is one run per lens sharing a `batch` id: the default lens's (trigger "auto"),
    which one task computes before the others ("auto_lens"), in the same task
    (grid_run_batch_compute). Returns the default lens's run, or None when nothing was queued.
    """
    from .tasks import recompute_after_field_data

    with transaction.atomic():
        # Lock the lens's methodology row so two concurrent callers cannot both queue a run.
        methodology = Methodology.objects.select_for_update().filter(lens=Lens.DEFAULT).order_by("-version").first()
        if methodology is None:
            return None
        # A batch waits until its first run starts; data arriving later (the others' lenses
        # may still be pending) goes to a new batch, so that no lens misses it.
        waiting = GridRun.objects.filter(
            trigger=GridRun.Trigger.AUTO, status=GridRun.Status.PENDING, methodology__lens=Lens.DEFAULT
        ).exists()
        if waiting:
            return None
        batch = uuid.uuid4()
        due_at = timezone.now() + timedelta(seconds=delay_seconds)
        run = GridRun.objects.create(methodology=methodology, trigger=GridRun.Trigger.AUTO, batch=batch, due_at=due_at)
        for lens in Lens.values:
            other = Methodology.objects.current(lens) if lens != Lens.DEFAULT else None
            if other is not None:
                GridRun.objects.create(
                    methodology=other, trigger=GridRun.Trigger.AUTO_LENS, batch=batch, due_at=due_at
                )
        # After the commit of what triggered it (a submitted diagnostic, an import), which a
        # broker out of reach must not turn into an error page: the runs then wait, later
        # field data joins them, and the reaper sends each once the broker is back.
        transaction.on_commit(
            partial(grid_run_enqueue, run.pk, countdown=delay_seconds, task=recompute_after_field_data)
        )
    return run


def grid_run_batch_compute(run_id: int, *, task_id: str | None = None) -> list[GridRun]:
    """Compute `run_id`, then the other runs of its batch, one after the other in this task.

    A run of the batch already taken (the reaper sent it on its own, another worker computes
    it) or failed is left to its fate (grid_run_claim). One lens failing does not stop the
    others: its failure is recorded on its run, and the batch cannot be published until a
    new batch succeeds.
    """
    run = GridRun.objects.get(pk=run_id)
    siblings = []
    if run.batch:
        siblings = list(
            GridRun.objects.filter(batch=run.batch).exclude(pk=run.pk).order_by("pk").values_list("pk", flat=True)
        )
    computed = []
    for pk in [run.pk, *siblings]:
        try:
            computed.append(grid_run_compute(pk, task_id=task_id))
        except Exception:
            # Already logged and recorded on the run by grid_run_compute.
            computed.append(GridRun.objects.get(pk=pk))
    return computed


def grid_run_enqueue(run_id: int, *, countdown: int = 0, task=None) -> bool:
    """Send a committed pending run to the broker (`task`: compute_grid_run by default);
    whether the broker took it.

    A broker out of reach is logged and the run stays pending: the request that launched it
    succeeds, and grid_runs_reap sends it again once the broker is back. With eager Celery
    (no broker) the run computes here, and a failure is already recorded on the run.
    """
    from .tasks import compute_grid_run

    try:
        (task or compute_grid_run).apply_async((run_id,), countdown=countdown or None)
    except Exception:
        logger.exception("grid run %s could not be queued or computed", run_id)
        return False
    return True


# What the runs page says of a run the reaper failed (French: read by analysts).
REAPED_ERROR = "Le calcul s'est interrompu (processus arrêté) : relancez-le."
ABANDONED_ERROR = (
    "Le calcul n'a été pris en charge par aucun processus de calcul après {sends} envois à la file "
    "d'attente : vérifiez que Redis et un worker Celery tournent, puis relancez-le."
)


def grid_runs_reap() -> dict:
    """Jobs always end (beat runs this every RUN_REAPER_INTERVAL seconds).

    A running run whose heartbeat stopped RUN_HEARTBEAT_TIMEOUT seconds ago lost its worker
    (killed, out of memory, past its hard time limit): it fails with REAPED_ERROR and is no
    longer « en cours », so it can be relaunched at once. A run whose final transaction holds
    its row is alive whatever its heartbeat says, and is skipped; so is a run split by région
    until its `due_at` (its parts may wait in the queue: _grant_parts_time). A pending run
    not started RUN_PENDING_TIMEOUT seconds after it was due never reached a worker (a broker
    out of reach when it was queued, a broker that lost its messages): it is sent again,
    RUN_MAX_RESENDS times at most, then fails (a duplicate message is harmless:
    grid_run_claim).

    Returns the ids of the runs failed ("reaped", "abandoned") and sent again ("resent").
    """
    now = timezone.now()
    stalled = now - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    overdue = now - timedelta(seconds=settings.RUN_PENDING_TIMEOUT)
    with transaction.atomic():
        reaped = list(
            GridRun.objects.select_for_update(skip_locked=True)
            .filter(status=GridRun.Status.RUNNING)
            .exclude(due_at__gt=now)
            .alias(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
            .filter(last_sign__lt=stalled)
            .values_list("pk", flat=True)
        )
        GridRun.objects.filter(pk__in=reaped).update(status=GridRun.Status.FAILED, error=REAPED_ERROR, finished_at=now)
        waiting = list(
            GridRun.objects.select_for_update(skip_locked=True)
            .filter(status=GridRun.Status.PENDING, heartbeat_at__isnull=True)
            .alias(due=Coalesce("due_at", "created_at"))
            .filter(due__lt=overdue)
            .values_list("pk", "resends")
        )
        abandoned = [pk for pk, resends in waiting if resends >= settings.RUN_MAX_RESENDS]
        resent = [pk for pk, resends in waiting if resends < settings.RUN_MAX_RESENDS]
        for pk, resends in waiting:
            if pk in abandoned:
                GridRun.objects.filter(pk=pk).update(
                    status=GridRun.Status.FAILED, error=ABANDONED_ERROR.format(sends=resends + 1), finished_at=now
                )
        GridRun.objects.filter(pk__in=resent).update(due_at=now, resends=F("resends") + 1)
        for pk in resent:
            transaction.on_commit(partial(grid_run_enqueue, pk))
    if reaped or abandoned or resent:
        logger.warning("grid runs reaped %s, abandoned %s, sent again %s", reaped, abandoned, resent)
    return {"reaped": reaped, "abandoned": abandoned, "resent": resent}
