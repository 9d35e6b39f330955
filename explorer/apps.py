from django.apps import AppConfig


class ExplorerConfig(AppConfig):
    """The public explorer « Mon métier face à l'IA » (/metiers/): reads the ROME, the current
    editions of the grid and the published catalogue; writes nothing."""

    name = "explorer"
    verbose_name = "Mon métier face à l'IA"
