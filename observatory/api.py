"""The read-only API of the observatory (/api/v1/): grid cells, occupations and runs, for the
analysts' scripts and notebooks.

It applies the same rules as the pages: analysts and superusers only (session or token), the
same FilterSet on cells (observatory/filters.py), and the same statistical secrecy — a secret
cell keeps its coordinates and its reason, and every figure is null, so a script cannot read
what the pages hide.
"""

import django_filters
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, pagination, permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.routers import APIRootView

from companies.models import Sector, Territory
from companies.roles import is_analyst
from skills.models import Occupation
from skills.profiles import PROFILE_SOURCE_LABELS

from .charts.common import CLASS_LABELS, secret_reason_text
from .filters import GridCellFilterSet
from .models import CATEGORIES, CELL_COORDINATES, CELL_FIGURES, GridCell, GridRun, Lens, OccupationScore
from .published import cell_figures, fiche_secrecy, score_publication
from .views.common import requested_run

SECRECY_RULE = _(
    "Secret statistique (règle française de diffusion des statistiques d'entreprises) : une cellule "
    "comptant moins de 3 entreprises, ou dans laquelle une entreprise détient plus de 85 % des "
    "salariés, est secrète, ainsi que les cellules qui permettraient de la retrouver par soustraction "
    "(secret secondaire). Une cellule secrète est renvoyée avec ses coordonnées, `secret: true` et "
    "son motif (`secret_reason` : `companies`, `dominance` ou `secondary`), et toutes ses valeurs à "
    "`null`. Les seuils sont ceux de la version de la méthode du calcul."
)


class IsAnalyst(permissions.BasePermission):
    """Analysts and superusers, the rule of every observatory page (observatory/permissions.py).
    Applied to every route of the API, the schema and its documentation page included."""

    message = _("Réservé aux analystes de l'observatoire.")

    def has_permission(self, request, view):
        return is_analyst(request.user)


