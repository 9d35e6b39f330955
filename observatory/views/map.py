from django.http import Http404

from ..permissions import analyst_required


@analyst_required
def map_page(request):
    raise Http404("Page en cours de réalisation.")
