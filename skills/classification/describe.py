"""The lexicon's rules in plain French, for the pages that show why an item counts as it does.

`verbe:saisir+objet:dossier` → « verbe « saisir » + objet « dossier » »,
`hors_tache:respecter` → « hors tâche (« respecter ») », "" → « non classé ».
"""

import re

from .classify import normalise

# The lexicon names its object cues with folded keys (lexicon.OBJECT_CUES); pages write them
# as French words. A key missing here is shown with its underscores as spaces.
OBJECT_WORDS = {
    "comptabilite": "comptabilité",
    "donnees": "données",
    "tracabilite": "traçabilité",
    "conformite": "conformité",
    "couts": "coûts",
    "numerique": "numérique",
    "telephone": "téléphone",
    "etiquetage": "étiquetage",
    "ligne_production": "ligne de production",
    "matieres": "matières",
    "produit_physique": "produit physique",
    "dechets": "déchets",
    "vehicule": "véhicule",
    "equipement": "équipement",
    "precision": "précision",
    "strategie": "stratégie",
    "etude": "étude",
    "creation": "création",
    "decision": "décision",
    "marche": "marché",
    "informatique_dev": "développement informatique",
    "equipe": "équipe",
    "reunion": "réunion",
    "pedagogie": "pédagogie",
    "rh": "ressources humaines",
    "secretariat": "secrétariat",
    "preparation_commandes": "préparation de commandes",
    "imprevus": "imprévus",
    "entretien_personne": "entretien avec une personne",
}

_REFLEXIVE = re.compile(r"^(?:se\s+|s['’]\s*)", re.IGNORECASE)


def _verb_as_written(key: str, label: str) -> str:
    """The leading verb of `label` as ROME writes it (« vérifier »), when it is the verb the
    rule names by its folded key (`verifier`, `mettre_a_jour`); else the key itself."""
    wanted = key.replace("_", " ")
    words = _REFLEXIVE.sub("", label.strip()).split()
    written = " ".join(words[: len(wanted.split())]).lower().strip(" ,;:.")
    return written if normalise(written) == wanted else wanted


def describe_rule(rule: str, label: str = "") -> str:
    """The rule in plain French; `label` (the item's) gives the verb its accents."""
    if not rule:
        return "non classé"
    if rule.startswith("hors_tache:"):
        return f"hors tâche (« {_verb_as_written(rule.split(':', 1)[1], label)} »)"
    parts = []
    for part in rule.split("+"):
        kind, _, key = part.partition(":")
        if kind == "verbe":
            parts.append(f"verbe « {_verb_as_written(key, label)} »")
        elif kind == "objet":
            parts.append(f"objet « {OBJECT_WORDS.get(key, key.replace('_', ' '))} »")
        else:
            parts.append(part.replace("_", " "))
    return " + ".join(parts)
