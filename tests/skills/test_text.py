import re

import pytest

from skills.text import accent_insensitive_pattern, fold


def test_fold_removes_accents_case_ligatures_and_punctuation():
    assert fold("  Saint-Omer ") == "saint omer"
    assert fold("Chœur d’Élève") == "choeur d eleve"


@pytest.mark.parametrize(
    "query, label, found",
    [
        ("secretaire", "Secrétaire", True),
        ("saint omer", "Saint-Omer", True),
        ("VILLENEUVE D ASCQ", "Villeneuve-d'Ascq", True),
        ("ecole", "École", True),
        ("oeuvre", "Main-d'œuvre", True),
        ("œuvre", "Main-d'oeuvre", True),
        ("coeur", "Cœur de métier", True),
        ("a.b", "axb", False),  # a dot is a dot, not any character
        ("comptable", "Secrétaire", False),
    ],
)
def test_the_pattern_matches_whatever_the_accents(query, label, found):
    assert bool(re.search(accent_insensitive_pattern(query), label, re.IGNORECASE)) is found
