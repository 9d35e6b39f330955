"""The company's report, as a page and as a PDF. Access is the diagnostic pages' own rule
(`diagnostic_required`): anonymous visitors go to the login page, a signed-in person without an
active membership (analyst, curator) gets a 403 naming nothing, a member gets a 404 for any
diagnostic outside their companies. A draft's report is shown with a « brouillon » banner: it
reads what has been saved so far."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from companies.permissions import diagnostic_required

from .. import report as selectors
from ..report.pdf import report_pdf as build_report_pdf


@require_GET
def report(request, pk):
    return _report(request, diagnostic_id=pk)


@require_GET
def report_pdf(request, pk):
    return _report_pdf(request, diagnostic_id=pk)


@diagnostic_required
def _report(request, diagnostic):
    context = selectors.company_report(diagnostic)
    context |= {
        "diagnostic": diagnostic,
        "summary_url": reverse("diagnostic:detail", args=[diagnostic.pk]),
    }
    return render(request, "observatory/report.html", context)


@diagnostic_required
def _report_pdf(request, diagnostic):
    context = selectors.company_report(diagnostic, with_figures=False)
    content = build_report_pdf(diagnostic=diagnostic, report=context, absolute_url=request.build_absolute_uri)
    # slugify drops what NFKD cannot reduce to ASCII; œ is common enough in French names.
    name = (diagnostic.company_name or diagnostic.company.name).replace("œ", "oe").replace("Œ", "Oe")
    name = slugify(name) or "entreprise"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"rapport-{name}-{diagnostic.campaign.year}.pdf"
    )
    # A company's own answers: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
