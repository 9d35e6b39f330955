"""The transitions the company report suggests for an exposed job: ROME mobilités to fiches
less exposed by at least the methodology's `transition_margin`, with the core competences the
people already hold and those they would acquire."""

import math
from dataclasses import dataclass

import pandas as pd

from skills.models import RomeItem

from .. import selectors
from ..charts.common import CLASS_LABELS, format_number, format_percent
from ..models import GridRun

MOBILITIES_PER_JOB = 3
# Core competences of a suggested target listed as « held » or « to acquire », then « et N autres ».
CORE_SKILLS_SHOWN = 5
# Exposures are rounded floats: a drop equal to the margin on paper must count.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class FicheRef:
    """A fiche named in the report: its ROME code and label."""

    code: str
    label: str


def transitions(run: GridRun, codes: set[str], mobilities: pd.DataFrame, links: pd.DataFrame) -> dict[str, list]:
    """The transitions of the fiches `codes` that lower exposure meaningfully: ROME mobilités to
    fiches less exposed by at least the methodology's `transition_margin` (the occupation
    page's ranking, observatory.analysis.transitions; a target only in a lower class by less
    than the margin is left out of a report that asks people to change jobs), with the core
    competences already held and those to acquire."""
    ranked = selectors.transitions_frame(run, codes, mobilities=mobilities, links=links)
    ranked = ranked[ranked["drop"] >= run.methodology.transition_margin - _TOLERANCE]
    ranked = ranked[ranked.groupby("source").cumcount() < MOBILITIES_PER_JOB]
    skills = links[links["kind"] == RomeItem.Kind.SKILL]
    held_by = skills.groupby("occupation")["item"].agg(set).to_dict()
    suggestions: dict[str, list] = {code: [] for code in codes}
    for row in ranked.itertuples():
        core = skills[(skills["occupation"] == row.target) & (skills["core"] == "principale")]
        held = sorted(core.loc[core["item"].isin(held_by.get(row.source, set())), "label"].unique())
        to_acquire = list(row.core_to_acquire)
        mobility = {
            "target": FicheRef(code=row.target, label=row.label),
            "exposure": row.exposure,
            "class_label": CLASS_LABELS.get(row.exposure_class),
            "difference": -row.drop,
            "shared": row.shared,
            "target_core": row.target_core,
            "core_share": None if math.isnan(row.core_share) else row.core_share,
            "held": held[:CORE_SKILLS_SHOWN],
            "to_acquire": to_acquire[:CORE_SKILLS_SHOWN],
            "held_text": _listing(held),
            "to_acquire_text": _listing(to_acquire),
        }
        mobility["summary"] = _transition_summary(mobility)
        suggestions[row.source].append(mobility)
    return suggestions


def _listing(labels: list[str]) -> str:
    more = len(labels) - CORE_SKILLS_SHOWN
    listed = labels[:CORE_SKILLS_SHOWN] + ([f"et {more} autre{'s' if more > 1 else ''}"] if more > 0 else [])
    return " ; ".join(listed)


def _transition_summary(mobility: dict) -> str:
    """One suggested transition in words, the same on the page and in the PDF, e.g.
    « exposition 0,24 (−0,38 par rapport à ce métier) ; 3 compétences en commun ; 33 % des
    compétences clés de ce métier déjà acquises »."""
    parts = [
        f"exposition {format_number(mobility['exposure'], 2)} "
        f"({format_number(mobility['difference'], 2).replace('-', '−')} par rapport à ce métier)"
    ]
    shared = mobility["shared"]
    parts.append(
        "aucune compétence en commun" if shared == 0 else f"{shared} compétence{'s' if shared > 1 else ''} en commun"
    )
    if mobility["core_share"] is not None:
        parts.append(f"{format_percent(mobility['core_share'], 0)} des compétences clés de ce métier déjà acquises")
    return " ; ".join(parts)
