"""Grid computations: methodology versions, runs and the cells they produce."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from skills.categories import CATEGORIES
from skills.profiles import PROFILE_SOURCE_LABELS

from .analysis.codes import CODE_MAX_LENGTH
from .analysis.cube import EPCI_FULL, EPCI_SIZE, plan_publishes
from .analysis.exposure import HIGH_THRESHOLD, MEDIUM_THRESHOLD, PRIOR_STRENGTH
from .analysis.secrecy import DOMINANCE, MIN_COMPANIES, PROTECTION, PROTECTION_FLOOR

unit_interval = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Lens(models.TextChoices):
    """The three readings of exposure shipped with the method (DESIGN.md, step 2): published
    indices measure two different things, so one set of susceptibilities cannot follow both."""

    DEFAULT = "default", _("Par défaut")
    GENAI = "genai", _("IA générative")
    AUTOMATION = "automation", _("Automatisation des tâches répétitives")


class EpciDetail(models.TextChoices):
    """What a version publishes at the EPCI level (analysis.cube.within_plan)."""

    FULL = EPCI_FULL, _("Tous les croisements (secteurs, métiers, tailles)")
    SIZE = EPCI_SIZE, _("Totaux par tranche d'effectif seulement")


class MethodologyQuerySet(models.QuerySet):
    def current(self, lens=Lens.DEFAULT):
        """The newest version of a lens, the one new runs use."""
        return self.filter(lens=lens).order_by("-version").first()


class Methodology(models.Model):
    """One version of the method's parameters. Versions are never edited once a run used
    them: an analyst who changes a parameter creates the next version."""

    # Every parameter a version carries over to the next and an analyst may change.
    PARAMETERS = (
        *(f"alpha_{c}" for c in CATEGORIES),
        "high_threshold",
        "medium_threshold",
        "prior_strength",
        "secrecy_min_companies",
        "secrecy_dominance",
        "core_item_weight",
        "emerging_item_weight",
        "other_item_weight",
        "profile_shrinkage",
        "context_shift",
        "transition_margin",
        "epci_detail",
    )
    # The secrecy audit's protection interval: carried from version to version like the
    # parameters above, but not on the version form.
    AUDIT_PARAMETERS = ("secrecy_protection", "secrecy_protection_floor")

    lens = models.CharField(_("lecture"), max_length=16, choices=Lens.choices, default=Lens.DEFAULT)
    version = models.PositiveIntegerField(_("version"))
    alpha_rc = models.FloatField(_("susceptibilité RC"), validators=unit_interval)
    alpha_rm = models.FloatField(_("susceptibilité RM"), validators=unit_interval)
    alpha_nra = models.FloatField(_("susceptibilité NRA"), validators=unit_interval)
    alpha_nri = models.FloatField(_("susceptibilité NRI"), validators=unit_interval)
    alpha_nrm = models.FloatField(_("susceptibilité NRM"), validators=unit_interval)
    # OECD task-based studies: high exposure from 0.7, significant change from 0.5.
    high_threshold = models.FloatField(_("seuil d'exposition forte"), default=HIGH_THRESHOLD, validators=unit_interval)
    medium_threshold = models.FloatField(
        _("seuil de changement significatif"), default=MEDIUM_THRESHOLD, validators=unit_interval
    )
    prior_strength = models.FloatField(
        _("force de l'a priori (m)"),
        default=PRIOR_STRENGTH,
        validators=[MinValueValidator(0.0)],
        help_text=_("Nombre d'entreprises que « vaut » le profil de référence dans le mélange."),
    )
    # How a fiche's reference profile is built from its ROME items (skills/profiles.py): the
    # weight of a core (« Principale »), an emerging and any other savoir-faire, the evidence
    # (in weighted items) that counts as much as the domaine's profile, and how far one work
    # context moves the shares.
    core_item_weight = models.FloatField(
        _("poids d'un savoir-faire cœur de métier"), default=2.0, validators=[MinValueValidator(0.0)]
    )
    emerging_item_weight = models.FloatField(
        _("poids d'un savoir-faire émergent"), default=1.0, validators=[MinValueValidator(0.0)]
    )
    other_item_weight = models.FloatField(
        _("poids d'un autre savoir-faire"), default=1.0, validators=[MinValueValidator(0.0)]
    )
    profile_shrinkage = models.FloatField(
        _("force du profil du domaine (k)"),
        default=8.0,
        validators=[MinValueValidator(0.0)],
        help_text=_("Nombre d'éléments pondérés que « vaut » le profil du domaine professionnel."),
    )
    context_shift = models.FloatField(
        _("effet d'un contexte de travail"), default=0.04, validators=[MinValueValidator(0.0), MaxValueValidator(0.5)]
    )
    # A transition is suggested when its target is less exposed by at least this margin (or in
    # a lower class).
    transition_margin = models.FloatField(
        _("écart d'exposition d'une mobilité suggérée"), default=0.05, validators=unit_interval
    )
    # French statistical secrecy on company statistics.
    secrecy_min_companies = models.PositiveSmallIntegerField(
        _("secret : nombre minimal d'entreprises"), default=MIN_COMPANIES
    )
    secrecy_dominance = models.FloatField(
        _("secret : part maximale d'une entreprise"), default=DOMINANCE, validators=unit_interval
    )
    # The protection interval of a primary secret cell (audit of every run): a reader who
    # solves every published total at once must not bound its employees within ±this share
    # of the value, nor within ±secrecy_protection_floor employees.
    secrecy_protection = models.FloatField(
        _("secret : intervalle de protection (part de la valeur)"), default=PROTECTION, validators=unit_interval
    )
    secrecy_protection_floor = models.PositiveSmallIntegerField(
        _("secret : intervalle de protection minimal (salariés)"), default=PROTECTION_FLOOR
    )
    # The publication plan of the EPCI level: at a région's scale, every crossing of the EPCI
    # with sectors and occupations cannot be proven protected within a run's hour.
    epci_detail = models.CharField(
        _("détail publié pour les EPCI"),
        max_length=8,
        choices=EpciDetail.choices,
        default=EpciDetail.FULL,
        help_text=_(
            "Les croisements des EPCI avec les secteurs et les métiers sont surtout des cellules de "
            "quelques entreprises : à l'échelle d'une région, ils font plus des quatre cinquièmes de la "
            "grille, et leur protection n'a pas pu être prouvée dans l'heure d'un calcul."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = MethodologyQuerySet.as_manager()

    class Meta:
        verbose_name = _("version de la méthode")
        verbose_name_plural = _("versions de la méthode")
        ordering = ["lens", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lens", "version"], name="methodology_unique_lens_version"),
            models.CheckConstraint(
                condition=models.Q(medium_threshold__lte=models.F("high_threshold")),
                name="methodology_thresholds_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.get_lens_display()} v{self.version}"

    def clean(self):
        if (
            self.medium_threshold is not None
            and self.high_threshold is not None
            and self.medium_threshold > self.high_threshold
        ):
            raise ValidationError(
                {
                    "medium_threshold": _(
                        "Le seuil de changement significatif doit être inférieur au seuil d'exposition forte."
                    )
                }
            )

    @property
    def epci_totals_only(self) -> bool:
        """Whether this version publishes of the EPCI only their totals by size band."""
        return self.epci_detail == EpciDetail.SIZE

    def publishes(self, territory_level: str, sector_level: str, occupation_level: str) -> bool:
        """Whether this version's publication plan keeps the level combination's cells."""
        return bool(plan_publishes(self.epci_detail, territory_level, sector_level, occupation_level))

    @property
    def susceptibility(self) -> dict[str, float]:
        return {c: getattr(self, f"alpha_{c}") for c in CATEGORIES}

    def as_params(self) -> dict:
        """The parameters as the pure analysis functions take them."""
        return {
            "susceptibility": self.susceptibility,
            "prior_strength": self.prior_strength,
            "high_threshold": self.high_threshold,
            "medium_threshold": self.medium_threshold,
            "min_companies": self.secrecy_min_companies,
            "dominance": self.secrecy_dominance,
            "protection": self.secrecy_protection,
            "protection_floor": self.secrecy_protection_floor,
            "epci_detail": self.epci_detail,
        }

    def profile_params(self) -> dict:
        """The parameters of skills.profiles.reference_profiles."""
        return {
            "core_weight": self.core_item_weight,
            "emerging_weight": self.emerging_item_weight,
            "other_weight": self.other_item_weight,
            "shrinkage": self.profile_shrinkage,
            "context_shift": self.context_shift,
        }


class GridRunQuerySet(models.QuerySet):
    def published(self):
        """Editions: finished runs an analyst or the schedule published. The only runs any
        reader (page, export, API, comparison) may name; internal runs differ from the edition
        before them by a few companies' answers."""
        return self.filter(status=GridRun.Status.READY, published_at__isnull=False)

    def current(self, lens=Lens.DEFAULT, index=None):
        """The run the dashboards show for a lens (or an external index)."""
        return (
            self.filter(is_current=True, methodology__lens=lens, index=index)
            .select_related("methodology", "index")
            .first()
        )


