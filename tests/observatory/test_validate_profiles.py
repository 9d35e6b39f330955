"""`manage.py validate_profiles` on four ISCO-08 codes whose correlations are worked by hand.

Fiches (each its own ROME v3 parent) → ISCO-08, with imported profiles (RC, RM, NRA, NRI, NRM):
M1602 → 4110 (0.8, 0, 0.1, 0.1, 0); M1607 → 4120 (0.6, 0, 0.2, 0.2, 0);
F1703 → 7112 (0, 0.3, 0, 0, 0.7); M1805 → 2512 (0, 0, 0.8, 0.2, 0).

« IA générative » (α 0.9, 0.1, 0.6, 0.25, 0.05): 4110 0.805, 4120 0.71, 2512 0.53, 7112 0.065,
ranks 4, 3, 2, 1; ILO (fixture) 0.6, 0.7, 0.5, 0.1, ranks 3, 4, 2, 1: Σd² = 2, ρ = 1 − 6·2/(4·15) = 0.8.
« Automatisation » (α 0.8, 0.9, 0.1, 0.05, 0.2): 4110 0.655, 4120 0.51, 7112 0.41, 2512 0.09;
RTI (fixture) 0.5, 1, −0.6, −1: ρ = 0.8. Frey–Osborne averaged over SOC codes: 0.97, 0.96,
0.82, (0.02 + 0.04)/2: the same order as ours, ρ = 1.
RC shares: ours 0.8, 0.6, 0, 0 → ranks 4, 3, 1.5, 1.5; published 0.75, 1, 0, 0 → 3, 4, 1.5, 1.5;
Pearson of the ranks = 3.5 / 4.5 = 0.778.
"""

from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from observatory.analysis.validation import spearman
from skills.models import Occupation, OccupationCrosswalk, OccupationTaskProfile
from tests.skills.factories import OccupationFactory

PROFILES = {
    ("M1602", "4110"): (0.8, 0, 0.1, 0.1, 0),
    ("M1607", "4120"): (0.6, 0, 0.2, 0.2, 0),
    ("F1703", "7112"): (0, 0.3, 0, 0, 0.7),
    ("M1805", "2512"): (0, 0, 0.8, 0.2, 0),
}
SOC = {"4110": ["43-9061"], "4120": ["43-6014"], "7112": ["47-2021"], "2512": ["15-1132", "15-1133"]}


@pytest.fixture
def mapped_fiches(db, migration_data):
    for (code, isco), shares in PROFILES.items():
        fiche = OccupationFactory(code=code)
        Occupation.objects.filter(pk=fiche.pk).update(rome_v3_parent=fiche)
        profile = dict(zip(["rc", "rm", "nra", "nri", "nrm"], shares, strict=True))
        OccupationTaskProfile.objects.create(occupation=fiche, **profile)
        OccupationCrosswalk.objects.create(source_system="rome_v3", source_code=code, target_system="isco08",
                                           target_code=isco)
        for soc in SOC[isco]:
            OccupationCrosswalk.objects.create(source_system="isco08", source_code=isco, target_system="soc2010",
                                               target_code=soc)


def results(out: str) -> dict[str, float]:
    pairs = [line.removeprefix("RESULT ").split("=") for line in out.splitlines() if line.startswith("RESULT ")]
    return {name: float(value) for name, value in pairs}


def test_validate_profiles_prints_the_hand_worked_correlations(mapped_fiches, fixtures_dir):
    out = StringIO()
    call_command("validate_profiles", "--from", str(fixtures_dir / "validation"), stdout=out)
    figures = results(out.getvalue())
    assert figures["fiches_mapped_to_isco"] == 4
    assert figures["genai_vs_ilo"] == pytest.approx(0.8)
    assert figures["automation_vs_rti"] == pytest.approx(0.8)
    assert figures["automation_vs_frey_osborne"] == pytest.approx(1.0)
    assert figures["share_rc"] == pytest.approx(0.778)
    assert figures["n_genai_vs_ilo"] == 4 and figures["n_automation_vs_frey_osborne"] == 4


def test_validate_profiles_needs_the_crosswalks(db, migration_data, fixtures_dir):
    OccupationFactory(code="M1607")
    with pytest.raises(CommandError, match="import_crosswalks"):
        call_command("validate_profiles", "--from", str(fixtures_dir / "validation"), stdout=StringIO())


def test_validate_profiles_says_which_file_is_missing(db, tmp_path):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("validate_profiles", "--from", str(tmp_path), stdout=StringIO())


def test_spearman_uses_average_ranks_for_ties():
    left = pd.Series({"a": 0.8, "b": 0.6, "c": 0.0, "d": 0.0})
    right = pd.Series({"a": 0.75, "b": 1.0, "c": 0.0, "d": 0.0, "e": 0.3})
    value, n = spearman(left, right)
    assert n == 4 and value == pytest.approx(3.5 / 4.5)
