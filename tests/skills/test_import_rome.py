import shutil
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from skills.importers.base import ImportFailed
from skills.importers.rome import (
    APPELLATION_FILE,
    DOMAINE_FILE,
    FICHE_FILE,
    MOBILITY_FILE,
    NAF_FILE,
    REQUIRED_FILES,
    import_rome,
)
from skills.models import Appellation, Mobility, NafDivisionOccupation, Occupation

pytestmark = pytest.mark.django_db

Level = Occupation.Level


@pytest.fixture
def rome_dir(fixtures_dir) -> Path:
    """A small export cut from the real v460 files (3 grands domaines, 5 domaines, 13 fiches)."""
    return fixtures_dir / "rome"


@pytest.fixture
def rome_copy(rome_dir, tmp_path) -> Path:
    """A writable copy of the fixture export, for variants made in the test."""
    directory = tmp_path / "rome"
    directory.mkdir()
    for path in rome_dir.glob("*.csv"):
        shutil.copy(path, directory / path.name)
    return directory


def counts() -> dict:
    return {
        "occupations": Occupation.objects.count(),
        "appellations": Appellation.objects.count(),
        "mobilities": Mobility.objects.count(),
        "naf": NafDivisionOccupation.objects.count(),
    }


def figures(reports) -> dict:
    return {r.source: (r.created, r.updated, r.unchanged) for r in reports}


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_import_builds_the_tree_from_the_fixture(rome_dir):
    reports = import_rome(rome_dir)

    assert [r.source for r in reports] == [
        "unix_grand_domaine_v460_utf8.csv",
        DOMAINE_FILE,
        FICHE_FILE,
        APPELLATION_FILE,
        MOBILITY_FILE,
        NAF_FILE,
    ]
    assert [r.created for r in reports] == [3, 5, 13, 14, 12, 25]
    assert all(r.updated == r.unchanged == r.rejected == 0 for r in reports)
    assert Occupation.objects.filter(level=Level.GRAND_DOMAINE).count() == 3
    assert Occupation.objects.filter(level=Level.DOMAINE).count() == 5
    assert Occupation.objects.fiches().count() == 13

    web = Occupation.objects.get(code="M1855")
    assert web.label == "Développeur / Développeuse web"
    assert web.level == Level.FICHE
    assert web.parent.code == "M18"
    assert web.parent.label == "Systèmes d'information et de télécommunication"
    assert web.parent.parent.code == "M"
    assert web.parent.parent.label == "Support à l'entreprise"
    assert web.rome_v3_parent_id == "M1805"
    assert web.ogr_code == "489081"
    assert web.transition_eco == Occupation.EcologicalTransition.WHITE
    assert (web.transition_num, web.transition_demo, web.regulated, web.managerial) == (
        True,
        False,
        False,
        False,
    )
    # Historical ROME v3 fiches are their own parent.
    assert Occupation.objects.get(code="M1805").rome_v3_parent_id == "M1805"
    # K2125 (Archéologue) points to K2401, a later row of the file.
    assert Occupation.objects.get(code="K2125").rome_v3_parent_id == "K2401"

    unit = Occupation.objects.get(code="H2502")
    assert unit.transition_eco == Occupation.EcologicalTransition.STRATEGIC
    assert (unit.transition_num, unit.transition_demo, unit.regulated, unit.managerial) == (
        None,
        None,
        None,
        True,
    )

    devops = Appellation.objects.get(code="12168")
    assert devops.label == "Chef / Cheffe de groupe logicien informaticien"
    assert devops.occupation_id == "M1827"
    assert devops.rarely_used is True
    architect = Appellation.objects.get(code="11119")
    assert architect.short_label == "Architecte fonctionnel(le) de système d'information"
    assert architect.rarely_used is False

    assert Mobility.objects.get(source="M1805", target="M1802").rank == 1
    assert Mobility.objects.get(source="M1827", target="M1811").rank == 3
    assert list(
        NafDivisionOccupation.objects.filter(occupation="M1811").values_list(
            "naf_division", flat=True
        )
    ) == ["62", "63", "74"]


def test_second_import_changes_nothing(rome_dir):
    import_rome(rome_dir)
    reports = import_rome(rome_dir)

    assert all(r.created == r.updated == 0 for r in reports)
    assert [r.unchanged for r in reports] == [3, 5, 13, 14, 12, 25]
    assert [getattr(r, "deleted", 0) for r in reports] == [0] * 6
    assert counts() == {"occupations": 21, "appellations": 14, "mobilities": 12, "naf": 25}


