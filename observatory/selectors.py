"""Reads for the observatory pages."""

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
