import pytest

from skills.profiles import (
    CATEGORIES,
    DEFAULT_PROFILE_SOURCES,
    DOMAINE_PROFILES,
    GRAND_DOMAINE_PROFILES,
    default_profile,
    profile_key,
)

GRANDS_DOMAINES = "ABCDEFGHIJKLMN"


@pytest.mark.parametrize("letter", GRANDS_DOMAINES)
def test_every_grand_domaine_has_a_profile_summing_to_one(letter):
    profile = default_profile(letter)
    assert tuple(profile) == CATEGORIES
    assert sum(profile.values()) == pytest.approx(1, abs=1e-9)
    assert all(share > 0 for share in profile.values())


def test_every_table_entry_sums_to_one_and_keeps_a_floor():
    for table in (GRAND_DOMAINE_PROFILES, DOMAINE_PROFILES):
        for code, shares in table.items():
            assert len(shares) == len(CATEGORIES), code
            assert sum(shares) == pytest.approx(1, abs=1e-9), code
            # A zero share would make RTI infinite and a Dirichlet draw undefined.
            assert min(shares) >= 0.02, code


def test_at_least_thirty_domaines_are_overridden_under_a_known_grand_domaine():
    assert len(DOMAINE_PROFILES) >= 30
    for code in DOMAINE_PROFILES:
        assert len(code) == 3 and code[0] in GRANDS_DOMAINES and code[1:].isdigit()


def test_a_domaine_override_wins_over_its_grand_domaine():
    secretary = default_profile("M1607")
    assert profile_key("M1607") == "M16"
    assert secretary != default_profile("M")
    assert secretary["rc"] == max(secretary.values())
    assert default_profile("M1805")["nra"] == max(default_profile("M1805").values())
    assert default_profile("N1103")["rm"] > default_profile("N")["rm"]


def test_a_fiche_without_override_uses_its_grand_domaine():
    # B11 (arts plastiques) has no override of its own.
    assert profile_key("B1101") == "B"
    assert default_profile("B1101") == default_profile("B")


def test_the_expected_task_contrasts_hold():
    care = default_profile("J1501")
    assert care["nri"] + care["nrm"] > 0.6
    home_help = default_profile("K1302")
    assert home_help["nri"] + home_help["nrm"] > 0.7
    line = default_profile("H2102")
    assert line["rm"] > 0.5


def test_sources_say_which_level_each_entry_is():
    assert DEFAULT_PROFILE_SOURCES["M"] == "grand_domaine"
    assert DEFAULT_PROFILE_SOURCES["M16"] == "domaine"
    assert set(DEFAULT_PROFILE_SOURCES) == set(GRAND_DOMAINE_PROFILES) | set(DOMAINE_PROFILES)


@pytest.mark.parametrize("code", ["", "Z1234", "4120", "x"])
def test_an_unknown_code_raises(code):
    with pytest.raises(ValueError):
        default_profile(code)
