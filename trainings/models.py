"""Training providers and their offers (to be refined by the catalogue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.validators import validate_siret


class Provider(models.Model):
    """A training organisation (organisme de formation), identified by its SIRET."""

    siret = models.CharField(_("SIRET"), max_length=14, unique=True, validators=[validate_siret])
    name = models.CharField(_("raison sociale"), max_length=255)
    nda = models.CharField(_("numéro de déclaration d'activité"), max_length=11, blank=True)
    commune = models.ForeignKey(
        "companies.Territory",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_providers",
        limit_choices_to={"level": "commune"},
    )
    website = models.URLField(_("site web"), blank=True)

    class Meta:
        verbose_name = _("organisme de formation")
        verbose_name_plural = _("organismes de formation")
        ordering = ["name"]

    def __str__(self):
        return self.name


class TrainingOffer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        SUBMITTED = "submitted", _("Soumise")
        PUBLISHED = "published", _("Publiée")
        REJECTED = "rejected", _("Refusée")
        ARCHIVED = "archived", _("Archivée")

    title = models.CharField(_("intitulé"), max_length=500)
    provider = models.ForeignKey(
        Provider, verbose_name=_("organisme"), on_delete=models.CASCADE, related_name="offers"
    )
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
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.DRAFT)

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

    def __str__(self):
        return self.title
