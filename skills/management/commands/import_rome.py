from pathlib import Path

from skills.importers.rome import import_rome

from ._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe le ROME 4.0 de France Travail (export RefRomeCsv v460) : grands domaines, "
        "domaines, fiches métiers et, s'ils sont présents, appellations, mobilités, liens NAF, "
        "compétences et contextes de travail des fiches (classés ensuite en catégories de tâches). "
        "Un dossier comportant la moindre erreur est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="dossier contenant les fichiers unix_*_v460_utf8.csv")

    def handle(self, *args, directory, **options):
        self.run_import(import_rome, directory)
