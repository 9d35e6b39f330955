from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skills.models import TaskCategory
from skills.selectors import ITEM_STATUS_LABELS

from .analysis.secrecy import DOMINANCE, MIN_COMPANIES
from .models import CATEGORIES, GridRun, Lens, Methodology


class MethodologyVersionForm(forms.ModelForm):
    """The parameters of a new version; it starts from the current version's values."""

    class Meta:
        model = Methodology
        fields = [*Methodology.PARAMETERS, "notes"]
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
                    "context_shift",
                    "transition_margin",
                )
            },
            **{
                name: forms.NumberInput(attrs={"step": "0.5", "min": "0"})
                for name in (
                    "prior_strength",
                    "core_item_weight",
                    "emerging_item_weight",
                    "other_item_weight",
                    "profile_shrinkage",
                )
            },
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"notes": _("Pourquoi cette version : la source ou l'hypothèse qui motive le changement.")}

    def clean_secrecy_min_companies(self):
        value = self.cleaned_data["secrecy_min_companies"]
        if value < MIN_COMPANIES:
            raise forms.ValidationError(
                _("La règle du secret statistique impose au moins %(n)d entreprises.") % {"n": MIN_COMPANIES}
            )
        return value

    def clean_secrecy_dominance(self):
        value = self.cleaned_data["secrecy_dominance"]
        if value > DOMINANCE:
            raise forms.ValidationError(
                _("La règle du secret statistique impose une part dominante d'au plus %(share)d %%.")
                % {"share": round(DOMINANCE * 100)}
            )
        return value


class ItemFilterForm(forms.Form):
    """Search and status filter of the savoir-faire list (kept in the URL)."""

    q = forms.CharField(label=_("Libellé contient"), required=False, max_length=200)
    statut = forms.ChoiceField(
        label=_("Classement"),
        required=False,
        choices=[("", _("Tous")), *ITEM_STATUS_LABELS.items()],
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {"query": "", "status": ""}
        return {"query": self.cleaned_data["q"], "status": self.cleaned_data["statut"]}


class ItemOverrideForm(forms.Form):
    """A person's categories for one savoir-faire, in percent (an empty share is 0), with the
    reason; or, with `action=clear`, the item handed back to the lexicon."""

    OVERRIDE, CLEAR = "override", "clear"
    # The service accepts shares summing to 1 ± 0.005 and renormalises them: a person who
    # types 33.3 three times and 0.1 is not asked to find the missing tenth.
    TOLERANCE = Decimal("0.5")

    rc = forms.DecimalField(required=False)
    rm = forms.DecimalField(required=False)
    nra = forms.DecimalField(required=False)
    nri = forms.DecimalField(required=False)
    nrm = forms.DecimalField(required=False)
    reason = forms.CharField(
        label=_("Motif"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pourquoi ce classement : ce que dit réellement l'élément, la fiche qui le montre."),
        error_messages={"required": _("Indiquez le motif de la décision : il reste dans l'historique.")},
    )
    action = forms.ChoiceField(choices=[(OVERRIDE, _("Corriger")), (CLEAR, _("Rendre au lexique"))])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        labels = dict(TaskCategory.Code.choices)
        for name in CATEGORIES:
            field = self.fields[name]
            field.label = f"{labels[name.upper()]} ({name.upper()}, %)"
            # A text box, not type=number: « 12,5 » is read as well as « 12.5 ».
            field.localize = True
            field.widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 5, "autocomplete": "off"})
            field.widget.is_localized = True
            field.error_messages["invalid"] = _("Un nombre entre 0 et 100, sans le signe %.")

    def share_fields(self):
        return [self[name] for name in CATEGORIES]

    def _clean_share(self, name):
        value = self.cleaned_data.get(name)
        if value is None:
            return value
        if value < 0:
            raise forms.ValidationError(_("Une part ne peut pas être négative."))
        if value > 100:
            raise forms.ValidationError(_("Une part ne peut pas dépasser 100 %."))
        if value != value.quantize(Decimal("0.1")):
            raise forms.ValidationError(_("Une décimale au plus (par exemple 12,5)."))
        return value

    def clean_rc(self):
        return self._clean_share("rc")

    def clean_rm(self):
        return self._clean_share("rm")

    def clean_nra(self):
        return self._clean_share("nra")

    def clean_nri(self):
        return self._clean_share("nri")

    def clean_nrm(self):
        return self._clean_share("nrm")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == self.CLEAR:
            # Handing back ignores whatever the share boxes hold.
            for name in CATEGORIES:
                self._errors.pop(name, None)
            return cleaned
        if cleaned.get("action") != self.OVERRIDE or any(name in self.errors for name in CATEGORIES):
            return cleaned
        shares = {name: cleaned.get(name) or Decimal(0) for name in CATEGORIES}
        total = sum(shares.values())
        if abs(total - 100) > self.TOLERANCE:
            text = f"{total.normalize():f}".replace(".", ",")
            raise forms.ValidationError(
                _("Les cinq parts font %(total)s %% : elles doivent faire 100 %%."),
                code="shares_sum",
                params={"total": text},
            )
        cleaned.update(shares)
        return cleaned

    def shares(self) -> dict[str, float] | None:
        """The shares as fractions of 1 for `item_override_create`, None to hand back."""
        if self.cleaned_data["action"] == self.CLEAR:
            return None
        return {name: float(self.cleaned_data[name]) / 100 for name in CATEGORIES}


