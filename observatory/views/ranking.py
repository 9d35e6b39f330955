"""The occupation ranking: « which occupations of this territory are most exposed, and how many
employees hold them » in one screen, with its CSV and XLSX downloads.

The page, the CSV and the workbook read the same query string through `_ranking_request`, so
a download holds exactly the rows the page shows, in its order.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse

from ..charts.common import format_number, format_percent, secret_reason_text
from ..exports import (
    SPREADSHEET_FORMAT,
    csv_response,
    run_parameters,
    spreadsheet_csv_response,
    spreadsheet_frame,
    xlsx_response,
)
from ..filters import GridCellFilterSet
from ..models import GridCell, Lens
from ..permissions import analyst_required
from ..rankings import DEFAULT_LIMIT, DEFAULT_ORDER, RANKING_LIMITS, RANKING_ORDERS, limit_ranking, occupation_ranking
from ..scope import Scope, read_scope, scope_title
from ..selectors import grid_reference_scope
from .common import lens_tabs, run_or_none
from .filter_form import filter_fields

# The shared filters the ranking offers: it ranks fiches, so the occupation only narrows them
# to a grand domaine or a domaine.
FORM_FIELDS = ("territory", "sector", "occupation", "size_band")
# Columns of the downloads: (frame column, header). French headers: they are what is shown.
EXPORT_COLUMNS = [
    ("rank", "Rang"),
    ("occupation_code", "Code ROME"),
    ("occupation_label", "Métier"),
    ("companies", "Entreprises"),
    ("employees", "Salariés"),
    ("exposed_employees", "Salariés exposés"),
    ("exposed_share", "Part de salariés exposés"),
    ("exposure_mean", "Exposition moyenne"),
    ("secret", "Secret statistique"),
    ("secret_label", "Motif du secret"),
]
# The spreadsheet variants (« CSV pour tableur », XLSX): the same columns with how each is
# written for people (exports.spreadsheet_frame): the share in percent, the exposure to 3 decimals.
SPREADSHEET_KINDS = {
    "rank": "count",
    "companies": "count",
    "employees": "count",
    "exposed_employees": "count",
    "exposed_share": "share",
    "exposure_mean": "exposure",
    "secret": "bool",
}
SPREADSHEET_COLUMNS = [
    (
        column,
        f"{header} (%)" if SPREADSHEET_KINDS.get(column) == "share" else header,
        SPREADSHEET_KINDS.get(column, "text"),
    )
    for column, header in EXPORT_COLUMNS
]


@dataclass
class RankingRequest:
    run: object
    scope: Scope
    order: str
    limit: int
    form: object
    errors: dict
    pinned: bool = False  # a run was asked by its id (`?run=`), not as the edition of a lens

    def edition(self) -> dict:
        """What names the run in a link: its id when it was asked so, else its lens."""
        return {"run": self.run.pk} if self.pinned else {"lens": self.run.methodology.lens}

    def query(self, **changes) -> dict:
        """The page's query string (edition, filters, order, limit) with `changes`; a change
        to None drops the parameter."""
        params = {**self.edition(), **self.scope.params(), "order": self.order, "limit": self.limit, **changes}
        return {name: value for name, value in params.items() if value is not None}


def _ranking_request(request) -> RankingRequest:
    """The run, scope, order and limit asked; `errors` names what was refused."""
    run = run_or_none(request)
    scope, errors = read_scope(request.GET)
    form = GridCellFilterSet(
        {name: request.GET.get(name, "") for name in FORM_FIELDS}, queryset=GridCell.objects.none()
    ).form
    errors = dict(errors)
    lens = request.GET.get("lens")
    if lens and lens not in Lens.values:
        errors["lens"] = ["Lecture inconnue."]
    order = request.GET.get("order") or DEFAULT_ORDER
    if order not in RANKING_ORDERS:
        errors["order"] = ["Ordre de classement inconnu."]
        order = DEFAULT_ORDER
    limit = request.GET.get("limit") or str(DEFAULT_LIMIT)
    if not limit.isdigit() or int(limit) not in RANKING_LIMITS:
        errors["limit"] = ["Nombre de lignes non proposé."]
        limit = str(DEFAULT_LIMIT)
    pinned = bool(request.GET.get("run"))
    return RankingRequest(run=run, scope=scope, order=order, limit=int(limit), form=form, errors=errors, pinned=pinned)


def _rows(frame: pd.DataFrame, ranking: RankingRequest) -> list[dict]:
    """The table's rows: figures in French, a secret fiche's reason in words."""
    methodology = ranking.run.methodology
    link = urlencode(ranking.edition())
    rows = []
    for row in frame.itertuples(index=False):
        secret = bool(row.secret)
        rows.append(
            {
                "rank": None if secret else int(row.rank),
                "code": row.occupation_code,
                "label": row.occupation_label or row.occupation_code,
                "url": f"{reverse('observatory:occupation', args=[row.occupation_code])}?{link}",
                "secret": secret,
                "secret_label": secret_reason_text(row.secret_reason, methodology) if secret else "",
                "employees": format_number(row.employees) if not secret else "",
                "exposed_employees": format_number(row.exposed_employees) if not secret else "",
                "exposed_share": format_percent(row.exposed_share)
                if not secret and pd.notna(row.exposed_share)
                else "—",
                "exposure_mean": format_number(row.exposure_mean, 2)
                if not secret and pd.notna(row.exposure_mean)
                else "—",
                "companies": format_number(row.companies) if not secret else "",
            }
        )
    return rows


@analyst_required
def ranking_page(request):
    with grid_reference_scope():
        ranking = _ranking_request(request)
        run = ranking.run
        lens = run.methodology.lens if run else request.GET.get("lens", Lens.DEFAULT)
        context = {
            "run": run,
            "lens": lens if lens in Lens.values else Lens.DEFAULT,
            "lens_tabs": lens_tabs(request, run),
            "filters": filter_fields(ranking.form, FORM_FIELDS),
            "orders": [(value, label) for value, (_column, label) in RANKING_ORDERS.items()],
            "order": ranking.order,
            "limits": [(value, str(value) if value else "toutes") for value in RANKING_LIMITS],
            "limit": ranking.limit,
            "errors": ranking.errors,
        }
        if ranking.errors:
            return render(request, "observatory/ranking.html", context, status=400)
        if run is None:
            return render(request, "observatory/ranking.html", context)
        frame = occupation_ranking(run, ranking.scope, order=ranking.order)
        shown = limit_ranking(frame, ranking.limit)
        secret = int(frame["secret"].sum())
        # Downloads name the run: a new edition between the page and the click changes nothing.
        download = urlencode({**ranking.query(lens=None), "run": run.pk})
        context.update(
            {
                "scope": ranking.scope,
                "scope_title": scope_title(ranking.scope),
                "order_label": RANKING_ORDERS[ranking.order][1],
                "rows": _rows(shown, ranking),
                "total": len(frame),
                "published": len(frame) - secret,
                "secret": secret,
                "all_url": "?" + urlencode(ranking.query(limit=0)),
                "csv_url": f"{reverse('observatory:ranking_export_csv')}?{download}",
                "xlsx_url": f"{reverse('observatory:ranking_export_xlsx')}?{download}",
                "grid_url": f"{reverse('observatory:grid')}?{urlencode(_grid_query(ranking))}",
                "map_url": f"{reverse('observatory:map')}?{urlencode(ranking.query(order=None, limit=None))}",
            }
        )
        return render(request, "observatory/ranking.html", context)


def _grid_query(ranking: RankingRequest) -> dict:
    """The grid of the same edition and scope."""
    return ranking.query(order=None, limit=None)


def _export_frame(request) -> tuple[RankingRequest, pd.DataFrame] | HttpResponse:
    ranking = _ranking_request(request)
    if ranking.errors:
        message = "; ".join(
            f"{name} : {' '.join(str(m) for m in messages)}" for name, messages in ranking.errors.items()
        )
        return HttpResponseBadRequest(
            f"Paramètres invalides, rien n'a été écrit — {message}", content_type="text/plain; charset=utf-8"
        )
    if ranking.run is None:
        return HttpResponse("Aucune grille publiée pour cette lecture.", status=404, content_type="text/plain")
    frame = limit_ranking(occupation_ranking(ranking.run, ranking.scope, order=ranking.order), ranking.limit)
    frame = frame.assign(
        secret_label=[
            secret_reason_text(reason, ranking.run.methodology) if secret else ""
            for secret, reason in zip(frame["secret"], frame["secret_reason"], strict=True)
        ]
    )
    return ranking, frame


def _filename(ranking: RankingRequest, extension: str) -> str:
    return f"classement-metiers-{ranking.run.pk}.{extension}"


@analyst_required
def ranking_export_csv(request):
    """The machine CSV (unchanged for scripts), or with `?format=tableur` the CSV for a
    spreadsheet (`;`, decimal comma, BOM)."""
    wanted = request.GET.get("format", "")
    if wanted not in ("", SPREADSHEET_FORMAT):
        return HttpResponseBadRequest(
            f"Format inconnu, rien n'a été écrit — choisissez « {SPREADSHEET_FORMAT} » ou aucun.",
            content_type="text/plain; charset=utf-8",
        )
    with grid_reference_scope():
        result = _export_frame(request)
    if isinstance(result, HttpResponse):
        return result
    ranking, frame = result
    if wanted == SPREADSHEET_FORMAT:
        out = spreadsheet_frame(frame, SPREADSHEET_COLUMNS)
        return spreadsheet_csv_response(out, f"classement-metiers-{ranking.run.pk}-tableur.csv")
    out = frame[[column for column, _header in EXPORT_COLUMNS]].copy()
    out["secret"] = out["secret"].map({True: "oui", False: "non"})
    out.columns = [header for _column, header in EXPORT_COLUMNS]
    return csv_response(out, _filename(ranking, "csv"))


@analyst_required
def ranking_export_xlsx(request):
    with grid_reference_scope():
        result = _export_frame(request)
        if isinstance(result, HttpResponse):
            return result
        ranking, frame = result
        title = scope_title(ranking.scope)
    parameters = [
        *run_parameters(ranking.run),
        ("périmètre", title),
        ("classement par", str(RANKING_ORDERS[ranking.order][1])),
    ]
    return xlsx_response(
        spreadsheet_frame(frame, SPREADSHEET_COLUMNS, for_workbook=True),
        SPREADSHEET_COLUMNS,
        sheet_title="classement",
        parameters=parameters,
        filename=_filename(ranking, "xlsx"),
    )
