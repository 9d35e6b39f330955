"""The directory of regional actors (companies.models.RegionalContact): whom a company of a
given commune and NAF section turns to. Read by the company report; written by curators
(companies/views_curation.py)."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from .models import RegionalContact

# The order the report lists them in: who funds training, then the public services, then the
# chambers; the kinds' declaration order in RegionalContact.Kind.
KIND_ORDER = {kind: rank for rank, kind in enumerate(RegionalContact.Kind.values)}


def _serves_territory(territory_code: str) -> Q:
    """Contacts with no territory (the whole région), or one of whose territories is the
    territory `territory_code` (any level), its parent (a commune's département), its
    grand-parent (the région), or a commune's EPCI."""
    return (
        Q(territories__isnull=True)
        | Q(territories__code=territory_code)
        | Q(territories__children__code=territory_code)
        | Q(territories__children__children__code=territory_code)
        | Q(territories__member_communes__code=territory_code)
    )


def contacts_for(territory_code: str | None, naf_section: str | None) -> QuerySet:
    """The active contacts serving the territory `territory_code` (an INSEE code: commune,
    EPCI, département or région) and the NAF section `naf_section` (« C », « F »…), in the
    report's order (KIND_ORDER, then name); one query. Without a territory, only the contacts
    of the whole région; without a section, only those of every sector."""
    territory = _serves_territory(territory_code) if territory_code else Q(territories__isnull=True)
    sector = Q(sections__isnull=True)
    if naf_section:
        sector |= Q(sections__code=naf_section)
    ids = RegionalContact.objects.filter(active=True).filter(territory).filter(sector).values("pk")
    rank = Case(
        *(When(kind=kind, then=Value(order)) for kind, order in KIND_ORDER.items()), output_field=IntegerField()
    )
    return RegionalContact.objects.filter(pk__in=ids).annotate(kind_rank=rank).order_by("kind_rank", "name")
