"""Reference task profiles built from ROME items (skills.profiles.reference_profiles, pure) and
read from the database (skills.selectors), checked against hand-worked cases."""

import pandas as pd
import pytest

from skills.models import ItemOverride, OccupationItem, OccupationTaskProfile, RomeItem
from skills.profiles import DOMAIN_DEFAULTS, DOMAINE_PROFILES, ROME_ITEMS, default_profile, reference_profiles
from skills.selectors import item_links_frame, profile_source_tag, reference_profiles_frame
from skills.services import item_override_create
from tests.skills.factories import OccupationFactory

CATS = ["rc", "rm", "nra", "nri", "nrm"]
NO_SHRINK = {"core_weight": 2.0, "emerging_weight": 1.0, "other_weight": 1.0, "shrinkage": 0.0, "context_shift": 0.0}


def links(rows):
    """(occupation, core, category shares…) → the frame reference_profiles takes."""
    frame = pd.DataFrame(rows, columns=["occupation", "core", *CATS])
    return frame


RC_ITEM = [1.0, 0.0, 0.0, 0.0, 0.0]
NRI_ITEM = [0.0, 0.0, 0.0, 1.0, 0.0]
NRM_ITEM = [0.0, 0.0, 0.0, 0.0, 1.0]
NO_CONTEXT = pd.DataFrame(columns=["occupation", "rule"])


def test_core_items_weigh_more():
    # A core RC item (weight 2) and another NRI item (weight 1): RC 2/3, NRI 1/3.
    skills = links([("M1607", "principale", *RC_ITEM), ("M1607", "", *NRI_ITEM)])
    profile = reference_profiles(skills, NO_CONTEXT, ["M1607"], params=NO_SHRINK).loc["M1607"]
    assert profile[CATS].tolist() == pytest.approx([2 / 3, 0, 0, 1 / 3, 0])
    assert profile["evidence"] == 3.0 and profile["items"] == 2 and profile["source"] == ROME_ITEMS


def test_unclassified_links_are_no_evidence():
    skills = links([("M1607", "principale", *RC_ITEM), ("M1607", "principale", *[float("nan")] * 5)])
    profile = reference_profiles(skills, NO_CONTEXT, ["M1607"], params=NO_SHRINK).loc["M1607"]
    assert profile["rc"] == pytest.approx(1.0) and profile["items"] == 1


def test_a_fiche_with_little_evidence_is_shrunk_towards_its_domaine():
    # Domaine M16 pools M1607 (core RC, other NRI: evidence 3) and M1602 (other NRM: 1):
    # prior = (RC 2, NRI 1, NRM 1) / 4. With k = 3, M1607 = ((2, 0, 0, 1, 0) + 3·prior) / 6
    # and M1602 = ((0, 0, 0, 0, 1) + 3·prior) / 4.
    skills = links(
        [("M1607", "principale", *RC_ITEM), ("M1607", "", *NRI_ITEM), ("M1602", "", *NRM_ITEM)]
    )
    params = {**NO_SHRINK, "shrinkage": 3.0}
    profiles = reference_profiles(skills, NO_CONTEXT, ["M1607", "M1602"], params=params)
    assert profiles.loc["M1607", CATS].tolist() == pytest.approx([3.5 / 6, 0, 0, 1.75 / 6, 0.75 / 6])
    assert profiles.loc["M1602", CATS].tolist() == pytest.approx([1.5 / 4, 0, 0, 0.75 / 4, 1.75 / 4])


