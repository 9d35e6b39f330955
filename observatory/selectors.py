"""Reads for the observatory pages."""

import pandas as pd
from django.db.models import Count, Q, Sum

from companies.models import Company, JobPosition, Sector, Territory
from skills.models import ExposureIndexScore, Occupation, OccupationTaskProfile
from skills.profiles import default_profile

from .filters import GridCellFilterSet
from .models import CATEGORIES, GridCell, OccupationScore


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


def reference_profiles_frame() -> pd.DataFrame:
    """Reference task profile of every fiche, indexed by ROME code, rc..nrm as fractions of 1:
    the imported profile where there is one, else the project's default for its domaine."""
    fiches = list(Occupation.objects.fiches().values_list("code", flat=True))
    defaults = pd.DataFrame.from_dict(
        {code: default_profile(code) for code in fiches}, orient="index", columns=list(CATEGORIES)
    )
    imported = pd.DataFrame.from_records(
        OccupationTaskProfile.objects.values_list("occupation_id", *CATEGORIES),
        columns=["occupation", *CATEGORIES],
    ).set_index("occupation")
    frame = defaults.astype(float)
    if not imported.empty:
        frame.loc[imported.index.intersection(frame.index), list(CATEGORIES)] = imported
    frame.index.name = "occupation"
    return frame


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

    published = TrainingOffer.objects.filter(status=TrainingOffer.Status.PUBLISHED, provider__commune__isnull=False)
    by_block = published.values_list("provider__commune__parent__code", "skill_blocks__occupations__code")
    by_certification = published.values_list("provider__commune__parent__code", "certification__occupations__code")
    frame = pd.DataFrame.from_records(
        [*by_block, *by_certification], columns=["departement", "occupation"]
    ).dropna()
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


def filtered_cells(run, params) -> GridCellFilterSet:
    """The FilterSet over a run's cells for query parameters `params` (a QueryDict)."""
    return GridCellFilterSet(params, queryset=GridCell.objects.filter(run=run).order_by())
