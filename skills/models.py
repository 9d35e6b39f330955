"""ROME 4.0 occupations (France Travail), task categories, and RNCP / RS certifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OccupationQuerySet(models.QuerySet):
    def fiches(self):
        """The 1,584 ROME 4.0 fiches métier (the level job positions point to)."""
        return self.filter(level=Occupation.Level.FICHE)


class Occupation(models.Model):
    """One node of the ROME 4.0 tree: grand domaine (`M`), domaine professionnel (`M16`)
    or fiche métier (`M1607`). The code is the primary key, as ROME codes are stable."""

    class Level(models.TextChoices):
        GRAND_DOMAINE = "grand_domaine", _("Grand domaine")
        DOMAINE = "domaine", _("Domaine professionnel")
        FICHE = "fiche", _("Fiche métier")

    class EcologicalTransition(models.TextChoices):
        # Labels of the `transition_eco` column of the ROME export.
        NONE = "", _("Non renseigné")
        WHITE = "blanc", _("Emploi blanc")
        GREEN = "vert", _("Emploi vert")
        BROWN = "brun", _("Emploi brun")
        STRATEGIC = "strategique", _("Emploi stratégique pour la transition écologique")

    code = models.CharField(_("code ROME"), max_length=5, primary_key=True)
    level = models.CharField(_("niveau"), max_length=16, choices=Level.choices, db_index=True)
    label = models.CharField(_("libellé"), max_length=255)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # ROME 4.0 fiches point to one of the 532 ROME v3 fiches (themselves for the historical
    # ones); published crosswalks (ISCO-08, FAP) are keyed by those v3 codes.
    rome_v3_parent = models.ForeignKey(
        "self",
        verbose_name=_("fiche ROME v3 parente"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rome_v4_children",
    )
    ogr_code = models.CharField(_("code OGR"), max_length=12, blank=True)
    transition_eco = models.CharField(
        _("transition écologique"), max_length=16, choices=EcologicalTransition.choices, blank=True
    )
    transition_num = models.BooleanField(_("transition numérique"), null=True)
    transition_demo = models.BooleanField(_("transition démographique"), null=True)
    regulated = models.BooleanField(_("emploi réglementé"), null=True)
    managerial = models.BooleanField(_("emploi cadre"), null=True)

    objects = OccupationQuerySet.as_manager()

    class Meta:
        verbose_name = _("métier ROME")
        verbose_name_plural = _("métiers ROME")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.label}"

    @property
    def grand_domaine_code(self):
        return self.code[:1]

    @property
    def domaine_code(self):
        return self.code[:3] if len(self.code) >= 3 else ""


class Appellation(models.Model):
    """A job title of the ROME (e.g. « Développeur / Développeuse web ») attached to a fiche."""

    code = models.CharField(_("code OGR"), max_length=12, primary_key=True)
    label = models.CharField(_("libellé"), max_length=255)
    short_label = models.CharField(_("libellé court"), max_length=255, blank=True)
    occupation = models.ForeignKey(
        Occupation,
        verbose_name=_("fiche métier"),
        on_delete=models.CASCADE,
        related_name="appellations",
    )
    rarely_used = models.BooleanField(_("peu usité"), default=False)

    class Meta:
        verbose_name = _("appellation")
        verbose_name_plural = _("appellations")
        ordering = ["label"]

    def __str__(self):
        return self.label


class Mobility(models.Model):
    """A ranked transition from one fiche to another (ROME « rubrique mobilité »)."""

    source = models.ForeignKey(
        Occupation,
        verbose_name=_("fiche d'origine"),
        on_delete=models.CASCADE,
        related_name="mobilities",
    )
    target = models.ForeignKey(Occupation, verbose_name=_("fiche cible"), on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(_("ordre"))

    class Meta:
        verbose_name = _("mobilité")
        verbose_name_plural = _("mobilités")
        ordering = ["source", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="mobility_unique_pair"),
        ]

    def __str__(self):
        return f"{self.source_id} → {self.target_id} ({self.rank})"


class TaskCategory(models.Model):
    """The five task categories of Autor, Levy & Murnane (2003) as split by Acemoglu & Autor
    (2011). Their codes name the columns of every task profile in the project."""

    class Code(models.TextChoices):
        RC = "RC", _("Routinier cognitif")
        RM = "RM", _("Routinier manuel")
        NRA = "NRA", _("Non routinier analytique")
        NRI = "NRI", _("Non routinier interpersonnel")
        NRM = "NRM", _("Non routinier manuel")

    code = models.CharField(_("code"), max_length=3, primary_key=True, choices=Code.choices)
    label = models.CharField(_("libellé"), max_length=100)
    definition = models.TextField(_("définition"))
    examples = models.TextField(_("exemples"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie de tâches")
        verbose_name_plural = _("catégories de tâches")
        ordering = ["position"]

    def __str__(self):
        return f"{self.code} — {self.label}"


class Certification(models.Model):
    """A certification of the Répertoire national (RNCP) or the Répertoire spécifique (RS)."""

    class Register(models.TextChoices):
        RNCP = "RNCP", _("Répertoire national des certifications professionnelles")
        RS = "RS", _("Répertoire spécifique")

    code = models.CharField(_("numéro de fiche"), max_length=16, unique=True)  # RNCP509, RS6117
    register = models.CharField(_("répertoire"), max_length=4, choices=Register.choices)
    title = models.CharField(_("intitulé"), max_length=500)
    # European level: NIV3..NIV8 in the export, stored as its digit.
    level = models.PositiveSmallIntegerField(_("niveau européen"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    end_date = models.DateField(_("fin d'enregistrement"), null=True, blank=True)
    certifiers = models.CharField(_("certificateurs"), max_length=1000, blank=True)
    formacodes = models.JSONField(_("codes Formacode"), default=list, blank=True)
    nsf_codes = models.JSONField(_("codes NSF"), default=list, blank=True)
    occupations = models.ManyToManyField(
        Occupation, verbose_name=_("métiers ROME visés"), blank=True, related_name="certifications"
    )

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.title}"


class SkillBlock(models.Model):
    """A « bloc de compétences » of an RNCP certification (e.g. RNCP509BC05)."""

    code = models.CharField(_("code du bloc"), max_length=24, unique=True)
    label = models.CharField(_("libellé"), max_length=1000)
    certification = models.ForeignKey(
        Certification,
        verbose_name=_("certification"),
        on_delete=models.CASCADE,
        related_name="skill_blocks",
    )
    occupations = models.ManyToManyField(
        Occupation, verbose_name=_("métiers ROME"), blank=True, related_name="skill_blocks"
    )
    # Set by the AI-skills rule set (trainings/tagging.py) unless a curator decided.
    ai_related = models.BooleanField(_("en lien avec l'IA et les données"), default=False)
    ai_related_by_curator = models.BooleanField(_("lien IA fixé par un curateur"), default=False)

    class Meta:
        verbose_name = _("bloc de compétences")
        verbose_name_plural = _("blocs de compétences")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.label}"


class NafDivisionOccupation(models.Model):
    """A fiche métier the ROME links to a NAF division, from its `unix_arborescence_secteur_naf`
    file; used to draw the typical occupations of a sector.

    The division is a plain code ("62"; "00" is the ROME's « transverse » group) and not a key
    to `companies.Sector`, because `skills` must not import an app above it.
    """

    naf_division = models.CharField(_("division NAF"), max_length=2)
    occupation = models.ForeignKey(
        Occupation,
        verbose_name=_("fiche métier"),
        on_delete=models.CASCADE,
        related_name="naf_divisions",
    )

    class Meta:
        verbose_name = _("lien secteur NAF – métier")
        verbose_name_plural = _("liens secteur NAF – métier")
        ordering = ["naf_division", "occupation"]
        constraints = [
            models.UniqueConstraint(fields=["naf_division", "occupation"], name="naf_division_occupation_unique_pair"),
        ]

    def __str__(self):
        return f"NAF {self.naf_division} → {self.occupation_id}"


class OccupationTaskProfile(models.Model):
    """An imported reference task profile of a fiche (shares as fractions of 1). Fiches
    without one use the project's default per domaine (skills/profiles.py)."""

    occupation = models.OneToOneField(
        Occupation,
        verbose_name=_("fiche métier"),
        on_delete=models.CASCADE,
        related_name="task_profile",
        primary_key=True,
    )
    rc = models.FloatField(_("routinier cognitif"))
    rm = models.FloatField(_("routinier manuel"))
    nra = models.FloatField(_("non routinier analytique"))
    nri = models.FloatField(_("non routinier interpersonnel"))
    nrm = models.FloatField(_("non routinier manuel"))
    source = models.CharField(_("source"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("profil de tâches de référence")
        verbose_name_plural = _("profils de tâches de référence")
        ordering = ["occupation"]

    def __str__(self):
        return f"Profil {self.occupation_id}"


class ExposureIndex(models.Model):
    """A published occupation-level index (ILO, Frey–Osborne, AIOE…) mapped onto ROME fiches,
    so the grid can be computed with it in place of the task-based exposure."""

    class CodeSystem(models.TextChoices):
        ROME = "rome", _("ROME")
        ISCO08 = "isco08", _("CITP / ISCO-08")
        SOC2010 = "soc2010", _("SOC 2010 (États-Unis)")

    name = models.CharField(_("nom"), max_length=100, unique=True)
    code_system = models.CharField(_("nomenclature"), max_length=8, choices=CodeSystem.choices)
    description = models.TextField(_("description"), blank=True)
    source_file = models.CharField(_("fichier source"), max_length=255, blank=True)
    rescaled = models.BooleanField(
        _("rang centile"),
        default=False,
        help_text=_("Les scores n'étaient pas des probabilités : ils ont été ramenés à [0, 1] par rang centile."),
    )
    coverage = models.FloatField(_("part des fiches ROME couvertes"), default=0.0)
    imported_at = models.DateTimeField(_("importé le"), auto_now=True)

    class Meta:
        verbose_name = _("indice externe d'exposition")
        verbose_name_plural = _("indices externes d'exposition")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ExposureIndexScore(models.Model):
    index = models.ForeignKey(ExposureIndex, verbose_name=_("indice"), on_delete=models.CASCADE, related_name="scores")
    occupation = models.ForeignKey(
        Occupation, verbose_name=_("fiche métier"), on_delete=models.CASCADE, related_name="index_scores"
    )
    score = models.FloatField(_("score [0, 1]"))
    raw_score = models.FloatField(_("score publié"), null=True, blank=True)
    matched_codes = models.CharField(_("codes d'origine"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("score d'un indice externe")
        verbose_name_plural = _("scores d'indices externes")
        constraints = [
            models.UniqueConstraint(fields=["index", "occupation"], name="index_score_unique_occupation"),
        ]

    def __str__(self):
        return f"{self.index} · {self.occupation_id} = {self.score:.3f}"


class OccupationCrosswalk(models.Model):
    """One pair of a published correspondence table between two occupation nomenclatures:
    ROME v3 → ISCO-08 (Pôle emploi, one ISCO code per v3 fiche) and ISCO-08 → SOC 2010 (BLS,
    many to many). External indices published by ISCO or SOC code reach the ROME 4.0 fiches
    through these pairs (fiche → its ROME v3 parent → ISCO-08 → SOC 2010).

    Codes are plain strings, in each nomenclature's own written form: `M1607`, `4120`
    (four digits, leading zero kept: `0110`), `43-6014`.
    """

    class System(models.TextChoices):
        ROME_V3 = "rome_v3", _("ROME v3")
        ISCO08 = "isco08", _("CITP / ISCO-08")
        SOC2010 = "soc2010", _("SOC 2010 (États-Unis)")

    source_system = models.CharField(_("nomenclature d'origine"), max_length=8, choices=System.choices)
    source_code = models.CharField(_("code d'origine"), max_length=16)
    target_system = models.CharField(_("nomenclature cible"), max_length=8, choices=System.choices)
    target_code = models.CharField(_("code cible"), max_length=16)

    class Meta:
        verbose_name = _("correspondance de nomenclatures")
        verbose_name_plural = _("correspondances de nomenclatures")
        ordering = ["source_system", "target_system", "source_code", "target_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_code", "target_system", "target_code"],
                name="occupation_crosswalk_unique_pair",
            ),
        ]

    def __str__(self):
        return f"{self.source_system} {self.source_code} → {self.target_system} {self.target_code}"


class RomeItem(models.Model):
    """One item of the ROME 4.0 description of fiches (`unix_item`, keyed by its OGR code): a
    savoir-faire (« Saisir des documents »), a savoir-être, a savoir (knowledge) or a work
    context (« Travail répétitif ou cadence imposée »).

    `rc`…`nrm` and `rule` are what the lexicon (skills/classification) decided for a
    savoir-faire: the item's shares of the five task categories, summing to 1, and the rule
    that set them; all empty when no rule matched. For a work context, `rule` names the
    context rule that shifts the profile of the fiches it describes. `classify_rome` rewrites
    them; people correct them with an `ItemOverride`, which no re-import or re-classification
    touches.
    """

    class Kind(models.TextChoices):
        SKILL = "savoir_faire", _("Savoir-faire")
        SOFT_SKILL = "savoir_etre", _("Savoir-être professionnel")
        KNOWLEDGE = "savoir", _("Savoir")
        CONTEXT = "contexte", _("Contexte de travail")

    code = models.CharField(_("code OGR"), max_length=12, primary_key=True)
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices, db_index=True)
    label = models.CharField(_("libellé"), max_length=500)
    # For a work context: its type (« Conditions de travail et risques professionnels »…).
    context_type = models.CharField(_("type de contexte"), max_length=255, blank=True)
    rc = models.FloatField(_("routinier cognitif"), null=True, blank=True)
    rm = models.FloatField(_("routinier manuel"), null=True, blank=True)
    nra = models.FloatField(_("non routinier analytique"), null=True, blank=True)
    nri = models.FloatField(_("non routinier interpersonnel"), null=True, blank=True)
    nrm = models.FloatField(_("non routinier manuel"), null=True, blank=True)
    # A verb and every object cue the label holds: unbounded, as labels run to 500 characters.
    rule = models.TextField(_("règle du lexique"), blank=True)

    class Meta:
        verbose_name = _("élément du ROME")
        verbose_name_plural = _("éléments du ROME")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.label}"


class OccupationItem(models.Model):
    """An item of a fiche (`unix_liens_rome_referentiels`), with how central it is to the job
    (`coeur_metier` of `unix_coherence_item`: « Principale », « Émergente » or empty)."""

    class Core(models.TextChoices):
        MAIN = "principale", _("Cœur de métier")
        EMERGING = "emergente", _("Émergente")
        OTHER = "", _("Autre")

    occupation = models.ForeignKey(
        Occupation, verbose_name=_("fiche métier"), on_delete=models.CASCADE, related_name="item_links"
    )
    item = models.ForeignKey(
        RomeItem, verbose_name=_("élément"), on_delete=models.CASCADE, related_name="occupation_links"
    )
    core = models.CharField(_("cœur de métier"), max_length=16, choices=Core.choices, blank=True)

    class Meta:
        verbose_name = _("élément d'une fiche")
        verbose_name_plural = _("éléments des fiches")
        ordering = ["occupation", "item"]
        constraints = [
            models.UniqueConstraint(fields=["occupation", "item"], name="occupation_item_unique_pair"),
        ]

    def __str__(self):
        return f"{self.occupation_id} · {self.item_id}"


class ItemOverride(models.Model):
    """A curator's or an analyst's decision on the categories of one item. Rows are never
    edited: each decision is a new row, and the newest row of an item applies, so the history
    says who decided what and when. A row without shares hands the item back to the lexicon."""

    item = models.ForeignKey(RomeItem, verbose_name=_("élément"), on_delete=models.CASCADE, related_name="overrides")
    rc = models.FloatField(_("routinier cognitif"), null=True, blank=True)
    rm = models.FloatField(_("routinier manuel"), null=True, blank=True)
    nra = models.FloatField(_("non routinier analytique"), null=True, blank=True)
    nri = models.FloatField(_("non routinier interpersonnel"), null=True, blank=True)
    nrm = models.FloatField(_("non routinier manuel"), null=True, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("décidé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("décidé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("correction de classement")
        verbose_name_plural = _("corrections de classement")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Correction {self.item_id} ({self.created_at:%Y-%m-%d})"

    @property
    def clears(self) -> bool:
        return self.rc is None
