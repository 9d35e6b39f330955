import statistics
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from skills.importers.base import ImportFailed
from skills.importers.crosswalks import import_crosswalks
from skills.importers.indices import (
    MissingCrosswalk,
    import_index,
    normalise_codes,
    rescale,
    sniff_delimiter,
)
from skills.importers.rome import import_rome
from skills.models import ExposureIndex, ExposureIndexScore, OccupationCrosswalk

pytestmark = pytest.mark.django_db

ILO = {"code_system": "isco08", "code_column": "ISCO_08", "score_column": "mean_score_2025"}
AIOE = {"code_system": "soc2010", "code_column": "SOC Code", "score_column": "AIOE"}


@pytest.fixture
def rome(fixtures_dir):
    """13 fiches; their ROME v3 parents are H2502, K2111, K2401, M1602, M1607, M1802, M1805
    and M1806 (H2507 → H2502, K2125 → K2401, M1811 → M1802, M1827 and M1855 → M1805)."""
    import_rome(fixtures_dir / "rome")


@pytest.fixture
def crosswalks(fixtures_dir, rome):
    """Every v3 parent above but K2401 reaches one ISCO code; 4110 reaches two SOC codes."""
    import_crosswalks(fixtures_dir / "crosswalks")


@pytest.fixture
def indices_dir(fixtures_dir) -> Path:
    return fixtures_dir / "indices"


def scores(name: str) -> dict[str, tuple]:
    return {
        code: (score, raw, matched)
        for code, score, raw, matched in ExposureIndexScore.objects.filter(
            index__name=name
        ).values_list("occupation_id", "score", "raw_score", "matched_codes")
    }


def test_rome_index_is_rescaled_by_percentile_rank(rome, indices_dir):
    report = import_index(indices_dir / "rome_scores.csv", name="Test ROME", code_system="rome")

    # Scores 3, 7, 12 and 40 are not probabilities: they become their ranks out of 4.
    assert report.rescaled is True
    assert scores("Test ROME") == {
        "M1602": (0.25, 3.0, "M1602"),  # written m1602 in the file
        "H2507": (0.5, 7.0, "H2507"),
        "M1607": (0.75, 12.0, "M1607"),
        "K2401": (1.0, 40.0, "K2401"),
        # Not in the file: takes the score of its ROME v3 parent.
        "K2125": (1.0, 40.0, "K2401"),
    }
    index = ExposureIndex.objects.get(name="Test ROME")
    assert (index.code_system, index.rescaled, index.source_file) == (
        "rome",
        True,
        "rome_scores.csv",
    )
    assert index.coverage == 5 / 13
    assert (report.created, report.covered, report.fiches) == (5, 5, 13)


def test_isco_index_reaches_fiches_through_their_rome_v3_parent(crosswalks, indices_dir):
    report = import_index(
        indices_dir / "ilo_genai_2025_isco08.csv",
        name="OIT 2025",
        description="Gmyrek et al. 2025",
        **ILO,
    )

    # Scores between 0 and 1 are kept as published.
    assert report.rescaled is False
    assert scores("OIT 2025") == {
        "H2502": (0.38, 0.38, "1321"),
        "H2507": (0.38, 0.38, "1321"),
        "K2111": (0.39, 0.39, "2351"),
        "M1602": (0.6, 0.6, "4110"),
        "M1607": (0.58, 0.58, "4120"),
        "M1802": (0.44, 0.44, "1330"),
        "M1806": (0.44, 0.44, "1330"),
        "M1811": (0.44, 0.44, "1330"),
        "M1805": (0.55, 0.55, "2519"),
        "M1827": (0.55, 0.55, "2519"),
        "M1855": (0.55, 0.55, "2519"),
    }
    # K2401 and K2125 have no crosswalk row: not covered (2632 in the file stays unused).
    assert report.coverage == 11 / 13
    index = ExposureIndex.objects.get(name="OIT 2025")
    assert (index.code_system, index.description, index.coverage) == (
        "isco08",
        "Gmyrek et al. 2025",
        11 / 13,
    )


def test_soc_index_takes_the_mean_of_the_soc_codes_a_fiche_reaches(crosswalks, indices_dir):
    report = import_index(indices_dir / "aioe_soc2010.csv", name="AIOE", **AIOE)

    # AIOE is standardised (not in [0, 1]): percentile ranks among the file's 8 SOC codes,
    # 29-1125 0.219 → 1/8, 11-3051 0.509 → 2/8, 43-9061 0.989 → 3/8, 11-3021 1.060 → 4/8,
    # 43-6014 1.099 → 5/8, 15-1199 1.233 → 6/8, 25-9031 1.302 → 7/8, 43-3061 1.488 → 8/8.
    assert report.rescaled is True
    got = scores("AIOE")
    # M1602 → ROME v3 M1602 → ISCO 4110 → SOC 43-3061 and 43-9061: the mean of both.
    assert got["M1602"] == (
        pytest.approx((8 / 8 + 3 / 8) / 2),
        pytest.approx((1.487838 + 0.9888986) / 2),
        "43-3061,43-9061",
    )
    assert got["M1607"] == (0.625, 1.099056, "43-6014")
    assert got["K2111"] == (0.875, 1.301855, "25-9031")
    assert got["H2507"] == (0.25, 0.5086878, "11-3051")
    assert got["M1811"] == (0.5, 1.059853, "11-3021")
    assert got["M1855"] == (0.75, 1.232705, "15-1199")
    assert set(got) == {
        "H2502", "H2507", "K2111", "M1602", "M1607", "M1802", "M1805", "M1806", "M1811",
        "M1827", "M1855",
    }  # fmt: skip
    assert (report.covered, report.fiches) == (11, 13)
    assert report.coverage_text() == "Couverture : 84,6 % des fiches ROME (11 / 13)"


