import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trainings.exporters.lheo import export_lheo, validate_lheo
from trainings.models import CurationStatus, TrainingOffer


class Command(BaseCommand):
    help = (
        "Exporte les offres publiées (ou toutes avec --all-statuses) au format LHEO 2.3. Avec --xsd, ou "
        "le réglage / la variable d'environnement LHEO_XSD, le fichier est d'abord validé contre le "
        "schéma XSD et n'est pas écrit s'il n'est pas valide."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="fichier XML à écrire")
        parser.add_argument("--all-statuses", action="store_true", help="exporter les offres de tout statut")
        parser.add_argument("--xsd", type=Path, help="schéma XSD LHEO 2.3 contre lequel valider l'export")

    def handle(self, *args, path, all_statuses, xsd, **options):
        offers = TrainingOffer.objects.all()
        if not all_statuses:
            offers = offers.filter(status=CurationStatus.PUBLISHED)
        count = offers.count()
        if not count:
            raise CommandError("Aucune offre à exporter : un fichier LHEO doit contenir au moins une offre.")
        xsd = xsd or getattr(settings, "LHEO_XSD", "") or os.environ.get("LHEO_XSD", "")
        data = export_lheo(offers)
        if xsd:
            if not Path(xsd).is_file():
                raise CommandError(f"Schéma XSD introuvable : {xsd}")
            problems = validate_lheo(data, xsd)
            if problems:
                shown = "\n".join(problems[:20])
                more = f"\n… et {len(problems) - 20} autre(s)" if len(problems) > 20 else ""
                raise CommandError(f"Export LHEO non valide contre {xsd}, rien n'a été écrit :\n{shown}{more}")
        path.write_bytes(data)
        checked = " (validé contre le schéma XSD)" if xsd else ""
        self.stdout.write(f"{path} : {count} offre(s) exportée(s){checked}")