def test_a_fiche_without_items_takes_its_domaine_then_grand_domaine_then_the_hand_set_default():
    skills = links([("M1607", "", *RC_ITEM), ("M1607", "", *NRI_ITEM)])
    params = {**NO_SHRINK, "shrinkage": 8.0}
    profiles = reference_profiles(skills, NO_CONTEXT, ["M1607", "M1602", "M1203", "K2111"], params=params)
    # M1602 (same domaine M16): the domaine's pool, RC 1/2, NRI 1/2.
    assert profiles.loc["M1602", CATS].tolist() == pytest.approx([0.5, 0, 0, 0.5, 0])
    # M1203 (domaine M12 has no evidence): the grand domaine M's pool, the same here.
    assert profiles.loc["M1203", CATS].tolist() == pytest.approx([0.5, 0, 0, 0.5, 0])
    assert profiles.loc["M1203", "source"] == ROME_ITEMS
    # K2111: nothing in K at all, the hand-set default of K21.
    expected = [share / sum(DOMAINE_PROFILES["K21"]) for share in DOMAINE_PROFILES["K21"]]
    assert profiles.loc["K2111", CATS].tolist() == pytest.approx(expected)
    assert profiles.loc["K2111", "source"] == DOMAIN_DEFAULTS


def test_a_work_context_shifts_the_profile_then_it_is_renormalised():
    # « repetitif » pushes RM 0.7, RC 0.3; with c = 0.1 the fiche (RC 1) becomes
    # (1 + 0.03, 0.07, 0, 0, 0) / 1.1. A rule named twice counts once; an unknown one not at all.
    skills = links([("M1607", "", *RC_ITEM)])
    contexts = pd.DataFrame(
        {"occupation": ["M1607", "M1607", "M1607"], "rule": ["repetitif", "repetitif", "inconnue"]}
    )
    params = {**NO_SHRINK, "context_shift": 0.1}
    profile = reference_profiles(skills, contexts, ["M1607"], params=params).loc["M1607"]
    assert profile[CATS].tolist() == pytest.approx([1.03 / 1.1, 0.07 / 1.1, 0, 0, 0])


def test_every_profile_sums_to_one_and_fiches_differ():
    skills = links(
        [
            ("M1607", "principale", *RC_ITEM),
            ("M1607", "", *NRI_ITEM),
            ("M1602", "emergente", *NRM_ITEM),
            ("M1602", "", *RC_ITEM),
            ("H2102", "", *NRM_ITEM),
        ]
    )
    profiles = reference_profiles(skills, NO_CONTEXT, ["M1607", "M1602", "H2102", "N1101"])
    assert profiles[CATS].sum(axis=1).tolist() == pytest.approx([1.0] * 4)
    assert len(profiles[CATS].round(9).drop_duplicates()) == 4


# --- From the database ---------------------------------------------------------------------


@pytest.fixture
def two_fiches(db):
    secretary, clerk = OccupationFactory(code="M1607"), OccupationFactory(code="M1602")
    items = {
        "1": RomeItem.objects.create(code="1", kind="savoir_faire", label="Saisir des documents", rc=1.0, rm=0.0,
                                     nra=0.0, nri=0.0, nrm=0.0, rule="verbe:saisir"),
        "2": RomeItem.objects.create(code="2", kind="savoir_faire", label="Conseiller un client", rc=0.0, rm=0.0,
                                     nra=0.0, nri=1.0, nrm=0.0, rule="verbe:conseiller"),
        "3": RomeItem.objects.create(code="3", kind="savoir_faire", label="Zzz inconnu"),
        "9": RomeItem.objects.create(code="9", kind="contexte", label="Travail répétitif ou cadence imposée",
                                     rule="repetitif"),
    }
    OccupationItem.objects.create(occupation=secretary, item=items["1"], core="principale")
    OccupationItem.objects.create(occupation=secretary, item=items["2"], core="")
    OccupationItem.objects.create(occupation=secretary, item=items["3"], core="principale")
    OccupationItem.objects.create(occupation=clerk, item=items["1"], core="")
    OccupationItem.objects.create(occupation=clerk, item=items["9"], core="")
    return items


