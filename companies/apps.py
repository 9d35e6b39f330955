from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = _("Territoires, secteurs et entreprises")

    def ready(self):
        from .accounts import backends
        from .roles import connect_receivers

        # Here, so that every process (web, Celery worker, shell) forgets cached role names
        # and cached users.
        connect_receivers()
        backends.connect_receivers()
