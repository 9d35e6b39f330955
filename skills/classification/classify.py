"""Pure functions that apply the lexicon to ROME item labels (no Django, no database).

A savoir-faire label is normalised (lower case, accents folded, « œ » written « oe »,
punctuation dropped), then read as the lexicon reads it:

1. its leading verb (a phrase such as « mettre à jour » first, then the first word, a
   reflexive « se » / « s' » skipped) gives one vector over the five categories;
2. every object cue found in the rest of the label gives another (« des opérations
   comptables » is routine cognitive whatever the verb);
3. the item's shares are the mean of the vectors found, the verb counting `VERB_WEIGHT`
   times as much as one cue, so that « Contrôler la conformité d'un produit » comes out
   partly RC (the verb: checking against a norm) and partly NRM (the object: a physical
   product handled).

The rule recorded with the item names what decided it: `verbe:controler`,
`verbe:controler+objet:produit_physique`, or `objet:comptabilite` when only a cue matched.
An item with neither is unmatched (`rule` empty, shares empty) and listed by
`manage.py rome_unmatched` so that the lexicon can grow.

A work context is matched whole against the context rules: its `rule` names the rule, its
shares stay empty (a context shifts a fiche's profile, it is no task of its own).
"""

import re
import unicodedata

import numpy as np
import pandas as pd

from ..categories import CATEGORIES
from .contexts import CONTEXT_RULES
from .lexicon import NON_TASK_VERBS, OBJECT_CUES, VERB_PHRASES, VERB_WEIGHT, VERBS

SKILL = "savoir_faire"
CONTEXT = "contexte"

_PUNCTUATION = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
_REFLEXIVE = re.compile(r"^(?:se |s )")


def normalise(label: str) -> str:
    """« Contrôler la conformité d'un produit » → « controler la conformite d un produit »."""
    text = label.lower().replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


def _vector(weights: dict[str, float]) -> np.ndarray:
    return np.array([weights.get(c, 0.0) for c in CATEGORIES], dtype=float)


_VERB_VECTORS = {verb: _vector(weights) for verb, (weights, _why) in VERBS.items()}
_PHRASE_VECTORS = {phrase: _vector(weights) for phrase, (weights, _why) in VERB_PHRASES.items()}
_CUES = [(name, re.compile(pattern), _vector(weights)) for name, (pattern, weights, _why) in OBJECT_CUES.items()]
_CONTEXTS = [(name, re.compile(pattern)) for name, (pattern, _shift, _why) in CONTEXT_RULES.items()]
# Longest phrases first, so that « mettre en oeuvre » is tried before « mettre ».
_PHRASES = [*_PHRASE_VECTORS, *(verb.replace("_", " ") for verb in NON_TASK_VERBS if "_" in verb)]
_PHRASE_PATTERN = re.compile("^(?:" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)) + r")\b")


def _leading_verb(text: str) -> tuple[str, str]:
    """The verb key that opens a normalised label and the rest of the label."""
    text = _REFLEXIVE.sub("", text)
    phrase = _PHRASE_PATTERN.match(text)
    if phrase:
        return phrase.group(0), text[phrase.end() :]
    first, _, rest = text.partition(" ")
    return first, rest


def classify_label(label: str) -> tuple[dict[str, float] | None, str]:
    """Shares and rule of one savoir-faire label; (None, "") when nothing matched."""
    text = normalise(label)
    verb, rest = _leading_verb(text)
    if verb.replace(" ", "_") in NON_TASK_VERBS:
        return None, f"hors_tache:{verb.replace(' ', '_')}"
    vectors, weights, parts = [], [], []
    verb_vector = _PHRASE_VECTORS.get(verb)
    if verb_vector is None:
        verb_vector = _VERB_VECTORS.get(verb)
    if verb_vector is not None:
        vectors.append(verb_vector)
        weights.append(VERB_WEIGHT)
        parts.append(f"verbe:{verb.replace(' ', '_')}")
    for name, pattern, vector in _CUES:
        if pattern.search(rest if verb_vector is not None else text):
            vectors.append(vector)
            weights.append(1.0)
            parts.append(f"objet:{name}")
    if not vectors:
        return None, ""
    mean = np.average(np.vstack(vectors), axis=0, weights=weights)
    mean = mean / mean.sum()
    return dict(zip(CATEGORIES, mean.tolist(), strict=True)), "+".join(parts)


def classify_context(label: str) -> str:
    """The context rule matching a work context's label, or ""."""
    text = normalise(label)
    for name, pattern in _CONTEXTS:
        if pattern.search(text):
            return name
    return ""


def classify_items(items: pd.DataFrame) -> pd.DataFrame:
    """Classify ROME items.

    Takes columns `code`, `kind` (RomeItem.Kind values) and `label`; returns one row per item
    with `code`, `rule` ("" when unmatched) and `rc`…`nrm` (shares summing to 1, NaN for an
    unmatched item, a context, a savoir or a savoir-être). Labels are classified once per
    distinct normalised text: the 18,000 savoir-faire of ROME 4.0 hold far fewer texts than
    links, and a label's classification depends on its text alone.
    """
    result = pd.DataFrame({"code": items["code"].to_numpy(), "rule": ""})
    for category in CATEGORIES:
        result[category] = np.nan
    if items.empty:
        return result
    kinds = items["kind"].to_numpy()
    skills = kinds == SKILL
    if skills.any():
        labels = items.loc[skills, "label"]
        decided = {text: classify_label(text) for text in labels.unique()}
        rules = labels.map(lambda text: decided[text][1])
        result.loc[skills, "rule"] = rules.to_numpy()
        shares = pd.DataFrame(
            [decided[text][0] or {} for text in labels], columns=list(CATEGORIES), index=labels.index
        )
        result.loc[skills, list(CATEGORIES)] = shares.to_numpy()
    contexts = kinds == CONTEXT
    if contexts.any():
        labels = items.loc[contexts, "label"]
        result.loc[contexts, "rule"] = labels.map(classify_context).to_numpy()
    return result
