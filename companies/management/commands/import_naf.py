from pathlib import Path

from companies.importers.naf import import_naf
from skills.management.commands._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe la NAF rév. 2 de l'INSEE (export CSV « int_courts_naf_rev_2.csv » : sections, "
        "divisions, groupes, classes et sous-classes). Un fichier comportant la moindre erreur "
        "est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier CSV de la NAF rév. 2 (séparateur ;)")

    def handle(self, *args, path, **options):
        self.run_import(import_naf, path)
