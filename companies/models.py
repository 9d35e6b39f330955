"""Territories (INSEE COG), sectors (NAF rév. 2), companies, establishments and job positions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .validators import validate_siren, validate_siret

# The five task categories (Acemoglu & Autor), as stored on a job: the field names, and
# their names in the words of a company manager (label, examples) for the questionnaire and
# the company report.
TASK_FIELDS = ("rc", "rm", "nra", "nri", "nrm")
TASK_LABELS = {
    "rc": (_("Tâches répétitives sur de l'information"), _("saisie, classement, calculs, contrôle de documents")),
    "rm": (_("Tâches répétitives manuelles"), _("conditionnement, montage en série, tri, manutention répétée")),
    "nra": (_("Analyse et résolution de problèmes"), _("diagnostic, conception, études, organisation, décision")),
    "nri": (_("Relations avec les personnes"), _("conseil, vente, soin, encadrement, négociation, enseignement")),
    "nrm": (_("Travail manuel non répétitif"), _("réparation, conduite, chantier, intervention sur site")),
}


class Territory(models.Model):
    """A node of the INSEE Code officiel géographique. Communes have a département as parent
    and, separately, the EPCI they belong to (the two trees do not nest)."""

    class Level(models.TextChoices):
        REGION = "region", _("Région")
        DEPARTEMENT = "departement", _("Département")
        EPCI = "epci", _("EPCI")
        COMMUNE = "commune", _("Commune")

    level = models.CharField(_("niveau"), max_length=16, choices=Level.choices)
    code = models.CharField(_("code INSEE"), max_length=9)  # EPCI are keyed by their SIREN
    name = models.CharField(_("nom"), max_length=255)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("territoire parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    epci = models.ForeignKey(
        "self",
        verbose_name=_("EPCI"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member_communes",
        limit_choices_to={"level": "epci"},
    )
    population = models.PositiveIntegerField(_("population municipale"), null=True, blank=True)
    epci_type = models.CharField(_("type d'EPCI"), max_length=8, blank=True)  # CC, CA, CU, METRO
    geometry = models.TextField(_("contour (GeoJSON)"), blank=True)
    # Centre of the contour (WGS 84 degrees), for distances between communes.
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["level", "code"], name="territory_unique_level_code"),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def has_geometry(self):
        return bool(self.geometry)


class Sector(models.Model):
    """A node of the NAF rév. 2 (INSEE): section `C`, division `10`, groupe `10.1`,
    classe `10.11`, sous-classe `10.11Z`. Codes are stored with their dot, as INSEE prints them."""

    class Level(models.TextChoices):
        SECTION = "section", _("Section")
        DIVISION = "division", _("Division")
        GROUPE = "groupe", _("Groupe")
        CLASSE = "classe", _("Classe")
        SOUS_CLASSE = "sous_classe", _("Sous-classe")

    code = models.CharField(_("code NAF"), max_length=6, unique=True)
    level = models.CharField(_("niveau"), max_length=16, choices=Level.choices, db_index=True)
    label = models.CharField(_("intitulé"), max_length=500)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        verbose_name = _("secteur NAF")
        verbose_name_plural = _("secteurs NAF")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.label}"


class SizeBand(models.TextChoices):
    """Size bands of the observatory (employees), grouping INSEE's tranches d'effectifs."""

    MICRO = "0-9", _("0 à 9 salariés")
    SMALL = "10-49", _("10 à 49 salariés")
    MEDIUM = "50-249", _("50 à 249 salariés")
    LARGE = "250-4999", _("250 à 4 999 salariés")
    VERY_LARGE = "5000+", _("5 000 salariés et plus")

    @classmethod
    def for_headcount(cls, headcount):
        if headcount < 10:
            return cls.MICRO
        if headcount < 50:
            return cls.SMALL
        if headcount < 250:
            return cls.MEDIUM
        if headcount < 5000:
            return cls.LARGE
        return cls.VERY_LARGE


class CompanyQuerySet(models.QuerySet):
    def verified(self):
        """The companies whose account the observatory vouches for (`verified_at` set): a
        curator approved their owner, or they are the observatory's own demo companies."""
        return self.filter(verified_at__isnull=False)

    def unverified(self):
        return self.filter(verified_at__isnull=True)


