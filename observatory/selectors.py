"""Reads for the observatory pages."""

import io
import logging
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Substr

from companies.models import JobPosition, Sector, Territory
from skills.models import ExposureIndexScore, Occupation
from skills.text import accent_insensitive_pattern, fold

from .analysis import secrecy
from .models import CATEGORIES, CELL_COORDINATES, CELL_FIGURES, GridCell, OccupationScore

logger = logging.getLogger(__name__)


def reference_counts() -> dict:
    """Counts of what is loaded, in a handful of aggregate queries."""
    territories = Territory.objects.aggregate(
        regions=Count("pk", filter=Q(level=Territory.Level.REGION)),
        departements=Count("pk", filter=Q(level=Territory.Level.DEPARTEMENT)),
        epci=Count("pk", filter=Q(level=Territory.Level.EPCI)),
        communes=Count("pk", filter=Q(level=Territory.Level.COMMUNE)),
    )
    sectors = Sector.objects.aggregate(
        sections=Count("pk", filter=Q(level=Sector.Level.SECTION)),
        divisions=Count("pk", filter=Q(level=Sector.Level.DIVISION)),
        sous_classes=Count("pk", filter=Q(level=Sector.Level.SOUS_CLASSE)),
    )
    occupations = Occupation.objects.aggregate(
        grands_domaines=Count("pk", filter=Q(level=Occupation.Level.GRAND_DOMAINE)),
        domaines=Count("pk", filter=Q(level=Occupation.Level.DOMAINE)),
        fiches=Count("pk", filter=Q(level=Occupation.Level.FICHE)),
    )
    return {**territories, **sectors, **occupations}


# --- Inputs of a grid computation -------------------------------------------------------
# These are the only reads of a computation; each returns a DataFrame with named columns that
# observatory/analysis/ takes as it is.

POSITION_COLUMNS = [
    "position",
    "company",
    "establishment",
    "headcount",
    "training_need",
    "source",
    "rc",
    "rm",
    "nra",
    "nri",
    "nrm",
    "occupation",
    "domaine",
    "grand_domaine",
    "sector_code",
    "commune",
    "departement",
    "region",
    "epci",
    "size_band",
]


CODE_COLUMNS = [
    "source",
    "occupation",
    "domaine",
    "grand_domaine",
    "sector_code",
    "commune",
    "departement",
    "region",
    "epci",
    "size_band",
]


def positions_frame() -> pd.DataFrame:
    """Every job position the published statistics count, with the codes of its four
    dimensions, in one query. A diagnostic of a company nobody verified is left out
    (`JobPosition.objects.counted_in_statistics`): made-up companies move no figure.

    Columns: company, establishment (ids), headcount, training_need (bool), diagnostic (bool),
    rc..nrm (percent), occupation / domaine / grand_domaine (ROME codes), naf_section /
    naf_division, departement / region / epci (INSEE codes, epci "" when unknown), size_band;
    code columns are categoricals.
    """
    rows = (
        JobPosition.objects.counted_in_statistics()
        .values_list(
            "pk",
            "establishment__company_id",
            "establishment_id",
            "headcount",
            "training_need",
            "source",
            "rc",
            "rm",
            "nra",
            "nri",
            "nrm",
            "occupation_id",
            "occupation__parent_id",
            Coalesce("occupation__parent__parent_id", Substr("occupation_id", 1, 1)),
            "establishment__sector__code",
            "establishment__commune__code",
            "establishment__commune__parent__code",
            "establishment__commune__parent__parent__code",
            "establishment__commune__epci__code",
            "establishment__size_band",
        )
        .order_by()
    )
    if connection.vendor == "postgresql":
        frame = _copy_positions(rows)
    else:
        frame = pd.DataFrame.from_records(_fetch(rows), columns=POSITION_COLUMNS)
        for column in ("epci", "domaine"):
            frame[column] = frame[column].fillna("")
        frame["training_need"] = frame["training_need"].astype(bool)
        for column in ("headcount", "rc", "rm", "nra", "nri", "nrm"):
            frame[column] = frame[column].astype("int32")
    for column in CODE_COLUMNS:
        frame[column] = frame[column].astype("category")
    sections = section_of_division()
    # Mapping a categorical maps its categories only: a few hundred calls, not one per row.
    frame["naf_division"] = frame["sector_code"].map(lambda code: code[:2]).astype("category")
    frame["naf_section"] = frame["naf_division"].map(lambda division: sections.get(division, "")).astype("category")
    frame["diagnostic"] = (frame["source"] == JobPosition.Source.DIAGNOSTIC).to_numpy()
    return frame.drop(columns=["source", "sector_code"])


def _copy_positions(rows) -> pd.DataFrame:
    """PostgreSQL streams the query's rows as CSV (COPY … TO STDOUT), which pandas parses in
    C: five times faster than building a Python tuple per row, and a tenth of the memory."""
    sql, params = rows.query.sql_with_params()
    buffer = io.BytesIO()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for data in copy:
            buffer.write(data)
    buffer.seek(0)
    # Codes are read as strings so leading zeros survive ("02"); pandas' dtype="category" in
    # read_csv would parse them as numbers first.
    dtypes = dict.fromkeys(CODE_COLUMNS, str)
    dtypes.update({"position": "int64", "company": "int64", "establishment": "int64", "headcount": "int32"})
    dtypes.update(dict.fromkeys(("rc", "rm", "nra", "nri", "nrm"), "int32"))
    return pd.read_csv(
        buffer,
        names=POSITION_COLUMNS,
        dtype=dtypes,
        keep_default_na=False,
        na_values=[],
        true_values=["t"],
        false_values=["f"],
    )


def _fetch(queryset, chunk_size=50_000):
    """Stream a values_list queryset without building model instances."""
    return queryset.iterator(chunk_size=chunk_size)


