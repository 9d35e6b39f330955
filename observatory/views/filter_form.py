"""The shared filters' <select>s, rendered by hand: the grid, the ranking, the overview and the
map offer the same territory, sector, occupation and size-band lists.

Built here rather than by Django's select widget, which renders one template per option: a
few hundred options (the EPCI, the NAF divisions) cost most of a page's time. The options
depend only on the nomenclatures, so they are rendered once, none selected, and kept as long
as the cached reference data; a page marks its chosen value in them.
"""

from django.core.cache import cache
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from ..selectors import GRID_REFERENCE_TIMEOUT

# Every filter whose options are cached (the FilterSet's fields of the same names).
FILTER_FIELDS = ("territory", "sector", "occupation", "size_band", "rows", "columns")
OPTIONS_CACHE_KEY = "observatory:grid-filter-options:v2"


def _options(choices) -> str:
    """<option>s (and <optgroup>s) of a select, none selected."""

    def option(value, label):
        return format_html('<option value="{}">{}</option>', str(value), label)

    parts = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            inner = mark_safe("".join(option(v, lbl) for v, lbl in label))
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', value, inner))
        else:
            parts.append(option(value, label))
    return mark_safe("".join(parts))


def filter_options(form) -> dict[str, str]:
    """The <option>s of every filter of FILTER_FIELDS, none selected."""
    key = f"{OPTIONS_CACHE_KEY}:{get_language()}"
    options = cache.get(key)
    if options is None:
        options = {name: _options(form.fields[name].choices) for name in FILTER_FIELDS}
        cache.set(key, options, GRID_REFERENCE_TIMEOUT)
    return options


def select_option(options: str, selected: str) -> str:
    """`options` with the option(s) of value `selected` marked selected. Labels are escaped,
    so the opening tag of an option cannot occur inside one."""
    tag = f'<option value="{escape(selected)}"'
    return mark_safe(options.replace(f"{tag}>", f"{tag} selected>"))


def filter_fields(form, names=FILTER_FIELDS) -> list[dict]:
    """The filters `names` of a GridCellFilterSet's form with their options, label, chosen
    value and errors, for a template to write each <select>."""
    options = filter_options(form)
    return [
        {
            "name": name,
            "id": f"id_{name}",
            "label": form.fields[name].label,
            "options": select_option(options[name], str(form[name].value() or "")),
            "errors": form.errors.get(name, []),
        }
        for name in names
    ]
