from django.core.management.base import BaseCommand

from skills.selectors import UNMATCHED, skill_items


class Command(BaseCommand):
    help = (
        "Liste les savoir-faire du ROME qu'aucune règle du lexique ne classe et qu'aucune correction "
        "ne couvre, avec le nombre de fiches qui les citent, les plus cités d'abord : là où le lexique "
        "doit grandir."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=50, help="nombre de savoir-faire affichés (50 par défaut)")

    def handle(self, *args, limit, **options):
        items = list(skill_items(status=UNMATCHED).values_list("links", "code", "label"))
        for fiches, code, label in items[:limit]:
            self.stdout.write(f"{fiches:5d}  {code:>6}  {label}")
        links = sum(fiches for fiches, _code, _label in items)
        self.stdout.write(f"Total : {len(items)} savoir-faire sans règle, cités {links} fois dans les fiches")
