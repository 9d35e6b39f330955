from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Methodology


class MethodologyVersionForm(forms.ModelForm):
    """The parameters of a new version; it starts from the current version's values."""

    class Meta:
        model = Methodology
        fields = [
            "alpha_rc",
            "alpha_rm",
            "alpha_nra",
            "alpha_nri",
            "alpha_nrm",
            "high_threshold",
            "medium_threshold",
            "prior_strength",
            "secrecy_min_companies",
            "secrecy_dominance",
            "notes",
        ]
        widgets = {
            **{
                name: forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"})
                for name in (
                    "alpha_rc",
                    "alpha_rm",
                    "alpha_nra",
                    "alpha_nri",
                    "alpha_nrm",
                    "high_threshold",
                    "medium_threshold",
                    "secrecy_dominance",
                )
            },
            "prior_strength": forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"notes": _("Pourquoi cette version : la source ou l'hypothèse qui motive le changement.")}

    def clean_secrecy_min_companies(self):
        value = self.cleaned_data["secrecy_min_companies"]
        if value < 3:
            raise forms.ValidationError(_("La règle du secret statistique impose au moins 3 entreprises."))
        return value

    def clean_secrecy_dominance(self):
        value = self.cleaned_data["secrecy_dominance"]
        if value > 0.85:
            raise forms.ValidationError(
                _("La règle du secret statistique impose une part dominante d'au plus 85 %.")
            )
        return value
