"""Text from outside is cleaned once, here, for every view: a query parameter or a form field
holding a NUL byte or another control character is refused with HTTP 400 before any view,
form or query sees it (PostgreSQL refuses NUL in text, and no field of the site has a use
for control characters). Tabs and line breaks stay allowed in form fields (text areas)."""

import re

from django.http import HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

# C0 controls and DEL; a form field may hold tab, line feed and carriage return.
QUERY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
API_PREFIX = "/api/"
REFUSED = "Un paramètre contient un caractère de contrôle (octet nul ou autre) : requête refusée."


def _holds(pattern: re.Pattern, data) -> bool:
    return any(pattern.search(key) or any(pattern.search(value) for value in data.getlist(key)) for key in data)


class RefuseControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = _holds(QUERY_CONTROL, request.GET)
        if (
            not refused
            and request.method == "POST"
            and request.content_type
            in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
        ):
            refused = _holds(FORM_CONTROL, request.POST)
        if refused:
            if request.path.startswith(API_PREFIX):
                # The API answers in JSON, as its schema documents every 400.
                return JsonResponse({"detail": REFUSED}, status=400, json_dumps_params={"ensure_ascii": False})
            return HttpResponseBadRequest(render_to_string("400.html", request=request))
        return self.get_response(request)
