"""Counts of the reference data loaded, and labels of nomenclature codes."""

import logging

from django.db.models import Count, Q

from companies.models import Sector, Territory
from skills.models import Occupation

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


def labels(model, codes: set) -> dict:
    """{code: label} of the nomenclature `model` (Sector or Occupation) for `codes`."""
    codes = codes - {""}
    if not codes:
        return {}
    return dict(model.objects.filter(code__in=codes).values_list("code", "label").order_by())
