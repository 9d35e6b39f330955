from django.shortcuts import render

from ..published import edition_totals
from ..selectors import reference_counts


def home(request):
    """What the observatory holds: the loaded nomenclatures and the field data."""
    return render(request, "home.html", {"counts": reference_counts(), "edition": edition_totals()})
