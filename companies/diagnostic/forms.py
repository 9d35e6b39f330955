"""Forms of the diagnostic's steps. They check and translate what people type (a SIRET with
spaces, « 6201Z », « Lille », « secrétaire ») into values; the services decide what is saved.

Each step form is built with `complete=False` for « Enregistrer le brouillon »: a draft may
leave answers empty, but what is typed must still be right.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from skills.models import SkillBlock

from .. import maturity
from ..models import TASK_FIELDS, TASK_LABELS, SizeBand
from ..validators import is_valid_siret
from . import selectors


def _candidates(items, describe) -> str:
    return " ; ".join(describe(item) for item in items)


class IdentityForm(forms.Form):
    siret = forms.CharField(
        label=_("SIRET de l'établissement"),
        max_length=20,
        help_text=_("14 chiffres : sur l'avis de situation INSEE ou un bulletin de paie. Les espaces sont acceptés."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )
    company_name = forms.CharField(
        label=_("Raison sociale"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "organization"})
    )
    sector = forms.CharField(
        label=_("Activité principale (code NAF)"),
        max_length=300,
        help_text=_("Le code APE de l'entreprise (par exemple 62.01Z) ou un mot de l'activité (« boulangerie »)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    commune = forms.CharField(
        label=_("Commune de l'établissement"),
        max_length=200,
        help_text=_("Le nom de la commune, en Hauts-de-France, ou son code INSEE (différent du code postal)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    size_band = forms.ChoiceField(
        label=_("Effectif salarié de l'établissement"), choices=SizeBand.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, company, complete=True, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.company = company
        for field in self.fields.values():
            field.required = complete
            field.error_messages["required"] = _("Cette réponse est nécessaire pour continuer.")

    def clean_siret(self):
        value = re.sub(r"[\s.]", "", self.cleaned_data["siret"])
        if not value:
            return ""
        if not value.isdigit() or len(value) != 14:
            digits = sum(char.isdigit() for char in value)
            raise forms.ValidationError(
                _("Un SIRET compte 14 chiffres ; vous en avez saisi %(count)s."), params={"count": digits}
            )
        if not is_valid_siret(value):
            raise forms.ValidationError(
                _(
                    "Ce numéro n'est pas un SIRET valide : sa clé de contrôle ne correspond pas. "
                    "Vérifiez chaque chiffre."
                )
            )
        if not value.startswith(self.company.siren):
            raise forms.ValidationError(
                _(
                    "Ce SIRET n'est pas celui d'un établissement de %(name)s : "
                    "il doit commencer par son SIREN, %(siren)s."
                ),
                params={"name": self.company.name, "siren": self.company.siren},
            )
        return value

    def clean_sector(self):
        text = self.cleaned_data["sector"]
        if not text:
            return None
        sector, candidates = selectors.resolve_sector(text)
        if sector:
            return sector
        if candidates:
            raise forms.ValidationError(
                _(
                    "Plusieurs activités correspondent à « %(text)s » : %(list)s. "
                    "Choisissez-en une ou saisissez son code."
                ),
                params={"text": text, "list": _candidates(candidates, selectors.sector_value)},
            )
        raise forms.ValidationError(
            _(
                "Aucune activité ne correspond à « %(text)s ». "
                "Saisissez le code NAF (par exemple 10.71C) ou un autre mot."
            ),
            params={"text": text},
        )

    def clean_commune(self):
        text = self.cleaned_data["commune"]
        if not text:
            return None
        commune, candidates = selectors.resolve_commune(text)
        if commune:
            return commune
        if candidates:
            raise forms.ValidationError(
                _(
                    "Plusieurs communes correspondent à « %(text)s » : %(list)s. "
                    "Choisissez-en une ou saisissez son code INSEE."
                ),
                params={"text": text, "list": _candidates(candidates, selectors.commune_value)},
            )
        if re.fullmatch(r"\d{5}", text):
            raise forms.ValidationError(
                _(
                    "%(text)s n'est le code INSEE d'aucune commune des Hauts-de-France "
                    "(un code postal ne convient pas) : saisissez plutôt le nom de la commune."
                ),
                params={"text": text},
            )
        raise forms.ValidationError(
            _("Aucune commune des Hauts-de-France ne s'appelle « %(text)s ». Vérifiez l'orthographe."),
            params={"text": text},
        )


class MaturityForm(forms.Form):
    """One radio group 0–4 per item of companies/maturity.py, grouped by dimension."""

    def __init__(self, *args, complete=True, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for item in maturity.ITEMS:
            self.fields[item.key] = forms.TypedChoiceField(
                label=item.question,
                choices=list(enumerate(item.levels)),
                coerce=int,
                empty_value=None,
                required=complete,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choisissez la réponse la plus proche de votre situation.")},
            )

    def dimensions(self) -> list[dict]:
        """The questions grouped by dimension; after a conflict, each with the answer a
        colleague saved meanwhile where it differs (`saved_answers`, set by the view)."""
        saved = getattr(self, "saved_answers", {})
        return [
            {
                "dimension": dimension,
                "fields": [
                    {"field": self[item.key], "saved": saved.get(item.key)}
                    for item in maturity.items_of(dimension.key)
                ],
            }
            for dimension in maturity.DIMENSIONS
        ]

    def answers(self) -> dict[str, int]:
        return {key: value for key, value in self.cleaned_data.items() if value is not None}


class JobForm(forms.Form):
    occupation = forms.CharField(
        label=_("Métier"),
        max_length=300,
        help_text=_("Un intitulé, une appellation ou un code ROME : « comptable », « aide-soignant », « M1607 »…"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    headcount = forms.IntegerField(
        label=_("Nombre de personnes qui exercent ce métier"),
        min_value=1,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    rc = forms.IntegerField(min_value=0, max_value=100, required=False)
    rm = forms.IntegerField(min_value=0, max_value=100, required=False)
    nra = forms.IntegerField(min_value=0, max_value=100, required=False)
    nri = forms.IntegerField(min_value=0, max_value=100, required=False)
    nrm = forms.IntegerField(min_value=0, max_value=100, required=False)
    training_need = forms.BooleanField(
        label=_("Ces personnes ont besoin d'une formation pour s'adapter aux changements liés à l'IA"),
        required=False,
    )
    wished_skill_blocks = forms.ModelMultipleChoiceField(
        label=_("Blocs de compétences souhaités"),
        queryset=SkillBlock.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, taken=(), **kwargs):
        """`taken`: codes of the fiches already described in the diagnostic (but the one
        being edited), refused so that a job is not counted twice."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.taken = set(taken)
        self.fields["headcount"].error_messages.update(
            required=_("Indiquez combien de personnes exercent ce métier."),
            min_value=_("Au moins une personne."),
        )
        self.fields["occupation"].error_messages["required"] = _("Choisissez le métier.")
        for name, (label, examples) in TASK_LABELS.items():
            field = self.fields[name]
            field.label = label
            field.help_text = examples
            field.widget.attrs.update(inputmode="numeric", min=0, max=100, step=1)
            field.error_messages.update(
                min_value=_("Entre 0 et 100."), max_value=_("Entre 0 et 100."), invalid=_("Un nombre entier, sans %.")
            )
        # Any loaded block is accepted, but only the blocks of the chosen fiche are offered
        # (`offer_skill_blocks`): never the whole register.
        self.fields["wished_skill_blocks"].widget.choices = []

    def offer_skill_blocks(self, blocks) -> None:
        choices = [(block.pk, f"{block.code} — {block.label}") for block in blocks]
        self.fields["wished_skill_blocks"].widget.choices = choices

    def share_fields(self):
        return [self[name] for name in TASK_FIELDS]

    def shares_total(self) -> int:
        """The total of the shares as typed (or initial), for the counter shown without script."""
        total = 0
        for name in TASK_FIELDS:
            raw = self[name].value()
            try:
                total += int(raw)
            except (TypeError, ValueError):
                continue
        return total

    def shares_remaining(self) -> int:
        return 100 - self.shares_total()

    def shares_excess(self) -> int:
        return max(self.shares_total() - 100, 0)

    def is_blank(self) -> bool:
        """Nothing typed in the add form: « Enregistrer et continuer » then simply moves on."""
        return not any(
            (self.data.get(self.add_prefix(name)) or "").strip() for name in ("occupation", "headcount", *TASK_FIELDS)
        ) and not self.data.get(self.add_prefix("training_need"))

    def chosen_occupation(self):
        """The fiche the person named, once resolved (None before validation or if unknown)."""
        return getattr(self, "cleaned_data", {}).get("occupation")

    def clean_occupation(self):
        text = self.cleaned_data["occupation"]
        occupation, candidates = selectors.resolve_occupation(text)
        if occupation is None:
            if candidates:
                raise forms.ValidationError(
                    _(
                        "Plusieurs métiers correspondent à « %(text)s » : %(list)s. Choisissez-en un dans la liste ou "
                        "saisissez son code."
                    ),
                    params={
                        "text": text,
                        "list": _candidates(candidates, lambda o: selectors.occupation_value(o.code, o.label)),
                    },
                )
            raise forms.ValidationError(
                _(
                    "Aucun métier du ROME ne correspond à « %(text)s ». "
                    "Essayez un mot plus courant ou un autre intitulé."
                ),
                params={"text": text},
            )
        if occupation.code in self.taken:
            raise forms.ValidationError(
                _(
                    "« %(label)s » est déjà décrit dans ce diagnostic : "
                    "modifiez sa ligne plutôt que de l'ajouter à nouveau."
                ),
                params={"label": occupation.label},
            )
        return occupation

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in TASK_FIELDS):
            return cleaned
        for name in TASK_FIELDS:
            # An empty share is no time spent on that category.
            cleaned[name] = cleaned.get(name) or 0
        total = sum(cleaned[name] for name in TASK_FIELDS)
        if total < 100:
            raise forms.ValidationError(
                _("Les cinq parts font %(total)s %% : il reste %(rest)s %% à répartir pour arriver à 100 %%."),
                code="shares_sum",
                params={"total": total, "rest": 100 - total},
            )
        if total > 100:
            raise forms.ValidationError(
                _("Les cinq parts font %(total)s %% : retirez %(extra)s %% pour arriver à 100 %%."),
                code="shares_sum",
                params={"total": total, "extra": total - 100},
            )
        return cleaned
