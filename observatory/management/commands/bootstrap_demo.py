from django.core.management.base import BaseCommand

from observatory.demo import bootstrap


class Command(BaseCommand):
    help = "Prépare la démonstration : référentiels, entreprises fictives, comptes et grilles."

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, companies, seed, **options):
        bootstrap(companies=companies, seed=seed, stdout=self.stdout)
