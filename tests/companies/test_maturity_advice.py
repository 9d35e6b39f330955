"""The advice of each maturity dimension and level (companies/maturity_advice.py): complete,
in the bands of `maturity.STAGES`, and read from the answers as the report reads them."""

import pytest

from companies import maturity
from companies.maturity_advice import ADVICE, advice_for, band


def test_every_dimension_has_one_distinct_piece_of_advice_per_band():
    assert set(ADVICE) == {dimension.key for dimension in maturity.DIMENSIONS}
    texts = [str(text) for levels in ADVICE.values() for text in levels]
    assert all(len(levels) == len(maturity.STAGES) for levels in ADVICE.values())
    assert len(set(texts)) == len(texts)
    # Written for a manager: whole sentences, no statisticians' or consultants' words.
    assert all(text.endswith(".") and len(text) > 60 for text in texts)
    assert not any(word in text.lower() for text in texts for word in ("secret", "roadmap", "scoring"))


@pytest.mark.parametrize(
    "score, expected", [(None, None), (0, 0), (0.99, 0), (1, 1), (1.5, 1), (2, 2), (2.99, 2), (3, 3), (4, 3)]
)
def test_a_score_falls_in_the_band_of_the_stages(score, expected):
    assert band(score) == expected
    if score is not None:
        assert maturity.STAGES[expected][1] == maturity.stage(score)


def test_the_advice_follows_each_dimensions_answers():
    answers = {
        "awareness_management": 0,
        "awareness_staff": 1,
        "data_digital": 4,
        "data_quality": 3,
        "uses_individual": 2,
    }
    rows = {row.key: row for row in advice_for(answers)}
    assert [row.key for row in advice_for(answers)] == [d.key for d in maturity.DIMENSIONS]
    assert (rows["awareness"].score, rows["awareness"].level) == (0.5, "Découverte")
    assert rows["awareness"].answers == (
        "Le sujet n'a jamais été abordé",
        "Quelques personnes s'y intéressent d'elles-mêmes",
    )
    assert rows["data"].level == "Maîtrise" and rows["data"].advice == str(ADVICE["data"][3])
    assert rows["uses"].level == "Structuration" and rows["uses"].answers == ("Plusieurs, de leur propre initiative",)
    # A dimension nobody answered: no level, and the first step.
    assert rows["governance"].score is None and rows["governance"].level is None
    assert rows["governance"].advice == str(ADVICE["governance"][0])
