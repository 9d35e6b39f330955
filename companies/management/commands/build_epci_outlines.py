from companies.importers.epci_outlines import build_epci_outlines
from skills.management.commands._base import ImportCommand


class Command(ImportCommand):
    help = (
        "Calcule le contour de chaque EPCI comme l'union des contours de ses communes membres "
        "(COG) et l'enregistre comme les autres contours. À relancer après l'import des contours "
        "des communes (import_geometry --level commune le fait déjà)."
    )

    def handle(self, *args, **options):
        self.run_import(build_epci_outlines)
