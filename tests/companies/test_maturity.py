"""The AI-maturity items and their scores (pure functions, no database)."""

import pytest

from companies import maturity


def all_at(level):
    return {item.key: level for item in maturity.ITEMS}


def test_twelve_items_two_per_dimension_each_with_five_levels():
    assert len(maturity.ITEMS) == 12
    assert [d.key for d in maturity.DIMENSIONS] == ["awareness", "data", "uses", "projects", "skills", "governance"]
    for dimension in maturity.DIMENSIONS:
        assert len(maturity.items_of(dimension.key)) == 2
    for item in maturity.ITEMS:
        assert len(item.levels) == 5
        assert str(item.question).endswith("?")
        assert all(str(level) for level in item.levels)
    assert len({item.key for item in maturity.ITEMS}) == 12


def test_dimension_labels_are_french():
    labels = [str(d.label) for d in maturity.DIMENSIONS]
    assert labels == ["Sensibilisation", "Données", "Usages actuels", "Projets", "Compétences", "Gouvernance"]


def test_scores_of_uniform_answers():
    for level in maturity.LEVELS:
        answers = all_at(level)
        assert maturity.dimension_scores(answers) == {d.key: float(level) for d in maturity.DIMENSIONS}
        assert maturity.overall_score(answers) == level
        assert maturity.as_fraction(maturity.overall_score(answers)) == level / 4


def test_dimension_score_is_the_mean_of_its_items():
    answers = all_at(0) | {"data_digital": 3, "data_quality": 2, "uses_individual": 4}
    scores = maturity.dimension_scores(answers)
    assert scores["data"] == 2.5
    assert scores["uses"] == 2.0
    assert scores["awareness"] == 0.0
    # Overall: mean of the six dimensions, (0 + 2.5 + 2 + 0 + 0 + 0) / 6.
    assert maturity.overall_score(answers) == pytest.approx(4.5 / 6)


def test_each_dimension_weighs_the_same_in_the_overall_score():
    # Only two dimensions answered: the overall is their mean, whatever their item counts.
    answers = {"awareness_management": 4, "awareness_staff": 4, "governance_rules": 0}
    assert maturity.dimension_scores(answers)["awareness"] == 4
    assert maturity.dimension_scores(answers)["governance"] == 0
    assert maturity.overall_score(answers) == 2


def test_unanswered_items_and_dimensions_are_left_out():
    answers = {"skills_training": 3}
    scores = maturity.dimension_scores(answers)
    assert scores["skills"] == 3
    assert scores["awareness"] is None
    assert maturity.overall_score(answers) == 3
    assert maturity.overall_score({}) is None
    assert maturity.as_fraction(None) is None
    assert maturity.stage(None) is None


def test_clean_answers_keeps_known_items_with_levels_zero_to_four():
    raw = {
        "data_digital": "3",
        "data_quality": 0,
        "uses_processes": 5,
        "unknown": 2,
        "skills_internal": "x",
        "governance_rules": None,
        "projects_plans": True,
        "projects_support": -1,
    }
    assert maturity.clean_answers(raw) == {"data_digital": 3, "data_quality": 0}
    assert maturity.clean_answers(None) == {}


def test_missing_items_in_questionnaire_order():
    answers = all_at(2)
    del answers["uses_processes"], answers["awareness_staff"]
    assert [item.key for item in maturity.missing_items(answers)] == ["awareness_staff", "uses_processes"]
    assert not maturity.is_complete(answers)
    assert maturity.is_complete(all_at(1))


@pytest.mark.parametrize(
    ("score", "word"),
    [
        (0, "Découverte"),
        (0.99, "Découverte"),
        (1, "Premiers pas"),
        (2.5, "Structuration"),
        (3, "Maîtrise"),
        (4, "Maîtrise"),
    ],
)
def test_stage_words(score, word):
    assert str(maturity.stage(score)) == word


def test_summary_lists_dimensions_items_and_chosen_level_words():
    answers = all_at(1) | {"governance_dialogue": 4}
    summary = maturity.summary(answers)
    assert summary["answered"] == summary["total"] == 12
    governance = summary["dimensions"][-1]
    assert str(governance["label"]) == "Gouvernance"
    assert governance["score"] == 2.5
    assert governance["fraction"] == 2.5 / 4
    dialogue = governance["items"][1]
    assert dialogue["level"] == 4
    assert str(dialogue["level_label"]) == "Le dialogue social sur l'IA est organisé et régulier"
    assert summary["overall"] == pytest.approx((1 * 5 + 2.5) / 6)
    assert str(summary["stage"]) == "Premiers pas"


def test_summary_of_no_answer():
    summary = maturity.summary({})
    assert summary["overall"] is None
    assert summary["answered"] == 0
    assert all(d["score"] is None and d["items"][0]["level"] is None for d in summary["dimensions"])
