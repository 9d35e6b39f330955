"""French number formats for the observatory's templates: {% load observatory %}."""

from django import template

from skills.classification import describe_rule

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
def plain_number(value, decimals=4):
    """A parameter as typed, without trailing zeros: 8.0 → « 8 », 0.04 → « 0,04 », 0.035 → « 0,035 »."""
    if value is None or value == "":
        return "—"
    text = format_number(float(value), int(decimals))
    return text.rstrip("0").rstrip(",") if "," in text else text


@register.filter
def exposure_class_label(code):
    return CLASS_LABELS.get(code, "—")


@register.filter
def rule_text(rule, label=""):
    """A lexicon rule in plain French (« verbe « saisir » + objet « dossier » »)."""
    return describe_rule(rule or "", label or "")
