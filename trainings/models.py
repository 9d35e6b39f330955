"""The regional training catalogue: providers, their offers and sessions, the curation history,
and the import jobs that feed it from LHEO and RNCP files."""

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.validators import validate_siret

# Pages the catalogue links to: http or https only (URLField alone also lets ftp through).
WEB_URL = URLValidator(
    schemes=["http", "https"], message=_("Saisissez une adresse web commençant par http:// ou https://.")
)


class CurationStatus(models.TextChoices):
    """The life of a catalogue entry: only `published` entries are shown to the public."""

    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise")
    PUBLISHED = "published", _("Publiée")
    REJECTED = "rejected", _("Refusée")
    ARCHIVED = "archived", _("Archivée")


class Provider(models.Model):
    """A training organisation (organisme de formation), identified by its SIRET."""

    Status = CurationStatus

    siret = models.CharField(_("SIRET"), max_length=14, unique=True, validators=[validate_siret])
    name = models.CharField(_("raison sociale"), max_length=255)
    # Numéro de déclaration d'activité: 11 digits, given by the DREETS.
    nda = models.CharField(_("numéro de déclaration d'activité"), max_length=11, blank=True)
    qualiopi = models.BooleanField(_("certifié Qualiopi"), default=False)
    qualiopi_date = models.DateField(_("date de certification Qualiopi"), null=True, blank=True)
    address = models.CharField(_("adresse"), max_length=500, blank=True)
    commune = models.ForeignKey(
        "companies.Territory",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_providers",
        limit_choices_to={"level": "commune"},
    )
    website = models.URLField(_("site web"), blank=True, validators=[WEB_URL])
    contact_name = models.CharField(_("contact"), max_length=255, blank=True)
    contact_email = models.EmailField(_("courriel de contact"), blank=True)
    contact_phone = models.CharField(_("téléphone de contact"), max_length=32, blank=True)
    status = models.CharField(
        _("statut"), max_length=16, choices=CurationStatus.choices, default=CurationStatus.SUBMITTED
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("organisme de formation")
        verbose_name_plural = _("organismes de formation")
        ordering = ["name"]
        indexes = [models.Index(fields=["status"], name="provider_status_idx")]

    def __str__(self):
        return self.name


class TrainingOffer(models.Model):
    """An offer (LHEO « formation ») of a provider, leading to a certification and skills blocks."""

    Status = CurationStatus

    class Modality(models.TextChoices):
        IN_PERSON = "in_person", _("Présentiel")
        DISTANCE = "distance", _("À distance")
        BLENDED = "blended", _("Mixte")

    title = models.CharField(_("intitulé"), max_length=500)
    objectives = models.TextField(_("objectifs"), blank=True)
    content = models.TextField(_("contenu"), blank=True)
    provider = models.ForeignKey(
        Provider, verbose_name=_("organisme"), on_delete=models.CASCADE, related_name="offers"
    )
    # The offer's number in the LHEO flow (« numero » of <formation>), the key of a re-import.
    lheo_number = models.CharField(_("numéro LHEO"), max_length=64, blank=True)
    certification = models.ForeignKey(
        "skills.Certification",
        verbose_name=_("certification visée"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_offers",
    )
    skill_blocks = models.ManyToManyField(
        "skills.SkillBlock", verbose_name=_("blocs de compétences visés"), blank=True, related_name="training_offers"
    )
    occupations = models.ManyToManyField(
        "skills.Occupation", verbose_name=_("fiches ROME visées"), blank=True, related_name="training_offers"
    )
    # Formacode® codes (5 digits), as LHEO's <code-FORMACODE>.
    formacodes = models.JSONField(_("codes Formacode"), default=list, blank=True)
    modality = models.CharField(_("modalité"), max_length=16, choices=Modality.choices, default=Modality.IN_PERSON)
    duration_hours = models.PositiveIntegerField(_("durée (heures)"), null=True, blank=True)
    price = models.DecimalField(_("prix (€ TTC)"), max_digits=10, decimal_places=2, null=True, blank=True)
    cpf_eligible = models.BooleanField(_("éligible au CPF"), default=False)
    funding = models.CharField(_("financements"), max_length=500, blank=True)
    url = models.URLField(_("page de l'offre"), blank=True, max_length=500, validators=[WEB_URL])
    # Set by the AI-skills rule set (trainings/tagging.py) unless a curator decided.
    ai_related = models.BooleanField(_("en lien avec l'IA et les données"), default=False)
    ai_related_by_curator = models.BooleanField(_("lien IA fixé par un curateur"), default=False)
    status = models.CharField(_("statut"), max_length=16, choices=CurationStatus.choices, default=CurationStatus.DRAFT)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("offre de formation")
        verbose_name_plural = _("offres de formation")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["lheo_number"],
                condition=~models.Q(lheo_number=""),
                name="training_offer_unique_lheo_number",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="offer_status_idx")]

    def __str__(self):
        return self.title


