"""What a company does next on each dimension of its AI maturity: one piece of advice per
dimension and level, read in the company report.

Where the levels come from: each dimension of companies/maturity.py is scored 0 to 4, the mean
of its two items, whose five levels are described in words in `maturity.ITEMS`. The report
names a score by the four bands of `maturity.STAGES` (the words the diagnostic's summary
already uses for the overall score): « Découverte » below 1, « Premiers pas » from 1,
« Structuration » from 2, « Maîtrise » from 3. The advice of a band is the step that takes a
company from the items' descriptions of that band to those of the next one; the last band's
advice keeps what is in place alive. Written by the observatory's team for company managers,
in their words: a step one can start within the next three months, without consultant's jargon.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from . import maturity

# {dimension key: (advice for « Découverte », « Premiers pas », « Structuration », « Maîtrise »)}
ADVICE = {
    "awareness": (
        _(
            "Prenez une demi-journée pour vous informer avec d'autres chefs d'entreprise : votre CCI, votre "
            "fédération professionnelle ou votre OPCO organisent des ateliers gratuits de découverte de l'IA."
        ),
        _(
            "Listez avec vos responsables d'équipe trois tâches de votre activité où l'IA pourrait faire gagner "
            "du temps, et présentez-les à l'ensemble des salariés."
        ),
        _(
            "Organisez un point régulier (par exemple chaque trimestre) où chaque équipe partage ce qu'elle a "
            "essayé et ce que cela change dans son travail."
        ),
        _(
            "Inscrivez l'IA dans votre plan stratégique avec des objectifs chiffrés, et faites le point chaque "
            "année avec le diagnostic de l'observatoire."
        ),
    ),
    "data": (
        _(
            "Commencez par numériser l'information qui sert le plus souvent (fichier clients, devis, stocks) "
            "dans un outil partagé plutôt que sur papier."
        ),
        _(
            "Rassemblez vos tableurs dispersés dans un logiciel de gestion ou un fichier partagé unique, avec "
            "une personne qui en est responsable."
        ),
        _(
            "Reliez vos logiciels entre eux (par exemple devis, facturation et stocks) et supprimez les "
            "doubles saisies : ce sont elles qui créent les erreurs."
        ),
        _(
            "Désignez un responsable de la qualité des données et documentez où se trouve chaque information : "
            "c'est la condition des projets d'IA plus ambitieux."
        ),
    ),
    "uses": (
        _(
            "Faites essayer un assistant d'IA à deux ou trois volontaires sur une tâche simple (rédiger un "
            "courrier, résumer un document), sans données confidentielles."
        ),
        _(
            "Choisissez un outil d'IA fourni par l'entreprise pour remplacer les outils personnels, et dites "
            "pour quelles tâches il peut servir."
        ),
        _(
            "Intégrez l'IA dans une activité précise (relation client, planification, devis) et mesurez le "
            "temps gagné au bout de trois mois."
        ),
        _(
            "Étendez les usages qui ont fait leurs preuves aux autres équipes et suivez leurs résultats dans "
            "vos tableaux de bord."
        ),
    ),
    "projects": (
        _(
            "Notez une idée de projet concrète et demandez un premier rendez-vous à votre CCI ou à votre OPCO : "
            "ils savent orienter vers les aides existantes."
        ),
        _(
            "Transformez votre meilleure idée en projet : un objectif, un responsable, un budget et une date "
            "de premier bilan."
        ),
        _(
            "Faites-vous accompagner pour conduire le projet en cours (prestataire, réseau d'entreprises, "
            "dispositifs de la Région) et prévoyez la formation des personnes concernées."
        ),
        _(
            "Tenez une feuille de route de vos projets d'IA, revue chaque semestre, avec les partenaires qui "
            "vous accompagnent."
        ),
    ),
    "skills": (
        _(
            "Faites suivre une courte formation de découverte de l'IA à au moins une personne de l'entreprise ; "
            "votre OPCO peut la financer."
        ),
        _(
            "Nommez un référent IA, même à temps partiel, et formez-le ; prévoyez une formation pour l'équipe "
            "dont le métier est le plus exposé."
        ),
        _(
            "Construisez un plan de formation qui couvre les métiers concernés, avec les blocs de compétences "
            "proposés dans ce rapport."
        ),
        _(
            "Faites de la formation à l'IA un rendez-vous continu, mis à jour avec l'évolution des outils, et "
            "appuyez-vous sur votre équipe interne pour former les autres."
        ),
    ),
    "governance": (
        _(
            "Écrivez trois règles simples d'usage de l'IA (pas de données clients ni confidentielles dans les "
            "outils gratuits, vérifier chaque résultat, dire quand un texte a été produit par l'IA)."
        ),
        _("Mettez ces règles par écrit dans une charte courte, présentez-la aux salariés et à leurs représentants."),
        _(
            "Associez les salariés ou leurs représentants aux choix d'outils et désignez une personne qui "
            "veille au respect des règles et du RGPD."
        ),
        _(
            "Revoyez vos règles chaque année avec les représentants du personnel et inscrivez l'IA au dialogue "
            "social de l'entreprise."
        ),
    ),
}

assert set(ADVICE) == {dimension.key for dimension in maturity.DIMENSIONS}
assert all(len(levels) == len(maturity.STAGES) for levels in ADVICE.values())


@dataclass(frozen=True)
class DimensionAdvice:
    """One dimension of the company: its score (0–4), its band's rank and word, what its
    answers say in words, and the next step."""

    key: str
    label: str
    score: float | None
    band: int | None
    level: str | None
    answers: tuple[str, ...]
    advice: str | None


def band(score: float | None) -> int | None:
    """The rank (0–3) of the `maturity.STAGES` band a 0–4 score falls in; None without score."""
    if score is None:
        return None
    rank = 0
    for index, (lower_bound, _word) in enumerate(maturity.STAGES):
        if score >= lower_bound:
            rank = index
    return rank


def advice_for(answers) -> list[DimensionAdvice]:
    """Each dimension of `answers` (Diagnostic.maturity) with its level in words and the next
    step its band calls for, in `maturity.DIMENSIONS` order. A dimension without any answer
    gets the first band's advice: it is where a company that has not thought about it starts."""
    rows = []
    for dimension in maturity.summary(answers)["dimensions"]:
        rank = band(dimension["score"])
        rows.append(
            DimensionAdvice(
                key=dimension["key"],
                label=str(dimension["label"]),
                score=dimension["score"],
                band=rank,
                level=str(maturity.STAGES[rank][1]) if rank is not None else None,
                answers=tuple(str(item["level_label"]) for item in dimension["items"] if item["level_label"]),
                advice=str(ADVICE[dimension["key"]][rank if rank is not None else 0]),
            )
        )
    return rows
