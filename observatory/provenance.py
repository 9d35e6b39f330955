"""Where the figures come from: what every page says of the data (the demonstration banner
and the reference nomenclatures in the footer), and the provenance block of the pages that
show an edition (templates/includes/provenance.html).

Every page reads the site's part, so it is cached: one query per cache period reads the
demonstration check, the nomenclatures loaded, the field data's counts and the current
edition of every lens at once (a page whose caches are cold pays one query for all of it).
Publishing from the runs page forgets it (services.grid_run_publish); an edition published
as it is computed (nightly, launched by hand) shows in the block within SITE_TIMEOUT.
"""

import datetime
import re

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from companies.demo import demo_companies
from companies.models import Campaign, Diagnostic, JobPosition, Sector, Territory
from skills.importers.rome.occupations import FICHE_FILE
from skills.models import Certification, Occupation

from .models import GridRun, Lens

SITE_KEY = "observatory:provenance:site:v1"
SITE_TIMEOUT = 60
EDITION_COLUMNS = ("pk", "published_at", "finished_at", "batch", "input__digest")


def rome_version(filename: str = FICHE_FILE) -> str:
    """The ROME version of an export's file name: `unix_referentiel_code_rome_v460_utf8.csv`
    → « 4.60 ». The importer reads only files named so, hence what it loaded."""
    match = re.search(r"_v(\d)(\d+)_", filename)
    return f"{match[1]}.{match[2]}" if match else ""


def site_data() -> dict:
    """What every page may say of the database: `demo` (demonstration companies, SIREN
    prefix « 000 », are loaded), `reference` (reference_sources) and `field` (the field
    data's counts, field_data). One query per SITE_TIMEOUT seconds at most."""
    data = cache.get(SITE_KEY)
    if data is None:
        counts = _site_counts()
        data = {
            "demo": bool(counts["demo"]),
            "reference": _reference_sources(counts),
            "field": {
                "campaign": counts["campaign"] or "",
                "diagnostics": counts["diagnostics"],
                "imported": counts["imported"],
                "diagnostic": counts["diagnostic"],
                "demo": counts["demo_positions"],
                "as_of": timezone.now(),
            },
            "editions": _editions(counts),
        }
        cache.set(SITE_KEY, data, SITE_TIMEOUT)
    return data


def demo_data_loaded() -> bool:
    return site_data()["demo"]


def reference_sources() -> list[dict]:
    """The reference nomenclatures actually loaded, by publisher, with their versions and
    counts: [{"publisher": "INSEE", "items": [{"name": "COG", "label": "COG", "detail":
    "3 782 communes"}, …]}, …]. A publisher nothing of which is loaded is left out."""
    return site_data()["reference"]


def field_data() -> dict:
    """The field data in the database now: the current campaign (else the latest), its
    diagnostics that count in the statistics, and the positions counted, by origin."""
    return site_data()["field"]


def _count(queryset):
    return queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")


def _site_counts() -> dict:
    """Every count site_data needs, as one SELECT of subqueries (one round trip)."""
    campaign = Campaign.objects.order_by("-is_current", "-year")
    positions = JobPosition.objects.counted_in_statistics()
    Source = JobPosition.Source
    queries = {
        "demo": ("exists", demo_companies().order_by().values("pk")[:1]),
        "territories": ("value", _count(Territory.objects.all())),
        "communes": ("value", _count(Territory.objects.filter(level=Territory.Level.COMMUNE))),
        "sectors": ("value", _count(Sector.objects.all())),
        "sous_classes": ("value", _count(Sector.objects.filter(level=Sector.Level.SOUS_CLASSE))),
        "fiches": ("value", _count(Occupation.objects.filter(level=Occupation.Level.FICHE))),
        "rncp": ("exists", Certification.objects.filter(register="RNCP").order_by().values("pk")[:1]),
        "rs": ("exists", Certification.objects.filter(register="RS").order_by().values("pk")[:1]),
        "campaign": ("value", campaign.values("name")[:1]),
        "diagnostics": (
            "value",
            _count(Diagnostic.objects.counted_in_statistics().filter(campaign=Subquery(campaign.values("pk")[:1]))),
        ),
        "imported": ("value", _count(positions.filter(source=Source.SURVEY))),
        "diagnostic": ("value", _count(positions.filter(source=Source.DIAGNOSTIC))),
        "demo_positions": ("value", _count(positions.filter(source=Source.DEMO))),
    }
    for lens in Lens.values:
        current = GridRun.objects.filter(is_current=True, index__isnull=True, methodology__lens=lens).order_by("-pk")
        for column in EDITION_COLUMNS:
            queries[f"{lens}:{column}"] = ("value", current.values(column)[:1])
    selects, params = [], []
    for kind, queryset in queries.values():
        sql, query_params = queryset.query.sql_with_params()
        selects.append(f"EXISTS ({sql})" if kind == "exists" else f"({sql})")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    return dict(zip(queries, row, strict=True))


