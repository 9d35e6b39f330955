"""Reads of the company diagnostic. Every read of a diagnostic goes through
`diagnostics_visible_to(user)`: a person sees the diagnostics of the companies where their
membership is active, and nothing else (not even whether another id exists).

The look-ups (`*_suggestions`, `resolve_*`) let people name a ROME fiche, a NAF sous-classe or
a commune the way they know it — a code, a label, an appellation — with or without accents.
"""

import re

from django.db.models import Count, Prefetch, Q, QuerySet

from skills import selectors as skills_selectors
from skills.models import Appellation, Occupation, SkillBlock
from skills.text import accent_insensitive_pattern, fold

from ..models import Campaign, Company, CompanyMembership, Diagnostic, DiagnosticJob, Sector, Territory

REGION_CODE = "32"  # Hauts-de-France in the INSEE COG
SUGGESTION_LIMIT = 10
# How many close matches an error message lists when a text names several things.
CANDIDATE_LIMIT = 6

ROME_CODE = re.compile(r"\b([A-N]\d{4})\b", re.IGNORECASE)
# A NAF sous-classe as INSEE prints it (62.01Z) or as often typed (6201Z, 62 01 Z).
NAF_CODE = re.compile(r"\b(\d{2})[ .]?(\d{2})\s?([A-Z])\b", re.IGNORECASE)
# An INSEE commune code: five digits (Corsica's 2A/2B never occur in Hauts-de-France).
INSEE_CODE = re.compile(r"\b(\d{5})\b")


# --- Campaigns, memberships, diagnostics -------------------------------------------------


def current_campaign() -> Campaign | None:
    return Campaign.objects.filter(is_current=True).first()


def member_companies(user) -> list[Company]:
    """The companies where `user` is an active member, by name."""
    if not user.is_authenticated:
        return []
    return list(
        Company.objects.filter(memberships__user=user, memberships__status=CompanyMembership.Status.ACTIVE).order_by(
            "name", "pk"
        )
    )


def has_pending_membership(user) -> bool:
    return CompanyMembership.objects.filter(user=user, status=CompanyMembership.Status.PENDING).exists()


def diagnostics_visible_to(user) -> QuerySet[Diagnostic]:
    """The diagnostics of the companies where `user` is an active member."""
    if not user.is_authenticated:
        return Diagnostic.objects.none()
    return Diagnostic.objects.filter(
        company__memberships__user=user, company__memberships__status=CompanyMembership.Status.ACTIVE
    )


def diagnostic_for(user, pk: int) -> Diagnostic | None:
    """One diagnostic `user` may see, with what every step page shows; None otherwise."""
    return (
        diagnostics_visible_to(user)
        .select_related("campaign", "company", "sector", "commune__parent", "submitted_by")
        .filter(pk=pk)
        .first()
    )


def diagnostics_of(companies: list[Company]) -> list[Diagnostic]:
    """Every diagnostic of these companies, newest campaign first, with its number of jobs."""
    return list(
        Diagnostic.objects.filter(company__in=companies)
        .select_related("campaign", "company")
        .annotate(job_count=Count("jobs"))
        .order_by("-campaign__year", "company__name")
    )


def previous_diagnostic(*, company: Company, campaign: Campaign) -> Diagnostic | None:
    """The company's latest diagnostic of an earlier campaign (submitted ones first): the one
    a new campaign's diagnostic may start from."""
    return (
        Diagnostic.objects.filter(company=company, campaign__year__lt=campaign.year)
        .select_related("campaign")
        .order_by("-campaign__year")
        .first()
    )


def diagnostic_jobs(diagnostic: Diagnostic) -> list[DiagnosticJob]:
    """The diagnostic's jobs in their order, with their fiche and wished skills blocks."""
    return list(
        diagnostic.jobs.select_related("occupation").prefetch_related(
            Prefetch("wished_skill_blocks", queryset=SkillBlock.objects.only("pk", "code", "label"))
        )
    )


def diagnostic_job(diagnostic: Diagnostic, pk: int) -> DiagnosticJob | None:
    return diagnostic.jobs.select_related("occupation").prefetch_related("wished_skill_blocks").filter(pk=pk).first()


