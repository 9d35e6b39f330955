from django.http import Http404

from ..permissions import analyst_required


@analyst_required
def grid_page(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def grid_export_xlsx(request):
    raise Http404("Page en cours de réalisation.")
