from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObservatoryConfig(AppConfig):
    name = "observatory"
    verbose_name = _("Observatoire")

    def ready(self):
        from . import signals  # noqa: F401  (registers the receivers)
