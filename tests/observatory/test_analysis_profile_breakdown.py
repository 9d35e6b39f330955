"""The breakdown of a fiche's profile and exposure (observatory.analysis.profile_breakdown),
on hand-worked items, without a database.

Four savoir-faire, core weight 2, other weight 1:

  item  shares                 weight  evidence share   profile weight (main category)
  s1    RC 1                   2       2/5              2/5 in RC
  s2    RC .8, NRA .2          1       1/5              .8/5 in RC
  s3    NRI 1                  2       2/5              2/5 in NRI
  s4    hors tâche (none)      1       —                —
  s5    unmatched (none)       2       —                —

Evidence Σ w = 5 over the three classified items; RC gets (2 + .8)/5 = .56, NRA .2/5 = .04,
NRI 2/5 = .40.
"""

import math

import numpy as np
import pandas as pd
import pytest

from observatory.analysis import profile_breakdown as pb

NAN = np.nan


@pytest.fixture
def skills():
    rows = [
        ("s1", "Saisir des documents", "principale", "verbe:saisir+objet:documents", False, 2.0, 1, 0, 0, 0, 0),
        (
            "s2",
            "Vérifier la conformité d'un dossier",
            "",
            "verbe:verifier+objet:dossier",
            False,
            1.0,
            0.8,
            0,
            0.2,
            0,
            0,
        ),
        ("s3", "Accueillir un client", "principale", "", True, 2.0, 0, 0, 0, 1, 0),
        ("s4", "Respecter les règles", "", "hors_tache:respecter", False, 1.0, NAN, NAN, NAN, NAN, NAN),
        ("s5", "Piloter un drone", "principale", "", False, 2.0, NAN, NAN, NAN, NAN, NAN),
    ]
    columns = ["item", "label", "core", "rule", "overridden", "weight", "rc", "rm", "nra", "nri", "nrm"]
    return pd.DataFrame(rows, columns=columns)


def test_each_item_gets_its_main_category_and_its_weight(skills):
    items = pb.skill_breakdown(skills).set_index("item")
    assert items.loc["s1", "category"] == "rc" and items.loc["s1", "profile_weight"] == pytest.approx(2 / 5)
    assert items.loc["s2", "category"] == "rc" and items.loc["s2", "main_share"] == pytest.approx(0.8)
    assert items.loc["s2", "evidence_share"] == pytest.approx(1 / 5)
    assert items.loc["s2", "profile_weight"] == pytest.approx(0.8 / 5)
    assert items.loc["s3", "category"] == "nri" and items.loc["s3", "evidence_share"] == pytest.approx(2 / 5)
    assert items.loc["s4", "status"] == pb.NON_TASK and items.loc["s4", "category"] == ""
    assert items.loc["s5", "status"] == pb.UNMATCHED and math.isnan(items.loc["s5", "profile_weight"])
    # Evidence shares of the classified items sum to 1.
    assert items["evidence_share"].sum() == pytest.approx(1)


def test_items_are_ordered_by_category_then_weight(skills):
    # Items without shares last, by label (« Piloter… » before « Respecter… »).
    assert list(pb.skill_breakdown(skills)["item"]) == ["s1", "s2", "s3", "s5", "s4"]
    reversed_input = skills.iloc[::-1]
    assert list(pb.skill_breakdown(reversed_input)["item"])[:3] == ["s1", "s2", "s3"]


def test_category_evidence_counts_the_minor_shares_of_mixed_items(skills):
    categories = pb.category_evidence(pb.skill_breakdown(skills))
    assert categories["share"].to_dict() == pytest.approx({"rc": 0.56, "rm": 0, "nra": 0.04, "nri": 0.40, "nrm": 0})
    assert categories["share"].sum() == pytest.approx(1)
    assert categories["items"].to_dict() == {"rc": 2, "rm": 0, "nra": 0, "nri": 1, "nrm": 0}


def test_a_fiche_without_classified_items_has_no_shares(skills):
    breakdown = pb.skill_breakdown(skills[skills["item"].isin(["s4", "s5"])])
    assert breakdown["evidence_share"].isna().all()
    assert pb.category_evidence(breakdown)["share"].isna().all()
    assert pb.skill_breakdown(skills.iloc[0:0]).empty


def test_contributions_split_the_exposure_and_sum_to_one():
    # The hand-worked Secrétaire (the hand_worked fixture, tests/conftest.py): E = 5.6 / 9 with the default α.
    profile = {"rc": 5 / 9, "rm": 0.5 / 9, "nra": 1.7 / 9, "nri": 1.3 / 9, "nrm": 0.5 / 9}
    alpha = {"rc": 0.85, "rm": 0.55, "nra": 0.45, "nri": 0.20, "nrm": 0.10}
    frame = pb.exposure_contributions(profile, alpha)
    assert frame["product"].sum() == pytest.approx(5.6 / 9)
    assert frame["contribution"].sum() == pytest.approx(1)
    assert frame.loc["rc", "contribution"] == pytest.approx(0.85 * 5 / 5.6)
    hidden = pb.exposure_contributions({}, alpha)
    assert hidden["contribution"].isna().all() and hidden["alpha"].tolist() == list(alpha.values())


def test_a_context_rule_shifts_once_whatever_the_number_of_its_contexts():
    rules = {"repetitif": {"rm": 0.7, "rc": 0.3}, "public": {"nri": 0.7, "nrm": 0.3}}
    contexts = pd.DataFrame(
        [
            ("Travail répétitif ou cadence imposée", "repetitif"),
            ("Travail en flux tendu", "repetitif"),
            ("En contact avec du public", "public"),
            ("Travail le samedi", ""),
        ],
        columns=["label", "rule"],
    )
    shifts = pb.context_shifts(contexts, rules)
    assert list(shifts["rule"]) == ["public", "repetitif"]
    repetitive = shifts.set_index("rule").loc["repetitif"]
    assert repetitive["labels"] == ("Travail en flux tendu", "Travail répétitif ou cadence imposée")
    assert repetitive["towards"] == ("rm", "rc") and repetitive["rm"] == pytest.approx(0.7)
    assert pb.context_shifts(contexts[contexts["rule"] == ""], rules).empty
