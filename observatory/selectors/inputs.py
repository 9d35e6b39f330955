"""Inputs of a grid computation: the only reads of a run, each a DataFrame with named columns."""

import io
import logging

import pandas as pd
from django.db import connection
from django.db.models.functions import Coalesce, Substr

from companies.models import JobPosition, Sector
from skills.models import ExposureIndexScore

logger = logging.getLogger(__name__)


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
