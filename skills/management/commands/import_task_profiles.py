from pathlib import Path

from skills.importers.task_profiles import import_task_profiles

from ._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe des profils de tâches de référence par fiche ROME (CSV code_rome,rc,rm,nra,"
        "nri,nrm en pourcentages, séparateur « , » ou « ; »). Un fichier comportant la moindre "
        "erreur est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier CSV des profils de tâches")

    def handle(self, *args, path, **options):
        self.run_import(import_task_profiles, path)
