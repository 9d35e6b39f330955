"""Cells stored before unknown members were named after their parent (0019) get the name a
run gives them now: the unknown départements and EPCI of a run of one région are
« inconnu-<région> ». Every reader then sees one name, and the comparison of a new edition
with an old one matches the two cells (a reader would otherwise subtract what it did not
see). A run of several régions stored one code for all of them: nothing says which région
a cell was, so its cells stay as they are."""

from django.db import migrations
from django.db.models import Count

LEGACY = "inconnu"
TERRITORY_LEVELS = ("departement", "epci")


def name_unknown_territories(apps, schema_editor):
    GridCell = apps.get_model("observatory", "GridCell")
    regions = (
        GridCell.objects.filter(territory_level="region")
        .values("run_id")
        .annotate(regions=Count("territory_code", distinct=True))
        .filter(regions=1)
        .values_list("run_id", flat=True)
    )
    for run_id in regions:
        legacy = GridCell.objects.filter(run_id=run_id, territory_level__in=TERRITORY_LEVELS, territory_code=LEGACY)
        if not legacy.exists():
            continue
        region = GridCell.objects.filter(run_id=run_id, territory_level="region").values_list(
            "territory_code", flat=True
        )[0]
        legacy.update(territory_code=f"{LEGACY}-{region}")


def unname_unknown_territories(apps, schema_editor):
    GridCell = apps.get_model("observatory", "GridCell")
    GridCell.objects.filter(territory_level__in=TERRITORY_LEVELS, territory_code__startswith=f"{LEGACY}-").update(
        territory_code=LEGACY
    )


class Migration(migrations.Migration):
    dependencies = [
        ("observatory", "0019_gridcell_unknown_codes_name_their_parent"),
    ]

    operations = [
        migrations.RunPython(name_unknown_territories, unname_unknown_territories, elidable=True),
    ]
