"""Forms of the account pages. They validate what a person typed and turn it into values
(a Sector, a commune); the writes are the services of companies/accounts/."""

import re
import unicodedata

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from ..models import Campaign, CompanyMembership, Sector, SizeBand, Territory
from ..validators import is_valid_siret
from ._common import normalize_email
from .selectors import PROGRESS_CHOICES

NAF_PATTERN = re.compile(r"^(\d{2})\.?(\d{2})\s*([A-Z])$")
COMMUNE_CODE_PATTERN = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def _folded(text: str) -> str:
    """Lower case, without accents, hyphens or apostrophes: « Villeneuve d'Ascq » finds
    « Villeneuve-d'Ascq »."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s'’\-]+", " ", text).strip().lower()


class NewPasswordMixin:
    """Two password fields checked against the project's validators, with the person's
    name and address so that « jean.dupont » is refused for Jean Dupont."""

    def _check_passwords(self, cleaned, email):
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1:
            user = get_user_model()(
                username=email or "",
                email=email or "",
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))


def _password_fields():
    return (
        forms.CharField(
            label=_("Mot de passe"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=_(
                "Au moins 8 caractères, pas uniquement des chiffres, ni proche de votre nom ou de votre adresse."
            ),
        ),
        forms.CharField(
            label=_("Mot de passe (confirmation)"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        ),
    )


class SignUpForm(NewPasswordMixin, forms.Form):
    first_name = forms.CharField(
        label=_("Prénom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Nom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    # 150: the address is also the username, which is no longer.
    email = forms.EmailField(
        label=_("Adresse e-mail professionnelle"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("Vous y recevrez un lien pour confirmer votre inscription."),
    )
    password1, password2 = _password_fields()

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        self._check_passwords(cleaned, cleaned.get("email"))
        return cleaned


class ResendConfirmationForm(forms.Form):
    """« Resend the link »: the address of an account that is not confirmed yet."""

    email = forms.EmailField(
        label=_("Adresse e-mail de votre inscription"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class InvitationSignUpForm(NewPasswordMixin, forms.Form):
    """Sign-up from an invitation link: the address is the invited one."""

    first_name = SignUpForm.base_fields["first_name"]
    last_name = SignUpForm.base_fields["last_name"]
    password1, password2 = _password_fields()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        self._check_passwords(cleaned, self.email)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """The login form; company accounts log in with their address, stored lower-case."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Adresse e-mail (ou nom d’utilisateur)")
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean_username(self):
        username = self.cleaned_data.get("username", "")
        return normalize_email(username) if "@" in username else username


class AttachCompanyForm(forms.Form):
    siret = forms.CharField(
        label=_("SIRET de votre établissement"),
        max_length=20,
        help_text=_("14 chiffres, sur un bulletin de paie ou sur annuaire-entreprises.data.gouv.fr."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label=_("Raison sociale"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    naf = forms.CharField(
        label=_("Code NAF (APE)"),
        max_length=8,
        required=False,
        help_text=_("Par exemple 62.01Z."),
    )
    commune = forms.CharField(
        label=_("Commune de l'établissement"),
        max_length=120,
        required=False,
        help_text=_("Son nom, ou son code INSEE (et non le code postal)."),
    )
    size_band = forms.ChoiceField(
        label=_("Effectif de l'entreprise"),
        choices=[("", "—")] + list(SizeBand.choices),
        required=False,
    )

    ESTABLISHMENT_FIELDS = ("naf", "commune", "size_band")

    def clean_siret(self):
        siret = re.sub(r"[\s.\-]", "", self.cleaned_data["siret"])
        if not siret.isdigit() or len(siret) != 14:
            raise forms.ValidationError(
                _("Un SIRET compte 14 chiffres (vous en avez saisi %(count)s)."),
                code="siret_length",
                params={"count": sum(c.isdigit() for c in siret)},
            )
        if not is_valid_siret(siret):
            raise forms.ValidationError(
                _("Ce SIRET n'existe pas : un chiffre est sans doute erroné (la clé de contrôle ne correspond pas)."),
                code="siret_luhn",
            )
        return siret

    def clean_naf(self):
        raw = self.cleaned_data["naf"].strip().upper()
        if not raw:
            return None
        match = NAF_PATTERN.match(raw)
        sector = None
        if match:
            code = f"{match[1]}.{match[2]}{match[3]}"
            sector = Sector.objects.filter(code=code, level=Sector.Level.SOUS_CLASSE).first()
        if sector is None:
            raise forms.ValidationError(
                _("Code NAF inconnu : il s'écrit comme 62.01Z (quatre chiffres et une lettre)."), code="naf"
            )
        return sector

    def clean_commune(self):
        raw = self.cleaned_data["commune"].strip()
        if not raw:
            return None
        communes = Territory.objects.filter(level=Territory.Level.COMMUNE)
        if COMMUNE_CODE_PATTERN.match(raw.upper()):
            commune = communes.filter(code=raw.upper()).first()
            if commune is None:
                raise forms.ValidationError(
                    _("Aucune commune n'a le code INSEE %(code)s (le code postal ne convient pas)."),
                    code="commune",
                    params={"code": raw},
                )
            return commune
        matches = list(communes.filter(name__iexact=raw))
        if not matches:
            # Typed without accents or hyphens: compare folded names (a few thousand short rows).
            folded = _folded(raw)
            pks = [pk for pk, name in communes.values_list("pk", "name") if _folded(name) == folded]
            matches = list(communes.filter(pk__in=pks))
        if not matches:
            raise forms.ValidationError(
                _("Commune introuvable : vérifiez son nom ou indiquez son code INSEE (5 chiffres)."), code="commune"
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Plusieurs communes portent ce nom (%(codes)s) : indiquez le code INSEE."),
                code="commune",
                params={"codes": ", ".join(c.code for c in matches)},
            )
        return matches[0]

    def clean(self):
        cleaned = super().clean()
        # An establishment needs all three; half of them would be silently lost.
        given = [name for name in self.ESTABLISHMENT_FIELDS if self.data.get(name, "").strip()]
        if given and len(given) < len(self.ESTABLISHMENT_FIELDS):
            for name in self.ESTABLISHMENT_FIELDS:
                if name not in given:
                    self.add_error(
                        name,
                        _("Complétez aussi ce champ, ou laissez vides les trois champs de l'établissement."),
                    )
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail de la personne à inviter"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        already = CompanyMembership.objects.filter(
            company=self.company, status=CompanyMembership.Status.ACTIVE, user__email__iexact=email
        ).exists()
        if already:
            raise forms.ValidationError(_("Cette personne est déjà membre de l'entreprise."), code="member")
        return email


class CurationFilterForm(forms.Form):
    """The filters of the curator's list, kept in the URL."""

    q = forms.CharField(label=_("Raison sociale ou SIREN"), required=False, max_length=100)
    avancement = forms.ChoiceField(
        label=_("Diagnostic"), choices=[("", _("Tous"))] + list(PROGRESS_CHOICES), required=False
    )
    campagne = forms.ModelChoiceField(
        label=_("Campagne"),
        queryset=Campaign.objects.order_by("-year"),
        to_field_name="year",
        required=False,
        empty_label=None,
    )
