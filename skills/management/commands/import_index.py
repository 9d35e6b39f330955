from pathlib import Path

from skills.importers.indices import import_index
from skills.models import ExposureIndex

from ._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Importe un indice publié d'exposition des métiers (CSV : un code, un score) et le "
        "rapporte aux fiches ROME 4.0, directement (ROME) ou par les tables de correspondance "
        "(ISCO-08, SOC 2010 : lancez import_crosswalks d'abord). Exemples : indice OIT 2025 "
        "--code-system isco08 --code-column ISCO_08 --score-column mean_score_2025 ; "
        'Frey–Osborne --code-system soc2010 --code-column "SOC code" --score-column '
        "Probability. Réimporter sous le même nom remplace les scores de l'indice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier CSV (séparateur , ; ou tabulation)")
        parser.add_argument("--name", required=True, help="nom de l'indice (sa clé)")
        parser.add_argument(
            "--code-system",
            required=True,
            choices=ExposureIndex.CodeSystem.values,
            help="nomenclature des codes du fichier",
        )
        parser.add_argument("--code-column", default="code", help="colonne des codes")
        parser.add_argument("--score-column", default="score", help="colonne des scores")
        parser.add_argument(
            "--description",
            default="",
            help="description (source, méthode) ; sans elle, un indice réimporté garde la sienne",
        )

    def handle(self, *args, path, **options):
        (report,) = self.run_import(
            import_index,
            path,
            name=options["name"],
            code_system=options["code_system"],
            code_column=options["code_column"],
            score_column=options["score_column"],
            description=options["description"],
        )
        self.stdout.write(report.coverage_text())
        if report.rescaled:
            self.stdout.write("Scores hors de [0, 1] : ramenés à [0, 1] par rang centile (score publié conservé).")