class Session(models.Model):
    """A dated session of an offer (LHEO « action » with its « session »), where it takes place."""

    offer = models.ForeignKey(
        TrainingOffer, verbose_name=_("offre"), on_delete=models.CASCADE, related_name="sessions"
    )
    lheo_number = models.CharField(_("numéro LHEO de la session"), max_length=64, blank=True)
    start = models.DateField(_("début"), null=True, blank=True)
    end = models.DateField(_("fin"), null=True, blank=True)
    commune = models.ForeignKey(
        "companies.Territory",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
        limit_choices_to={"level": "commune"},
    )
    places_left = models.PositiveIntegerField(_("places restantes"), null=True, blank=True)

    class Meta:
        verbose_name = _("session de formation")
        verbose_name_plural = _("sessions de formation")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__isnull=True)
                | models.Q(end__isnull=True)
                | models.Q(end__gte=models.F("start")),
                name="session_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.offer} ({self.start or '?'} – {self.end or '?'})"


class CurationEvent(models.Model):
    """One step of the curation history of an offer or a provider: who, when, what and why."""

    class Action(models.TextChoices):
        IMPORTED = "imported", _("Importée")
        SUBMITTED = "submitted", _("Soumise")
        APPROVED = "approved", _("Approuvée")
        REJECTED = "rejected", _("Refusée")
        CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
        ARCHIVED = "archived", _("Archivée")
        AI_FLAG = "ai_flag", _("Lien IA modifié")

    offer = models.ForeignKey(
        TrainingOffer,
        verbose_name=_("offre"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="curation_events",
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("organisme"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="curation_events",
    )
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("statut avant"), max_length=16, choices=CurationStatus.choices, blank=True)
    to_status = models.CharField(_("statut après"), max_length=16, choices=CurationStatus.choices, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        verbose_name = _("étape de curation")
        verbose_name_plural = _("historique de curation")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(offer__isnull=False) | models.Q(provider__isnull=False),
                name="curation_event_has_subject",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} — {self.offer or self.provider}"


class ImportJob(models.Model):
    """A file uploaded by a curator and imported by a Celery task, with its progress and report.

    The file is kept in the database so that any worker can read it.
    """

    class Kind(models.TextChoices):
        LHEO = "lheo", _("Offres LHEO (XML)")
        RNCP = "rncp", _("Certifications RNCP / RS (export CSV zippé)")

    class State(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Refusé")

    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    filename = models.CharField(_("fichier"), max_length=255)
    payload = models.BinaryField(_("contenu"))
    state = models.CharField(_("état"), max_length=8, choices=State.choices, default=State.PENDING)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    report = models.JSONField(_("rapport"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("par"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    # Jobs always end (services.import_jobs_reap): the Celery message importing the job (the
    # same id delivered again is the same attempt, whose worker died), its heartbeat while it
    # runs, and when a pending job was last sent to the broker again (else its creation) and
    # how many times.
    task_id = models.CharField(_("tâche Celery"), max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    due_at = models.DateTimeField(_("attendu à partir du"), null=True, blank=True)
    resends = models.PositiveSmallIntegerField(_("renvois à la file d'attente"), default=0)

    class Meta:
        verbose_name = _("import de catalogue")
        verbose_name_plural = _("imports de catalogue")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.filename}"
