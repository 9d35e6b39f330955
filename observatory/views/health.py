"""`/sante/`: is the service up, and does the database answer?

Anonymous and cheap (one `SELECT 1`, no session, no template), so that a container
healthcheck or a load balancer can call it every few seconds: it is the candidate target of
the web service's healthcheck in docker-compose. The bench also uses it as the "minimal
page" its load measurement compares the grid and map pages to (`bench/pages.py`): `?octets=N`
pads the page to N bytes, so that both pages put the same number of bytes on the wire.
"""

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# The padding asked by `?octets=` is capped, so that an anonymous caller cannot make the
# server build responses of arbitrary size: 1 MB is above any page of the observatory.
MAX_OCTETS = 1_000_000
PAGE = (
    '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>Santé — Observatoire IA'
    " Hauts-de-France</title></head>\n<body>\n<p>Service : en marche. Base de données : {database}.</p>\n"
    "{padding}</body>\n</html>\n"
)
# One line of padding: an HTML comment, so that a padded page still reads as the short one.
# ASCII only, so that characters and bytes count alike.
PADDING_LINE = "<!-- remplissage de la page de sante, demande par ?octets= ------------------------ -->\n"


@never_cache
@require_GET
def health(request):
    database = database_answers()
    state = "ok" if database else "injoignable"
    missing = requested_octets(request.GET.get("octets", "")) - len(PAGE.format(database=state, padding="").encode())
    body = PAGE.format(database=state, padding=padding(missing) if missing > 0 else "")
    return HttpResponse(body, status=200 if database else 503, content_type="text/html; charset=utf-8")


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def requested_octets(value: str) -> int:
    """The size asked for, in bytes, within [0, MAX_OCTETS]; anything else means no padding."""
    return min(int(value), MAX_OCTETS) if value.isdigit() else 0


def padding(size: int) -> str:
    """`size` bytes of ASCII: whole comment lines, then spaces to make up the rest."""
    lines, rest = divmod(size, len(PADDING_LINE))
    return PADDING_LINE * lines + " " * rest
