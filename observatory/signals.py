"""Receivers the observatory registers on the lower apps' signals."""

from django.conf import settings
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from companies.signals import field_data_changed


@receiver(field_data_changed, dispatch_uid="observatory_recompute_after_field_data")
def recompute_after_field_data(sender, **kwargs):
    if not settings.OBSERVATORY_AUTO_RECOMPUTE:
        return
    from .services import schedule_recomputation

    schedule_recomputation(delay_seconds=settings.OBSERVATORY_RECOMPUTE_DELAY)


@receiver(post_save, sender="observatory.GridRun", dispatch_uid="observatory_grid_runs_saved")
@receiver(post_delete, sender="observatory.GridRun", dispatch_uid="observatory_grid_runs_deleted")
def grid_runs_changed(sender, **kwargs):
    """A run was saved or deleted: the grid and map pages read the runs again (their picker)."""
    from .selectors import renew_grid_runs_token

    renew_grid_runs_token()


@receiver(pre_delete, sender="observatory.GridRun", dispatch_uid="observatory_grid_run_cells_dropped")
def drop_grid_run_cells(sender, instance, **kwargs):
    """A run's cells go before it: on PostgreSQL its partition is dropped, where the cascade
    would delete two million rows one by one (observatory/partitions.py)."""
    from .partitions import drop_run_cells

    drop_run_cells(instance.pk)


@receiver(setting_changed, dispatch_uid="observatory_nav_urls_urlconf_changed")
def forget_nav_urls(sender, setting, **kwargs):
    """The navigation's links are reversed once per process: a new URLconf reverses them again."""
    if setting == "ROOT_URLCONF":
        from .context_processors import nav_urls

        nav_urls.cache_clear()
