"""Forms of the catalogue's curation pages. They check what a curator typed or sent; the
decisions themselves are the services of trainings/services.py."""

import os

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import CurationStatus, ImportJob, Provider
from .services import REASON_REQUIRED, TO_REVIEW, Decision

# An upload is kept whole in the database (ImportJob.payload) so that any worker can read it.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# What each kind of file must be: its extension, and the bytes it starts with.
UPLOAD_RULES = {
    ImportJob.Kind.LHEO: (".xml", _("un fichier XML (.xml)")),
    ImportJob.Kind.RNCP: (".zip", _("une archive zip (.zip) de l'export CSV de France Compétences")),
}
ZIP_MAGIC = b"PK\x03\x04"

TO_REVIEW_CHOICE = "a_traiter"
AI_CHOICES = [("", _("Tous")), ("oui", _("En lien avec l'IA")), ("non", _("Sans lien avec l'IA"))]


class QueueFilterForm(forms.Form):
    """The filters of the offers' queue, kept in the URL."""

    q = forms.CharField(label=_("Intitulé"), required=False, max_length=100)
    statut = forms.ChoiceField(
        label=_("Statut"),
        choices=[(TO_REVIEW_CHOICE, _("À traiter (soumises et en attente de modifications)"))]
        + list(CurationStatus.choices),
        required=False,
    )
    organisme = forms.ModelChoiceField(
        label=_("Organisme"),
        queryset=Provider.objects.only("pk", "name").order_by("name"),
        required=False,
        empty_label=_("Tous"),
    )
    ia = forms.ChoiceField(label=_("Lien IA"), choices=AI_CHOICES, required=False)

    def queue_filters(self) -> dict:
        """Keyword arguments of services.offer_queue (the defaults when the form is invalid)."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("statut") or TO_REVIEW_CHOICE
        return {
            "statuses": TO_REVIEW if status == TO_REVIEW_CHOICE else (status,),
            "provider": data.get("organisme"),
            "ai_related": {"oui": True, "non": False}.get(data.get("ia", "")),
            "search": data.get("q", ""),
        }

    @property
    def filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return bool(
            data.get("q")
            or data.get("organisme")
            or data.get("ia")
            or data.get("statut") not in (None, "", TO_REVIEW_CHOICE)
        )


class ProviderFilterForm(forms.Form):
    q = forms.CharField(label=_("Raison sociale ou SIRET"), required=False, max_length=100)


class DecisionForm(forms.Form):
    """One decision on an offer or a provider. The buttons carry the action; the reason is
    required for a refusal or a request for changes, and comes back intact on any error."""

    action = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Motif"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Obligatoire pour refuser ou demander des modifications ; visible dans l'historique."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in REASON_REQUIRED and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason",
                _("Indiquez le motif : il est obligatoire pour refuser ou demander des modifications."),
            )
        return cleaned


class OfferIdsField(forms.Field):
    """The ids of the ticked offers (`<input type=checkbox name=offers value=…>`)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Cochez au moins une offre."),
        "invalid": _("Sélection d'offres invalide."),
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(pk) for pk in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkDecisionForm(forms.Form):
    """A decision on the offers ticked in the queue. Archiving is done one by one, from an
    offer's page: the queue is for what waits for a decision."""

    offers = OfferIdsField()
    action = forms.ChoiceField(
        label=_("Décision"),
        choices=[("", _("Choisir…"))] + [c for c in Decision.choices if c[0] != Decision.ARCHIVE],
        error_messages={"required": _("Choisissez une décision.")},
    )
    reason = forms.CharField(
        label=_("Motif"),
        required=False,
        max_length=2000,
        help_text=_("Obligatoire pour refuser ou demander des modifications."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in REASON_REQUIRED and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason",
                _("Indiquez le motif : il est obligatoire pour refuser ou demander des modifications."),
            )
        return cleaned


class AiFlagForm(forms.Form):
    ai_related = forms.TypedChoiceField(
        choices=[("1", _("En lien avec l'IA")), ("0", _("Sans lien avec l'IA"))],
        coerce=lambda value: value == "1",
    )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type de fichier"), choices=ImportJob.Kind.choices, widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("Fichier"),
        help_text=_("LHEO : un fichier .xml. RNCP : l'archive .zip de l'export CSV. 20 Mo au plus."),
        error_messages={"required": _("Choisissez le fichier à importer."), "empty": _("Ce fichier est vide.")},
    )

    def clean(self):
        cleaned = super().clean()
        upload, kind = cleaned.get("file"), cleaned.get("kind")
        if upload is None:
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error(
                "file",
                _("Ce fichier pèse %(size)s Mo : la limite est de %(limit)s Mo. Découpez-le ou compressez-le.")
                % {
                    "size": f"{upload.size / 1024 / 1024:.1f}".replace(".", ","),
                    "limit": MAX_UPLOAD_BYTES // 1024 // 1024,
                },
            )
            return cleaned
        if kind not in UPLOAD_RULES:
            return cleaned
        extension, expected = UPLOAD_RULES[kind]
        name_ok = os.path.splitext(upload.name)[1].lower() == extension
        head = upload.read(64)
        upload.seek(0)
        content_ok = (
            head.startswith(ZIP_MAGIC) if extension == ".zip" else head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"
        )
        if not (name_ok and content_ok):
            self.add_error(
                "file",
                _("« %(name)s » n'est pas %(expected)s, comme l'attend le type « %(kind)s ».")
                % {"name": upload.name, "expected": expected, "kind": ImportJob.Kind(kind).label},
            )
        return cleaned

    def payload(self) -> bytes:
        return b"".join(self.cleaned_data["file"].chunks())
