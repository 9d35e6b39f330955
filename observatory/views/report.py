"""The company's report. Access is the diagnostic pages' own rule (`diagnostic_required`):
anonymous visitors go to the login page, a signed-in person without an active membership
(analyst, curator) gets a 403 naming nothing, a member gets a 404 for any diagnostic outside
their companies. A draft's report is shown with a « brouillon » banner: it reads what has been
saved so far."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from companies.views_diagnostic import diagnostic_required

from .. import report as selectors


@require_GET
def report(request, pk):
    return _report(request, diagnostic_id=pk)


@diagnostic_required
def _report(request, diagnostic):
    context = selectors.company_report(diagnostic)
    context |= {
        "diagnostic": diagnostic,
        "summary_url": reverse("diagnostic:detail", args=[diagnostic.pk]),
    }
    return render(request, "observatory/report.html", context)
