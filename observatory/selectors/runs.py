"""Reads of the runs pages: history, progress, launch checks, the comparison of two runs, and the
state token of the runs."""

import logging
import uuid

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Q

from companies.models import Sector
from skills.models import Occupation

from ..analysis.codes import unknown_mask
from ..analysis.comparison import COMPARED_COLUMNS, compare_cells, rank_correlation
from ..models import CELL_COORDINATES, GridCell
from .grid import UNKNOWN_LABEL

logger = logging.getLogger(__name__)


# --- Runs pages -------------------------------------------------------------------------
# Reads of /observatoire/runs/ (history, progress, launch checks) and /observatoire/runs/comparer/
# (two runs, or two exposure sources, cell by cell). Models are imported inside the functions
# because this block is appended below the module's imports.

# A running run older than the task's hard time limit (65 min, observatory.tasks) cannot still
# be computing: its worker died, so it no longer blocks a new launch.
STALE_RUNNING_AFTER_MINUTES = 65


def grid_runs_history():
    """Every run, newest first, with what the history table shows (one query per page)."""
    from ..models import GridRun

    return GridRun.objects.select_related("methodology", "index", "launched_by").order_by("-created_at", "-pk")


def current_grid_runs() -> list:
    """The run each dashboard shows, one per lens and exposure source."""
    from ..models import GridRun

    return list(
        GridRun.objects.filter(is_current=True)
        .select_related("methodology", "index")
        .order_by("index__name", "methodology__lens")
    )


def exposure_indices() -> list:
    """The external indices a run can use in place of the task-based exposure."""
    from skills.models import ExposureIndex

    return list(ExposureIndex.objects.order_by("name"))


def active_grid_run(*, lens: str, index_id: int | None):
    """The pending or running run of a lens and source, if any (a stale running one aside)."""
    from datetime import timedelta

    from django.utils import timezone

    from ..models import GridRun

    stale = timezone.now() - timedelta(minutes=STALE_RUNNING_AFTER_MINUTES)
    return (
        GridRun.objects.filter(methodology__lens=lens, index_id=index_id)
        .filter(
            Q(status=GridRun.Status.PENDING)
            | Q(status=GridRun.Status.RUNNING, started_at__gte=stale)
            | Q(status=GridRun.Status.RUNNING, started_at__isnull=True)
        )
        .order_by("-created_at")
        .first()
    )


def grid_run_progress(run_id: int) -> dict | None:
    """What the progress bar polls: status, percentage and current step of one run."""
    from ..models import GridRun

    run = GridRun.objects.filter(pk=run_id).only("pk", "status", "progress", "step").first()
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "progress": run.progress,
        "step": run.step,
        "finished": run.status in (GridRun.Status.READY, GridRun.Status.FAILED),
    }


def ready_grid_runs(*, include=(), limit: int = 200) -> list:
    """Editions that can be compared, newest first: the latest `limit` ones plus any run
    of `include` (ids named in a shared link), in at most two queries."""
    from ..models import GridRun

    ready = GridRun.objects.published().select_related("methodology", "index")
    runs = list(ready.order_by("-created_at", "-pk")[:limit])
    missing = {pk for pk in include if pk is not None} - {run.pk for run in runs}
    if missing:
        runs += list(ready.filter(pk__in=missing))
    return runs


def compared_cells(run_a, run_b, **coordinates) -> pd.DataFrame:
    """The cells of both runs at fixed coordinates, e.g. territory_level="all", with sector
    and occupation free (one query), aligned on (sector_code, occupation_code) by
    `compare_cells`."""
    keys = ["sector_code", "occupation_code"]
    columns = ["run_id", *keys, *COMPARED_COLUMNS]
    rows = GridCell.objects.filter(run__in=[run_a.pk, run_b.pk], **coordinates).values_list(*columns).order_by()
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return compare_cells(
        frame[frame["run_id"] == run_a.pk].drop(columns="run_id"),
        frame[frame["run_id"] == run_b.pk].drop(columns="run_id"),
        keys,
    )


def run_comparison_frame(run_a, run_b, *, sector_level: str, occupation_level: str) -> pd.DataFrame:
    """Cells of two runs for Hauts-de-France as a whole and every size (territory and size
    "all") at a sector × occupation level, aligned and masked as `compare_cells` does, with
    sector_label and occupation_label. Three queries."""
    compared = compared_cells(
        run_a,
        run_b,
        territory_level="all",
        size_band="all",
        sector_level=sector_level,
        occupation_level=occupation_level,
    )
    sector_labels = dict(Sector.objects.filter(code__in=set(compared["sector_code"])).values_list("code", "label"))
    occupation_labels = dict(
        Occupation.objects.filter(code__in=set(compared["occupation_code"])).values_list("code", "label")
    )
    # NAF sections are published in capitals; they read better in sentence case in a table.
    sector_labels = {
        code: label[:1] + label[1:].lower() if label.isupper() else label for code, label in sector_labels.items()
    }
    for dimension, labels in (("sector", sector_labels), ("occupation", occupation_labels)):
        codes = compared[f"{dimension}_code"]
        named = codes.map(labels).astype(object).fillna("")
        compared[f"{dimension}_label"] = named.where(~unknown_mask(codes), UNKNOWN_LABEL)
    return compared


