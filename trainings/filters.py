"""The filters of the public catalogue, kept in the URL (/formations/?departement=59&ia=on…).

Every filter narrows the published offers (trainings.selectors.published_offers) with an
EXISTS subquery rather than a join, so that an offer with several matching sessions or
blocks comes back once and the annotations of the results stay right.

Where an offer takes place: its upcoming sessions' communes (sessions starting on or after
the « à partir du » date, or today, and undated sessions) and its provider's commune.
"""

import datetime
import re

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from companies.diagnostic.selectors import commune_value, resolve_commune
from companies.models import Territory
from skills.models import Certification, Occupation, SkillBlock
from skills.text import accent_insensitive_pattern

from .models import TrainingOffer
from .selectors import Circle, upcoming_sessions, within

REGION_CODE = "32"  # Hauts-de-France in the INSEE COG
RADIUS_CHOICES = [(10, "10 km"), (20, "20 km"), (50, "50 km"), (100, "100 km")]
DEFAULT_RADIUS_KM = 20
# European qualification levels of the French framework (décret 2019-14), with the diploma
# most people know them by.
LEVEL_CHOICES = [
    (3, _("Niveau 3 (CAP, BEP)")),
    (4, _("Niveau 4 (baccalauréat)")),
    (5, _("Niveau 5 (bac + 2)")),
    (6, _("Niveau 6 (bac + 3 ou 4)")),
    (7, _("Niveau 7 (bac + 5)")),
    (8, _("Niveau 8 (doctorat)")),
]
ROME_CODE = re.compile(r"\b([A-N]\d{4})\b", re.IGNORECASE)
MAX_TEXT = 100


class CatalogueForm(forms.Form):
    """The search form: resolves the commune typed by name or code, checks it has a centre."""

    def clean_commune(self):
        text = (self.cleaned_data.get("commune") or "").strip()
        if not text:
            return None
        commune, candidates = resolve_commune(text)
        if commune is None and candidates:
            raise forms.ValidationError(
                _("Plusieurs communes correspondent à « %(text)s » : %(list)s. Précisez, par exemple avec le code."),
                params={"text": text, "list": ", ".join(commune_value(c) for c in candidates)},
            )
        if commune is None:
            raise forms.ValidationError(
                _("Aucune commune des Hauts-de-France ne correspond à « %(text)s »."), params={"text": text}
            )
        if commune.latitude is None or commune.longitude is None:
            raise forms.ValidationError(
                _("La position de %(commune)s n'est pas connue : la recherche par distance n'est pas possible."),
                params={"commune": commune.name},
            )
        return commune


class CatalogueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Mots-clés"),
        method="filter_keywords",
        max_length=MAX_TEXT,
        help_text=_("Dans l'intitulé ou les objectifs, par exemple « comptabilité »."),
    )
    departement = django_filters.ModelChoiceFilter(
        label=_("Département"),
        queryset=Territory.objects.filter(
            level=Territory.Level.DEPARTEMENT, parent__code=REGION_CODE, parent__level=Territory.Level.REGION
        ).order_by("code"),
        to_field_name="code",
        method="filter_departement",
        empty_label=_("Tous les départements"),
    )
    commune = django_filters.CharFilter(
        label=_("Près de la commune"),
        method="filter_distance",
        max_length=MAX_TEXT,
        help_text=_("Nom ou code INSEE de la commune."),
    )
    rayon = django_filters.TypedChoiceFilter(
        label=_("Dans un rayon de"),
        choices=RADIUS_CHOICES,
        coerce=int,
        method="filter_nothing",  # read by filter_distance
    )
    modalite = django_filters.ChoiceFilter(
        label=_("Modalité"), field_name="modality", choices=TrainingOffer.Modality.choices, empty_label=_("Toutes")
    )
    niveau = django_filters.TypedChoiceFilter(
        label=_("Niveau de la certification"),
        field_name="certification__level",
        choices=[("", _("Tous les niveaux")), *LEVEL_CHOICES],
        coerce=int,
    )
    bloc = django_filters.CharFilter(
        label=_("Bloc de compétences"),
        method="filter_skill_block",
        max_length=MAX_TEXT,
        help_text=_("Code (RNCP…BC01) ou mots de son libellé."),
    )
    metier = django_filters.CharFilter(
        label=_("Métier visé (fiche ROME)"),
        method="filter_occupation",
        max_length=MAX_TEXT,
        help_text=_("Code ROME (M1607) ou intitulé du métier."),
    )
    debut = django_filters.DateFilter(
        label=_("Session à partir du"),
        method="filter_start",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ia = django_filters.BooleanFilter(
        label=_("En lien avec l'IA et les données"), method="filter_ai", widget=forms.CheckboxInput
    )
    cpf = django_filters.BooleanFilter(label=_("Éligible au CPF"), method="filter_cpf", widget=forms.CheckboxInput)

    class Meta:
        model = TrainingOffer
        form = CatalogueForm
        fields = []

    def __init__(self, data=None, *args, today: datetime.date, **kwargs):
        if data is not None and not data.get("rayon"):
            data = data.copy()
            data["rayon"] = str(DEFAULT_RADIUS_KM)
        super().__init__(data, *args, **kwargs)
        self.today = today

    @property
    def since(self) -> datetime.date:
        """From when sessions count as upcoming: today, or the later date asked for."""
        start = self.form.cleaned_data.get("debut") if self.is_bound and self.form.is_valid() else None
        return max(start, self.today) if start else self.today

    @property
    def chosen_commune(self) -> Territory | None:
        return self.form.cleaned_data.get("commune") if self.is_bound and self.form.is_valid() else None

    def _sessions(self):
        return upcoming_sessions(self.since).filter(offer=OuterRef("pk"))

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_keywords(self, queryset, name, value):
        for word in value.split()[:8]:
            pattern = accent_insensitive_pattern(word)
            queryset = queryset.filter(Q(title__iregex=pattern) | Q(objectives__iregex=pattern))
        return queryset

    def filter_departement(self, queryset, name, value):
        return queryset.filter(
            Exists(self._sessions().filter(commune__parent=value)) | Q(provider__commune__parent=value)
        )

    def filter_distance(self, queryset, name, value):
        if value is None:
            return queryset
        radius = self.form.cleaned_data.get("rayon") or DEFAULT_RADIUS_KM
        return within(queryset, Circle(value.latitude, value.longitude, radius), self.since)

    def filter_skill_block(self, queryset, name, value):
        """Blocks named by code, or whose label contains every word; an offer leads to a block
        it lists, or to every block of the certification it prepares."""
        value = value.strip()
        if re.fullmatch(r"(RNCP|RS)\d+BC\d+", value, re.IGNORECASE):
            blocks = SkillBlock.objects.filter(code__iexact=value)
        else:
            blocks = SkillBlock.objects.all()
            for word in value.split()[:8]:
                blocks = blocks.filter(Q(label__iregex=accent_insensitive_pattern(word)) | Q(code__iexact=word))
        return queryset.filter(
            Exists(blocks.filter(training_offers=OuterRef("pk")))
            | Exists(blocks.filter(certification__training_offers=OuterRef("pk")))
        )

    def filter_occupation(self, queryset, name, value):
        """A ROME code in the text (« Secrétaire (M1607) »), else the fiches whose label or
        an appellation contains it. An offer aims at a fiche directly, through its
        certification or through one of its blocks (as the grid's training coverage does)."""
        code = ROME_CODE.search(value)
        fiches = Occupation.objects.fiches()
        if code:
            fiches = fiches.filter(code=code.group(1).upper())
        else:
            pattern = accent_insensitive_pattern(value)
            fiches = fiches.filter(Q(label__iregex=pattern) | Q(appellations__label__iregex=pattern))
        codes = fiches.values("code")
        offer_fiches = TrainingOffer.occupations.through.objects.filter(
            trainingoffer_id=OuterRef("pk"), occupation_id__in=codes
        )
        certification_fiches = Certification.occupations.through.objects.filter(
            certification_id=OuterRef("certification_id"), occupation_id__in=codes
        )
        block_fiches = SkillBlock.objects.filter(training_offers=OuterRef("pk"), occupations__in=codes)
        return queryset.filter(Exists(offer_fiches) | Exists(certification_fiches) | Exists(block_fiches))

    def filter_start(self, queryset, name, value):
        return queryset.filter(Exists(self._sessions().filter(start__isnull=False)))

    def filter_ai(self, queryset, name, value):
        return queryset.filter(ai_related=True) if value else queryset

    def filter_cpf(self, queryset, name, value):
        return queryset.filter(cpf_eligible=True) if value else queryset
