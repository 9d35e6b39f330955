import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from skills.importers.base import ImportFailed
from skills.importers.crosswalks import ISCO_SOC_FILE, ROME_ISCO_FILE, import_crosswalks
from skills.importers.rome import import_rome
from skills.models import Occupation, OccupationCrosswalk

pytestmark = pytest.mark.django_db

System = OccupationCrosswalk.System


@pytest.fixture
def crosswalk_dir(fixtures_dir) -> Path:
    """Rows cut from the real tables: 8 ROME v3 → ISCO-08 rows, 11 BLS ISCO-08 → SOC rows."""
    return fixtures_dir / "crosswalks"


@pytest.fixture
def crosswalk_copy(crosswalk_dir, tmp_path) -> Path:
    directory = tmp_path / "crosswalks"
    shutil.copytree(crosswalk_dir, directory)
    return directory


def pairs(source_system, target_system) -> set[tuple[str, str]]:
    return set(
        OccupationCrosswalk.objects.filter(
            source_system=source_system, target_system=target_system
        ).values_list("source_code", "target_code")
    )


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    # The official files end their lines with CRLF: keep them.
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_bytes("".join(lines).encode("utf-8"))


def test_import_loads_both_tables(crosswalk_dir):
    reports = import_crosswalks(crosswalk_dir)

    assert [(r.source, r.created, r.unchanged, r.deleted) for r in reports] == [
        (ROME_ISCO_FILE, 8, 0, 0),
        (ISCO_SOC_FILE, 11, 0, 0),
    ]
    assert pairs(System.ROME_V3, System.ISCO08) == {
        ("H2502", "1321"),
        ("K1703", "0110"),  # written 110 in the table: its leading zero is restored
        ("K2111", "2351"),
        ("M1602", "4110"),
        ("M1607", "4120"),
        ("M1802", "1330"),
        ("M1805", "2519"),
        ("M1806", "1330"),
    }
    isco_soc = pairs(System.ISCO08, System.SOC2010)
    assert len(isco_soc) == 11
    # "55-1011 " and "43-9061 " lose their trailing space, "3322 " too.
    assert {("0110", "55-1011"), ("4110", "43-9061"), ("3322", "41-4012")} <= isco_soc
    # A 3-digit ISCO minor group of the BLS table is kept as written, not padded.
    assert ("211", "19-2099") in isco_soc
    assert not OccupationCrosswalk.objects.filter(target_code__endswith=" ").exists()


def test_second_import_changes_nothing(crosswalk_dir):
    import_crosswalks(crosswalk_dir)

    reports = import_crosswalks(crosswalk_dir)

    assert [(r.created, r.updated, r.unchanged, r.deleted) for r in reports] == [
        (0, 0, 8, 0),
        (0, 0, 11, 0),
    ]
    assert OccupationCrosswalk.objects.count() == 19


def test_the_file_is_the_whole_table_of_its_pair(crosswalk_dir, crosswalk_copy):
    import_crosswalks(crosswalk_dir)
    edit_line(crosswalk_copy / ROME_ISCO_FILE, 5, ",4110,", ",4120,")  # M1602

    reports = import_crosswalks(crosswalk_copy)

    assert [(r.created, r.unchanged, r.deleted) for r in reports] == [(1, 7, 1), (0, 11, 0)]
    assert ("M1602", "4120") in pairs(System.ROME_V3, System.ISCO08)
    assert ("M1602", "4110") not in pairs(System.ROME_V3, System.ISCO08)


def test_either_file_may_be_absent(crosswalk_dir, crosswalk_copy):
    import_crosswalks(crosswalk_dir)
    (crosswalk_copy / ISCO_SOC_FILE).unlink()

    reports = import_crosswalks(crosswalk_copy)

    assert [r.source for r in reports] == [ROME_ISCO_FILE]
    # The table of the absent file is left as it was.
    assert len(pairs(System.ISCO08, System.SOC2010)) == 11


def test_folder_without_either_file_is_refused(tmp_path):
    with pytest.raises(ImportFailed, match="aucun des fichiers attendus"):
        import_crosswalks(tmp_path)


def test_bad_rows_of_both_files_are_reported_and_nothing_is_written(crosswalk_copy):
    edit_line(crosswalk_copy / ROME_ISCO_FILE, 3, ",110,", ",11O,")
    edit_line(crosswalk_copy / ROME_ISCO_FILE, 9, "M1806,", ",")
    edit_line(crosswalk_copy / ISCO_SOC_FILE, 4, "11-3051", "113051")
    edit_line(crosswalk_copy / ISCO_SOC_FILE, 12, "4120", "4110")
    edit_line(crosswalk_copy / ISCO_SOC_FILE, 12, "43-6014", "43-9061")

    with pytest.raises(ImportFailed) as refused:
        import_crosswalks(crosswalk_copy)

    assert [(e.source, e.line, e.message) for e in refused.value.errors] == [
        (ROME_ISCO_FILE, 3, "code ISCO-08 « 11O » invalide (attendu : 3 ou 4 chiffres)"),
        (ROME_ISCO_FILE, 9, "code ROME vide"),
        (ISCO_SOC_FILE, 4, "code SOC 2010 « 113051 » invalide (attendu : « 43-6014 »)"),
        (ISCO_SOC_FILE, 12, "correspondance 4110 → 43-9061 en double (déjà ligne 11)"),
    ]
    assert not OccupationCrosswalk.objects.exists()


def test_command_prints_one_report_per_file(crosswalk_dir):
    out = StringIO()

    call_command("import_crosswalks", str(crosswalk_dir), stdout=out)

    assert out.getvalue().splitlines() == [
        f"{ROME_ISCO_FILE} : 8 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s), 0 supprimé(s)",
        f"{ISCO_SOC_FILE} : 11 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s), 0 supprimé(s)",
    ]


def test_command_fails_on_a_refused_folder(crosswalk_copy):
    edit_line(crosswalk_copy / ISCO_SOC_FILE, 4, "11-3051", "113051")

    with pytest.raises(CommandError, match=f"{ISCO_SOC_FILE}, ligne 4 : code SOC 2010"):
        call_command("import_crosswalks", str(crosswalk_copy), stdout=StringIO())
    assert not OccupationCrosswalk.objects.exists()


@pytest.mark.realdata
def test_real_crosswalks(shared_data):
    reports = import_crosswalks(shared_data / "crosswalks")

    # 532 ROME v3 fiches, one ISCO code each; 1,125 BLS rows, all distinct pairs.
    assert [r.created for r in reports] == [532, 1125]
    rome_isco = pairs(System.ROME_V3, System.ISCO08)
    assert ("M1607", "4120") in rome_isco
    assert ("K1701", "0310") in rome_isco
    assert all(len(isco) == 4 for _rome, isco in rome_isco)
    assert ("4120", "43-6014") in pairs(System.ISCO08, System.SOC2010)


def test_builtin_subset_covers_every_builtin_fiche(settings):
    """reference/crosswalks holds the rows the built-in ROME subset needs, and only those."""
    reference = Path(settings.BASE_DIR) / "reference"
    import_rome(reference / "rome4-francetravail")

    import_crosswalks(reference / "crosswalks")

    v3_parents = set(
        Occupation.objects.fiches().values_list("rome_v3_parent_id", flat=True)
    )
    rome_isco = pairs(System.ROME_V3, System.ISCO08)
    assert {rome for rome, _isco in rome_isco} == v3_parents
    isco_codes = {isco for _rome, isco in rome_isco}
    assert {isco for isco, _soc in pairs(System.ISCO08, System.SOC2010)} == isco_codes
