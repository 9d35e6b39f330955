from .. import exports
from ..permissions import analyst_required
from .common import requested_run


@analyst_required
def grid_export_csv(request):
    return exports.grid_csv_response(requested_run(request))


@analyst_required
def occupations_export_csv(request):
    return exports.occupations_csv_response(requested_run(request))
