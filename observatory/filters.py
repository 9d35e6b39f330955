"""FilterSets on grid cells, shared by the pages, the exports and the API so that the same
link shows, downloads and serves the same cells."""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.models import SizeBand

from .models import GridCell

TERRITORY_LEVELS = [
    ("all", _("Hauts-de-France (ensemble)")),
    ("region", _("Région")),
    ("departement", _("Département")),
    ("epci", _("EPCI")),
]
SECTOR_LEVELS = [("all", _("Tous secteurs")), ("section", _("Section NAF")), ("division", _("Division NAF"))]
OCCUPATION_LEVELS = [
    ("all", _("Tous métiers")),
    ("grand_domaine", _("Grand domaine ROME")),
    ("domaine", _("Domaine professionnel")),
    ("fiche", _("Fiche métier")),
]
SIZE_BANDS = [("all", _("Toutes tailles")), *SizeBand.choices]

# The heatmap's axes: rows are NAF sections or divisions, columns ROME grands domaines,
# domaines professionnels or fiches métier (too many fiches for a heatmap: the page then
# offers their ranking, and keeps their table).
ROW_LEVELS = [("section", _("Sections NAF")), ("division", _("Divisions NAF"))]
COLUMN_LEVELS = [
    ("grand_domaine", _("Grands domaines ROME")),
    ("domaine", _("Domaines professionnels")),
    ("fiche", _("Fiches métier")),
]

# Depth of each level in its hierarchy, to tell which of two levels is the finer.
SECTOR_DEPTH = {"all": 0, "section": 1, "division": 2}
OCCUPATION_DEPTH = {"all": 0, "grand_domaine": 1, "domaine": 2, "fiche": 3}

# What the grid page shows when its query string leaves a filter out: the whole area, every
# size, sections × grands domaines. Exports and the API apply only the filters they are given.
GRID_PAGE_DEFAULTS = {"territory": "all", "size_band": "all", "rows": "section", "columns": "grand_domaine"}
GRID_PAGE_PARAMS = ("territory", "sector", "occupation", "size_band", "rows", "columns")


def split_member(value: str) -> tuple[str, str]:
    """« departement:59 » → ("departement", "59"); « all » → ("all", "")."""
    level, _sep, code = value.partition(":")
    return level, code


# Choices come from the reference tables (cached by the selectors, one query per dimension
# on a miss). Callables, so that nothing is read until a form is validated or rendered, and
# imported inside them because the selectors module imports this one.


def territory_choices():
    from .selectors import grid_reference

    ref = grid_reference()
    groups = {"region": [], "departement": [], "epci": []}
    for level, code, name in ref["territories"]:
        label = f"{code} — {name}" if level == "departement" else name
        groups[level].append((f"{level}:{code}", label))
    return [
        ("all", _("Ensemble du territoire")),
        (_("Région"), groups["region"]),
        (_("Départements"), groups["departement"]),
        (_("EPCI"), groups["epci"]),
    ]


def sector_choices():
    from .selectors import grid_reference

    ref = grid_reference()
    divisions = {}
    for code, label, section in ref["divisions"]:
        divisions.setdefault(section, []).append((f"division:{code}", f"{code} — {label}" if label else code))
    return [
        (
            f"{code} — {label}",
            [(f"section:{code}", _("Toute la section %(code)s") % {"code": code}), *divisions.get(code, [])],
        )
        for code, label in ref["sections"]
    ]


def occupation_choices():
    from .selectors import grid_reference

    ref = grid_reference()
    domaines = {}
    for code, label in ref["domaines"]:
        domaines.setdefault(code[:1], []).append((f"domaine:{code}", f"{code} — {label}"))
    return [
        (
            f"{code} — {label}",
            [(f"grand_domaine:{code}", _("Tout le grand domaine %(code)s") % {"code": code}), *domaines.get(code, [])],
        )
        for code, label in ref["grands_domaines"]
    ]