def section_of_division() -> dict[str, str]:
    """NAF division code (`62`) → section letter (`J`), from the loaded nomenclature."""
    parents = dict(Sector.objects.values_list("code", "parent__code"))
    levels = dict(Sector.objects.values_list("code", "level"))
    mapping = {}
    for code, level in levels.items():
        if level == Sector.Level.SECTION:
            continue
        node = code
        while node and levels.get(node) != Sector.Level.SECTION:
            node = parents.get(node)
        if node:
            mapping.setdefault(code[:2], node)
    return mapping


def index_scores_frame(index_id: int) -> pd.Series:
    """Scores in [0, 1] of an external index, indexed by ROME fiche."""
    rows = ExposureIndexScore.objects.filter(index_id=index_id).values_list("occupation_id", "score")
    series = pd.Series(dict(rows), dtype=float, name="exposure")
    series.index.name = "occupation"
    return series


def training_coverage_frame() -> pd.DataFrame:
    """(département, fiche) pairs for which a published offer leads to a skills block (or a
    certification) relevant to the fiche, from a provider located in that département.

    Columns: departement, occupation, covered (always True; absent pairs are not covered).
    """
    from trainings.models import TrainingOffer

    published = TrainingOffer.objects.filter(
        status=TrainingOffer.Status.PUBLISHED,
        provider__status=TrainingOffer.Status.PUBLISHED,
        provider__commune__isnull=False,
    )
    by_block = published.values_list("provider__commune__parent__code", "skill_blocks__occupations__code")
    by_certification = published.values_list("provider__commune__parent__code", "certification__occupations__code")
    frame = pd.DataFrame.from_records([*by_block, *by_certification], columns=["departement", "occupation"]).dropna()
    frame = frame.drop_duplicates().reset_index(drop=True)
    frame["covered"] = True
    return frame


def cells_export_frame(run) -> pd.DataFrame:
    """The cells of a run with the names of their territory, sector and occupation."""
    fields = [f.name for f in GridCell._meta.fields if f.name not in ("id", "run")]
    frame = pd.DataFrame.from_records(GridCell.objects.filter(run=run).values_list(*fields).order_by(), columns=fields)
    frame.insert(0, "run_id", run.pk)
    territory_names = {
        f"{level}:{code}": name for level, code, name in Territory.objects.values_list("level", "code", "name")
    }
    keys = frame["territory_level"] + ":" + frame["territory_code"]
    frame["territory_name"] = keys.map(territory_names).fillna("")
    frame.loc[frame["territory_level"] == "all", "territory_name"] = "Ensemble"
    sector_labels = dict(Sector.objects.values_list("code", "label"))
    frame["sector_label"] = frame["sector_code"].map(sector_labels).fillna("")
    occupation_labels = dict(Occupation.objects.values_list("code", "label"))
    frame["occupation_label"] = frame["occupation_code"].map(occupation_labels).fillna("")
    return frame


def occupation_scores_export_frame(run) -> pd.DataFrame:
    fields = [f.name for f in OccupationScore._meta.fields if f.name not in ("id", "run", "occupation")]
    rows = OccupationScore.objects.filter(run=run).values_list("occupation_id", "occupation__label", *fields)
    frame = pd.DataFrame.from_records(rows.order_by("occupation_id"), columns=["code_rome", "label", *fields])
    return frame


# --- Runs pages -------------------------------------------------------------------------
# Reads of /observatoire/runs/ (history, progress, launch checks) and /observatoire/runs/comparer/
# (two runs, or two exposure sources, cell by cell). Models are imported inside the functions
# because this block is appended below the module's imports.

# A running run older than the task's hard time limit (65 min, observatory.tasks) cannot still
# be computing: its worker died, so it no longer blocks a new launch.
STALE_RUNNING_AFTER_MINUTES = 65
COMPARED_COLUMNS = ["employees", "exposure_mean", "secret", "secret_reason"]


def grid_runs_history():
    """Every run, newest first, with what the history table shows (one query per page)."""
    from .models import GridRun

    return GridRun.objects.select_related("methodology", "index", "launched_by").order_by("-created_at", "-pk")


def current_grid_runs() -> list:
    """The run each dashboard shows, one per lens and exposure source."""
    from .models import GridRun

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

    from .models import GridRun

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
    from .models import GridRun

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
    from .models import GridRun

    ready = GridRun.objects.published().select_related("methodology", "index")
    runs = list(ready.order_by("-created_at", "-pk")[:limit])
    missing = {pk for pk in include if pk is not None} - {run.pk for run in runs}
    if missing:
        runs += list(ready.filter(pk__in=missing))
    return runs


