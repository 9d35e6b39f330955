"""The access rules of the companies app, in one module that views here and in other apps
import: curators (catalogue and membership curation), active company members (the
diagnostic), and a member's own diagnostic (its pages and its report)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from .diagnostic import selectors
from .roles import is_curator


def curator_required(view):
    """Curators and superusers: anonymous visitors go to the login page,
    logged-in people who are neither curators nor superusers are refused."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_curator(request.user):
            raise PermissionDenied("Réservé aux curateurs.")
        return view(request, *args, **kwargs)

    return wrapper


def member_required(view):
    """Active company members only; `request.member_companies` lists their companies."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        companies = selectors.member_companies(request.user)
        if not companies:
            context = {"pending": selectors.has_pending_membership(request.user)}
            return render(request, "diagnostic/no_company.html", context, status=403)
        request.member_companies = companies
        return view(request, *args, **kwargs)

    return wrapper


def diagnostic_required(view):
    """`member_required`, and the URL's diagnostic among the member's companies, else 404."""

    @member_required
    @wraps(view)
    def wrapper(request, diagnostic_id, *args, **kwargs):
        diagnostic = selectors.diagnostic_for(request.user, diagnostic_id)
        if diagnostic is None:
            raise Http404("Diagnostic introuvable.")
        return view(request, diagnostic, *args, **kwargs)

    return wrapper