def test_import_updates_changed_rows_and_removes_pairs_gone_from_the_file(rome_dir):
    import_rome(rome_dir)
    Occupation.objects.filter(code="M1607").update(label="Ancien libellé")
    Occupation.objects.filter(code="H2507").update(rome_v3_parent=None, managerial=None)
    Appellation.objects.filter(code="12168").update(rarely_used=False)
    Mobility.objects.filter(source="M1805", target="M1802").update(rank=7)
    Mobility.objects.create(source_id="M1607", target_id="M1805", rank=1)
    NafDivisionOccupation.objects.create(naf_division="01", occupation_id="M1607")

    reports = import_rome(rome_dir)

    assert figures(reports)[FICHE_FILE] == (0, 2, 11)
    assert figures(reports)[APPELLATION_FILE] == (0, 1, 13)
    assert figures(reports)[MOBILITY_FILE] == (0, 1, 11)
    assert reports[4].deleted == 1
    assert figures(reports)[NAF_FILE] == (0, 0, 25)
    assert reports[5].deleted == 1
    assert Occupation.objects.get(code="M1607").label == "Secrétaire"
    h2507 = Occupation.objects.get(code="H2507")
    assert (h2507.rome_v3_parent_id, h2507.managerial) == ("H2502", True)
    assert Appellation.objects.get(code="12168").rarely_used is True
    assert Mobility.objects.get(source="M1805", target="M1802").rank == 1
    assert not Mobility.objects.filter(source="M1607", target="M1805").exists()
    assert not NafDivisionOccupation.objects.filter(naf_division="01").exists()


def test_bad_fiche_file_is_refused_with_its_lines_and_writes_nothing(rome_dir):
    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_dir / "bad_fiche")

    errors = refused.value.errors
    assert [(e.source, e.line) for e in errors] == [
        (FICHE_FILE, 2),
        (FICHE_FILE, 5),
        (FICHE_FILE, 15),
    ]
    assert "emploi_cadre : valeur « Oui » inconnue" in errors[0].message
    assert errors[1].message == "code ROME parent « K2499 » inconnu"
    assert "« M18X5 » invalide" in errors[2].message
    message = str(refused.value)
    assert message.startswith(f"{FICHE_FILE} refusé, rien n'a été écrit")
    assert f"{FICHE_FILE}, ligne 15 : code ROME « M18X5 » invalide" in message
    assert counts() == {"occupations": 0, "appellations": 0, "mobilities": 0, "naf": 0}


def test_bad_file_leaves_existing_data_untouched(rome_dir):
    import_rome(rome_dir)
    # A value the good import would restore: it must survive a refused import.
    Occupation.objects.filter(code="M1607").update(label="Ancien libellé")
    before = counts()

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_dir / "bad_mobilite")

    assert [(e.source, e.line) for e in refused.value.errors] == [
        (MOBILITY_FILE, 3),
        (MOBILITY_FILE, 6),
        (MOBILITY_FILE, 14),
    ]
    assert refused.value.errors[0].message == "code ROME cible « M1999 » inconnu"
    assert "« trois » invalide" in refused.value.errors[1].message
    assert refused.value.errors[2].message == "mobilité H2507 → H2502 en double (déjà ligne 2)"
    assert counts() == before
    assert Occupation.objects.get(code="M1607").label == "Ancien libellé"
    assert Mobility.objects.get(source="H2507", target="K2111").rank == 9


def test_errors_of_several_files_are_reported_together(rome_dir, rome_copy):
    shutil.copy(rome_dir / "bad_fiche" / FICHE_FILE, rome_copy / FICHE_FILE)
    shutil.copy(rome_dir / "bad_mobilite" / MOBILITY_FILE, rome_copy / MOBILITY_FILE)

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    assert {e.source for e in refused.value.errors} == {FICHE_FILE, MOBILITY_FILE}
    assert len(refused.value.errors) == 6
    assert str(refused.value).startswith(f"Export ROME ({rome_copy}) refusé")


def test_fiches_may_point_to_codes_already_in_the_database(rome_dir, rome_copy):
    import_rome(rome_dir)
    # An export that lists only the appellation of M1855: its fiche is known from the DB.
    (rome_copy / FICHE_FILE).write_text(
        (rome_dir / FICHE_FILE).read_text(encoding="utf-8").splitlines(keepends=True)[0],
        encoding="utf-8",
    )
    (rome_copy / MOBILITY_FILE).unlink()
    (rome_copy / NAF_FILE).unlink()

    reports = import_rome(rome_copy)

    assert figures(reports)[APPELLATION_FILE] == (0, 0, 14)
    assert Occupation.objects.fiches().count() == 13


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_missing_required_file_is_refused(rome_copy, name):
    (rome_copy / name).unlink()

    with pytest.raises(
        ImportFailed, match=f"fichier\\(s\\) obligatoire\\(s\\) absent\\(s\\).*{name}"
    ):
        import_rome(rome_copy)
    assert counts()["occupations"] == 0


