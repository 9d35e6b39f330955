"""French number formats for the observatory's templates: {% load observatory %}."""

from django import template

from ..charts.common import CLASS_LABELS, format_number, format_percent

register = template.Library()


@register.filter
def number(value, decimals=0):
    """12345 → « 12 345 » ; 0.6222 with decimals=2 → « 0,62 »."""
    if value is None or value == "":
        return "—"
    return format_number(float(value), int(decimals))


@register.filter
def percent(share, decimals=1):
    """0.234 → « 23,4 % »."""
    if share is None or share == "":
        return "—"
    return format_percent(float(share), int(decimals))


@register.filter
def exposure_class_label(code):
    return CLASS_LABELS.get(code, "—")
