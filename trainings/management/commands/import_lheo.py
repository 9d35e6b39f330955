from pathlib import Path

from skills.management.commands._base import ImportCommand
from trainings.importers.lheo import import_lheo


class Command(ImportCommand):
    help = (
        "Importe un flux d'offres de formation LHEO 2.3 ou 2.2 (XML) : organismes, offres et sessions. "
        "Les nouvelles offres arrivent « soumises » ; une offre publiée dont le contenu change repasse en "
        "relecture. Un fichier comportant la moindre erreur est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier XML LHEO")

    def handle(self, *args, path, **options):
        self.run_import(import_lheo, path)