def test_the_database_profile_is_the_pure_one(two_fiches):
    frame = reference_profiles_frame(NO_SHRINK)
    assert frame.loc["M1607", CATS].tolist() == pytest.approx([2 / 3, 0, 0, 1 / 3, 0])
    assert frame.loc["M1602", CATS].tolist() == pytest.approx([1, 0, 0, 0, 0])
    # The context applies with its shift: (RC 1 + 0.3 c, RM 0.7 c) / (1 + c), c = 0.04.
    shifted = reference_profiles_frame({**NO_SHRINK, "context_shift": 0.04})
    assert shifted.loc["M1602", ["rc", "rm"]].tolist() == pytest.approx([1.012 / 1.04, 0.028 / 1.04])


def test_an_override_replaces_the_lexicon_and_handing_back_restores_it(two_fiches, django_user_model):
    analyst = django_user_model.objects.create_user("analyste")
    item_override_create(
        item=two_fiches["1"], shares={"rc": 0.5, "rm": 0, "nra": 0.5, "nri": 0, "nrm": 0}, user=analyst, reason="mixte"
    )
    linked = item_links_frame().set_index(["occupation", "item"])
    assert linked.loc[("M1607", "1"), ["rc", "nra", "overridden"]].tolist() == [0.5, 0.5, True]
    assert reference_profiles_frame(NO_SHRINK).loc["M1602", ["rc", "nra"]].tolist() == pytest.approx([0.5, 0.5])

    # The unmatched item classified by a person now counts as evidence.
    item_override_create(
        item=two_fiches["3"], shares={"rc": 0, "rm": 0, "nra": 0, "nri": 0, "nrm": 1}, user=analyst
    )
    assert reference_profiles_frame(NO_SHRINK).loc["M1607", "items"] == 3

    item_override_create(item=two_fiches["1"], shares=None, user=analyst, reason="retour au lexique")
    linked = item_links_frame().set_index(["occupation", "item"])
    assert linked.loc[("M1607", "1"), ["rc", "nra", "overridden"]].tolist() == [1.0, 0.0, False]
    history = list(ItemOverride.objects.filter(item=two_fiches["1"]).values_list("reason", "created_by__username"))
    assert history == [("retour au lexique", "analyste"), ("mixte", "analyste")]


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({"rc": 0.5, "rm": 0, "nra": 0, "nri": 0, "nrm": 0}, "100 %"),
        ({"rc": 1.5, "rm": -0.5, "nra": 0, "nri": 0, "nrm": 0}, "négative"),
        ({"rc": 1.0}, "manquantes"),
    ],
)
def test_an_override_that_does_not_make_a_profile_is_refused(two_fiches, shares, message):
    with pytest.raises(ValueError, match=message):
        item_override_create(item=two_fiches["1"], shares=shares, user=None)
    assert not ItemOverride.objects.exists()


def test_an_imported_profile_takes_precedence(two_fiches):
    OccupationTaskProfile.objects.create(occupation_id="M1607", rc=0.1, rm=0.2, nra=0.3, nri=0.2, nrm=0.2)
    frame = reference_profiles_frame(NO_SHRINK)
    assert frame.loc["M1607", CATS].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.2, 0.2])
    assert frame.loc["M1607", "source"] == "imported"
    assert profile_source_tag(frame).startswith("rome_items:v1+1 importés:")


def test_without_rome_items_every_fiche_keeps_its_domaine_default(db):
    OccupationFactory(code="M1607")
    frame = reference_profiles_frame()
    assert frame.loc["M1607", CATS].tolist() == pytest.approx(list(default_profile("M1607").values()))
    assert profile_source_tag(frame).startswith("domain_defaults:v0:")


def test_the_source_tag_changes_with_the_profiles_and_only_with_them(two_fiches):
    tag = profile_source_tag(reference_profiles_frame(NO_SHRINK))
    assert tag == profile_source_tag(reference_profiles_frame(NO_SHRINK))
    assert tag.startswith("rome_items:v1:")
    assert tag != profile_source_tag(reference_profiles_frame({**NO_SHRINK, "core_weight": 3.0}))