class Company(models.Model):
    """A legal unit (unité légale), identified by its SIREN.

    Anybody may sign up and claim a SIRET that has no member, so a claim proves nothing: the
    company's diagnostics enter the published statistics and the peer comparisons only once
    a curator has approved its owner (`verified_at`, see `Diagnostic.objects.
    counted_in_statistics`). Members who join later, invited or approved by that owner, keep
    the company verified; a company that passes to a new first owner without a curator's
    approval is unverified again (companies/accounts)."""

    siren = models.CharField(_("SIREN"), max_length=9, unique=True, validators=[validate_siren])
    name = models.CharField(_("raison sociale"), max_length=255)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    verified_at = models.DateTimeField(_("vérifiée le"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("vérifiée par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.siren})"

    @property
    def is_verified(self):
        return self.verified_at is not None


class Establishment(models.Model):
    """An establishment (SIRET) of a company, where job positions are located."""

    siret = models.CharField(_("SIRET"), max_length=14, unique=True, validators=[validate_siret])
    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="establishments"
    )
    name = models.CharField(_("enseigne"), max_length=255, blank=True)
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("activité principale (NAF)"),
        on_delete=models.PROTECT,
        related_name="establishments",
    )
    commune = models.ForeignKey(
        Territory,
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        related_name="establishments",
        limit_choices_to={"level": Territory.Level.COMMUNE},
    )
    size_band = models.CharField(_("tranche d'effectif"), max_length=8, choices=SizeBand.choices)

    class Meta:
        verbose_name = _("établissement")
        verbose_name_plural = _("établissements")
        ordering = ["siret"]

    def __str__(self):
        return f"{self.name or self.company.name} ({self.siret})"

    def clean(self):
        if self.company_id and self.siret and not self.siret.startswith(self.company.siren):
            raise ValidationError({"siret": _("Le SIRET doit commencer par le SIREN de l'entreprise.")})


class Campaign(models.Model):
    """A yearly wave of company diagnostics."""

    year = models.PositiveSmallIntegerField(_("année"), unique=True)
    name = models.CharField(_("nom"), max_length=255)
    opens_on = models.DateField(_("ouverture"))
    closes_on = models.DateField(_("clôture"))
    is_current = models.BooleanField(_("campagne en cours"), default=False)

    class Meta:
        verbose_name = _("campagne")
        verbose_name_plural = _("campagnes")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="campaign_single_current",
            ),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="campaign_closes_after_opening",
            ),
        ]

    def __str__(self):
        return self.name


class JobPositionQuerySet(models.QuerySet):
    def counted_in_statistics(self):
        """The positions the published grid is computed from: the observatory's own, that no
        diagnostic wrote (imported survey, demo, the benchmark's), and those of the diagnostics
        that count (`Diagnostic.objects.counted_in_statistics`). A diagnostic of a company
        nobody verified stays out."""
        counted = Diagnostic.objects.counted_in_statistics()
        return self.filter(models.Q(diagnostic__isnull=True) | models.Q(diagnostic__in=counted))


class JobPosition(models.Model):
    """A job held in an establishment: a ROME fiche, a headcount and the shares of working time
    spent on the five task categories (percent, summing to 100)."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("Enquête importée")
        DIAGNOSTIC = "diagnostic", _("Diagnostic d'entreprise")
        DEMO = "demo", _("Données de démonstration")

    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.CASCADE,
        related_name="job_positions",
    )
    occupation = models.ForeignKey(
        "skills.Occupation",
        verbose_name=_("métier (fiche ROME)"),
        on_delete=models.PROTECT,
        related_name="job_positions",
        limit_choices_to={"level": "fiche"},
    )
    headcount = models.PositiveIntegerField(_("effectif"))
    rc = models.PositiveSmallIntegerField(_("routinier cognitif (%)"))
    rm = models.PositiveSmallIntegerField(_("routinier manuel (%)"))
    nra = models.PositiveSmallIntegerField(_("non routinier analytique (%)"))
    nri = models.PositiveSmallIntegerField(_("non routinier interpersonnel (%)"))
    nrm = models.PositiveSmallIntegerField(_("non routinier manuel (%)"))
    training_need = models.BooleanField(_("besoin de formation déclaré"), default=False)
    source = models.CharField(_("origine"), max_length=16, choices=Source.choices, default=Source.SURVEY)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campagne"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="job_positions",
    )
    diagnostic = models.ForeignKey(
        "Diagnostic",
        verbose_name=_("diagnostic d'origine"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="job_positions",
    )
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    objects = JobPositionQuerySet.as_manager()

    class Meta:
        verbose_name = _("poste")
        verbose_name_plural = _("postes")
        ordering = ["establishment", "occupation"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rc__lte=100, rm__lte=100, nra__lte=100, nri__lte=100, nrm__lte=100),
                name="job_position_shares_at_most_100",
            ),
            models.CheckConstraint(
                # Written as one column against the others so that every backend can check it.
                condition=models.Q(rc=100 - models.F("rm") - models.F("nra") - models.F("nri") - models.F("nrm")),
                name="job_position_shares_sum_to_100",
            ),
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="job_position_headcount_positive"),
        ]

    def __str__(self):
        return f"{self.occupation_id} × {self.headcount} ({self.establishment_id})"

    def clean(self):
        shares = [getattr(self, f) for f in TASK_FIELDS]
        if None not in shares and sum(shares) != 100:
            raise ValidationError(
                _("La somme des parts de tâches doit faire 100 %% (elle fait %(total)s %%).") % {"total": sum(shares)}
            )

    @property
    def shares(self):
        return {f: getattr(self, f) for f in TASK_FIELDS}


class CompanyMembership(models.Model):
    """A person's membership of a company: what a company member may see is scoped by it."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Responsable")
        MEMBER = "member", _("Membre")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente de validation")
        ACTIVE = "active", _("Active")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("personne"), on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("appartenance à une entreprise")
        verbose_name_plural = _("appartenances à une entreprise")
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user_company"),
        ]

    def __str__(self):
        return f"{self.user} · {self.company} ({self.get_role_display()})"