def _reference_sources(counts: dict) -> list[dict]:
    insee, france_travail, france_competences = [], [], []
    if counts["territories"]:
        detail = _counted(counts["communes"], "commune") if counts["communes"] else ""
        insee.append({"name": "COG", "label": "COG", "detail": detail})
    if counts["sectors"]:
        detail = _counted(counts["sous_classes"], "sous-classe") if counts["sous_classes"] else ""
        insee.append({"name": "NAF", "label": "NAF rév. 2", "detail": detail})
    if counts["fiches"]:
        version = rome_version()
        label = f"ROME {version}" if version else "ROME 4.0"
        france_travail.append({"name": "ROME", "label": label, "detail": _counted(counts["fiches"], "fiche")})
    for register in ("RNCP", "RS"):
        if counts[register.lower()]:
            france_competences.append({"name": register, "label": register, "detail": ""})
    return [
        {"publisher": publisher, "items": items}
        for publisher, items in (
            ("INSEE", insee),
            ("France Travail", france_travail),
            ("France Compétences", france_competences),
        )
        if items
    ]


def _counted(count: int, noun: str) -> str:
    number = f"{count:,}".replace(",", "\u202f")
    return f"{number} {noun}{'s' if count > 1 else ''}"


def forget_site_data() -> None:
    """The editions changed (an analyst published a batch): the next page reads them again."""
    cache.delete(SITE_KEY)


def _editions(counts: dict) -> list[dict]:
    """The current edition of every lens (task-based, no external index), in the lenses'
    order, each with its date and whether it is older than another lens's: computed from
    other data (another batch, another digest of the positions) and published before it."""
    labels = dict(Lens.choices)
    editions = []
    for lens in Lens.values:
        pk = counts[f"{lens}:pk"]
        if pk is None:
            continue
        batch = counts[f"{lens}:batch"]
        editions.append(
            {
                "run": pk,
                "lens": lens,
                "label": labels[lens],
                "date": _datetime(counts[f"{lens}:published_at"]) or _datetime(counts[f"{lens}:finished_at"]),
                # A UUID on PostgreSQL, its 32 hex digits on SQLite.
                "batch": str(batch).replace("-", "") if batch else None,
                "digest": counts[f"{lens}:input__digest"] or None,
            }
        )
    for edition in editions:
        edition["older"] = any(
            other is not edition
            and edition["date"]
            and other["date"]
            and other["date"] > edition["date"]
            and not _same_data(edition, other)
            for other in editions
        )
    return editions


def _datetime(value):
    """A datetime as the raw cursor gives it: a datetime, or text on SQLite (in UTC)."""
    if value is None or not isinstance(value, str):
        return value
    parsed = parse_datetime(value)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


def _same_data(a: dict, b: dict) -> bool:
    """Whether two editions were computed from the same field data: the same batch, else the
    same digest of their positions; editions older than the digests, the same day."""
    if a["batch"] and a["batch"] == b["batch"]:
        return True
    if a["digest"] and b["digest"]:
        return a["digest"] == b["digest"]
    return timezone.localdate(a["date"]) == timezone.localdate(b["date"])


def provenance(run: GridRun | None) -> dict:
    """What the provenance block says of a page showing `run`'s figures: the edition (its
    number, lens, method and date), the field data and the reference data behind it, and the
    other lenses' editions when one is older than the others."""
    site = site_data()
    editions = site["editions"]
    return {
        "run": run,
        "edition_date": (run.published_at or run.finished_at) if run else None,
        "published": bool(run and run.published_at),
        "positions": run.stats.get("positions") if run else None,
        "field": site["field"],
        "reference": site["reference"],
        "editions": editions,
        "older": [edition for edition in editions if edition["older"]],
    }
