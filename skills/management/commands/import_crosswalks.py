from pathlib import Path

from skills.importers.crosswalks import ISCO_SOC_FILE, ROME_ISCO_FILE, import_crosswalks

from ._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe les tables de correspondance entre nomenclatures de métiers : ROME v3 → "
        f"CITP / ISCO-08 (Pôle emploi, {ROME_ISCO_FILE}) et ISCO-08 → SOC 2010 (BLS, "
        f"{ISCO_SOC_FILE}). Chaque fichier présent remplace la table correspondante ; un "
        "dossier comportant la moindre erreur est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="dossier contenant les fichiers CSV")

    def handle(self, *args, directory, **options):
        self.run_import(import_crosswalks, directory)
