"""Reads of the grid page (/observatoire/grille/): reference labels, the heatmap and table."""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

import pandas as pd
from django.core.cache import cache

from companies.models import Sector, Territory
from skills.models import Occupation

from .. import published
from ..analysis.codes import is_unknown
from ..models import CELL_COORDINATES

logger = logging.getLogger(__name__)


# --- Overview and grid pages ------------------------------------------------------------
# Reads of /observatoire/ (key figures of a run) and /observatoire/grille/ (the heatmap, its
# table and their CSV / XLSX downloads). Values of secret cells are blanked here, before any
# sort or chart, so that no page built on these reads can show them.

GRID_REFERENCE_CACHE_KEY = "observatory:grid-reference:v1"
# Reference data changes only when a nomenclature is imported; five minutes of staleness in
# the filter lists is harmless, and saves three queries on every page view.
GRID_REFERENCE_TIMEOUT = 300
UNKNOWN_LABEL = "Non renseigné"  # the label of the cube's unknown members (analysis.codes)
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
    if is_unknown(code):
        return UNKNOWN_LABEL
    return reference["sector_labels"].get(code, "")


def occupation_label(code: str, reference: dict) -> str:
    if is_unknown(code):
        return UNKNOWN_LABEL
    return reference["occupation_labels"].get(code, "")


def territory_name(level: str, code: str, reference: dict) -> str:
    if level == "all":
        return "Ensemble du territoire"
    if is_unknown(code):
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
    frame = published.cells_frame(queryset.order_by(), columns)
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
        row.update(published.cell_figures(cell))
        rows.append(row)
    return rows
