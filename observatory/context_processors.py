import functools

from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject

from companies.models import CompanyMembership
from companies.roles import is_analyst, is_curator

# The links of the header and of the navigation (templates/base.html, includes/nav_items.html),
# by the name the templates use.
NAV_URL_NAMES = {
    "home": "home",
    "catalogue": "trainings:catalogue",
    "overview": "observatory:overview",
    "grid": "observatory:grid",
    "map": "observatory:map",
    "occupations": "observatory:occupations",
    "runs": "observatory:runs",
    "methodology": "observatory:methodology",
    "diagnostic": "diagnostic:home",
    "curation": "accounts:curation_companies",
    "admin": "admin:index",
    "account": "accounts:account",
    "logout": "logout",
    "signup": "accounts:signup",
    "login": "login",
}


def roles(request):
    """What the navigation may offer, and its links; every view checks access again on its own."""
    links = nav_urls(get_script_prefix())
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_analyst": False, "is_curator": False, "is_member": False, "nav_urls": links, **provenance(request)}
    analyst, curator = is_analyst(user), is_curator(user)

    def is_member():
        # Evaluated by the template only where the navigation asks, and never for staff roles.
        if analyst or curator:
            return False
        return CompanyMembership.objects.filter(user=user, status=CompanyMembership.Status.ACTIVE).exists()

    return {
        "is_analyst": analyst,
        "is_curator": curator,
        "is_member": is_member,
        "nav_urls": links,
        **provenance(request),
    }


def provenance(request):
    """`site_data` (observatory.provenance.site_data: the demonstration banner and the
    footer's reference data of templates/base.html), read from the cache, and only by a page
    that renders them. Merged into `roles`, the processor the settings register."""
    from .provenance import site_data

    return {"site_data": SimpleLazyObject(site_data)}


@functools.cache
def nav_urls(script_prefix: str) -> dict[str, str]:
    """The navigation's URLs, reversed once per process and script prefix (`reverse` prefixes
    them with the current one) instead of a dozen `{% url %}` on every page. Forgotten when a
    test changes the URLconf (observatory.signals)."""
    return {key: reverse(name) for key, name in NAV_URL_NAMES.items()}