class GridCellFilterSet(django_filters.FilterSet):
    """Cells of a run. The first eight filters are exact coordinates (an empty filter leaves
    its dimension free); the next ones are what the grid page's form offers:

    territory   one territory: `all`, `region:32`, `departement:59`, `epci:200093201`;
    sector      a NAF section or division and what it contains: `section:C`, `division:10`;
    occupation  a ROME grand domaine or domaine and what it contains: `grand_domaine:M`,
                `domaine:M16` (ROME codes nest by prefix);
    rows        the sector level of the cells (the heatmap's rows): `section` or `division`;
    columns     the occupation level (the heatmap's columns): `grand_domaine`, `domaine` or
                `fiche`.

    A sector or occupation finer than the rows or columns asked for wins: `rows=section` with
    `sector=division:10` gives the division 10 row, not an empty grid.
    """

    territory_level = django_filters.ChoiceFilter(label=_("Niveau territorial"), choices=TERRITORY_LEVELS)
    # Codes as the nomenclatures write them, nothing else: a COG code (59, 2A, 200093201), a
    # NAF section or division (C, 62), a ROME grand domaine, domaine or fiche (M, M16, M1607).
    territory_code = django_filters.CharFilter(
        label=_("Code du territoire"),
        max_length=9,
        validators=[RegexValidator(r"^[0-9AB]{2,9}$", _("Code COG invalide."))],
    )
    sector_level = django_filters.ChoiceFilter(label=_("Niveau sectoriel"), choices=SECTOR_LEVELS)
    sector_code = django_filters.CharFilter(
        label=_("Code NAF"), max_length=2, validators=[RegexValidator(r"^([A-U]|[0-9]{2})$", _("Code NAF invalide."))]
    )
    occupation_level = django_filters.ChoiceFilter(label=_("Niveau métier"), choices=OCCUPATION_LEVELS)
    occupation_code = django_filters.CharFilter(
        label=_("Code ROME"),
        max_length=5,
        validators=[RegexValidator(r"^[A-N]([0-9]{2}([0-9]{2})?)?$", _("Code ROME invalide."))],
    )
    size_band = django_filters.ChoiceFilter(label=_("Tranche d'effectif"), choices=SIZE_BANDS, empty_label=None)
    secret = django_filters.BooleanFilter(label=_("Secret statistique"))

    territory = django_filters.ChoiceFilter(
        label=_("Territoire"),
        choices=territory_choices,
        method="filter_territory",
        empty_label=None,
        help_text=_("Un territoire : « all », « region:32 », « departement:59 » ou « epci:<SIREN> »."),
    )
    sector = django_filters.ChoiceFilter(
        label=_("Secteur"),
        choices=sector_choices,
        method="filter_sector",
        empty_label=_("Tous les secteurs"),
        help_text=_("Une section ou une division NAF et ce qu'elle contient : « section:C », « division:10 »."),
    )
    occupation = django_filters.ChoiceFilter(
        label=_("Métier"),
        choices=occupation_choices,
        method="filter_occupation",
        empty_label=_("Tous les métiers"),
        help_text=_(
            "Un grand domaine ou un domaine ROME et ce qu'il contient : « grand_domaine:M », « domaine:M16 »."
        ),
    )
    rows = django_filters.ChoiceFilter(label=_("Lignes"), choices=ROW_LEVELS, method="filter_rows", empty_label=None)
    columns = django_filters.ChoiceFilter(
        label=_("Colonnes"), choices=COLUMN_LEVELS, method="filter_columns", empty_label=None
    )

    class Meta:
        model = GridCell
        fields = [
            "territory_level",
            "territory_code",
            "sector_level",
            "sector_code",
            "occupation_level",
            "occupation_code",
            "size_band",
            "secret",
        ]

    def grid_levels(self) -> tuple[str | None, str | None]:
        """The sector and occupation levels of the cells selected by `rows`, `columns`,
        `sector` and `occupation` (None where none of them is given). Call after is_valid()."""
        data = self.form.cleaned_data
        sector_level = _finer(data.get("rows"), split_member(data.get("sector") or "")[0], SECTOR_DEPTH)
        occupation_level = _finer(data.get("columns"), split_member(data.get("occupation") or "")[0], OCCUPATION_DEPTH)
        return sector_level, occupation_level

    def filter_territory(self, queryset, name, value: str):
        level, code = split_member(value)
        return queryset.filter(territory_level=level, territory_code=code)

    def filter_sector(self, queryset, name, value: str):
        level, code = split_member(value)
        if level == "division":
            return queryset.filter(sector_level="division", sector_code=code)
        from .selectors import grid_reference

        divisions = [division for division, _label, section in grid_reference()["divisions"] if section == code]
        return queryset.filter(
            Q(sector_level="section", sector_code=code) | Q(sector_level="division", sector_code__in=divisions)
        )

    def filter_occupation(self, queryset, name, value: str):
        level, code = split_member(value)
        finer = [lv for lv, depth in OCCUPATION_DEPTH.items() if depth > OCCUPATION_DEPTH[level]]
        return queryset.filter(
            Q(occupation_level=level, occupation_code=code)
            | Q(occupation_level__in=finer, occupation_code__startswith=code)
        )

    def filter_rows(self, queryset, name, value: str):
        return queryset.filter(sector_level=self.grid_levels()[0])

    def filter_columns(self, queryset, name, value: str):
        return queryset.filter(occupation_level=self.grid_levels()[1])


def _finer(level: str | None, member_level: str, depth: dict) -> str | None:
    """The finer of a chosen level and the level of a chosen member (either may be empty)."""
    candidates = [lv for lv in (level, member_level) if lv]
    return max(candidates, key=depth.__getitem__) if candidates else None


def grid_page_params(query) -> dict[str, str]:
    """The grid page's filters from a query string, defaults filled in: what the page shows
    and what its share and download links carry."""
    params = {name: query.get(name, "") for name in GRID_PAGE_PARAMS}
    for name, default in GRID_PAGE_DEFAULTS.items():
        params[name] = params[name] or default
    return params