def test_reimport_is_idempotent(crosswalks, indices_dir):
    import_index(indices_dir / "aioe_soc2010.csv", name="AIOE", **AIOE)
    stamped = ExposureIndex.objects.get().imported_at

    report = import_index(indices_dir / "aioe_soc2010.csv", name="AIOE", **AIOE)

    assert (report.created, report.updated, report.unchanged, report.deleted) == (0, 0, 11, 0)
    assert ExposureIndex.objects.count() == 1
    assert ExposureIndexScore.objects.count() == 11
    assert ExposureIndex.objects.get().imported_at == stamped


def test_reimport_under_the_same_name_replaces_the_scores(crosswalks, indices_dir, tmp_path):
    import_index(
        indices_dir / "ilo_genai_2025_isco08.csv", name="OIT", description="Gmyrek 2025", **ILO
    )
    lines = (indices_dir / "ilo_genai_2025_isco08.csv").read_text(encoding="utf-8").splitlines()
    changed = tmp_path / "ilo.csv"
    # Drop 1321 (H2502, H2507) and raise 4120 (M1607).
    body = [line.replace(",0.64,0.58,", ",0.64,0.7,") for line in lines if ",0.36,0.38," not in line]
    changed.write_text("\n".join(body) + "\n", encoding="utf-8")

    report = import_index(changed, name="OIT", **ILO)

    assert (report.created, report.updated, report.unchanged, report.deleted) == (0, 1, 8, 2)
    assert scores("OIT")["M1607"] == (0.7, 0.7, "4120")
    assert "H2502" not in scores("OIT")
    index = ExposureIndex.objects.get(name="OIT")
    assert (index.source_file, index.coverage) == ("ilo.csv", 9 / 13)
    assert index.description == "Gmyrek 2025"  # kept when none is given


def test_onet_soc_codes_are_averaged_into_their_soc_code(crosswalks, tmp_path):
    path = tmp_path / "occ_level.csv"
    path.write_text(
        "O*NET-SOC Code,Title,beta\n43-6014.00,Secretaries,0.8\n43-6014.01,Typists,0.6\n",
        encoding="utf-8",
    )

    import_index(
        path, name="GPT", code_system="soc2010", code_column="O*NET-SOC Code", score_column="beta"
    )

    assert scores("GPT") == {"M1607": (pytest.approx(0.7), pytest.approx(0.7), "43-6014")}


def test_tab_separated_file_with_a_decimal_comma(rome, tmp_path):
    path = tmp_path / "indice.tsv"
    path.write_text("code\tscore\nM1607\t0,9\n", encoding="utf-8")

    import_index(path, name="TSV", code_system="rome")

    assert scores("TSV") == {"M1607": (0.9, 0.9, "M1607")}


def test_bad_file_is_refused_with_its_lines_and_writes_nothing(crosswalks, indices_dir):
    with pytest.raises(ImportFailed) as refused:
        import_index(indices_dir / "isco08_bad.csv", name="Mauvais", code_system="isco08")

    assert [(e.source, e.line, e.message) for e in refused.value.errors] == [
        ("isco08_bad.csv", 3, "code vide"),
        ("isco08_bad.csv", 4, "score « n/a » : un nombre est attendu"),
        ("isco08_bad.csv", 5, "code « 4120 » en double (déjà ligne 2)"),
    ]
    assert not ExposureIndex.objects.exists()
    assert not ExposureIndexScore.objects.exists()


def test_missing_columns_are_refused_on_the_header_line(crosswalks, indices_dir):
    with pytest.raises(ImportFailed) as refused:
        import_index(indices_dir / "aioe_soc2010.csv", name="AIOE", code_system="soc2010")

    assert [(e.line, e.message) for e in refused.value.errors] == [
        (1, "colonne(s) absente(s) de l'en-tête : code, score")
    ]


def test_isco_or_soc_index_needs_the_crosswalks(rome, indices_dir):
    with pytest.raises(MissingCrosswalk) as refused:
        import_index(indices_dir / "ilo_genai_2025_isco08.csv", name="OIT", **ILO)

    assert "Aucune table de correspondance ROME v3 → CITP / ISCO-08" in str(refused.value)
    assert "lancez import_crosswalks" in str(refused.value)
    assert not ExposureIndex.objects.exists()


