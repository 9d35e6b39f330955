from pathlib import Path

from companies.importers.cog import import_cog
from skills.management.commands._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe le Code officiel géographique de l'INSEE (paquet npm "
        "@etalab/decoupage-administratif) pour une région : la région, ses départements, ses "
        "communes actuelles et les EPCI qui en regroupent. Des fichiers comportant la moindre "
        "erreur sont refusés en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            type=Path,
            help="dossier contenant regions.json, departements.json, "
            "communes-hauts-de-france.json (ou communes.json) et "
            "epci-hauts-de-france.json (ou epci.json)",
        )
        parser.add_argument("--region", default="32", help="code INSEE de la région (défaut : 32, Hauts-de-France)")

    def handle(self, *args, directory, region, **options):
        self.run_import(import_cog, directory, region_code=region)