class GridRun(models.Model):
    """One computation of the grid. Only a run that finished is ever made current, in the
    same transaction that writes its cells, so a failed run never replaces the current one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        READY = "ready", _("Terminé")
        FAILED = "failed", _("Échec")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Manuel")
        NIGHTLY = "nightly", _("Nocturne")
        AUTO = "auto", _("Nouvelles données")
        AUTO_LENS = "auto_lens", _("Nouvelles données (autres lectures du lot)")
        COMMAND = "command", _("Commande")
        BOOTSTRAP = "bootstrap", _("Démonstration")

    # Triggers whose runs stay internal until published (services.schedule_recomputation):
    # AUTO for the default lens after new field data, AUTO_LENS for the other lenses of the
    # same batch (one `batch` id, published together as one edition).
    INTERNAL_TRIGGERS = (Trigger.AUTO, Trigger.AUTO_LENS)

    methodology = models.ForeignKey(
        Methodology, verbose_name=_("version de la méthode"), on_delete=models.PROTECT, related_name="runs"
    )
    index = models.ForeignKey(
        "skills.ExposureIndex",
        verbose_name=_("indice externe"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        help_text=_("Vide : l'exposition est calculée à partir des tâches."),
    )
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    step = models.CharField(_("étape"), max_length=255, blank=True)
    is_current = models.BooleanField(_("en vigueur"), default=False)
    trigger = models.CharField(_("déclenchement"), max_length=32, choices=Trigger.choices, default=Trigger.MANUAL)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lancé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("démarré le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    timings = models.JSONField(_("durées (s)"), default=dict, blank=True)
    stats = models.JSONField(_("statistiques"), default=dict, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    # The secrecy audit of the run's cells (observatory.analysis.secrecy.audit): passed,
    # determined, under_protected, skipped, seconds… A run that fails it is never made current.
    audit = models.JSONField(_("audit du secret statistique"), default=dict, blank=True)
    # The Celery message computing the run: a message delivered again with the same id is the
    # same attempt, whose worker died; another message finds the run taken (services).
    task_id = models.CharField(_("tâche Celery"), max_length=64, blank=True)
    # Jobs always end (services.grid_runs_reap): a running run beats while it computes, and
    # one whose heartbeat stopped is failed; a pending one not started long after it was due
    # (`due_at`, else its creation) is sent to the broker again, `resends` times at most.
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    due_at = models.DateTimeField(_("attendu à partir du"), null=True, blank=True)
    resends = models.PositiveSmallIntegerField(_("renvois à la file d'attente"), default=0)
    # An edition is a run readers see: made current by an analyst or the nightly schedule.
    # Recomputations triggered by new field data stay internal until one of them publishes
    # them: each submission no longer yields a readable run one company away from the last.
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("publié par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where the reference profiles came from (skills.profiles.PROFILE_SOURCES), with the version
    # of the method and a digest of the classification, so that runs stay comparable.
    profile_source = models.CharField(_("source des profils de référence"), max_length=80, blank=True)
    # The runs of every lens queued together after new field data share this id: they are
    # computed by one task and published together (services.grid_run_publish).
    batch = models.UUIDField(_("lot"), null=True, blank=True, db_index=True)

    objects = GridRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("calcul de la grille")
        verbose_name_plural = _("calculs de la grille")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Calcul n°{self.pk} ({self.get_status_display()})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def is_internal(self) -> bool:
        """A finished run nobody published: computed after new field data, read by no one."""
        return self.status == self.Status.READY and self.published_at is None

    @property
    def source_label(self):
        return self.index.name if self.index_id else _("Tâches (méthode de l'observatoire)")

    @property
    def profile_source_label(self) -> str:
        """The reference profiles a run used, in words: « profils : compétences de la fiche
        ROME 4.0 (v1, empreinte 5f1c2a9b) »; empty before the run computed them."""
        if not self.profile_source:
            return ""
        kind, _sep, rest = self.profile_source.partition(":")
        version, _sep, digest = rest.partition(":")
        label = PROFILE_SOURCE_LABELS.get(kind, kind)
        details = version + (f", empreinte {digest}" if digest else "")
        return f"profils : {label} ({details})"


# The coordinates of a cell, and its figures: every view, export and API response empties
# all the figures of a secret cell.
CELL_COORDINATES = (
    "territory_level",
    "territory_code",
    "sector_level",
    "sector_code",
    "occupation_level",
    "occupation_code",
    "size_band",
)
CELL_FIGURES = (
    "companies",
    "establishments",
    "employees",
    "exposure_mean",
    "share_high",
    "share_medium",
    "share_low",
    "rti_mean",
    "training_need_share",
    "training_coverage",
    "diagnostics",
)


class GridRunInput(models.Model):
    """The positions a run was computed from (observatory.analysis.differencing), kept while
    the run may be compared with: every edition, and runs not yet published. A later
    edition is compared with each of them so that no difference reveals a single company."""

    run = models.OneToOneField(
        GridRun, verbose_name=_("calcul"), on_delete=models.CASCADE, primary_key=True, related_name="input"
    )
    positions = models.BinaryField(_("postes (tableaux numpy compressés)"))
    companies = models.PositiveIntegerField(_("entreprises"), default=0)
    # Order-free digest of the positions: two runs of the same data share it.
    digest = models.CharField(_("empreinte des postes"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("données d'entrée d'un calcul")
        verbose_name_plural = _("données d'entrée des calculs")

    def __str__(self):
        return f"Données du calcul n° {self.run_id}"


class GridRunPart(models.Model):
    """One piece of a run computed région by région (observatory.national_runs), kept until
    the run's merge has read it: the inputs every part shares, one région's positions, what
    one part computed. Frames are numpy arrays (never pickles), stored uncompressed: they
    live minutes."""

    run = models.ForeignKey(GridRun, verbose_name=_("calcul"), on_delete=models.CASCADE, related_name="parts")
    key = models.CharField(_("clé"), max_length=64)
    frame = models.BinaryField(_("tableau (tableaux numpy)"))
    seconds = models.FloatField(_("durée (s)"), default=0)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("partie d'un calcul")
        verbose_name_plural = _("parties des calculs")
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="grid_run_part_unique")]

    def __str__(self):
        return f"{self.key} du calcul n° {self.run_id}"


class GridCell(models.Model):
    """One cell of the cube. Values of secret cells are stored with their flag for the audit
    trail; every view, export and API response shows them as secret, never their values."""

    # No database constraint nor single-column index on the run: checking two million rows'
    # foreign key at commit cost ~10 s per run, Django cascades the deletes itself, and the
    # gridcell_levels index starts with the run.
    run = models.ForeignKey(
        GridRun,
        verbose_name=_("calcul"),
        on_delete=models.CASCADE,
        related_name="cells",
        db_constraint=False,
        db_index=False,
    )
    territory_level = models.CharField(_("niveau territorial"), max_length=16)
    # Codes hold the cube's unknown members at every level, named after their parent
    # (« inconnu-32 », analysis.codes.unknown_code), hence wider than any nomenclature's.
    territory_code = models.CharField(_("territoire"), max_length=CODE_MAX_LENGTH, blank=True)
    sector_level = models.CharField(_("niveau sectoriel"), max_length=16)
    sector_code = models.CharField(_("secteur"), max_length=CODE_MAX_LENGTH, blank=True)
    occupation_level = models.CharField(_("niveau métier"), max_length=16)
    occupation_code = models.CharField(_("métier"), max_length=CODE_MAX_LENGTH, blank=True)
    size_band = models.CharField(_("tranche d'effectif"), max_length=8)
    companies = models.PositiveIntegerField(_("entreprises"))
    establishments = models.PositiveIntegerField(_("établissements"))
    employees = models.PositiveIntegerField(_("salariés"))
    exposure_mean = models.FloatField(_("exposition moyenne"), null=True)
    share_high = models.FloatField(_("part exposition forte"), null=True)
    share_medium = models.FloatField(_("part changement significatif"), null=True)
    share_low = models.FloatField(_("part exposition faible"), null=True)
    rti_mean = models.FloatField(_("intensité routinière moyenne"), null=True)
    training_need_share = models.FloatField(_("part avec besoin de formation"), null=True)
    training_coverage = models.FloatField(_("couverture par l'offre de formation"), null=True)
    diagnostics = models.PositiveIntegerField(_("diagnostics"), default=0)
    secret = models.BooleanField(_("secret statistique"), default=False)
    secret_reason = models.CharField(_("motif du secret"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("cellule de la grille")
        verbose_name_plural = _("cellules de la grille")
        indexes = [
            models.Index(
                fields=["run", "territory_level", "sector_level", "occupation_level", "size_band"],
                name="gridcell_levels",
            ),
        ]
        # No unique constraint on the coordinates: a run's cells are written once, by one
        # task, after deleting any earlier attempt, and maintaining an eight-column unique
        # index doubled the time of writing the two million cells of a regional run.

    def __str__(self):
        return (
            f"{self.territory_level}:{self.territory_code} × {self.sector_level}:{self.sector_code} × "
            f"{self.occupation_level}:{self.occupation_code} × {self.size_band}"
        )


class OccupationScore(models.Model):
    """The scores of one fiche in one run: the reference, field and blended task profiles
    (fractions of 1; both inputs stay visible), exposure, RTI and exposure class."""

    run = models.ForeignKey(GridRun, verbose_name=_("calcul"), on_delete=models.CASCADE, related_name="scores")
    occupation = models.ForeignKey(
        "skills.Occupation", verbose_name=_("fiche métier"), on_delete=models.CASCADE, related_name="scores"
    )
    n_companies = models.PositiveIntegerField(_("entreprises déclarantes"), default=0)
    employees = models.PositiveIntegerField(_("salariés"), default=0)
    ref_rc = models.FloatField(null=True)
    ref_rm = models.FloatField(null=True)
    ref_nra = models.FloatField(null=True)
    ref_nri = models.FloatField(null=True)
    ref_nrm = models.FloatField(null=True)
    # Where the reference profile came from (skills.profiles: rome_items, domain_defaults or
    # imported) and how many classified savoir-faire it rests on; blank for runs computed
    # before reference profiles were built from ROME items (GridRun.profile_source says how).
    ref_source = models.CharField(_("source du profil de référence"), max_length=16, blank=True)
    ref_items = models.PositiveIntegerField(_("savoir-faire classés"), null=True, blank=True)
    field_rc = models.FloatField(null=True)
    field_rm = models.FloatField(null=True)
    field_nra = models.FloatField(null=True)
    field_nri = models.FloatField(null=True)
    field_nrm = models.FloatField(null=True)
    # Companies behind the field profile the blend used (n of the blend): n_companies, unless
    # the profile is an earlier edition's, kept because too few companies changed since
    # (observatory.editions.freeze_field_profiles); `field_basis` is then the run whose
    # positions it was computed from (null: this run's own).
    field_companies = models.PositiveIntegerField(_("entreprises du profil de terrain"), null=True, blank=True)
    field_basis = models.ForeignKey(
        GridRun,
        verbose_name=_("édition du profil de terrain"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rc = models.FloatField()
    rm = models.FloatField()
    nra = models.FloatField()
    nri = models.FloatField()
    nrm = models.FloatField()
    exposure = models.FloatField(_("exposition"), null=True)  # None: an index that does not cover the fiche
    rti = models.FloatField(_("intensité routinière"))
    exposure_class = models.CharField(_("classe d'exposition"), max_length=8)

    class Meta:
        verbose_name = _("score d'un métier")
        verbose_name_plural = _("scores des métiers")
        constraints = [
            models.UniqueConstraint(fields=["run", "occupation"], name="occupation_score_unique"),
        ]

    def __str__(self):
        return f"{self.occupation_id} : {self.exposure:.2f}"
