"""Access to the observatory: analysts (and superusers) only. Company members and anonymous
visitors are refused; this is the one place the rule is written."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from companies.roles import is_analyst


def analyst_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_analyst(request.user):
            raise PermissionDenied("Réservé aux analystes de l'observatoire.")
        return view(request, *args, **kwargs)

    return wrapper