def test_optional_files_may_be_absent_and_their_tables_are_kept(rome_dir, rome_copy):
    import_rome(rome_dir)
    for name in (APPELLATION_FILE, MOBILITY_FILE, NAF_FILE):
        (rome_copy / name).unlink()

    reports = import_rome(rome_copy)

    assert [r.source for r in reports] == list(REQUIRED_FILES)
    assert counts() == {"occupations": 21, "appellations": 14, "mobilities": 12, "naf": 25}


def test_mobility_to_itself_is_skipped(rome_copy):
    with (rome_copy / MOBILITY_FILE).open("a", encoding="utf-8") as file:
        file.write('"M1607","M1607","4"\n')

    reports = import_rome(rome_copy)

    assert figures(reports)[MOBILITY_FILE] == (12, 0, 0)
    assert not Mobility.objects.filter(source="M1607", target="M1607").exists()


def test_one_digit_naf_division_is_zero_padded(rome_copy):
    with (rome_copy / NAF_FILE).open("a", encoding="utf-8") as file:
        file.write('"1","Culture et production animale","475","M1602","Agent administratif"\n')

    import_rome(rome_copy)

    assert NafDivisionOccupation.objects.filter(naf_division="01", occupation="M1602").exists()


def test_file_not_in_utf8_is_refused_at_its_first_bad_line(rome_copy):
    path = rome_copy / NAF_FILE
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("iso-8859-15"))
    first_accent = next(n for n, line in enumerate(text.splitlines(), 1) if not line.isascii())

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (NAF_FILE, first_accent)
    assert "UTF-8" in error.message


def test_missing_column_is_refused_on_the_header_line(rome_copy):
    edit_line(rome_copy / MOBILITY_FILE, 1, '"numero_ordre"', '"ordre"')

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (MOBILITY_FILE, 1)
    assert "numero_ordre" in error.message


def test_row_with_wrong_field_count_is_refused(rome_copy):
    edit_line(rome_copy / MOBILITY_FILE, 4, '"8"', '"8","9"')

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (MOBILITY_FILE, 4)
    assert "4 champ(s) au lieu de 3" in error.message


def test_error_line_counts_physical_lines_of_quoted_multiline_fields(rome_copy):
    # Line 2 gets a label on two lines, so the record on line 4 now starts on line 5.
    edit_line(rome_copy / APPELLATION_FILE, 4, '"K2111"', '"K9999"')
    edit_line(
        rome_copy / APPELLATION_FILE, 2, '"Agent administratif / ', '"Agent\nadministratif / '
    )

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (APPELLATION_FILE, 5)
    assert error.message == "code ROME « K9999 » inconnu"


def test_command_prints_one_report_per_file(rome_dir):
    out = StringIO()

    call_command("import_rome", str(rome_dir), stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    assert lines[2] == f"{FICHE_FILE} : 13 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"
    assert lines[4].endswith("0 supprimé(s)")


def test_command_fails_on_a_refused_folder(rome_dir):
    with pytest.raises(CommandError, match=f"{FICHE_FILE}, ligne 5 : code ROME parent"):
        call_command("import_rome", str(rome_dir / "bad_fiche"), stdout=StringIO())
    assert counts()["occupations"] == 0


def test_command_fails_on_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="absent"):
        call_command("import_rome", str(tmp_path / "nowhere"), stdout=StringIO())


@pytest.mark.realdata
def test_real_v460_export(shared_data):
    directory = shared_data / "rome4-francetravail"

    started = time.perf_counter()
    reports = import_rome(directory)
    first_run = time.perf_counter() - started

    # v460 has no mobility from a fiche to itself, so every one of its 14,912 rows is kept.
    assert [r.created for r in reports] == [14, 110, 1584, 13120, 14912, 2920]
    fiches = Occupation.objects.fiches()
    assert fiches.count() == 1584
    assert fiches.values("rome_v3_parent").distinct().count() == 532
    assert (
        sum(1 for code, parent in fiches.values_list("code", "rome_v3_parent") if code == parent)
        == 532
    )
    assert Occupation.objects.get(code="M1811").rome_v3_parent_id == "M1802"
    assert Occupation.objects.get(code="A1206").rome_v3_parent_id == "F1101"
    assert Appellation.objects.count() == 13120
    assert Mobility.objects.count() == 14912
    assert NafDivisionOccupation.objects.count() == 2920
    assert NafDivisionOccupation.objects.filter(naf_division="01", occupation="A1101").exists()
    assert first_run < 30, f"import took {first_run:.1f} s"

    reports = import_rome(directory)

    assert all(r.created == r.updated == 0 for r in reports)
    assert [r.unchanged for r in reports] == [14, 110, 1584, 13120, 14912, 2920]
    assert [getattr(r, "deleted", 0) for r in reports] == [0] * 6
