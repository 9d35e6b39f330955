"""Reads for the observatory pages."""

import pandas as pd
from django.db.models import Count, Q, Sum

from companies.models import Company, JobPosition, Sector, Territory
from skills.models import Occupation


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
    positions = JobPosition.objects.aggregate(positions=Count("pk"), employees=Sum("headcount"))
    return {
        **territories,
        **sectors,
        **occupations,
        "companies": Company.objects.count(),
        "positions": positions["positions"],
        "employees": positions["employees"] or 0,
    }


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


def positions_frame() -> pd.DataFrame:
    """Every job position with the codes of its four dimensions, in one query.

    Columns: company, establishment (ids), headcount, training_need (bool), diagnostic (bool),
    rc..nrm (percent), occupation / domaine / grand_domaine (ROME codes), naf_section /
    naf_division, departement / region / epci (INSEE codes, epci "" when unknown), size_band.
    """
    rows = JobPosition.objects.values_list(
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
        "occupation__parent__parent_id",
        "establishment__sector__code",
        "establishment__commune__code",
        "establishment__commune__parent__code",
        "establishment__commune__parent__parent__code",
        "establishment__commune__epci__code",
        "establishment__size_band",
    ).order_by()
    frame = pd.DataFrame.from_records(_fetch(rows), columns=POSITION_COLUMNS)
    sections = section_of_division()
    frame["naf_division"] = frame["sector_code"].str[:2]
    frame["naf_section"] = frame["naf_division"].map(sections).fillna("")
    frame["diagnostic"] = frame["source"] == JobPosition.Source.DIAGNOSTIC
    frame["epci"] = frame["epci"].fillna("")
    frame["domaine"] = frame["domaine"].fillna("")
    frame["grand_domaine"] = frame["grand_domaine"].fillna(frame["occupation"].str[:1])
    frame["training_need"] = frame["training_need"].astype(bool)
    for column in ("headcount", "rc", "rm", "nra", "nri", "nrm"):
        frame[column] = frame[column].astype("int32")
    return frame.drop(columns=["source", "sector_code"])


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
