"""The corrections of the lexicon: the savoir-faire of the ROME with how each is classified,
and one item's page where a person records their own categories or hands the item back to the
lexicon. Analysts, curators and superusers (permissions.classification_editor_required).

The pages live under /observatoire/ rather than in the skills app because the access rule
needs the roles of `companies`, which `skills` must not import."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from skills.models import RomeItem, TaskCategory
from skills.selectors import (
    ITEM_STATUS_LABELS,
    OVERRIDDEN,
    item_fiches,
    item_override_history,
    skill_items,
    with_item_status,
)
from skills.services import item_override_create

from ..forms import ItemFilterForm, ItemOverrideForm
from ..models import CATEGORIES
from ..permissions import classification_editor_required

PAGE_SIZE = 50


@classification_editor_required
def item_list(request):
    filters = ItemFilterForm(request.GET or None)
    chosen = filters.filters()
    page = Paginator(skill_items(**chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.status_label = ITEM_STATUS_LABELS[item.status]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "observatory/item_list.html",
        {
            "tab": "classification",
            "filters": filters,
            "filtered": bool(chosen["query"] or chosen["status"]),
            "page": page,
            "query": query.urlencode(),
        },
    )


@classification_editor_required
def item_detail(request, code):
    item = with_item_status(RomeItem.objects.filter(code=code, kind=RomeItem.Kind.SKILL)).first()
    if item is None:
        raise Http404("Aucun savoir-faire du ROME ne porte ce code.")
    history = list(item_override_history(item))
    in_force = history[0] if history and not history[0].clears else None
    status = 200
    if request.method == "POST":
        form = ItemOverrideForm(request.POST)
        if form.is_valid():
            shares = form.shares()
            if shares is None and in_force is None:
                form.add_error(None, "Cet élément suit déjà le lexique : il n'y a pas de correction à retirer.")
            else:
                try:
                    item_override_create(
                        item=item, shares=shares, user=request.user, reason=form.cleaned_data["reason"]
                    )
                except ValueError as error:
                    form.add_error(None, str(error))
                else:
                    messages.success(
                        request,
                        "Élément rendu au lexique."
                        if shares is None
                        else "Correction enregistrée. Elle s'appliquera au prochain calcul de la grille.",
                    )
                    return redirect(reverse("observatory:item", args=[item.code]))
        status = 400
    else:
        current = in_force or item
        initial = {c: _percent(getattr(current, c)) for c in CATEGORIES}
        form = ItemOverrideForm(initial={**initial, "action": ItemOverrideForm.OVERRIDE})
    return render(
        request,
        "observatory/item_detail.html",
        {
            "tab": "classification",
            "item": item,
            "status_label": ITEM_STATUS_LABELS[item.status],
            "overridden": item.status == OVERRIDDEN,
            "lexicon_classified": item.rc is not None,
            "share_rows": _share_rows(item, in_force),
            "history": [{"override": row, "shares": None if row.clears else _share_rows(row)} for row in history],
            "fiches": item_fiches(item),
            "form": form,
        },
        status=status,
    )


def _percent(share) -> str | None:
    """0.125 → « 12,5 », as a person would type it in the form."""
    if share is None:
        return None
    return f"{share * 100:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _share_rows(source, in_force=None) -> list[dict] | None:
    """The five shares of an item (or an override) as rows {code, label, share}, with
    `in_force` the shares of the override that replaces them; None when neither carries
    shares (unmatched, hors tâche, or handed back)."""
    if source.rc is None and in_force is None:
        return None
    labels = dict(TaskCategory.Code.choices)
    return [
        {
            "code": c.upper(),
            "label": labels[c.upper()],
            "share": getattr(source, c),
            "in_force": getattr(in_force, c) if in_force is not None else None,
        }
        for c in CATEGORIES
    ]
