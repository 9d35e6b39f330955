from pathlib import Path

from companies.importers.geometry import import_geometry
from companies.models import Territory
from skills.management.commands._base import ImportCommand

SHOWN_CODES = 20


class Command(ImportCommand):
    help = (
        "Importe les contours GeoJSON (propriétés code et nom) des territoires d'un niveau déjà "
        "importé. Les entités dont le code ne correspond à aucun territoire (communes fusionnées "
        "depuis le millésime du fichier) sont comptées et ignorées."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier GeoJSON (FeatureCollection ou Feature)")
        parser.add_argument(
            "--level",
            required=True,
            choices=Territory.Level.values,
            help="niveau des territoires décrits par le fichier",
        )

    def handle(self, *args, path, level, **options):
        (report,) = self.run_import(import_geometry, path, level)
        if report.unmatched:
            shown = ", ".join(report.unmatched[:SHOWN_CODES])
            more = " …" if len(report.unmatched) > SHOWN_CODES else ""
            self.stdout.write(
                self.style.WARNING(
                    f"{len(report.unmatched)} entité(s) sans territoire correspondant, ignorée(s) : {shown}{more}"
                )
            )
