from django.core.management.base import BaseCommand, CommandError

from companies.demo import DemoDataError, seed_demo


class Command(BaseCommand):
    help = (
        "Crée des entreprises fictives (établissements et postes) dans les communes des "
        "Hauts-de-France, identiques pour une même graine. Les référentiels doivent être chargés."
    )

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=2000, help="nombre d'entreprises")
        parser.add_argument("--seed", type=int, default=42, help="graine du tirage")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="supprime d'abord les entreprises de démonstration existantes",
        )

    def handle(self, *args, companies, seed, replace, **options):
        try:
            counts = seed_demo(companies=companies, seed=seed, replace=replace)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        if counts["deleted"]:
            self.stdout.write(f"{counts['deleted']} entreprise(s) de démonstration supprimée(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['companies']} entreprise(s), "
                f"{counts['establishments']} établissement(s), "
                f"{counts['job_positions']} poste(s), {counts['employees']} salarié(s) "
                f"(graine {seed})."
            )
        )
