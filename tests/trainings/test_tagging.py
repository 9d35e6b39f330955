import pytest

from tests.skills.factories import SkillBlockFactory
from tests.trainings.factories import TrainingOfferFactory
from trainings.models import TrainingOffer
from trainings.tagging import is_ai_related, matched_expression, tag_offers, tag_skill_blocks


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mettre en œuvre un projet d'Intelligence Artificielle", "intelligence artificielle"),
        ("Utiliser l'IA générative au quotidien", "ia generative"),
        ("Concevoir des modèles de Machine-Learning", "machine learning"),
        ("Réaliser l'analyse des données de production", "analyse des donnees"),
        ("Piloter un projet Big Data", "big data"),
        ("Rédiger des prompts efficaces", "prompts"),
    ],
)
def test_expressions_are_found_without_case_or_accents(text, expected):
    assert matched_expression(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Conduire un chariot élévateur",
        "Gérer la paie via un logiciel",  # « via » contains « ia » but not as a word
        "Assurer la maintenance des installations",
        "Mettre à jour une base de données clients",  # data, but not data analysis
    ],
)
def test_ordinary_texts_are_not_flagged(text):
    assert not is_ai_related(text)


def test_tagging_flags_and_unflags_but_respects_the_curator(db):
    ai_offer = TrainingOfferFactory(title="Initiation", objectives="Découvrir l'intelligence artificielle")
    stale = TrainingOfferFactory(title="Soudure", ai_related=True)
    overruled = TrainingOfferFactory(title="Data analyst", ai_related=False, ai_related_by_curator=True)

    assert tag_offers(TrainingOffer.objects.all()) == 2

    flags = dict(TrainingOffer.objects.values_list("pk", "ai_related"))
    assert flags == {ai_offer.pk: True, stale.pk: False, overruled.pk: False}
    assert tag_offers(TrainingOffer.objects.all()) == 0


def test_skill_blocks_are_tagged_by_their_label(db):
    block = SkillBlockFactory(label="Exploiter des outils de data visualisation")
    other = SkillBlockFactory(label="Accueillir la clientèle")

    assert tag_skill_blocks(type(block).objects.all()) == 1

    block.refresh_from_db()
    other.refresh_from_db()
    assert (block.ai_related, other.ai_related) == (True, False)
