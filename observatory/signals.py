"""Receivers the observatory registers on the lower apps' signals."""

from django.conf import settings
from django.dispatch import receiver

from companies.signals import field_data_changed


@receiver(field_data_changed, dispatch_uid="observatory_recompute_after_field_data")
def recompute_after_field_data(sender, **kwargs):
    if not settings.OBSERVATORY_AUTO_RECOMPUTE:
        return
    from .services import schedule_recomputation

    schedule_recomputation(delay_seconds=settings.OBSERVATORY_RECOMPUTE_DELAY)
