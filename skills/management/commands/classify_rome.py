from django.core.management.base import BaseCommand

from skills.services import classify_rome_items


class Command(BaseCommand):
    help = (
        "Classe à nouveau les éléments du ROME enregistrés avec le lexique (après une modification "
        "du lexique). Les corrections saisies ne sont pas touchées ; un second passage ne modifie rien."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(classify_rome_items()))