def compare_cells(cells_a: pd.DataFrame, cells_b: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Align the cells of two runs on their coordinates `keys` (pure pandas).

    Both frames hold `keys` + employees, exposure_mean, secret, secret_reason. Returns one row
    per coordinate present in either run with employees_a/_b, exposure_a/_b, difference
    (b − a), abs_difference, presence ("both", "a", "b"), secret (secret in EITHER run) and
    secret_reason (run a's reason first). The values of a secret row are blanked here, before
    any sort, so that not even the order of a table can give them away.
    """
    columns = [*keys, *COMPARED_COLUMNS]
    merged = cells_a.reindex(columns=columns).merge(
        cells_b.reindex(columns=columns), on=keys, how="outer", suffixes=("_a", "_b"), indicator=True
    )
    merged["presence"] = merged.pop("_merge").map({"both": "both", "left_only": "a", "right_only": "b"})
    secret_a = merged["secret_a"].fillna(False).astype(bool)
    secret_b = merged["secret_b"].fillna(False).astype(bool)
    merged["secret"] = secret_a | secret_b
    reason_a = merged["secret_reason_a"].where(secret_a, "")
    reason_b = merged["secret_reason_b"].where(secret_b, "")
    merged["secret_reason"] = reason_a.where(reason_a != "", reason_b).fillna("")
    merged = merged.rename(columns={"exposure_mean_a": "exposure_a", "exposure_mean_b": "exposure_b"})
    for column in ("exposure_a", "exposure_b", "employees_a", "employees_b"):
        merged[column] = merged[column].astype(float)
    merged["difference"] = merged["exposure_b"] - merged["exposure_a"]
    masked = ["exposure_a", "exposure_b", "employees_a", "employees_b", "difference"]
    merged.loc[merged["secret"], masked] = float("nan")
    merged["abs_difference"] = merged["difference"].abs()
    merged = merged.drop(columns=["secret_a", "secret_b", "secret_reason_a", "secret_reason_b"])
    return merged.sort_values(keys).reset_index(drop=True)


def rank_correlation(compared: pd.DataFrame) -> tuple[float | None, int]:
    """Spearman's rank correlation between exposure_a and exposure_b of a `compare_cells`
    frame, over the rows known in both runs (secret rows are already blank): the Pearson
    correlation of average ranks. None when fewer than 3 rows or a constant side."""
    pairs = compared[["exposure_a", "exposure_b"]].dropna()
    if len(pairs) < 3:
        return None, len(pairs)
    rho = pairs["exposure_a"].rank().corr(pairs["exposure_b"].rank())
    return (None if pd.isna(rho) else float(rho)), len(pairs)


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
    unknown = {"inconnu": "Non renseigné"}
    compared["sector_label"] = compared["sector_code"].map({**unknown, **sector_labels}).fillna("")
    compared["occupation_label"] = compared["occupation_code"].map({**unknown, **occupation_labels}).fillna("")
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


# --- Map and occupation pages -----------------------------------------------------------
# Reads of the map (/observatoire/carte/) and of the occupation search and detail pages
# (/observatoire/metiers/). Values of secret cells are blanked (NaN) as soon as they are read,
# through `secrecy.mask_values`, so that no template can show one by mistake. Imports sit
# inside the functions because this block is appended below the module's imports.

MAP_TERRITORY_LEVELS = ("departement", "epci")
MAP_VALUE_COLUMNS = [
    "companies",
    "employees",
    "exposure_mean",
    "share_high",
    "rti_mean",
    "training_need_share",
    "training_coverage",
]
_OCCUPATION_CELL_VALUES = ["companies", "employees", "training_need_share"]


OUTLINE_COUNTS_CACHE_KEY = "observatory:outline-counts:v1"


def territory_geometry_counts() -> dict[str, int]:
    """Number of territories whose outline is loaded, per map level: one query, cached with
    the reference data (GRID_REFERENCE_TIMEOUT), since outlines change only when a GeoJSON
    file is imported. The map's cache keys carry these counts, so loading outlines redraws
    the map once this entry expires."""
    counts = cache.get(OUTLINE_COUNTS_CACHE_KEY)
    if counts is None:
        with_outline = ~Q(geometry="")
        counts = Territory.objects.aggregate(
            **{level: Count("pk", filter=Q(level=level) & with_outline) for level in MAP_TERRITORY_LEVELS}
        )
        cache.set(OUTLINE_COUNTS_CACHE_KEY, counts, GRID_REFERENCE_TIMEOUT)
    return counts


def map_territories(level: str, *, with_outlines: bool) -> pd.DataFrame:
    """The territories of `level`, in one query: code, name, has_geometry and, when asked
    (some 50 kB per département), their GeoJSON text in `geometry` ("" without outline)."""
    columns = ["code", "name", "has_geometry"] + (["geometry"] if with_outlines else [])
    territories = Territory.objects.filter(level=level).annotate(has_outline=~Q(geometry=""))
    fields = ["code", "name", "has_outline"] + (["geometry"] if with_outlines else [])
    return pd.DataFrame.from_records(territories.values_list(*fields).order_by(), columns=columns)


def map_cells_frame(run, level: str, territories: pd.DataFrame | None = None) -> pd.DataFrame:
    """The run's cells of every territory of `level` (all sectors, occupations and sizes),
    one row per territory, in two queries (one when `territories`, from `map_territories`,
    is given).

    Columns: code, name, has_geometry (bool), has_data (bool: a cell exists), secret (bool),
    secret_reason, and MAP_VALUE_COLUMNS (NaN when secret or without data). Territories appear
    when they have a cell or an outline; the cube's "inconnu" member (positions without a code
    at that level) comes last. Ordered by name.
    """
    from .analysis import cube, secrecy

    cells = GridCell.objects.filter(
        run=run,
        territory_level=level,
        sector_level="all",
        occupation_level="all",
        size_band="all",
    ).values_list("territory_code", "secret", "secret_reason", *MAP_VALUE_COLUMNS)
    frame = pd.DataFrame.from_records(
        cells.order_by(), columns=["code", "secret", "secret_reason", *MAP_VALUE_COLUMNS]
    )
    frame = secrecy.mask_values(frame)
    frame["has_data"] = True

    if territories is None:
        territories = map_territories(level, with_outlines=False)
    merged = territories[["code", "name", "has_geometry"]].merge(frame, on="code", how="outer")
    merged["has_data"] = merged["has_data"].astype("boolean").fillna(False).astype(bool)
    merged["has_geometry"] = merged["has_geometry"].astype("boolean").fillna(False).astype(bool)
    merged["secret"] = merged["secret"].astype("boolean").fillna(False).astype(bool)
    merged["secret_reason"] = merged["secret_reason"].fillna("")
    merged = merged[merged["has_data"] | merged["has_geometry"]]
    unknown = merged["code"] == cube.UNKNOWN_CODE
    merged.loc[unknown, "name"] = "Territoire non renseigné"
    merged["name"] = merged["name"].fillna(merged["code"])
    merged = merged.assign(_unknown=unknown).sort_values(["_unknown", "name"]).drop(columns="_unknown")
    for column in MAP_VALUE_COLUMNS:
        merged[column] = merged[column].astype(float)
    return merged.reset_index(drop=True)[
        ["code", "name", "has_geometry", "has_data", "secret", "secret_reason", *MAP_VALUE_COLUMNS]
    ]


def occupation_fiche(code: str):
    """The fiche métier `code` with its domaine and grand domaine, or None (also for the
    code of a domaine or grand domaine: only fiches have a page)."""
    return Occupation.objects.fiches().select_related("parent__parent").filter(code=code).first()


def occupation_score(run, code: str) -> OccupationScore | None:
    if run is None:
        return None
    return OccupationScore.objects.filter(run=run, occupation_id=code).first()


def task_profile_frame(score: OccupationScore, susceptibility: dict[str, float] | None = None) -> pd.DataFrame:
    """The three task profiles of a score side by side (no query).

    Index: category codes as TaskCategory writes them (RC … NRM). Columns: reference, field
    (NaN when no company reported the fiche), blended (fractions of 1), alpha (the run's
    susceptibility, NaN when not given) and contribution (alpha × blended, summing to E).
    """
    rows = []
    for category in CATEGORIES:
        field = getattr(score, f"field_{category}")
        alpha = (susceptibility or {}).get(category)
        blended = getattr(score, category)
        rows.append(
            {
                "category": category.upper(),
                "reference": getattr(score, f"ref_{category}"),
                "field": field,
                "blended": blended,
                "alpha": alpha,
                "contribution": alpha * blended if alpha is not None else None,
            }
        )
    return pd.DataFrame(rows).set_index("category").astype(float)


def occupation_cells_frame(run, code: str) -> pd.DataFrame:
    """The run's cells of fiche `code` (all sectors and sizes) for the whole area and each
    département, with the département's name, in one query.

    Columns: territory_level ("all" or "departement"), code, name, secret, secret_reason and
    companies, employees, training_need_share (NaN when secret). Whole area first, then
    départements by name, the "inconnu" member last.
    """
    from django.db.models import OuterRef, Subquery

    from .analysis import cube, secrecy

    columns = ["territory_level", "code", "name", "secret", "secret_reason", *_OCCUPATION_CELL_VALUES]
    if run is None:
        return pd.DataFrame(columns=columns)
    departements = Territory.objects.filter(level=Territory.Level.DEPARTEMENT, code=OuterRef("territory_code"))
    name = departements.values("name")[:1]
    rows = (
        GridCell.objects.filter(
            run=run,
            territory_level__in=("all", "departement"),
            sector_level="all",
            occupation_level="fiche",
            occupation_code=code,
            size_band="all",
        )
        .annotate(name=Subquery(name))
        .values_list("territory_level", "territory_code", "name", "secret", "secret_reason", *_OCCUPATION_CELL_VALUES)
        .order_by()
    )
    frame = secrecy.mask_values(pd.DataFrame.from_records(rows, columns=columns))
    frame.loc[frame["territory_level"] == "all", "name"] = "Ensemble"
    frame.loc[frame["code"] == cube.UNKNOWN_CODE, "name"] = "Département non renseigné"
    frame["name"] = frame["name"].fillna(frame["code"])
    order = frame["territory_level"].eq("departement").astype(int) + frame["code"].eq(cube.UNKNOWN_CODE).astype(int)
    frame = frame.assign(_order=order).sort_values(["_order", "name"]).drop(columns="_order")
    return frame.reset_index(drop=True)


def occupation_appellations(code: str) -> list[dict]:
    """The ROME appellations of a fiche, the usual ones first: label, rarely_used."""
    from skills.models import Appellation

    return list(
        Appellation.objects.filter(occupation_id=code).order_by("rarely_used", "label").values("label", "rarely_used")
    )


MOBILITY_COLUMNS = [
    "source",
    "target",
    "label",
    "rank",
    "source_exposure",
    "source_class",
    "exposure",
    "exposure_class",
]


def mobilities_frame(run, codes) -> pd.DataFrame:
    """The ROME mobilités from the fiches `codes`, each with the source's and the target's
    exposure and class in `run`, in one query.

    Columns: source, target, label (the target's), rank (the ROME's order), source_exposure,
    source_class, exposure, exposure_class (the target's); exposures NaN and classes "" where
    the run has no score (or there is no run).
    """
    from django.db.models import OuterRef, Subquery

    from skills.models import Mobility

    annotations = {}
    if run is not None:
        targets = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("target_id"))
        sources = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("source_id"))
        annotations = {
            "source_exposure": Subquery(sources.values("exposure")[:1]),
            "source_class": Subquery(sources.values("exposure_class")[:1]),
            "exposure": Subquery(targets.values("exposure")[:1]),
            "exposure_class": Subquery(targets.values("exposure_class")[:1]),
        }
    rows = (
        Mobility.objects.filter(source_id__in=list(codes))
        .annotate(**annotations)
        .values_list("source_id", "target_id", "target__label", "rank", *annotations)
        .order_by("source_id", "rank")
    )
    frame = pd.DataFrame.from_records(rows, columns=MOBILITY_COLUMNS[: 4 + len(annotations)])
    frame = frame.reindex(columns=MOBILITY_COLUMNS)
    for column in ("source_exposure", "exposure"):
        frame[column] = frame[column].astype(float)
    for column in ("source_class", "exposure_class"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def skill_links_frame(codes) -> pd.DataFrame:
    """The savoir-faire of the fiches `codes`, in one query: occupation, item (OGR code), core
    ("principale", "emergente" or "") and label. Classification aside: what two fiches share
    does not depend on how their items are classified."""
    from skills.models import OccupationItem, RomeItem

    rows = (
        OccupationItem.objects.filter(occupation_id__in=list(codes), item__kind=RomeItem.Kind.SKILL)
        .values_list("occupation_id", "item_id", "core", "item__label")
        .order_by()
    )
    return pd.DataFrame.from_records(rows, columns=["occupation", "item", "core", "label"])


def fiche_links_frames(run, code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the page of fiche `code` needs of the ROME items, in three queries: its mobilités
    scored in `run` (`mobilities_frame`) and the item links of the fiche and of its targets
    with the classification in force (skills.selectors.item_links_frame, LINK_COLUMNS), which
    both the profile breakdown and the suggested transitions read."""
    from skills.selectors import item_links_frame

    mobilities = mobilities_frame(run, [code])
    links = item_links_frame(occupations={code, *mobilities["target"]})
    return mobilities, links


def transitions_frame(run, codes, *, mobilities=None, links=None) -> pd.DataFrame:
    """The transitions worth suggesting from the fiches `codes` under `run`, best first
    (observatory.analysis.transitions.rank_transitions: its columns, and the target's
    `label`). Two queries, none when the page passes the `mobilities` and item `links` it
    already loaded (`fiche_links_frames`). Empty without a run."""
    from skills.models import RomeItem

    from .analysis import transitions

    if run is None:
        return pd.DataFrame(columns=[*transitions.TRANSITION_COLUMNS, "label"])
    if mobilities is None:
        mobilities = mobilities_frame(run, codes)
    if links is None:
        links = skill_links_frame({*codes, *mobilities["target"]})
    elif "kind" in links.columns:
        links = links.loc[links["kind"] == RomeItem.Kind.SKILL, ["occupation", "item", "core", "label"]]
    return transitions.rank_transitions(mobilities, links, margin=run.methodology.transition_margin)


@dataclass
class ProfileBreakdown:
    """Why a fiche is as exposed as it is (observatory.analysis.profile_breakdown).

    `items`: its savoir-faire (`skill_breakdown` columns, plus `override_by` and `override_at`
    for an item a person reclassified). `categories`: index rc…nrm, columns `share` and
    `items` (`category_evidence`), `reference` (the run's reference profile), `blended` (the
    published profile) and `alpha`, `product`, `contribution` (`exposure_contributions`;
    NaN when the blended profile may not be shown or the exposure comes from an external
    index). `contexts`: `context_shifts`. `source`: the reference profile's source
    (skills.profiles: rome_items, domain_defaults or imported); `evidence`: its classified
    savoir-faire; `overridden_since_run`: a person reclassified one of its items after the
    run was computed.
    """

    items: pd.DataFrame
    categories: pd.DataFrame
    contexts: pd.DataFrame
    source: str
    evidence: int
    overridden_since_run: bool = False


def profile_breakdown(run, score, links: pd.DataFrame, *, with_contributions: bool = True) -> ProfileBreakdown:
    """The breakdown of `score`'s fiche in `run` from its item `links` (item_links_frame rows,
    other fiches' links ignored). One query, for the authors of the corrections, only when
    one of the fiche's items was reclassified by a person."""
    from skills.classification import describe_rule
    from skills.classification.contexts import CONTEXT_RULES
    from skills.models import ItemOverride, RomeItem
    from skills.profiles import item_weights

    from .analysis import profile_breakdown as breakdown

    code = score.occupation_id
    methodology = run.methodology
    own = links[links["occupation"] == code]
    skills = own[own["kind"] == RomeItem.Kind.SKILL]
    skills = skills.assign(weight=item_weights(skills["core"].to_numpy(), methodology.profile_params()))
    items = breakdown.skill_breakdown(skills)
    items["rule_text"] = [describe_rule(r, label) for r, label in zip(items["rule"], items["label"], strict=True)]

    items["override_by"], items["override_at"] = "", None
    overridden_since_run = False
    if items["overridden"].any():
        rows = (
            ItemOverride.objects.filter(item_id__in=list(items.loc[items["overridden"], "item"]))
            .order_by("item_id", "-created_at", "-pk")
            .values_list(
                "item_id", "created_by__first_name", "created_by__last_name", "created_by__username", "created_at"
            )
        )
        authors = pd.DataFrame.from_records(rows, columns=["item", "first", "last", "username", "at"])
        authors = authors.drop_duplicates("item").set_index("item")
        names = (authors["first"].fillna("") + " " + authors["last"].fillna("")).str.strip()
        names = names.where(names != "", authors["username"].fillna(""))
        rows = items["overridden"].to_numpy()
        items.loc[rows, "override_by"] = names.reindex(items.loc[rows, "item"]).to_numpy()
        items.loc[rows, "override_at"] = authors["at"].reindex(items.loc[rows, "item"]).to_numpy()
        if run.finished_at is not None:
            overridden_since_run = bool((authors["at"] > run.finished_at).any())

    categories = breakdown.category_evidence(items)
    categories["reference"] = [getattr(score, f"ref_{c}") for c in CATEGORIES]
    categories["blended"] = [getattr(score, c) for c in CATEGORIES]
    contributions = breakdown.exposure_contributions(
        categories["blended"].to_dict() if with_contributions and run.index_id is None else {},
        methodology.susceptibility,
    )
    categories = categories.join(contributions[["alpha", "product", "contribution"]])

    contexts = own.loc[(own["kind"] == RomeItem.Kind.CONTEXT) & (own["rule"] != ""), ["label", "rule"]]
    rules = {name: weights for name, (_pattern, weights, _why) in CONTEXT_RULES.items()}
    source = score.ref_source or (run.profile_source or "").split(":", 1)[0]
    return ProfileBreakdown(
        items=items,
        categories=categories,
        contexts=breakdown.context_shifts(contexts, rules),
        source=source,
        evidence=int((items["status"] == breakdown.CLASSIFIED).sum()),
        overridden_since_run=overridden_since_run,
    )


def occupation_index_scores_frame(code: str) -> pd.DataFrame:
    """The external indices' scores of fiche `code`, one row per imported index.

    Columns: index (id), name, code_system, rescaled, score (in [0, 1]), raw_score,
    matched_codes. Ordered by index name.
    """
    rows = (
        ExposureIndexScore.objects.filter(occupation_id=code)
        .values_list(
            "index_id", "index__name", "index__code_system", "index__rescaled", "score", "raw_score", "matched_codes"
        )
        .order_by("index__name")
    )
    return pd.DataFrame.from_records(
        rows, columns=["index", "name", "code_system", "rescaled", "score", "raw_score", "matched_codes"]
    )


def _match_rank(query: str, code: str, label: str) -> int:
    """0 exact code, 1 code prefix, 2 label starting with the query, 3 label containing it,
    4 matched through an appellation only."""
    folded, folded_label = fold(query.strip()), fold(label)
    if code.upper() == query.strip().upper():
        return 0
    if code.upper().startswith(query.strip().upper()):
        return 1
    if folded_label.startswith(folded):
        return 2
    if folded in folded_label:
        return 3
    return 4


def _score_subqueries(run) -> dict:
    from django.db.models import OuterRef, Subquery

    scores = OccupationScore.objects.filter(run=run, occupation_id=OuterRef("code"))
    return {
        "exposure": Subquery(scores.values("exposure")[:1]),
        "exposure_class": Subquery(scores.values("exposure_class")[:1]),
    }


def occupation_search(query: str, run=None, limit: int = 50) -> tuple[list[dict], bool]:
    """Fiches whose code starts with `query`, or whose label or one of whose appellations
    contains it (case and accents ignored), with their exposure in `run`; two queries.

    Returns (rows, more): rows are dicts code, label, domaine, appellation (the first matching
    appellation, "" when the fiche matched on its code or label), exposure, exposure_class;
    best matches first (code, then label, then appellation), at most `limit`; `more` tells that
    more fiches matched.
    """
    from skills.models import Appellation

    query = query.strip()
    if not query:
        return [], False
    pattern = accent_insensitive_pattern(query)
    matching_appellations = Appellation.objects.filter(label__iregex=pattern)
    fiches = Occupation.objects.fiches().filter(
        Q(code__istartswith=query)
        | Q(label__iregex=pattern)
        | Q(code__in=matching_appellations.values("occupation_id"))
    )
    annotations = _score_subqueries(run) if run is not None else {}
    # A generous slice ranked in Python: the best matches must not be cut by the label order.
    candidates = list(
        fiches.annotate(**annotations)
        .values("code", "label", "parent__label", *annotations)
        .order_by("label")[: limit * 4 + 1]
    )
    for row in candidates:
        row["domaine"] = row.pop("parent__label") or ""
        row.setdefault("exposure", None)
        row.setdefault("exposure_class", "")
        row["rank"] = _match_rank(query, row["code"], row["label"])
    candidates.sort(key=lambda row: (row["rank"], fold(row["label"])))
    more = len(candidates) > limit
    rows = candidates[:limit]
    through_appellation = [row["code"] for row in rows if row["rank"] == 4]
    first_appellation = {}
    for occupation_id, label in (
        matching_appellations.filter(occupation_id__in=through_appellation)
        .order_by("rarely_used", "label")
        .values_list("occupation_id", "label")
    ):
        first_appellation.setdefault(occupation_id, label)
    for row in rows:
        row["appellation"] = first_appellation.get(row["code"], "")
    return rows, more


def occupation_suggestions(query: str, limit: int = 10) -> list[dict]:
    """Suggestions for the search box: fiches matched on their code or label, then
    appellations (each with its fiche), best first, at most `limit`; two queries.

    Each is a dict code, label (of the fiche), appellation (None for a fiche match).
    """
    from skills.models import Appellation

    query = query.strip()
    pattern = accent_insensitive_pattern(query)
    fiches = list(
        Occupation.objects.fiches()
        .filter(Q(code__istartswith=query) | Q(label__iregex=pattern))
        .values_list("code", "label")
        .order_by("label")[: limit * 3]
    )
    fiches.sort(key=lambda pair: (_match_rank(query, *pair), fold(pair[1])))
    suggestions = [{"code": code, "label": label, "appellation": None} for code, label in fiches[:limit]]
    room = limit - len(suggestions)
    if room > 0:
        appellations = list(
            Appellation.objects.filter(label__iregex=pattern)
            .values_list("occupation_id", "occupation__label", "label")
            .order_by("rarely_used", "label")[: room * 3]
        )
        folded = fold(query)
        # An appellation spelt as its fiche (« Comptable » of M1203) would repeat a suggestion.
        listed = {(item["code"], fold(item["label"])) for item in suggestions}
        appellations = [row for row in appellations if (row[0], fold(row[2])) not in listed]
        appellations.sort(key=lambda row: (not fold(row[2]).startswith(folded), fold(row[2])))
        suggestions += [
            {"code": code, "label": label, "appellation": appellation}
            for code, label, appellation in appellations[:room]
        ]
    return suggestions


def most_exposed_occupations(run, limit: int = 10) -> list[dict]:
    """The fiches with the highest exposure in `run` (scores are not company data: no
    secrecy applies), for the search page before any query: code, label, exposure,
    exposure_class."""
    if run is None:
        return []
    return [
        {"code": code, "label": label, "exposure": exposure, "exposure_class": exposure_class}
        for code, label, exposure, exposure_class in OccupationScore.objects.filter(run=run, exposure__isnull=False)
        .order_by("-exposure", "occupation_id")
        .values_list("occupation_id", "occupation__label", "exposure", "exposure_class")[:limit]
    ]


# --- Overview and grid pages ------------------------------------------------------------
# Reads of /observatoire/ (key figures of a run) and /observatoire/grille/ (the heatmap, its
# table and their CSV / XLSX downloads). Values of secret cells are blanked here, before any
# sort or chart, so that no page built on these reads can show them.

GRID_REFERENCE_CACHE_KEY = "observatory:grid-reference:v1"
# Reference data changes only when a nomenclature is imported; five minutes of staleness in
# the filter lists is harmless, and saves three queries on every page view.
GRID_REFERENCE_TIMEOUT = 300
UNKNOWN_LABEL = "Non renseigné"  # the cube's "inconnu" member
# Columns of the grid table that ?sort= accepts (a leading "-" sorts descending).
GRID_SORT_FIELDS = (
    "sector_code",
    "occupation_code",
    "companies",
    "employees",
    "exposure_mean",
    "share_high",
    "share_medium",
    "training_need_share",
    "rti_mean",
)
GRID_DEFAULT_ORDER = ("sector_code", "occupation_code")


def grid_reference() -> dict:
    """Members of the grid page's filters and the labels of their codes, from the loaded
    nomenclatures: one query per dimension, cached for GRID_REFERENCE_TIMEOUT seconds.

    Keys: territories [(level, code, name)] for the région, départements (by code) and EPCI
    (by name); sections [(code, label)]; divisions [(code, label, section)] (divisions the
    NAF table lacks are inferred from its finer codes, with an empty label); grands_domaines
    [(code, label)]; domaines [(code, label)]; territory_names {(level, code): name};
    sector_labels and occupation_labels {code: label}.
    """
    scope = _reference_scope.get()
    if scope is not None and "reference" in scope:
        return scope["reference"]
    reference = cache.get(GRID_REFERENCE_CACHE_KEY)
    if reference is None:
        reference = _grid_reference()
        cache.set(GRID_REFERENCE_CACHE_KEY, reference, GRID_REFERENCE_TIMEOUT)
    if scope is not None:
        scope["reference"] = reference
    return reference


# The grid page reads the reference from its filters' choices, their validation, the sector
# filter, the heatmap and the table: within one request it is fetched (and unpickled) once.
_reference_scope: ContextVar[dict | None] = ContextVar("observatory_grid_reference_scope", default=None)


@contextmanager
def grid_reference_scope():
    """Within the block, `grid_reference()` reads the shared cache at most once; a request
    wraps its view in it. Outside any block each call reads the cache, as before."""
    token = _reference_scope.set({})
    try:
        yield
    finally:
        _reference_scope.reset(token)


def _grid_reference() -> dict:
    level_order = {"region": 0, "departement": 1, "epci": 2}
    territories = sorted(
        Territory.objects.filter(level__in=list(level_order)).values_list("level", "code", "name").order_by(),
        key=lambda t: (level_order[t[0]], t[2] if t[0] == "epci" else t[1]),
    )

    sectors = {
        code: (level, label, parent)
        for code, level, label, parent in Sector.objects.values_list("code", "level", "label", "parent__code")
        .order_by()
        .iterator()
    }

    def section_of(code):
        seen = set()
        while code and code in sectors and sectors[code][0] != Sector.Level.SECTION and code not in seen:
            seen.add(code)
            code = sectors[code][2]
        return code if code in sectors and sectors[code][0] == Sector.Level.SECTION else None

    sections = sorted(
        (code, _sentence_case(label)) for code, (level, label, _) in sectors.items() if level == Sector.Level.SECTION
    )
    divisions = {
        code: (label, section_of(code))
        for code, (level, label, _) in sectors.items()
        if level == Sector.Level.DIVISION
    }
    for code, (level, _label, _parent) in sectors.items():
        if level not in (Sector.Level.SECTION, Sector.Level.DIVISION) and code[:2] not in divisions:
            divisions[code[:2]] = ("", section_of(code))
    divisions = sorted((code, label, section) for code, (label, section) in divisions.items() if section)

    occupations = list(
        Occupation.objects.filter(level__in=[Occupation.Level.GRAND_DOMAINE, Occupation.Level.DOMAINE])
        .values_list("code", "level", "label")
        .order_by("code")
    )
    grands_domaines = [(code, label) for code, level, label in occupations if level == Occupation.Level.GRAND_DOMAINE]
    domaines = [(code, label) for code, level, label in occupations if level == Occupation.Level.DOMAINE]
    return {
        "territories": territories,
        "sections": sections,
        "divisions": divisions,
        "grands_domaines": grands_domaines,
        "domaines": domaines,
        "territory_names": {(level, code): name for level, code, name in territories},
        "sector_labels": {
            **dict(sections),
            **{code: label for code, label, _ in divisions if label},
        },
        "occupation_labels": {code: label for code, _level, label in occupations},
    }


def _sentence_case(label: str) -> str:
    """INSEE prints NAF section labels in capitals (« INDUSTRIE MANUFACTURIÈRE »); pages read
    them in sentence case, as the other levels are printed."""
    return label[:1] + label[1:].lower() if label.isupper() else label


def sector_label(code: str, reference: dict) -> str:
    if code == "inconnu":
        return UNKNOWN_LABEL
    return reference["sector_labels"].get(code, "")


def occupation_label(code: str, reference: dict) -> str:
    if code == "inconnu":
        return UNKNOWN_LABEL
    return reference["occupation_labels"].get(code, "")


def territory_name(level: str, code: str, reference: dict) -> str:
    if level == "all":
        return "Ensemble du territoire"
    if code == "inconnu":
        return UNKNOWN_LABEL
    return reference["territory_names"].get((level, code), code)


def grid_cells_ordered(queryset, sort: str = ""):
    """`queryset` ordered by `sort` (a field of GRID_SORT_FIELDS, "-" for descending) and
    then by the cell's codes; an unknown `sort` gives the default order.

    Secret cells sort as if their figures were empty (after every published cell, in either
    direction), so that the order of a table cannot give their values away.
    """
    from django.db.models import Case, F, When
    from django.db.models import Value as V

    field = sort.removeprefix("-")
    if field not in GRID_SORT_FIELDS:
        return queryset.order_by(*GRID_DEFAULT_ORDER, "pk")
    # Codes are coordinates, never secret; every other sortable column is a figure.
    key = F(field) if field in GRID_DEFAULT_ORDER else Case(When(secret=True, then=V(None)), default=F(field))
    key = key.desc(nulls_last=True) if sort.startswith("-") else key.asc(nulls_last=True)
    return queryset.order_by(key, *GRID_DEFAULT_ORDER, "pk")


def grid_heatmap_frame(queryset, reference: dict) -> pd.DataFrame:
    """The cells of a filtered queryset for the heatmap, one query, secret values blanked.

    Columns: sector_code, occupation_code, sector_label, occupation_label, companies,
    employees, exposure_mean, share_high, share_medium, secret, secret_reason.
    """
    columns = [
        "sector_code",
        "occupation_code",
        "companies",
        "employees",
        "exposure_mean",
        "share_high",
        "share_medium",
        "secret",
        "secret_reason",
    ]
    frame = pd.DataFrame.from_records(list(queryset.values_list(*columns).order_by()), columns=columns)
    frame = secrecy.mask_values(frame)
    frame.insert(2, "sector_label", [sector_label(c, reference) for c in frame["sector_code"]])
    frame.insert(3, "occupation_label", [occupation_label(c, reference) for c in frame["occupation_code"]])
    return frame


def grid_table_rows(cells, reference: dict) -> list[dict]:
    """Rows of the grid table for a page of cells (GridCell instances), with the labels of
    their codes and no figure for a secret cell."""
    rows = []
    for cell in cells:
        row = {name: getattr(cell, name) for name in (*CELL_COORDINATES, "secret", "secret_reason")}
        row["territory_name"] = territory_name(cell.territory_level, cell.territory_code, reference)
        row["sector_label"] = sector_label(cell.sector_code, reference)
        row["occupation_label"] = occupation_label(cell.occupation_code, reference)
        for name in CELL_FIGURES:
            row[name] = None if cell.secret else getattr(cell, name)
        rows.append(row)
    return rows


def grid_cells_export_frame(run, queryset) -> pd.DataFrame:
    """The cells of `queryset` (cells of `run`, in its order) with run_id and the names of
    their territory, sector and occupation, as `cells_export_frame` gives them: one query for
    the cells and one per dimension for the labels of the codes present."""
    fields = [f.name for f in GridCell._meta.fields if f.name not in ("id", "run")]
    frame = pd.DataFrame.from_records(list(queryset.values_list(*fields)), columns=fields)
    frame.insert(0, "run_id", run.pk)
    territory_codes = set(frame["territory_code"]) - {""}
    names = {}
    if territory_codes:
        rows = Territory.objects.filter(code__in=territory_codes).values_list("level", "code", "name").order_by()
        names = {(level, code): name for level, code, name in rows}
    frame["territory_name"] = [
        "Ensemble" if level == "all" else names.get((level, code), "")
        for level, code in zip(frame["territory_level"], frame["territory_code"], strict=True)
    ]
    sector_labels = _labels(Sector, set(frame["sector_code"]))
    frame["sector_label"] = [sector_labels.get(code, "") for code in frame["sector_code"]]
    occupation_labels = _labels(Occupation, set(frame["occupation_code"]))
    frame["occupation_label"] = [occupation_labels.get(code, "") for code in frame["occupation_code"]]
    return frame


def _labels(model, codes: set) -> dict:
    """{code: label} of the nomenclature `model` (Sector or Occupation) for `codes`."""
    codes = codes - {""}
    if not codes:
        return {}
    return dict(model.objects.filter(code__in=codes).values_list("code", "label").order_by())


def overview_figures(run) -> dict:
    """Key figures of a run for the overview, in three queries plus the cached reference.

    total: the cell of the whole area, every sector, occupation and size (a dict, figures
    None when secret); top_occupations: the ten non-secret fiche cells of that scope with
    the most employees in an exposed job (high exposure or significant change), columns
    occupation_code, occupation_label, employees, exposed_employees, exposure_mean,
    share_high, share_medium; class_shares: the grand domaine cells of that scope with
    occupation_code, occupation_label, employees, share_high, share_medium, share_low,
    secret, secret_reason (values blanked when secret).
    """
    from django.db.models import F, FloatField
    from django.db.models.functions import Coalesce

    scope = GridCell.objects.filter(run=run, territory_level="all", sector_level="all", size_band="all").order_by()
    total = scope.filter(occupation_level="all").values(*CELL_FIGURES, "secret", "secret_reason").first()
    if total and total["secret"]:
        total.update(dict.fromkeys(CELL_FIGURES))

    exposed = F("employees") * (
        Coalesce("share_high", 0.0, output_field=FloatField())
        + Coalesce("share_medium", 0.0, output_field=FloatField())
    )
    top_columns = ["occupation_code", "employees", "exposed_employees", "exposure_mean", "share_high", "share_medium"]
    top = pd.DataFrame.from_records(
        list(
            scope.filter(occupation_level="fiche", secret=False)
            .annotate(exposed_employees=exposed)
            .filter(exposed_employees__gt=0)
            .order_by("-exposed_employees", "-exposure_mean", "occupation_code")
            .values_list(*top_columns)[:10]
        ),
        columns=top_columns,
    )
    fiche_labels = _labels(Occupation, set(top["occupation_code"]))
    top.insert(1, "occupation_label", [fiche_labels.get(code, "") for code in top["occupation_code"]])

    share_columns = ["occupation_code", "employees", "share_high", "share_medium", "share_low"]
    share_columns += ["secret", "secret_reason"]
    shares = pd.DataFrame.from_records(
        list(scope.filter(occupation_level="grand_domaine").values_list(*share_columns).order_by("occupation_code")),
        columns=share_columns,
    )
    shares = secrecy.mask_values(shares)
    reference = grid_reference()
    shares.insert(1, "occupation_label", [occupation_label(c, reference) for c in shares["occupation_code"]])
    return {"total": total, "top_occupations": top, "class_shares": shares}


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
        from .models import GridRun

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
    from .models import GridRun

    return list(
        GridRun.objects.published()
        .select_related("methodology", "index")
        .order_by("-created_at", "-pk")[:limit]
    )