class Pagination(pagination.PageNumberPagination):
    """PAGE_SIZE (100) by default; a script may ask for up to 1,000 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 1000


class ApiRootView(APIRootView):
    permission_classes = [IsAnalyst]


# --- Serializers ----------------------------------------------------------------------------


class _PageListSerializer(serializers.ListSerializer):
    """Loads what the items of a page need beyond their own row (names, secrecy of a fiche) in
    one query per kind for the whole page, instead of one per item."""

    def to_representation(self, data):
        items = list(data)
        self.context["page"] = self.child.page_data(items)
        return super().to_representation(items)


class _PageDataMixin:
    def page_data(self, items) -> dict:
        raise NotImplementedError

    def page(self, instance) -> dict:
        # A detail route serializes one object without the list serializer.
        if "page" not in self.context:
            self.context["page"] = self.page_data([instance])
        return self.context["page"]


class GridCellSerializer(_PageDataMixin, serializers.ModelSerializer):
    territory_name = serializers.SerializerMethodField()
    sector_label = serializers.SerializerMethodField()
    occupation_label = serializers.SerializerMethodField()
    secret_label = serializers.SerializerMethodField()
    companies = serializers.IntegerField(allow_null=True, help_text=_("Entreprises (null si secret)."))
    establishments = serializers.IntegerField(allow_null=True, help_text=_("Établissements (null si secret)."))
    employees = serializers.IntegerField(allow_null=True, help_text=_("Salariés (null si secret)."))
    exposure_mean = serializers.FloatField(
        allow_null=True, help_text=_("Exposition moyenne pondérée par les salariés, entre 0 et 1 (null si secret).")
    )
    share_high = serializers.FloatField(allow_null=True, help_text=_("Part des salariés en exposition forte."))
    share_medium = serializers.FloatField(
        allow_null=True, help_text=_("Part des salariés en changement significatif.")
    )
    share_low = serializers.FloatField(allow_null=True, help_text=_("Part des salariés en exposition faible."))
    rti_mean = serializers.FloatField(allow_null=True, help_text=_("Intensité routinière moyenne (RTI)."))
    training_need_share = serializers.FloatField(
        allow_null=True, help_text=_("Part des salariés avec un besoin de formation déclaré.")
    )
    training_coverage = serializers.FloatField(
        allow_null=True, help_text=_("Part des salariés exposés couverts par une offre de formation.")
    )
    diagnostics = serializers.IntegerField(allow_null=True, help_text=_("Diagnostics d'entreprise."))

    class Meta:
        model = GridCell
        list_serializer_class = _PageListSerializer
        fields = [
            "run",
            "territory_level",
            "territory_code",
            "territory_name",
            "sector_level",
            "sector_code",
            "sector_label",
            "occupation_level",
            "occupation_code",
            "occupation_label",
            "size_band",
            "secret",
            "secret_reason",
            "secret_label",
            *CELL_FIGURES,
        ]
        read_only_fields = fields

    def page_data(self, cells) -> dict:
        territory_codes = {c.territory_code for c in cells if c.territory_level != "all"}
        sector_codes = {c.sector_code for c in cells if c.sector_level != "all"}
        occupation_codes = {c.occupation_code for c in cells if c.occupation_level != "all"}
        territories = sectors = occupations = {}
        if territory_codes:
            rows = Territory.objects.filter(code__in=territory_codes).values_list("level", "code", "name")
            territories = {(level, code): name for level, code, name in rows}
        if sector_codes:
            sectors = dict(Sector.objects.filter(code__in=sector_codes).values_list("code", "label"))
        if occupation_codes:
            occupations = dict(Occupation.objects.filter(code__in=occupation_codes).values_list("code", "label"))
        return {"territories": territories, "sectors": sectors, "occupations": occupations}

    def to_representation(self, cell):
        data = super().to_representation(cell)
        if cell.secret:
            data.update(cell_figures(cell))
        return data

    def get_territory_name(self, cell) -> str | None:
        return self.page(cell)["territories"].get((cell.territory_level, cell.territory_code))

    def get_sector_label(self, cell) -> str | None:
        return self.page(cell)["sectors"].get(cell.sector_code)

    def get_occupation_label(self, cell) -> str | None:
        return self.page(cell)["occupations"].get(cell.occupation_code)

    def get_secret_label(self, cell) -> str | None:
        run = self.context.get("run")
        return secret_reason_text(cell.secret_reason, run.methodology if run else None) if cell.secret else None


class ProfileSerializer(serializers.Serializer):
    """A task profile: shares of working time over the five categories, summing to 1."""

    rc = serializers.FloatField(help_text=_("Routinier cognitif."))
    rm = serializers.FloatField(help_text=_("Routinier manuel."))
    nra = serializers.FloatField(help_text=_("Non routinier analytique."))
    nri = serializers.FloatField(help_text=_("Non routinier interpersonnel."))
    nrm = serializers.FloatField(help_text=_("Non routinier manuel."))


class TaskProfilesSerializer(serializers.Serializer):
    blended = ProfileSerializer(
        allow_null=True,
        help_text=_("Profil retenu : mélange du terrain et de la référence (masqué sous le seuil du secret)."),
    )
    reference = ProfileSerializer(allow_null=True, help_text=_("Profil de référence."))
    field = ProfileSerializer(
        allow_null=True,
        help_text=_("Profil déclaré par les entreprises ; null sans données ou quand il est couvert par le secret."),
    )


class OccupationScoreSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run_id")
    n_companies = serializers.IntegerField(
        allow_null=True, help_text=_("Entreprises déclarant des postes sur la fiche (vide si la fiche est secrète).")
    )
    employees = serializers.IntegerField(
        allow_null=True, help_text=_("Salariés sur la fiche (null quand la fiche est couverte par le secret).")
    )
    exposure = serializers.FloatField(allow_null=True, help_text=_("Exposition entre 0 et 1."))
    exposure_class = serializers.CharField(help_text=_("high, medium ou low."))
    exposure_class_label = serializers.SerializerMethodField()
    rti = serializers.FloatField(help_text=_("Intensité routinière (RTI)."))
    secret = serializers.BooleanField(help_text=_("La fiche est secrète au niveau régional, tous secteurs."))
    secret_reason = serializers.CharField(allow_blank=True)
    profile = TaskProfilesSerializer()
    profile_source = serializers.SerializerMethodField(
        help_text=_(
            "Source des profils de référence du calcul : la source principale et la version de sa "
            "méthode, le nombre de profils importés, puis une empreinte des profils (deux calculs de "
            "même empreinte ont utilisé les mêmes profils), p. ex. `rome_items:v1:5f1c2a9b` ; "
            "`domain_defaults:v0` pour les calculs antérieurs aux profils tirés des compétences ROME."
        )
    )
    reference_source = serializers.CharField(
        source="ref_source",
        allow_blank=True,
        help_text=_(
            "Source du profil de référence de la fiche : `rome_items` (ses savoir-faire ROME 4.0 classés), "
            "`domain_defaults` (profil par défaut de son domaine) ou `imported` (profil importé) ; vide "
            "pour un calcul antérieur qui ne l'enregistrait pas."
        ),
    )
    reference_source_label = serializers.SerializerMethodField()
    reference_items = serializers.IntegerField(
        source="ref_items",
        allow_null=True,
        help_text=_("Savoir-faire classés sur lesquels repose le profil de référence (null : non enregistré)."),
    )

    def get_exposure_class_label(self, score) -> str | None:
        return CLASS_LABELS.get(score.exposure_class)

    def get_profile_source(self, score) -> str:
        run = self.context.get("run")
        return run.profile_source if run is not None else ""

    def get_reference_source_label(self, score) -> str | None:
        """The source in French, e.g. « compétences de la fiche ROME 4.0 »."""
        return PROFILE_SOURCE_LABELS.get(score.ref_source)


def _profile(score, prefix=""):
    values = {c: getattr(score, f"{prefix}{c}") for c in CATEGORIES}
    return None if any(v is None for v in values.values()) else values


class OccupationSerializer(_PageDataMixin, serializers.ModelSerializer):
    domaine = serializers.SerializerMethodField()
    grand_domaine = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()

    class Meta:
        model = Occupation
        list_serializer_class = _PageListSerializer
        fields = ["code", "label", "domaine", "grand_domaine", "score"]
        read_only_fields = fields

    def page_data(self, occupations) -> dict:
        """Secrecy of each fiche in the run: its cell for the whole region, all sectors and
        sizes, which carries the same rule as the grid (companies, dominance, secondary)."""
        run = self.context.get("run")
        if run is None or not occupations:
            return {"secrecy": {}}
        return {"secrecy": fiche_secrecy(run, [o.code for o in occupations])}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
        }
    )
    def get_domaine(self, occupation):
        parent = occupation.parent
        if parent is None or parent.level != Occupation.Level.DOMAINE:
            return None
        return {"code": parent.code, "label": parent.label}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
        }
    )
    def get_grand_domaine(self, occupation):
        node = occupation.parent
        while node is not None and node.level != Occupation.Level.GRAND_DOMAINE:
            node = node.parent
        return {"code": node.code, "label": node.label} if node else None

    @extend_schema_field(OccupationScoreSerializer(allow_null=True))
    def get_score(self, occupation):
        scores = getattr(occupation, "run_scores", None)
        if not scores:
            return None
        score = scores[0]
        run = self.context["run"]
        # What may be shown, as every consumer decides it (observatory.published).
        shown = score_publication(
            score, secrecy=self.page(occupation)["secrecy"], min_companies=run.methodology.secrecy_min_companies
        )
        score.secret = shown.secret
        score.secret_reason = shown.secret_reason
        score.profile = {
            "blended": _profile(score) if shown.show_blended else None,
            "reference": _profile(score, "ref_"),
            "field": _profile(score, "field_") if shown.show_field else None,
        }
        data = OccupationScoreSerializer(score, context=self.context).data
        data["employees"] = shown.employees
        data["n_companies"] = shown.n_companies
        return data


class RunSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    lens = serializers.CharField(source="methodology.lens")
    lens_label = serializers.CharField(source="methodology.get_lens_display")
    methodology_version = serializers.IntegerField(source="methodology.version")
    parameters = serializers.SerializerMethodField()
    exposure_source = serializers.CharField(source="source_label")
    profile_source = serializers.CharField(
        help_text=_("Source des profils de référence du calcul, avec la version de sa méthode et une empreinte.")
    )
    duration = serializers.FloatField(allow_null=True, help_text=_("Durée du calcul, en secondes."))
    error = serializers.SerializerMethodField()

    class Meta:
        model = GridRun
        fields = [
            "id",
            "status",
            "status_label",
            "lens",
            "lens_label",
            "methodology_version",
            "parameters",
            "index",
            "exposure_source",
            "profile_source",
            "is_current",
            "trigger",
            "progress",
            "step",
            "created_at",
            "started_at",
            "finished_at",
            "duration",
            "timings",
            "stats",
            "error",
        ]
        read_only_fields = fields

    def get_parameters(self, run) -> dict:
        return run.methodology.as_params()

    def get_error(self, run) -> str:
        # The message only: the traceback stays in the server's log.
        return run.error.strip().splitlines()[0][:500] if run.error.strip() else ""


# --- Views ----------------------------------------------------------------------------------


def api_run(request) -> GridRun:
    """`requested_run` for the API, whose parameters are checked rather than guessed: an
    unknown lens or a run that is not a number answer 400 with a message."""
    params = request.query_params
    lens, run = params.get("lens"), params.get("run")
    if lens is not None and lens not in Lens.values:
        raise ValidationError({"lens": [_("Lecture inconnue : choisissez parmi %s.") % ", ".join(Lens.values)]})
    if run is not None and not run.isdigit():
        raise ValidationError({"run": [_("Identifiant de calcul invalide : un nombre entier est attendu.")]})
    return requested_run(request)


RUN_PARAMETER = OpenApiParameter(
    "run",
    OpenApiTypes.INT,
    description=_("Identifiant d'un calcul terminé ; par défaut, le calcul en vigueur de la lecture `lens`."),
)
LENS_PARAMETER = OpenApiParameter(
    "lens",
    OpenApiTypes.STR,
    enum=Lens.values,
    description=_("Lecture de l'exposition dont on veut le calcul en vigueur (par défaut : default)."),
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Cellules de la grille"),
        description=_(
            "Les cellules d'un calcul (le calcul en vigueur de `lens`, ou `run`), filtrées par leurs "
            "coordonnées comme sur la page de la grille : un filtre vide laisse sa dimension libre, "
            "le niveau `all` désigne le total de la dimension. 404 quand aucun calcul n'existe.\n\n"
        )
        + SECRECY_RULE,
        parameters=[RUN_PARAMETER, LENS_PARAMETER],
    )
)
class GridCellViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = GridCellSerializer
    permission_classes = [IsAnalyst]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = GridCellFilterSet

    @cached_property
    def run(self) -> GridRun:
        return api_run(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request data
            return GridCell.objects.none()
        # Ordered by coordinates (the unique index), so that pages are stable and readable.
        return GridCell.objects.filter(run=self.run).order_by(*CELL_COORDINATES)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["run"] = self.run
        return context


OCCUPATION_PARAMETERS = [
    RUN_PARAMETER,
    LENS_PARAMETER,
    OpenApiParameter("q", OpenApiTypes.STR, description=_("Recherche dans le libellé ou le début du code ROME.")),
    OpenApiParameter("domaine", OpenApiTypes.STR, description=_("Code du domaine professionnel (M16).")),
    OpenApiParameter("grand_domaine", OpenApiTypes.STR, description=_("Lettre du grand domaine (M).")),
    OpenApiParameter(
        "exposure_class",
        OpenApiTypes.STR,
        enum=list(CLASS_LABELS),
        description=_("Classe d'exposition dans le calcul."),
    ),
]
OCCUPATION_DESCRIPTION = _(
    "Les fiches métier ROME 4.0 avec, pour le calcul en vigueur de `lens` (ou `run`), leur score : "
    "entreprises et salariés, profils de tâches, exposition, RTI et classe, et la source des profils "
    "de référence (celle du calcul, `profile_source`, et celle de la fiche, `reference_source`). "
    "`score` est null sans calcul. Le profil de terrain n'est donné qu'à partir de 3 entreprises "
    "déclarantes ; quand la fiche est secrète au niveau régional, ses salariés et son profil de terrain sont null."
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Fiches métier"), description=OCCUPATION_DESCRIPTION, parameters=OCCUPATION_PARAMETERS
    ),
    retrieve=extend_schema(
        summary=_("Une fiche métier"),
        description=OCCUPATION_DESCRIPTION,
        parameters=[RUN_PARAMETER, LENS_PARAMETER],
    ),
)
class OccupationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OccupationSerializer
    permission_classes = [IsAnalyst]
    pagination_class = Pagination
    lookup_field = "code"

    @cached_property
    def run(self) -> GridRun | None:
        """The requested run; none yet is not an error here (fiches are listed without score),
        but an unknown `?run=` is."""
        try:
            return api_run(self.request)
        except Http404:
            if self.request.query_params.get("run"):
                raise
            return None

    def get_queryset(self):
        queryset = Occupation.objects.fiches().select_related("parent__parent").order_by("code")
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        params = self.request.query_params
        if q := params.get("q", "").strip():
            queryset = queryset.filter(Q(code__istartswith=q) | Q(label__icontains=q))
        if domaine := params.get("domaine", "").strip():
            queryset = queryset.filter(code__startswith=domaine.upper()[:3])
        if grand_domaine := params.get("grand_domaine", "").strip():
            queryset = queryset.filter(code__startswith=grand_domaine.upper()[:1])
        if self.run is None:
            return queryset.none() if params.get("exposure_class") else queryset
        if exposure_class := params.get("exposure_class"):
            queryset = queryset.filter(scores__run=self.run, scores__exposure_class=exposure_class)
        scores = OccupationScore.objects.filter(run=self.run)
        return queryset.prefetch_related(Prefetch("scores", queryset=scores, to_attr="run_scores"))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["run"] = self.run
        return context


class RunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=GridRun.Status.choices, label=_("Statut"))
    lens = django_filters.ChoiceFilter(field_name="methodology__lens", choices=Lens.choices, label=_("Lecture"))
    # « true » or « false », nothing else: a BooleanFilter would read « 3 » as no filter at all.
    is_current = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", label=_("En vigueur")
    )

    class Meta:
        model = GridRun
        fields = ["status", "lens", "is_current"]


RUN_DESCRIPTION = _(
    "Les calculs de la grille, du plus récent au plus ancien : statut, avancement, version de la "
    "méthode et ses paramètres, source de l'exposition (les tâches ou un indice externe), durées et "
    "statistiques. Seuls les calculs terminés (`ready`) peuvent être lus par `?run=`."
)


@extend_schema_view(
    list=extend_schema(summary=_("Calculs de la grille"), description=RUN_DESCRIPTION),
    retrieve=extend_schema(summary=_("Un calcul de la grille"), description=RUN_DESCRIPTION),
)
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = GridRun.objects.select_related("methodology", "index").order_by("-created_at", "-pk")
    serializer_class = RunSerializer
    permission_classes = [IsAnalyst]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilterSet


# The answers every route may give besides its 200, in the schema (drf-spectacular hook).
ERROR_RESPONSES = {
    "400": _("Paramètre invalide (valeur inconnue, mauvais type, caractère de contrôle) : le message nomme le champ."),
    "401": _("Non authentifié (session ou jeton absent ou invalide)."),
    "403": _("Authentifié, mais sans le rôle d'analyste."),
    "404": _("Calcul, fiche ou page inconnus, ou aucun calcul publié pour cette lecture."),
}


def document_error_responses(result, generator, request, public):
    """Add the error answers to every operation of the schema, as they are really given."""
    error = {
        "type": "object",
        "additionalProperties": True,
        "description": str(_("Le détail de l'erreur, ou un message par champ refusé.")),
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": str(description), "content": {"application/json": {"schema": error}}}
                )
    return result
