"""FilterSets on grid cells, shared by the pages, the exports and the API so that the same
link shows, downloads and serves the same cells."""

import django_filters
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


class GridCellFilterSet(django_filters.FilterSet):
    """Exact coordinates of cells. An empty filter leaves its dimension free."""

    territory_level = django_filters.ChoiceFilter(label=_("Niveau territorial"), choices=TERRITORY_LEVELS)
    territory_code = django_filters.CharFilter(label=_("Code du territoire"))
    sector_level = django_filters.ChoiceFilter(label=_("Niveau sectoriel"), choices=SECTOR_LEVELS)
    sector_code = django_filters.CharFilter(label=_("Code NAF"))
    occupation_level = django_filters.ChoiceFilter(label=_("Niveau métier"), choices=OCCUPATION_LEVELS)
    occupation_code = django_filters.CharFilter(label=_("Code ROME"))
    size_band = django_filters.ChoiceFilter(label=_("Tranche d'effectif"), choices=SIZE_BANDS)
    secret = django_filters.BooleanFilter(label=_("Secret statistique"))

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
