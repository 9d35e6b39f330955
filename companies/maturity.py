"""The AI-maturity questionnaire of the company diagnostic: twelve items, two per dimension,
each answered on a 0–4 scale whose five levels are described in plain words, so that two
people answering for the same company pick the same level.

Scores (what the diagnostic pages and the company report show):

- an item's score is the level chosen, 0 to 4;
- a dimension's score is the mean of its answered items, on the same 0–4 scale;
- the overall score is the mean of the dimension scores, so each of the six dimensions weighs
  the same whatever its number of items;
- `as_fraction` turns a 0–4 score into [0, 1] (score / 4), for bars and percentages.

An unanswered item is left out of its dimension's mean (a draft may be partial); a dimension
without any answer has no score (None) and is left out of the overall mean. The stored answers
are `Diagnostic.maturity`, a JSON object {item key: level}.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

MIN_LEVEL = 0
MAX_LEVEL = 4
LEVELS = range(MIN_LEVEL, MAX_LEVEL + 1)


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    description: str


@dataclass(frozen=True)
class Item:
    key: str
    dimension: str
    question: str
    # One description per level, from 0 to 4.
    levels: tuple[str, str, str, str, str]


DIMENSIONS = (
    Dimension("awareness", _("Sensibilisation"), _("Ce que la direction et les équipes savent de l'IA.")),
    Dimension("data", _("Données"), _("Si les informations de l'entreprise sont numériques, fiables et accessibles.")),
    Dimension("uses", _("Usages actuels"), _("Ce que l'entreprise fait déjà avec des outils d'IA.")),
    Dimension("projects", _("Projets"), _("Les projets d'IA prévus ou en cours, et l'accompagnement.")),
    Dimension("skills", _("Compétences"), _("La formation des salariés et les compétences internes.")),
    Dimension("governance", _("Gouvernance"), _("Les règles d'usage et le dialogue avec les salariés.")),
)

ITEMS = (
    Item(
        "awareness_management",
        "awareness",
        _("La direction connaît-elle ce que l'IA peut changer dans votre activité ?"),
        (
            _("Le sujet n'a jamais été abordé"),
            _("On en a entendu parler, sans plus"),
            _("La direction s'est informée (lectures, salons, webinaires)"),
            _("La direction a repéré des usages possibles pour l'entreprise"),
            _("L'IA fait partie de la stratégie de l'entreprise"),
        ),
    ),
    Item(
        "awareness_staff",
        "awareness",
        _("Les salariés sont-ils informés de ce que l'IA change dans leur travail ?"),
        (
            _("Pas du tout"),
            _("Quelques personnes s'y intéressent d'elles-mêmes"),
            _("Le sujet a été présenté une fois aux équipes"),
            _("Des temps d'échange sont organisés régulièrement"),
            _("Chaque équipe sait ce que l'IA change dans son travail et en discute"),
        ),
    ),
    Item(
        "data_digital",
        "data",
        _("Vos informations (clients, production, stocks, comptabilité) sont-elles numérisées ?"),
        (
            _("Surtout sur papier"),
            _("Dans des tableurs dispersés"),
            _("Dans quelques logiciels métier, peu reliés entre eux"),
            _("Dans des logiciels reliés entre eux"),
            _("Dans un système unique, à jour et documenté"),
        ),
    ),
    Item(
        "data_quality",
        "data",
        _("Pouvez-vous retrouver et utiliser facilement vos données ?"),
        (
            _("Non, on ne sait pas toujours où elles sont"),
            _("Oui, mais avec beaucoup d'efforts"),
            _("Oui pour certaines, avec des doublons ou des erreurs"),
            _("Oui, elles sont fiables et accessibles à qui en a besoin"),
            _("Oui, et une personne désignée suit leur qualité"),
        ),
    ),
    Item(
        "uses_individual",
        "uses",
        _("Des salariés utilisent-ils des outils d'IA (assistant conversationnel, traduction, transcription…) ?"),
        (
            _("Non, à notre connaissance"),
            _("Quelques-uns, à titre personnel"),
            _("Plusieurs, de leur propre initiative"),
            _("Oui, avec des outils fournis par l'entreprise"),
            _("Oui, dans la plupart des équipes, avec des outils fournis et des consignes"),
        ),
    ),
    Item(
        "uses_processes",
        "uses",
        _("L'IA est-elle intégrée à vos façons de travailler (relation client, production, gestion) ?"),
        (
            _("Non"),
            _("Un essai a eu lieu"),
            _("Dans une activité"),
            _("Dans plusieurs activités"),
            _("Dans les activités clés, avec un suivi des résultats"),
        ),
    ),
    Item(
        "projects_plans",
        "projects",
        _("Avez-vous des projets d'IA en cours ou prévus ?"),
        (
            _("Aucun"),
            _("Des idées, sans projet défini"),
            _("Un projet à l'étude"),
            _("Un projet en cours, avec un budget"),
            _("Plusieurs projets, suivis dans une feuille de route"),
        ),
    ),
    Item(
        "projects_support",
        "projects",
        _("Êtes-vous accompagnés pour ces projets (prestataire, OPCO, CCI, réseau d'entreprises) ?"),
        (
            _("Non, et nous ne savons pas à qui nous adresser"),
            _("Non, mais nous savons à qui nous adresser"),
            _("Nous avons pris un premier contact"),
            _("Un accompagnement est en cours"),
            _("Nous avons des partenaires réguliers sur ces sujets"),
        ),
    ),
    Item(
        "skills_training",
        "skills",
        _("Vos salariés ont-ils été formés à l'IA ou aux outils qui l'utilisent ?"),
        (
            _("Personne"),
            _("Quelques personnes, en autonomie"),
            _("Une partie de l'équipe a suivi une formation"),
            _("Un plan de formation couvre les métiers concernés"),
            _("La formation est continue et suit l'évolution des outils"),
        ),
    ),
    Item(
        "skills_internal",
        "skills",
        _("Avez-vous en interne les compétences pour choisir et mettre en place des outils d'IA ?"),
        (
            _("Aucune"),
            _("Une personne curieuse du sujet"),
            _("Une personne référente, à temps partiel"),
            _("Un référent formé ou une petite équipe"),
            _("Une équipe capable de conduire des projets"),
        ),
    ),
    Item(
        "governance_rules",
        "governance",
        _("Avez-vous fixé des règles d'usage de l'IA (données confidentielles, RGPD, vérification des résultats) ?"),
        (
            _("Aucune règle"),
            _("Des consignes orales"),
            _("Une charte ou des consignes écrites"),
            _("Des règles écrites, connues et appliquées"),
            _("Des règles revues régulièrement, avec un responsable désigné"),
        ),
    ),
    Item(
        "governance_dialogue",
        "governance",
        _("Les salariés ou leurs représentants sont-ils associés aux choix liés à l'IA ?"),
        (
            _("Non"),
            _("Ils sont informés après coup"),
            _("Ils sont consultés de temps en temps"),
            _("Ils participent aux décisions"),
            _("Le dialogue social sur l'IA est organisé et régulier"),
        ),
    ),
)

ITEMS_BY_KEY = {item.key: item for item in ITEMS}
DIMENSIONS_BY_KEY = {dimension.key: dimension for dimension in DIMENSIONS}

# Words for an overall score, by the lower bound of its band on the 0–4 scale.
STAGES = (
    (0.0, _("Découverte")),
    (1.0, _("Premiers pas")),
    (2.0, _("Structuration")),
    (3.0, _("Maîtrise")),
)


def items_of(dimension_key: str) -> list[Item]:
    return [item for item in ITEMS if item.dimension == dimension_key]


def clean_answers(answers: Mapping) -> dict[str, int]:
    """Only the known items with a level 0–4, as integers ("3" from a form becomes 3); anything
    else (an item removed since, a stray key, an out-of-range value) is dropped."""
    cleaned = {}
    for key, value in (answers or {}).items():
        if key not in ITEMS_BY_KEY or value is None or isinstance(value, bool):
            continue
        try:
            level = int(value)
        except (TypeError, ValueError):
            continue
        if MIN_LEVEL <= level <= MAX_LEVEL:
            cleaned[key] = level
    return cleaned


def missing_items(answers: Mapping) -> list[Item]:
    """The items not answered yet, in questionnaire order."""
    answered = clean_answers(answers)
    return [item for item in ITEMS if item.key not in answered]


def is_complete(answers: Mapping) -> bool:
    return not missing_items(answers)


def dimension_scores(answers: Mapping) -> dict[str, float | None]:
    """{dimension key: mean level of its answered items on 0–4, or None}, in DIMENSIONS order."""
    answered = clean_answers(answers)
    scores = {}
    for dimension in DIMENSIONS:
        levels = [answered[item.key] for item in items_of(dimension.key) if item.key in answered]
        scores[dimension.key] = sum(levels) / len(levels) if levels else None
    return scores


def overall_score(answers: Mapping) -> float | None:
    """Mean of the dimension scores on 0–4 (each dimension weighs the same), or None."""
    scores = [score for score in dimension_scores(answers).values() if score is not None]
    return sum(scores) / len(scores) if scores else None


def as_fraction(score: float | None) -> float | None:
    """A 0–4 score as a fraction of the maximum, in [0, 1]."""
    return None if score is None else score / MAX_LEVEL


def stage(score: float | None) -> str | None:
    """The word for a 0–4 score (« Découverte » below 1, …, « Maîtrise » from 3)."""
    if score is None:
        return None
    label = STAGES[0][1]
    for lower_bound, word in STAGES:
        if score >= lower_bound:
            label = word
    return label


def summary(answers: Mapping) -> dict:
    """Everything a page shows about the answers: per dimension its label, score (0–4),
    fraction and the answered items with the chosen level's words; the overall score."""
    answered = clean_answers(answers)
    scores = dimension_scores(answered)
    dimensions = []
    for dimension in DIMENSIONS:
        score = scores[dimension.key]
        dimensions.append(
            {
                "key": dimension.key,
                "label": dimension.label,
                "score": score,
                "fraction": as_fraction(score),
                "items": [
                    {
                        "key": item.key,
                        "question": item.question,
                        "level": answered.get(item.key),
                        "level_label": item.levels[answered[item.key]] if item.key in answered else None,
                    }
                    for item in items_of(dimension.key)
                ],
            }
        )
    overall = overall_score(answered)
    return {
        "dimensions": dimensions,
        "overall": overall,
        "overall_fraction": as_fraction(overall),
        "stage": stage(overall),
        "answered": len(answered),
        "total": len(ITEMS),
    }
