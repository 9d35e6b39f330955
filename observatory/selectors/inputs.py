"""Inputs of a grid computation: the only reads of a run, each a DataFrame with named columns."""

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection
from django.db.models.functions import Coalesce, Substr

from companies.models import JobPosition, Sector, Territory
from observatory.analysis.codes import unknown_code
from skills.models import ExposureIndexScore, Occupation

logger = logging.getLogger(__name__)


# --- Inputs of a grid computation -------------------------------------------------------
# These are the only reads of a computation; each returns a DataFrame with named columns that
# observatory/analysis/ takes as it is.

# The columns of the positions' own read: codes of their own, ids of the nodes they sit in.
POSITION_ID_COLUMNS = [
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
    "sector_id",
    "commune_id",
    "size_band",
]


def positions_frame() -> pd.DataFrame:
    """Every job position the published statistics count, with the codes of its four
    dimensions. A diagnostic of a company nobody verified is left out
    (`JobPosition.objects.counted_in_statistics`): made-up companies move no figure.

    Columns: company, establishment (ids), headcount, training_need (bool), diagnostic (bool),
    rc..nrm (percent), occupation / domaine / grand_domaine (ROME codes), naf_section /
    naf_division, departement / region / epci (INSEE codes, epci "" when unknown), size_band;
    code columns are categoricals.

    Two reads: the positions with the ids of their fiche, sector and commune (one join, with
    their establishment), then the codes of those few thousand nodes, which pandas hands to
    each position by id. Joining the code tables in the query cost the server more than
    reading the positions themselves.
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
            "establishment__sector_id",
            "establishment__commune_id",
            "establishment__size_band",
        )
        .order_by()
    )
    if connection.vendor == "postgresql":
        frame = _copy_positions(rows)
    else:
        frame = pd.DataFrame.from_records(_fetch(rows), columns=POSITION_ID_COLUMNS)
        frame["training_need"] = frame["training_need"].astype(bool)
        for column in ("headcount", "rc", "rm", "nra", "nri", "nrm"):
            frame[column] = frame[column].astype("int32")
    for column in ("source", "occupation", "size_band"):
        frame[column] = frame[column].astype("category")
    occupations = pd.DataFrame.from_records(
        Occupation.objects.values_list("code", "parent_id", Coalesce("parent__parent_id", Substr("code", 1, 1))),
        columns=["occupation", "domaine", "grand_domaine"],
    ).fillna("")
    _add_codes(frame, frame["occupation"], occupations.set_index("occupation"))
    sections = section_of_division()
    sectors = pd.DataFrame.from_records(Sector.objects.values_list("pk", "code"), columns=["id", "code"])
    sectors["naf_division"] = sectors["code"].str[:2]
    sectors["naf_section"] = sectors["naf_division"].map(sections).fillna("")
    _add_codes(frame, frame.pop("sector_id"), sectors.set_index("id")[["naf_division", "naf_section"]])
    # Every territory, as the join did: an establishment's commune is a commune by the form
    # that chose it, not by a constraint of the table.
    communes = pd.DataFrame.from_records(
        Territory.objects.values_list("pk", "code", "parent__code", "parent__parent__code", "epci__code"),
        columns=["id", "commune", "departement", "region", "epci"],
    ).fillna("")
    _add_codes(frame, frame.pop("commune_id"), communes.set_index("id"))
    frame["diagnostic"] = (frame["source"] == JobPosition.Source.DIAGNOSTIC).to_numpy()
    return frame.drop(columns=["source"])


def _copy_positions(rows) -> pd.DataFrame:
    """PostgreSQL streams the query's rows as CSV (COPY … TO STDOUT) and Arrow parses them
    as they arrive, in a thread of its own that a pipe feeds: the parse (a third of the
    server's time, C code that releases the GIL) overlaps the stream instead of following it,
    and no copy of the whole text is held."""
    sql, params = rows.query.sql_with_params()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    read_end, write_end = os.pipe()
    with ThreadPoolExecutor(1) as pool:
        parsed = pool.submit(_parse_positions, read_end)
        try:
            with (
                open(write_end, "wb") as sink,
                connection.cursor() as cursor,
                cursor.cursor.copy(statement, params) as copy,
            ):
                for data in copy:
                    sink.write(data)
        except BrokenPipeError:
            pass  # the parser stopped early: its own error says why
        table = parsed.result()
    frame = table.to_pandas()
    for column in _POSITION_TEXTS:  # categories in code order, as pandas would give them
        frame[column] = frame[column].cat.reorder_categories(sorted(frame[column].cat.categories))
    return frame


# Columns of the positions' CSV read as text (codes keep their leading zeros, « 02 »).
_POSITION_TEXTS = ("source", "occupation", "size_band")
_POSITION_TYPES = {
    **dict.fromkeys(("position", "company", "establishment", "sector_id", "commune_id"), pa.int64()),
    **dict.fromkeys(("headcount", "rc", "rm", "nra", "nri", "nrm"), pa.int32()),
    "training_need": pa.bool_(),
    **dict.fromkeys(_POSITION_TEXTS, pa.dictionary(pa.int32(), pa.string())),
}


def _parse_positions(read_end: int) -> pa.Table:
    """The positions' CSV read from a pipe until its writer closes it (Arrow's streaming
    reader, block by block)."""
    with open(read_end, "rb") as source:
        if not source.peek(1):  # no position: Arrow refuses an empty file
            return pa.schema([(name, _POSITION_TYPES[name]) for name in POSITION_ID_COLUMNS]).empty_table()
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=POSITION_ID_COLUMNS),
            convert_options=pacsv.ConvertOptions(
                column_types=_POSITION_TYPES, true_values=["t"], false_values=["f"], strings_can_be_null=False
            ),
        )
        return reader.read_all()


def _add_codes(frame: pd.DataFrame, keys: pd.Series, nodes: pd.DataFrame) -> None:
    """Add each column of `nodes` (indexed by key) to `frame` as a categorical, the row of
    each position found by its key: a lookup in a few thousand nodes, not one per row (a
    categorical's categories are looked up, then taken by code)."""
    if isinstance(keys.dtype, pd.CategoricalDtype):
        # A missing key (code −1) takes the −1 appended last: not found, like any unknown key.
        at = np.append(nodes.index.get_indexer(keys.cat.categories.astype(str)), -1)[keys.cat.codes.to_numpy()]
    else:
        at = nodes.index.get_indexer(keys.to_numpy())
    if (at < 0).any():
        raise ValueError(f"positions refer to unknown {keys.name} values: {sorted(set(keys[at < 0]))[:5]}")
    for column in nodes.columns:
        categories = pd.Categorical(nodes[column].astype(str))
        frame[column] = pd.Categorical.from_codes(categories.codes[at], categories.categories)


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


def epci_departements() -> dict[str, tuple[str, ...]]:
    """What a reader of the COG knows of the two territory hierarchies of the cube: the
    départements of each EPCI's communes, and under the unknown member's code of each
    région (« inconnu-32 ») the départements of its communes outside any EPCI. The secrecy
    audit adds the equations they give (a département is the sum of the EPCI inside it and
    of its shares of the others)."""
    within: dict[str, set[str]] = {}
    rows = (
        Territory.objects.filter(level=Territory.Level.COMMUNE)
        .values_list("epci__code", "parent__code", "parent__parent__code")
        .distinct()
        .order_by()
    )
    for epci, departement, region in rows:
        # A commune without a département sits in the cube's unknown département of its région.
        within.setdefault(epci or unknown_code(region or ""), set()).add(departement or unknown_code(region or ""))
    return {epci: tuple(sorted(departements)) for epci, departements in within.items()}


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
