from django.http import HttpResponse, HttpResponseBadRequest

from .. import exports
from ..filters import GridCellFilterSet
from ..models import GridCell
from ..permissions import analyst_required
from ..selectors import GRID_SORT_FIELDS, grid_cells_ordered
from .common import requested_run


class InvalidExport(ValueError):
    """A download asked with filters or a sort the grid does not know: nothing is written."""


def _refused(exc: InvalidExport) -> HttpResponse:
    return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")


def for_spreadsheet(request) -> bool:
    """Which CSV is asked: `?format=tableur` is the « CSV pour tableur » (French headers, `;`,
    decimal comma, BOM); no `format` is the machine CSV, unchanged for scripts."""
    wanted = request.GET.get("format", "")
    if wanted not in ("", exports.SPREADSHEET_FORMAT):
        raise InvalidExport(
            f"Format inconnu, rien n'a été écrit — choisissez « {exports.SPREADSHEET_FORMAT} » ou aucun."
        )
    return wanted == exports.SPREADSHEET_FORMAT


def export_cells(request, run):
    """The cells a grid download holds: the whole run when the query string has no filter
    and no sort, else the cells of the grid page's FilterSet for those parameters, in the
    page's order, so that a download holds exactly what the page shows (every page of it)."""
    names = [name for name in request.GET if name in GridCellFilterSet.base_filters]
    sort = request.GET.get("sort", "")
    if not names and not sort:
        return None, {}
    filterset = GridCellFilterSet(request.GET, queryset=GridCell.objects.filter(run=run))
    if not filterset.is_valid():
        errors = "; ".join(f"{name} : {' '.join(messages)}" for name, messages in filterset.errors.items())
        raise InvalidExport(f"Filtres invalides, rien n'a été écrit — {errors}")
    filters = {name: request.GET[name] for name in names}
    if sort:
        if sort.removeprefix("-") not in GRID_SORT_FIELDS:
            raise InvalidExport(
                f"Tri inconnu, rien n'a été écrit — choisissez parmi : {', '.join(sorted(GRID_SORT_FIELDS))}"
            )
        filters["sort"] = sort
    return grid_cells_ordered(filterset.qs, sort), filters


@analyst_required
def grid_export_csv(request):
    run = requested_run(request)
    try:
        spreadsheet = for_spreadsheet(request)
        cells, _filters = export_cells(request, run)
    except InvalidExport as exc:
        return _refused(exc)
    if spreadsheet:
        return exports.grid_spreadsheet_csv_response(run, cells)
    return exports.grid_csv_response(run, cells)


# openpyxl writes about 40 000 cells a second here (pure-Python XML without lxml): 20 000
# rows of 24 columns take some ten seconds. Every selection of the grid page stays far below
# (at most divisions × domaines, about 10 000 cells); larger ones are for the CSV.
XLSX_MAX_ROWS = 20_000


@analyst_required
def grid_export_xlsx(request):
    run = requested_run(request)
    try:
        cells, filters = export_cells(request, run)
    except InvalidExport as exc:
        return _refused(exc)
    rows = run.cells.count() if cells is None else cells.count()
    if rows > XLSX_MAX_ROWS:
        return HttpResponse(
            f"Cette sélection compte {rows} cellules : le classeur XLSX est limité à {XLSX_MAX_ROWS} lignes. "
            "Filtrez la grille, ou téléchargez le CSV, qui n'a pas de limite.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return exports.grid_xlsx_response(run, cells, filters=filters)


@analyst_required
def occupations_export_csv(request):
    run = requested_run(request)
    try:
        spreadsheet = for_spreadsheet(request)
    except InvalidExport as exc:
        return _refused(exc)
    if spreadsheet:
        return exports.occupations_spreadsheet_csv_response(run)
    return exports.occupations_csv_response(run)