class Invitation(models.Model):
    """A member's invitation to join their company, sent to an e-mail address. Joining a
    company that already has members needs one (or a curator's approval)."""

    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("adresse e-mail"))
    token = models.CharField(_("jeton"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invitée par"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.company}"


class DiagnosticQuerySet(models.QuerySet):
    def counted_in_statistics(self):
        """The one rule of what company answers the observatory publishes (DESIGN.md,
        statistical secrecy): submitted diagnostics of verified companies. They alone enter
        the grid (through their job positions) and the peer comparisons of the company
        report; anybody can make up a company, and three made-up companies beside a real one
        would otherwise give its answers back through « the mean of the 3 others »."""
        return self.filter(status=Diagnostic.Status.SUBMITTED, company__in=Company.objects.verified())


class Diagnostic(models.Model):
    """A company's answers for one campaign: identity, AI maturity and jobs. Saved as a draft
    at every step; read-only once submitted. `version` is the optimistic lock: a save that
    started from an older version is refused instead of overwriting a colleague's answers."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Envoyé")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campagne"), on_delete=models.PROTECT, related_name="diagnostics"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.CASCADE, related_name="diagnostics"
    )
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Identity, as the company states it for this campaign.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    company_name = models.CharField(_("raison sociale"), max_length=255, blank=True)
    sector = models.ForeignKey(
        Sector,
        verbose_name=_("activité principale (NAF)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    commune = models.ForeignKey(
        Territory,
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    size_band = models.CharField(_("tranche d'effectif"), max_length=8, choices=SizeBand.choices, blank=True)
    # AI maturity: {item key: score 0–4}; the items are defined in companies/maturity.py.
    maturity = models.JSONField(_("maturité IA"), default=dict, blank=True)
    last_step = models.CharField(_("dernière étape"), max_length=16, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("créé par"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    submitted_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("envoyé par"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    copied_from = models.ForeignKey(
        "self", verbose_name=_("copié de"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = DiagnosticQuerySet.as_manager()

    class Meta:
        verbose_name = _("diagnostic")
        verbose_name_plural = _("diagnostics")
        ordering = ["-campaign__year", "company__name"]
        constraints = [
            # One diagnostic per company and campaign: a double submission cannot make two.
            models.UniqueConstraint(fields=["campaign", "company"], name="diagnostic_unique_campaign_company"),
        ]

    def __str__(self):
        return f"{self.company} — {self.campaign}"

    @property
    def is_submitted(self):
        return self.status == self.Status.SUBMITTED


class DiagnosticJob(models.Model):
    """A job the company describes in its diagnostic. On submission each becomes a JobPosition
    (source « diagnostic »), the field data of the observatory."""

    diagnostic = models.ForeignKey(
        Diagnostic, verbose_name=_("diagnostic"), on_delete=models.CASCADE, related_name="jobs"
    )
    occupation = models.ForeignKey(
        "skills.Occupation",
        verbose_name=_("métier (fiche ROME)"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": "fiche"},
    )
    headcount = models.PositiveIntegerField(_("effectif"))
    rc = models.PositiveSmallIntegerField(_("routinier cognitif (%)"))
    rm = models.PositiveSmallIntegerField(_("routinier manuel (%)"))
    nra = models.PositiveSmallIntegerField(_("non routinier analytique (%)"))
    nri = models.PositiveSmallIntegerField(_("non routinier interpersonnel (%)"))
    nrm = models.PositiveSmallIntegerField(_("non routinier manuel (%)"))
    training_need = models.BooleanField(_("besoin de formation"), default=False)
    wished_skill_blocks = models.ManyToManyField(
        "skills.SkillBlock", verbose_name=_("blocs de compétences souhaités"), blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("métier du diagnostic")
        verbose_name_plural = _("métiers du diagnostic")
        ordering = ["diagnostic", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["diagnostic", "occupation"], name="diagnostic_job_unique_occupation"),
            models.CheckConstraint(
                condition=models.Q(rc=100 - models.F("rm") - models.F("nra") - models.F("nri") - models.F("nrm")),
                name="diagnostic_job_shares_sum_to_100",
            ),
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="diagnostic_job_headcount_positive"),
        ]

    def __str__(self):
        return f"{self.occupation_id} × {self.headcount}"


def validate_web_url(value: str) -> None:
    """An address the report may link to: http(s) with a host and nothing a browser would run
    (skills.text.web_url, the rule of every address the site shows)."""
    from skills.text import web_url

    if value and not web_url(value):
        raise ValidationError(_("Saisissez une adresse web commençant par http:// ou https://."), code="web_url")


def validate_phone(value: str) -> None:
    """A French or international phone number as people write it: digits, spaces, dots,
    hyphens, brackets and a leading +, with 10 to 15 digits (« 03 20 12 34 56 », « +33 3 …»)."""
    digits = [char for char in value if char.isdigit()]
    allowed = set("0123456789 .-()+\u00a0")
    if value and (not set(value) <= allowed or not 10 <= len(digits) <= 15 or "+" in value[1:]):
        raise ValidationError(_("Saisissez un numéro de téléphone, par exemple 03 20 12 34 56."), code="phone")


class RegionalContact(models.Model):
    """An actor a company or a person turns to in the région (the OPCO of its branch, the
    Région's training and employment services, the CCI, France Travail…), with the territories
    and NAF sections it serves. The company report names those of the company's commune and
    section (companies.contacts.contacts_for); curators keep the directory up to date."""

    class Kind(models.TextChoices):
        # In the order the report lists them: who funds training first.
        OPCO = "opco", _("OPCO (financement de la formation des salariés)")
        REGION = "region", _("Région (formation et emploi)")
        FRANCE_TRAVAIL = "france_travail", _("France Travail")
        CCI = "cci", _("Chambre de commerce et d'industrie")
        CMA = "cma", _("Chambre de métiers et de l'artisanat")
        OTHER = "other", _("Autre accompagnement")

    name = models.CharField(_("nom"), max_length=200, unique=True)
    kind = models.CharField(_("type d'acteur"), max_length=16, choices=Kind.choices)
    role = models.TextField(
        _("ce qu'il fait pour vous"),
        max_length=600,
        help_text=_("Une ou deux phrases, lues par un chef d'entreprise : ce que cet acteur peut faire pour lui."),
    )
    email = models.EmailField(_("adresse e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True, validators=[validate_phone])
    website = models.URLField(_("site web"), max_length=500, blank=True, validators=[validate_web_url])
    territories = models.ManyToManyField(
        Territory,
        verbose_name=_("territoires servis"),
        blank=True,
        related_name="+",
        help_text=_("Région, départements, EPCI ou communes ; aucun : toute la région."),
    )
    sections = models.ManyToManyField(
        Sector,
        verbose_name=_("sections NAF servies"),
        blank=True,
        related_name="+",
        limit_choices_to={"level": "section"},
        help_text=_("Aucune : tous les secteurs."),
    )
    active = models.BooleanField(_("affiché dans les rapports"), default=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("contact régional")
        verbose_name_plural = _("contacts régionaux")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if not (self.email or self.phone or self.website):
            raise ValidationError(
                _("Indiquez au moins un moyen de contact : e-mail, téléphone ou site web."), code="no_contact"
            )
