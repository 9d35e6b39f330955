from pathlib import Path

from companies.importers.positions import import_positions
from skills.management.commands._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe les postes d'une enquête auprès des entreprises (CSV « ; » : siret;"
        "raison_sociale;naf;commune;rome;effectif;rc;rm;nra;nri;nrm;besoin_formation) : "
        "entreprises, établissements et postes. Un fichier comportant la moindre erreur est "
        "refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier CSV de l'enquête")

    def handle(self, *args, path, **options):
        self.run_import(import_positions, path)
