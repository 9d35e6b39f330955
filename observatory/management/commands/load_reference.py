from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from observatory.reference import default_reference_dir, load_reference
from skills.importers.base import ImportFailed


class Command(BaseCommand):
    help = (
        "Charge les référentiels (COG, contours, NAF rév. 2, ROME 4.0) depuis un dossier organisé "
        "comme les téléchargements officiels. Par défaut : REFERENCE_DATA, sinon le petit jeu "
        "intégré au projet (dossier reference/)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="directory", type=Path, default=None,
            help="dossier des fichiers de référence",
        )

    def handle(self, *args, directory=None, **options):
        directory = directory or default_reference_dir()
        self.stdout.write(f"Référentiels chargés depuis {directory}")
        try:
            # Reports are printed as each file is done: the full files take a minute.
            reports = load_reference(directory, stdout=self.stdout)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Lecture impossible, rien n'a été écrit : {exc}") from exc
        created = sum(r.created for r in reports)
        updated = sum(r.updated for r in reports)
        self.stdout.write(self.style.SUCCESS(f"Terminé : {created} créé(s), {updated} mis à jour."))
