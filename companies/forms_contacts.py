"""The curators' form of the regional contacts directory (companies.models.RegionalContact)."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from .models import RegionalContact, Sector, Territory

# The territories a curator picks from: the région, its départements and EPCI (a commune can
# be set in the admin; thousands would not fit a list).
PICKED_LEVELS = (Territory.Level.REGION, Territory.Level.DEPARTEMENT, Territory.Level.EPCI)
# The région first, then its départements, EPCI and communes.
LEVEL_ORDER = Case(
    *(When(level=level, then=Value(rank)) for rank, level in enumerate((*PICKED_LEVELS, Territory.Level.COMMUNE))),
    output_field=IntegerField(),
)


class TerritoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, territory):
        return f"{territory.name} ({territory.get_level_display().lower()} {territory.code})"


class SectionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, sector):
        return f"{sector.code} — {sector.label}"


class RegionalContactForm(forms.ModelForm):
    website = forms.URLField(
        label=_("Site web"),
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": _("Saisissez une adresse web commençant par http:// ou https://.")},
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    territories = TerritoryChoiceField(
        label=_("Territoires servis"),
        queryset=Territory.objects.none(),
        required=False,
        help_text=_("Aucun : toute la région. Maintenez Ctrl (ou Cmd) pour en choisir plusieurs."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    sections = SectionChoiceField(
        label=_("Sections NAF servies"),
        queryset=Sector.objects.none(),
        required=False,
        help_text=_("Aucune : tous les secteurs."),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = RegionalContact
        fields = ["name", "kind", "role", "email", "phone", "website", "territories", "sections", "active"]
        error_messages = {
            "email": {"invalid": _("Saisissez une adresse e-mail, par exemple contact@exemple.fr.")},
        }
        widgets = {
            "role": forms.Textarea(attrs={"rows": 3}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        chosen = self.instance.territories.all() if self.instance.pk else Territory.objects.none()
        # The communes already chosen (in the admin) stay selectable, so saving keeps them.
        self.fields["territories"].queryset = (
            Territory.objects.filter(level__in=PICKED_LEVELS) | Territory.objects.filter(pk__in=chosen)
        ).order_by(LEVEL_ORDER, "name")
        self.fields["sections"].queryset = Sector.objects.filter(level=Sector.Level.SECTION).order_by("code")

    def _post_clean(self):
        super()._post_clean()
        # The model's « at least one way to reach it » reads a refused address as empty: the
        # field's own error says enough.
        if any(name in self._errors for name in ("email", "phone", "website")) and self.has_error(
            NON_FIELD_ERRORS, "no_contact"
        ):
            kept = [error for error in self._errors[NON_FIELD_ERRORS].as_data() if error.code != "no_contact"]
            if kept:
                self._errors[NON_FIELD_ERRORS] = self.error_class(kept, error_class="nonfield")
            else:
                del self._errors[NON_FIELD_ERRORS]