def test_soc_index_needs_the_isco_to_soc_table(rome, fixtures_dir, indices_dir):
    import_crosswalks(fixtures_dir / "crosswalks")
    OccupationCrosswalk.objects.filter(target_system="soc2010").delete()

    with pytest.raises(MissingCrosswalk, match="ISCO-08 → SOC 2010"):
        import_index(indices_dir / "aioe_soc2010.csv", name="AIOE", **AIOE)


def test_normalise_codes():
    codes = pd.Series([" 110", "4120", "43-6014.00 ", "m1607"])

    assert list(normalise_codes(codes[:2], "isco08")) == ["0110", "4120"]
    assert list(normalise_codes(codes[2:3], "soc2010")) == ["43-6014"]
    assert list(normalise_codes(codes[3:], "rome")) == ["M1607"]


def test_rescale_keeps_probabilities_and_ranks_anything_else():
    probabilities = pd.DataFrame({"raw_score": [0.0, 0.3, 1.0]})
    kept, rescaled = rescale(probabilities)
    assert rescaled is False
    assert list(kept["score"]) == [0.0, 0.3, 1.0]

    other = pd.DataFrame({"raw_score": [-1.2, 0.4, 2.5, 0.4]})
    ranked, rescaled = rescale(other)
    assert rescaled is True
    assert list(ranked["score"]) == [0.25, 0.625, 1.0, 0.625]  # ties share their mean rank


def test_sniff_delimiter(tmp_path):
    for text, expected in [("a,b;c,d\n", ","), ("a;b;c\n", ";"), ("a\tb\n", "\t")]:
        path = tmp_path / "f.csv"
        path.write_text(text, encoding="utf-8")
        assert sniff_delimiter(path) == expected


def test_command_prints_the_coverage(crosswalks, indices_dir):
    out = StringIO()

    call_command(
        "import_index",
        str(indices_dir / "aioe_soc2010.csv"),
        "--name=AIOE",
        "--code-system=soc2010",
        "--code-column=SOC Code",
        "--score-column=AIOE",
        stdout=out,
    )

    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "AIOE (aioe_soc2010.csv) : 11 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s), "
        "0 supprimé(s)"
    )
    assert lines[1] == "Couverture : 84,6 % des fiches ROME (11 / 13)"
    assert "rang centile" in lines[2]


def test_command_fails_without_crosswalks(rome, indices_dir):
    with pytest.raises(CommandError, match="lancez import_crosswalks"):
        call_command(
            "import_index",
            str(indices_dir / "ilo_genai_2025_isco08.csv"),
            "--name=OIT",
            "--code-system=isco08",
            "--code-column=ISCO_08",
            "--score-column=mean_score_2025",
            stdout=StringIO(),
        )


@pytest.mark.realdata
def test_real_indices_cover_most_fiches(shared_data):
    import_rome(shared_data / "rome4-francetravail")
    import_crosswalks(shared_data / "crosswalks")
    exposure = shared_data / "ai-exposure"

    ilo = import_index(
        exposure / "ilo-genai-gmyrek2025" / "Final_Scores_ISCO08_Gmyrek_et_al_2025_occupations.csv",
        name="OIT 2025",
        **ILO,
    )
    frey_osborne = import_index(
        exposure / "frey-osborne" / "frey_osborne_automation_risk_index_clean.csv",
        name="Frey-Osborne",
        code_system="soc2010",
        code_column="SOC code",
        score_column="Probability",
    )
    aioe = import_index(
        exposure / "felten-aioe" / "AIOE_DataAppendix_A_AIOE_by_SOC.csv", name="AIOE", **AIOE
    )

    # Measured on the real files (ROME v460, Pôle emploi and BLS crosswalks): ILO 2025
    # 1,528 / 1,584 fiches (96.5 %; the ILO list lacks a few « n.e.c. » groups such as 3139,
    # 3435, 8189), Frey–Osborne 1,483 (93.6 %), AIOE 1,552 (98.0 %). Armed forces (K1701,
    # K1703) are in none of them.
    assert ilo.fiches == 1584
    assert ilo.rescaled is False and frey_osborne.rescaled is False and aioe.rescaled is True
    assert ilo.coverage > 0.96
    assert frey_osborne.coverage > 0.93
    assert aioe.coverage > 0.975

    ilo_scores = dict(
        ExposureIndexScore.objects.filter(index__name="OIT 2025").values_list(
            "occupation_id", "score"
        )
    )
    # Secretaries (ISCO 4120) are among the most exposed to generative AI.
    assert ilo_scores["M1607"] == 0.58
    assert ilo_scores["M1607"] > statistics.median(ilo_scores.values())

    again = import_index(
        exposure / "ilo-genai-gmyrek2025" / "Final_Scores_ISCO08_Gmyrek_et_al_2025_occupations.csv",
        name="OIT 2025",
        **ILO,
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, ilo.covered)
