"""The provenance block's data, for templates/includes/provenance.html."""

from django import template

from ..provenance import provenance

register = template.Library()


@register.simple_tag
def provenance_of(run):
    """{% provenance_of run as provenance %}: observatory.provenance.provenance(run)."""
    return provenance(run or None)