def skill_blocks_for_occupation(code: str | None) -> list[SkillBlock]:
    """The skills blocks leading to a fiche: the blocks of the certifications that target it,
    and the blocks linked to it directly; empty when none are loaded."""
    if not code:
        return []
    return list(
        SkillBlock.objects.filter(Q(certification__occupations=code) | Q(occupations=code))
        .distinct()
        .only("pk", "code", "label")
        .order_by("code")
    )


def _rank(query: str, label: str) -> tuple[int, str]:
    """Labels equal to the query first, then starting with it, then containing it."""
    folded, folded_label = fold(query), fold(label)
    if folded_label == folded:
        return (0, folded_label)
    if folded_label.startswith(folded):
        return (1, folded_label)
    return (2, folded_label)


# --- ROME fiches -------------------------------------------------------------------------


def occupation_value(code: str, label: str) -> str:
    """How a chosen fiche is written back into the text field: « Secrétaire (M1607) »."""
    return f"{label} ({code})"


def occupation_suggestions(query: str, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Fiches matched on their code or label, then through their appellations, best first:
    [{code, label, appellation, value}] (`appellation` None for a fiche match). The site's
    one search by job title (skills.selectors.occupation_suggestions), which `value` writes as
    occupation_value does."""
    return skills_selectors.occupation_suggestions(query, limit=limit)


def resolve_occupation(text: str) -> tuple[Occupation | None, list[Occupation]]:
    """The fiche a text names — a ROME code anywhere in it (« Secrétaire (M1607) »), else a
    fiche label or an appellation equal to it, else the only fiche whose label or appellations
    contain it. Returns (fiche, []) when found, (None, close fiches) otherwise."""
    text = text.strip()
    if not text:
        return None, []
    fiches = Occupation.objects.fiches()
    code = ROME_CODE.search(text)
    if code:
        found = fiches.filter(code=code.group(1).upper()).first()
        if found:
            return found, []
        text = ROME_CODE.sub("", text).strip(" ()—-")
        if not text:
            return None, []
    pattern = accent_insensitive_pattern(text)
    if not pattern:
        return None, []
    matches = list(
        fiches.filter(Q(label__iregex=pattern) | Q(appellations__label__iregex=pattern))
        .distinct()
        .order_by("label")[:200]
    )
    if len(matches) == 1:
        return matches[0], []
    folded = fold(text)
    exact = [fiche for fiche in matches if fold(fiche.label) == folded]
    if not exact:
        exact_codes = {
            occupation_id
            for occupation_id, label in Appellation.objects.filter(
                occupation__in=matches, label__iregex=f"^{pattern}$"
            ).values_list("occupation_id", "label")
            if fold(label) == folded
        }
        exact = [fiche for fiche in matches if fiche.code in exact_codes]
    if len(exact) == 1:
        return exact[0], []
    matches.sort(key=lambda fiche: _rank(text, fiche.label))
    return None, (exact or matches)[:CANDIDATE_LIMIT]


# --- NAF sous-classes ----------------------------------------------------------------------


def sector_value(sector: Sector) -> str:
    return f"{sector.code} — {sector.label}"


def sous_classes() -> QuerySet[Sector]:
    return Sector.objects.filter(level=Sector.Level.SOUS_CLASSE)


def _dotted(compact: str) -> str:
    """« 1071C » → « 10.71C », « 107 » → « 10.7 »: a code, or its start, as INSEE writes it."""
    return compact[:2] + ("." + compact[2:] if len(compact) > 2 else "")


def sector_suggestions(query: str, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Sous-classes matched on their code (with or without its dot) or label: [{code, label,
    value}]."""
    query = query.strip()
    if not query:
        return []
    compact = query.replace(" ", "").replace(".", "").upper()
    code_match = Q(pk__in=[])
    if re.fullmatch(r"\d{1,4}[A-Z]?", compact):
        code_match = Q(code__istartswith=_dotted(compact))
    rows = list(
        sous_classes()
        .filter(code_match | Q(label__iregex=accent_insensitive_pattern(query)))
        .order_by("code")[: limit * 3]
    )
    rows.sort(key=lambda sector: (not sector.code.replace(".", "").startswith(compact), _rank(query, sector.label)))
    return [{"code": s.code, "label": s.label, "value": sector_value(s)} for s in rows[:limit]]


def resolve_sector(text: str) -> tuple[Sector | None, list[Sector]]:
    """The sous-classe a text names: its code (62.01Z, 6201Z) anywhere in it, else a label
    equal to it, else the only label containing it. (sous-classe, []) or (None, candidates)."""
    text = text.strip()
    if not text:
        return None, []
    code = NAF_CODE.search(text)
    if code:
        found = sous_classes().filter(code=f"{code.group(1)}.{code.group(2)}{code.group(3).upper()}").first()
        if found:
            return found, []
        text = NAF_CODE.sub("", text).strip(" ()—-")
        if not text:
            return None, []
    compact = text.replace(" ", "").replace(".", "")
    if re.fullmatch(r"\d{2,4}", compact):
        # The start of a code (« 10.71 »): the sous-classes under it.
        matches = list(sous_classes().filter(code__startswith=_dotted(compact)).order_by("code")[:200])
    else:
        matches = list(sous_classes().filter(label__iregex=accent_insensitive_pattern(text)).order_by("code")[:200])
    if len(matches) == 1:
        return matches[0], []
    exact = [sector for sector in matches if fold(sector.label) == fold(text)]
    if len(exact) == 1:
        return exact[0], []
    matches.sort(key=lambda sector: _rank(text, sector.label))
    return None, (exact or matches)[:CANDIDATE_LIMIT]


# --- Communes of Hauts-de-France -----------------------------------------------------------


def commune_value(commune: Territory) -> str:
    return f"{commune.name} ({commune.code})"


def region_communes() -> QuerySet[Territory]:
    """The communes of Hauts-de-France (commune → département → région in the COG tree)."""
    return Territory.objects.filter(
        level=Territory.Level.COMMUNE,
        parent__level=Territory.Level.DEPARTEMENT,
        parent__parent__code=REGION_CODE,
        parent__parent__level=Territory.Level.REGION,
    )


def commune_suggestions(query: str, limit: int = SUGGESTION_LIMIT) -> list[dict]:
    """Communes matched on their INSEE code or name, the most populated first among equals:
    [{code, label, detail (the département), value}]."""
    query = query.strip()
    if not query:
        return []
    match = Q(code__startswith=query) if query.isdigit() else Q(name__iregex=accent_insensitive_pattern(query))
    rows = list(region_communes().filter(match).select_related("parent").order_by("-population", "name")[: limit * 5])
    if not query.isdigit():
        rows.sort(key=lambda commune: _rank(query, commune.name)[0])
    return [
        {
            "code": commune.code,
            "label": commune.name,
            "detail": f"{commune.parent.name} ({commune.parent.code})",
            "value": commune_value(commune),
        }
        for commune in rows[:limit]
    ]


def resolve_commune(text: str) -> tuple[Territory | None, list[Territory]]:
    """The commune a text names: an INSEE code in it (« Lille (59350) »), else the only commune
    of that name, else the only one whose name contains it. (commune, []) or (None,
    candidates) — homonyms come back as candidates, to be told apart by their code."""
    text = text.strip()
    if not text:
        return None, []
    communes = region_communes().select_related("parent")
    code = INSEE_CODE.search(text)
    if code:
        found = communes.filter(code=code.group(1)).first()
        if found:
            return found, []
        text = INSEE_CODE.sub("", text).strip(" ()—-")
        if not text:
            return None, []
    matches = list(
        communes.filter(name__iregex=accent_insensitive_pattern(text)).order_by("-population", "name")[:200]
    )
    exact = [commune for commune in matches if fold(commune.name) == fold(text)]
    if len(exact) == 1:
        return exact[0], []
    if len(matches) == 1:
        return matches[0], []
    matches.sort(key=lambda commune: _rank(text, commune.name)[0])
    return None, (exact or matches)[:CANDIDATE_LIMIT]
