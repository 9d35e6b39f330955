"""French formats of the catalogue's figures, for views and templates (`{% load catalogue %}`)."""

from decimal import Decimal

from django import template

from skills.text import web_url

register = template.Library()


@register.filter(name="web_url")
def web_url_filter(value: str) -> str:
    """An address the page may link to (http or https), else "": no stored text becomes a
    link that runs a script, even one saved before addresses were checked on import."""
    return web_url(value)


@register.filter(name="euros")
def format_euros(amount: Decimal | None) -> str:
    """Decimal('1250') → « 1 250,00 € » (narrow no-break space between thousands, no-break
    space before the sign, as French typography wants)."""
    if amount is None:
        return ""
    return f"{amount:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


@register.filter(name="hours")
def format_hours(hours: int | None) -> str:
    return f"{hours:,}".replace(",", "\u202f") + "\u00a0h" if hours else ""


def format_km(distance: float | None) -> str:
    """12.34 → « 12 km », 0.4 → « moins de 1 km » (commune centres: no false precision)."""
    if distance is None:
        return ""
    return "moins de 1\u00a0km" if distance < 1 else f"{round(distance)}\u00a0km"