# --- Runs pages ---------------------------------------------------------------------------

TASKS_SOURCE = "tasks"
SECTOR_LEVEL_CHOICES = [("section", _("Section NAF")), ("division", _("Division NAF"))]
OCCUPATION_LEVEL_CHOICES = [("grand_domaine", _("Grand domaine ROME")), ("domaine", _("Domaine professionnel"))]
SORT_CHOICES = [
    ("ecart", _("Écart le plus fort (en valeur absolue)")),
    ("hausse", _("Plus forte hausse (B > A)")),
    ("baisse", _("Plus forte baisse (B < A)")),
    ("secteur", _("Secteur")),
    ("metier", _("Métier")),
    ("exposition_a", _("Exposition du calcul A")),
    ("exposition_b", _("Exposition du calcul B")),
    ("salaries", _("Salariés")),
]


def run_label(run: GridRun) -> str:
    """« n°12 · IA générative v1 · Tâches · 03/03/2026 14:05 »: a run as a choice reads."""
    when = timezone.localtime(run.finished_at or run.created_at).strftime("%d/%m/%Y %H:%M")
    current = " · en vigueur" if run.is_current else ""
    source = run.index.name if run.index_id else "Tâches"
    return f"n°{run.pk} · {run.methodology} · {source} · {when}{current}"


class RunLaunchForm(forms.Form):
    lens = forms.ChoiceField(label=_("Lecture (susceptibilités α)"), choices=Lens.choices, initial=Lens.DEFAULT)
    source = forms.ChoiceField(
        label=_("Source de l'exposition"),
        help_text=_("Les tâches des métiers, ou un indice publié importé."),
    )

    def __init__(self, *args, indices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indices = {str(index.pk): index for index in indices}
        self.fields["source"].choices = [
            (TASKS_SOURCE, _("Tâches (méthode de l'observatoire)")),
            *((pk, index.name) for pk, index in self.indices.items()),
        ]
        self.fields["source"].widget.attrs["aria-describedby"] = "id_source-aide"

    def clean(self):
        cleaned = super().clean()
        cleaned["index"] = self.indices.get(cleaned.get("source"))
        return cleaned


class RunCompareForm(forms.Form):
    a = forms.TypedChoiceField(label=_("Calcul A (référence)"), coerce=int)
    b = forms.TypedChoiceField(label=_("Calcul B (comparé)"), coerce=int)
    rows = forms.ChoiceField(label=_("Secteurs en lignes"), choices=SECTOR_LEVEL_CHOICES)
    cols = forms.ChoiceField(label=_("Métiers en colonnes"), choices=OCCUPATION_LEVEL_CHOICES)
    tri = forms.ChoiceField(label=_("Trier le tableau par"), choices=SORT_CHOICES, required=False)

    def __init__(self, *args, runs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.runs = {run.pk: run for run in runs}
        choices = [(run.pk, run_label(run)) for run in runs]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices
