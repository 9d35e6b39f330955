from django.http import Http404

from ..permissions import analyst_required


@analyst_required
def run_list(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def run_launch(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def run_compare(request):
    raise Http404("Page en cours de réalisation.")


@analyst_required
def run_progress(request, run_id):
    raise Http404("Page en cours de réalisation.")
