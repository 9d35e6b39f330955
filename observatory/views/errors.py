"""Error pages: the API answers in JSON even for an address that matches no route (its
schema documents every 404 as JSON); every other page gets the site's own 404 page."""

from django.http import JsonResponse
from django.views.defaults import page_not_found

from ..middleware import API_PREFIX


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"detail": "Adresse inconnue de l'API."}, status=404, json_dumps_params={"ensure_ascii": False}
        )
    return page_not_found(request, exception)
