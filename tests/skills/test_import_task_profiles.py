import math
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from skills.importers.base import ImportFailed
from skills.importers.rome import import_rome
from skills.importers.task_profiles import import_task_profiles
from skills.models import OccupationTaskProfile

pytestmark = pytest.mark.django_db

SHARES = ("rc", "rm", "nra", "nri", "nrm")


@pytest.fixture
def rome(fixtures_dir):
    """The 13 fiches of the ROME fixture (M1607, M1805, M1602, H2502…)."""
    import_rome(fixtures_dir / "rome")


@pytest.fixture
def profiles(fixtures_dir, rome) -> Path:
    return fixtures_dir / "task_profiles" / "profiles.csv"


@pytest.fixture
def profiles_copy(profiles, tmp_path) -> Path:
    path = tmp_path / "profiles.csv"
    shutil.copy(profiles, path)
    return path


def shares_of(code: str) -> tuple:
    return tuple(
        OccupationTaskProfile.objects.values_list(*SHARES).get(occupation_id=code)
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_stores_shares_as_fractions(profiles):
    report = import_task_profiles(profiles)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (4, 0, 0, 0)
    assert report.source == "profiles.csv"
    assert shares_of("M1607") == (0.7, 0.05, 0.1, 0.125, 0.025)
    assert shares_of("M1805") == (0.05, 0.0, 0.6, 0.3, 0.05)
    profile = OccupationTaskProfile.objects.get(occupation_id="H2502")
    assert profile.source == "profiles.csv"


def test_a_row_within_half_a_point_of_100_is_renormalised(profiles):
    import_task_profiles(profiles)

    # M1602 sums to 99.8 %: each share is divided by 99.8, not by 100.
    shares = shares_of("M1602")
    assert shares == (60 / 99.8, 5 / 99.8, 15 / 99.8, 15 / 99.8, 4.8 / 99.8)
    assert math.fsum(shares) == pytest.approx(1, abs=1e-12)


def test_second_import_changes_nothing(profiles):
    import_task_profiles(profiles)

    report = import_task_profiles(profiles)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)


def test_changed_row_updates_one_profile_and_others_are_kept(profiles, profiles_copy):
    import_task_profiles(profiles)
    OccupationTaskProfile.objects.create(
        occupation_id="K2111", rc=0.2, rm=0.2, nra=0.2, nri=0.2, nrm=0.2, source="autre.csv"
    )
    text = profiles_copy.read_text(encoding="utf-8").replace(
        "H2502,10,15,35,30,10", "H2502,20,15,25,30,10"
    )
    write(profiles_copy, text)

    report = import_task_profiles(profiles_copy)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert shares_of("H2502") == (0.2, 0.15, 0.25, 0.3, 0.1)
    # A fiche absent from the file keeps its profile.
    assert shares_of("K2111") == (0.2, 0.2, 0.2, 0.2, 0.2)


def test_semicolon_file_with_decimal_commas(rome, tmp_path):
    path = write(
        tmp_path / "profils_fr.csv",
        "code_rome;rc;rm;nra;nri;nrm\nm1607;70;5;10;12,5;2,5\n",
    )

    report = import_task_profiles(path)

    assert report.created == 1
    assert shares_of("M1607") == (0.7, 0.05, 0.1, 0.125, 0.025)
    assert OccupationTaskProfile.objects.get().source == "profils_fr.csv"


def test_bad_file_is_refused_with_its_lines_and_writes_nothing(fixtures_dir, rome):
    with pytest.raises(ImportFailed) as refused:
        import_task_profiles(fixtures_dir / "task_profiles" / "profiles_bad.csv")

    errors = refused.value.errors
    assert [(e.source, e.line) for e in errors] == [
        ("profiles_bad.csv", 3),
        ("profiles_bad.csv", 4),
    ]
    assert errors[0].message == (
        "la somme des parts fait 90 % (attendu : 100 %, à 0,5 point près)"
    )
    assert errors[1].message == "fiche ROME « M9999 » inconnue"
    assert str(refused.value).startswith("profiles_bad.csv refusé, rien n'a été écrit")
    assert not OccupationTaskProfile.objects.exists()


def test_refused_file_leaves_existing_profiles_untouched(profiles, fixtures_dir):
    import_task_profiles(profiles)

    with pytest.raises(ImportFailed):
        import_task_profiles(fixtures_dir / "task_profiles" / "profiles_bad.csv")

    assert OccupationTaskProfile.objects.count() == 4
    assert shares_of("M1805") == (0.05, 0.0, 0.6, 0.3, 0.05)


def test_every_kind_of_bad_value_is_reported_on_its_line(rome, tmp_path):
    path = write(
        tmp_path / "profiles.csv",
        "code_rome,rc,rm,nra,nri,nrm\n"
        "M1607,70,5,10,12.5,2.5\n"
        "M1805,cinq,0,60,30,5\n"
        "H2502,-10,15,55,30,10\n"
        "K2111,,5,25,60,5\n"
        "M18X5,5,0,60,30,5\n"
        "M1607,70,5,10,12.5,2.5\n",
    )

    with pytest.raises(ImportFailed) as refused:
        import_task_profiles(path)

    assert [(e.line, e.message) for e in refused.value.errors] == [
        (3, "part rc « cinq » : un nombre est attendu"),
        (4, "part rc « -10 » hors de l'intervalle 0–100"),
        (5, "part rc vide"),
        (6, "code ROME « M18X5 » invalide (attendu : une lettre et 4 chiffres)"),
        (7, "fiche « M1607 » en double (déjà ligne 2)"),
    ]


def test_missing_column_is_refused_on_the_header_line(rome, tmp_path):
    path = write(tmp_path / "profiles.csv", "code_rome,rc,rm,nra,nri\nM1607,70,5,10,15\n")

    with pytest.raises(ImportFailed) as refused:
        import_task_profiles(path)

    assert [(e.line, e.message) for e in refused.value.errors] == [
        (1, "colonne(s) absente(s) de l'en-tête : nrm")
    ]


def test_command_prints_the_report(profiles):
    out = StringIO()

    call_command("import_task_profiles", str(profiles), stdout=out)

    assert out.getvalue().strip() == (
        "profiles.csv : 4 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"
    )


def test_command_fails_on_a_refused_file(fixtures_dir, rome):
    with pytest.raises(CommandError, match="profiles_bad.csv, ligne 4 : fiche ROME « M9999 »"):
        call_command(
            "import_task_profiles",
            str(fixtures_dir / "task_profiles" / "profiles_bad.csv"),
            stdout=StringIO(),
        )
    assert not OccupationTaskProfile.objects.exists()