def run_comparison_summary(run_a, run_b) -> dict:
    """Summary figures of a comparison over the whole cube of both runs: cells in both runs
    and in one only, mean absolute difference of exposure over the cells public in both, and
    Spearman's correlation over the fiche-level cells of territory, sector and size "all"
    (computed with pandas). Two queries."""
    totals = _cube_overlap(run_a.pk, run_b.pk)
    fiches = compared_cells(
        run_a, run_b, territory_level="all", sector_level="all", size_band="all", occupation_level="fiche"
    )
    rho, n_fiches = rank_correlation(fiches)
    return {
        "common": totals["common"],
        "only_a": totals["cells_a"] - totals["common"],
        "only_b": totals["cells_b"] - totals["common"],
        "mean_abs_difference": totals["mean_abs"],
        "public_common": totals["public"],
        "spearman": rho,
        "spearman_fiches": n_fiches,
    }


def _cube_overlap(run_a_id: int, run_b_id: int) -> dict:
    """Cells of each run, cells common to both, and mean |E_b − E_a| over the common cells
    public in both, in one query: the cells of both runs are grouped on their coordinates,
    then the groups counted. A join of the two cubes on their coordinates would be quadratic
    within each combination of levels, which no index covers (cells carry no unique index,
    to keep writing them fast), and loading both cubes into pandas would not scale."""
    from django.db.models import Avg, F, Max
    from django.db.models.functions import Abs

    by_coordinates = (
        GridCell.objects.filter(run__in=[run_a_id, run_b_id])
        .values(*CELL_COORDINATES)
        .annotate(
            in_a=Count("pk", filter=Q(run=run_a_id)),
            in_b=Count("pk", filter=Q(run=run_b_id)),
            secret_any=Count("pk", filter=Q(secret=True)),
            exposure_a=Max("exposure_mean", filter=Q(run=run_a_id)),
            exposure_b=Max("exposure_mean", filter=Q(run=run_b_id)),
        )
        .order_by()
    )
    common = Q(in_a__gt=0, in_b__gt=0)
    public = common & Q(secret_any=0, exposure_a__isnull=False, exposure_b__isnull=False)
    return by_coordinates.aggregate(
        cells_a=Count("in_a", filter=Q(in_a__gt=0)),
        cells_b=Count("in_b", filter=Q(in_b__gt=0)),
        common=Count("in_a", filter=common),
        mean_abs=Avg(Abs(F("exposure_b") - F("exposure_a")), filter=public),
        public=Count("in_a", filter=public),
    )


# The state of the runs, for the pages that show one: a token drawn again whenever a run is
# saved or deleted (receivers in observatory/signals.py, connected by the app in every process)
# and once more when the transaction that made a run ready and current commits
# (`grid_run_compute`): a page that read the runs while it was committing keeps the old state
# under the first new token at most until then. It is short-lived, which bounds what nothing
# sees: a plain UPDATE of the runs' table.
GRID_RUNS_VERSION_KEY = "observatory:grid-runs-version"
GRID_RUNS_TIMEOUT = 10
_grid_run_summaries_seen: dict[int, tuple[str, list]] = {}  # limit -> (version, summaries)


def grid_run_summaries(limit: int = 30) -> list[tuple]:
    """The runs `grid_run_choices` offers, as the grid and map pages need them to pick their
    run and to tell whether the run picker changed: (pk, methodology_id, lens, index_id,
    is_current) of the newest `limit` finished runs (is_current may come as 0 / 1).

    Read on every view of those pages, so kept per state of the runs: each call reads the
    state's token from the shared cache (one round trip) and reuses what this process, or
    else the shared cache, holds for it; only a new state reads the database."""
    version = _grid_runs_version()
    seen = _grid_run_summaries_seen.get(limit)
    if seen is not None and seen[0] == version:
        return seen[1]
    key = f"observatory:grid-runs:v1:{version}:{limit}"
    summaries = cache.get(key)
    if summaries is None:
        from ..models import GridRun

        summaries = list(
            GridRun.objects.published()
            .order_by("-created_at", "-pk")
            .values_list("pk", "methodology_id", "methodology__lens", "index_id", "is_current")[:limit]
        )
        cache.set(key, summaries, GRID_RUNS_TIMEOUT)
    _grid_run_summaries_seen[limit] = (version, summaries)
    return summaries


def _grid_runs_version() -> str:
    version = cache.get(GRID_RUNS_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(GRID_RUNS_VERSION_KEY, version, GRID_RUNS_TIMEOUT):
            version = cache.get(GRID_RUNS_VERSION_KEY) or version
    return version


def renew_grid_runs_token() -> None:
    """The runs changed: the next page reads them again."""
    try:
        cache.set(GRID_RUNS_VERSION_KEY, uuid.uuid4().hex, GRID_RUNS_TIMEOUT)
    except Exception:  # the cache must never fail a run's transaction; the token expires anyway
        logger.warning("could not renew the runs' cache token", exc_info=True)


def grid_run_choices(limit: int = 30) -> list:
    """Editions an analyst may pick on the grid page, newest first, in one query."""
    from ..models import GridRun

    return list(
        GridRun.objects.published().select_related("methodology", "index").order_by("-created_at", "-pk")[:limit]
    )
