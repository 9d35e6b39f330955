"""Access to the observatory: analysts (and superusers) only. Company members and anonymous
visitors are refused; this is the one place the rule is written.

The corrections of the ROME items' classification are reference data, which curators manage
as well: those pages also admit curators (`classification_editor_required`)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from companies.roles import is_analyst, is_curator


def analyst_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_analyst(request.user):
            raise PermissionDenied("Réservé aux analystes de l'observatoire.")
        return view(request, *args, **kwargs)

    return wrapper


def classification_editor_required(view):
    """Analysts, curators and superusers: the people who may correct the lexicon."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (is_analyst(request.user) or is_curator(request.user)):
            raise PermissionDenied("Réservé aux analystes et aux curateurs.")
        return view(request, *args, **kwargs)

    return wrapper
