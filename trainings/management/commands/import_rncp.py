from pathlib import Path

from skills.importers.rncp import import_rncp
from skills.management.commands._base import ImportCommand
from skills.models import SkillBlock
from trainings.tagging import tag_skill_blocks


class Command(ImportCommand):
    help = (
        "Importe l'export « export-fiches-csv » de France Compétences (RNCP et Répertoire "
        "spécifique) : certifications, blocs de compétences, métiers ROME visés, codes Formacode "
        "et NSF, certificateurs ; puis repère les blocs en lien avec l'IA et les données. Un "
        "export comportant la moindre erreur est refusé en entier."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="archive export-fiches-csv-<date>.zip ou dossier de ses fichiers CSV"
        )

    def handle(self, *args, path, **options):
        self.run_import(import_rncp, path)
        changed = tag_skill_blocks(SkillBlock.objects.all())
        flagged = SkillBlock.objects.filter(ai_related=True).count()
        self.stdout.write(
            f"Repérage IA : {flagged} bloc(s) de compétences en lien avec l'IA et les données "
            f"({changed} marquage(s) modifié(s) par ce passage)."
        )
