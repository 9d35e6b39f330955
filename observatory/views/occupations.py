from django.http import Http404

from ..permissions import analyst_required


@analyst_required
def occupation_search(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def occupation_autocomplete(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def occupation_detail(request, code):
    raise Http404("Page en cours de réalisation.")
