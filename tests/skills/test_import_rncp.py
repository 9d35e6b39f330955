import datetime
import io
import os
import shutil
import unicodedata
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from skills.importers.base import ImportFailed
from skills.importers.rncp import clean_rncp, import_rncp, join_names, load_rncp, read_rncp
from skills.models import Certification, SkillBlock
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

DATE = "2025_01_15"
STANDARD_FILE = f"export_fiches_CSV_Standard_{DATE}.csv"
BLOCS_FILE = f"export_fiches_CSV_Blocs_De_Compétences_{DATE}.csv"
ROME_FILE = f"export_fiches_CSV_Rome_{DATE}.csv"


@pytest.fixture
def rncp_dir(fixtures_dir) -> Path:
    """6 made-up fiches (4 RNCP, 2 RS) with 7 blocs, in the official format (see its README)."""
    return fixtures_dir / "rncp"


@pytest.fixture
def rncp_copy(rncp_dir, tmp_path) -> Path:
    """A writable copy of the fixture export, for variants made in the test."""
    directory = tmp_path / "export"
    directory.mkdir()
    for path in rncp_dir.glob("*.csv"):
        shutil.copy(path, directory / path.name)
    return directory


@pytest.fixture
def occupations(db):
    """Three of the six ROME codes of the fixture's Rome file; M1403, H1102 and D1507 stay
    unknown."""
    return [OccupationFactory(code=code) for code in ("M1805", "M1604", "M1607")]


def zip_folder(directory: Path, target: Path, *, folder: str = "", nfd: bool = False) -> Path:
    """Zip the CSV files of `directory` as curators upload them; `folder` puts them under a
    folder of the archive, `nfd` writes their names decomposed (as macOS does)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.glob("*.csv")):
            name = unicodedata.normalize("NFD", path.name) if nfd else path.name
            archive.write(path, folder + name)
    return target


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_bytes("\r\n".join(lines).encode("utf-8"))


def figures(reports) -> list:
    return [(r.source, r.created, r.updated, r.unchanged) for r in reports]


def snapshot() -> dict:
    """Everything the import writes, in comparable form."""
    return {
        "certifications": [
            (
                c.code,
                c.register,
                c.title,
                c.level,
                c.active,
                c.end_date,
                c.certifiers,
                c.formacodes,
                c.nsf_codes,
                sorted(o.code for o in c.occupations.all()),
            )
            for c in Certification.objects.prefetch_related("occupations")
        ],
        "blocks": [
            (b.code, b.label, b.certification.code, sorted(o.code for o in b.occupations.all()))
            for b in SkillBlock.objects.select_related("certification").prefetch_related("occupations")
        ],
    }


def nothing_written() -> bool:
    return not Certification.objects.exists() and not SkillBlock.objects.exists()


# A whole export


def test_import_loads_the_certifications_of_the_fixture(rncp_dir, occupations):
    reports = import_rncp(rncp_dir)

    assert figures(reports) == [(STANDARD_FILE, 6, 0, 0), (BLOCS_FILE, 7, 0, 0)]
    assert Certification.objects.count() == 6
    assert Certification.objects.filter(register=Certification.Register.RS).count() == 2

    chef = Certification.objects.get(code="RNCP37827")
    assert chef.register == Certification.Register.RNCP
    assert chef.title == "Chef de projet en intelligence artificielle"
    assert chef.level == 7
    assert chef.active is True
    assert chef.end_date == datetime.date(2026, 7, 20)
    # The SIRETs' leading TAB is gone and the names are joined in file order.
    assert chef.certifiers == "UNIVERSITE DE LILLE, IMT NORD EUROPE"
    assert chef.formacodes == ["31025", "31054"]
    assert chef.nsf_codes == ["326", "326n"]

    old = Certification.objects.get(code="RNCP4321")
    assert (old.level, old.active, old.end_date) == (None, False, datetime.date(2015, 1, 10))  # REPRISE
    assert (old.certifiers, old.formacodes, old.nsf_codes) == ("AFPA", [], ["324t"])

    rs = Certification.objects.get(code="RS6434")
    assert rs.register == Certification.Register.RS
    assert rs.title == "Utiliser l’intelligence artificielle générative dans son activité professionnelle"
    assert (rs.level, rs.active, rs.end_date) == (None, True, datetime.date(2026, 9, 28))
    assert (rs.certifiers, rs.formacodes, rs.nsf_codes) == ("SIMPLON.CO", ["31025"], ["326"])

    no_certifier = Certification.objects.get(code="RS5870")
    assert (no_certifier.certifiers, no_certifier.active) == ("", False)
    assert Certification.objects.get(code="RNCP34127").level == 3


def test_occupations_link_certifications_and_their_blocks(rncp_dir, occupations):
    import_rncp(rncp_dir)

    def codes(queryset):
        return sorted(queryset.values_list("code", flat=True))

    assert codes(Certification.objects.get(code="RNCP37827").occupations) == ["M1805"]
    assert codes(Certification.objects.get(code="RNCP35288").occupations) == ["M1604"]
    assert codes(Certification.objects.get(code="RNCP4321").occupations) == ["M1607"]
    assert codes(Certification.objects.get(code="RNCP34127").occupations) == []  # D1507 unknown

    assert codes(SkillBlock.objects.filter(certification__code="RNCP37827")) == [
        "RNCP37827BC01",
        "RNCP37827BC02",
        "RNCP37827BC03",
    ]
    block = SkillBlock.objects.get(code="RNCP37827BC02")
    assert block.label == "Concevoir et entraîner des modèles d’apprentissage automatique"
    # The export gives ROME codes per fiche: every block takes its certification's.
    for code in ("RNCP37827BC01", "RNCP37827BC02", "RNCP37827BC03"):
        assert codes(SkillBlock.objects.get(code=code).occupations) == ["M1805"]
    assert codes(SkillBlock.objects.get(code="RNCP35288BC02").occupations) == ["M1604"]
    assert codes(SkillBlock.objects.get(code="RNCP34127BC01").occupations) == []
    assert codes(occupations[0].skill_blocks) == ["RNCP37827BC01", "RNCP37827BC02", "RNCP37827BC03"]


def test_unknown_rome_codes_are_reported_not_refused(rncp_dir, occupations):
    reports = import_rncp(rncp_dir)

    assert reports[0].unknown_rome_codes == ["D1507", "H1102", "M1403"]
    assert reports[0].as_dict()["unknown_rome_codes"] == ["D1507", "H1102", "M1403"]
    assert str(reports[0]) == (
        f"{STANDARD_FILE} : 6 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s), 3 code(s) ROME absent(s) "
        "du référentiel importé, liens ignorés : D1507, H1102, M1403"
    )


def test_second_import_changes_nothing(rncp_dir, occupations):
    import_rncp(rncp_dir)
    before = snapshot()

    reports = import_rncp(rncp_dir)

    assert figures(reports) == [(STANDARD_FILE, 0, 0, 6), (BLOCS_FILE, 0, 0, 7)]
    assert snapshot() == before


def test_import_updates_changed_rows_and_their_links(rncp_dir, occupations):
    import_rncp(rncp_dir)
    Certification.objects.filter(code="RNCP35288").update(title="Ancien intitulé", formacodes=[])
    Certification.objects.get(code="RNCP4321").occupations.add(occupations[1])  # not in the file
    SkillBlock.objects.get(code="RNCP37827BC03").occupations.clear()

    reports = import_rncp(rncp_dir)

    # RNCP35288 for its fields, RNCP4321 for its links; RNCP37827BC03 for its links.
    assert figures(reports) == [(STANDARD_FILE, 0, 2, 4), (BLOCS_FILE, 0, 1, 6)]
    assert Certification.objects.get(code="RNCP35288").title == "Assistant de direction"
    assert Certification.objects.get(code="RNCP35288").formacodes == ["35054"]
    assert list(Certification.objects.get(code="RNCP4321").occupations.values_list("code", flat=True)) == ["M1607"]
    assert list(SkillBlock.objects.get(code="RNCP37827BC03").occupations.values_list("code", flat=True)) == ["M1805"]


def test_zip_directory_and_file_object_give_the_same_result(rncp_dir, occupations, tmp_path):
    from_directory = figures(import_rncp(rncp_dir))
    expected = snapshot()
    archive = zip_folder(rncp_dir, tmp_path / "export-fiches-csv-2025-01-15.zip")

    Certification.objects.all().delete()
    assert figures(import_rncp(archive)) == from_directory
    assert snapshot() == expected

    Certification.objects.all().delete()
    with archive.open("rb") as upload:
        assert figures(import_rncp(upload)) == from_directory
    assert snapshot() == expected

    Certification.objects.all().delete()
    assert figures(import_rncp(io.BytesIO(archive.read_bytes()))) == from_directory
    assert snapshot() == expected


def test_zip_with_its_files_in_a_folder_and_decomposed_names(rncp_dir, occupations, tmp_path):
    archive = zip_folder(rncp_dir, tmp_path / "export.zip", folder="export-fiches-csv-2025-01-15/", nfd=True)

    reports = import_rncp(archive)

    assert figures(reports) == [(STANDARD_FILE, 6, 0, 0), (BLOCS_FILE, 7, 0, 0)]


def test_read_finds_the_parts_whatever_the_date_and_ignores_the_others(rncp_copy):
    (rncp_copy / STANDARD_FILE).rename(rncp_copy / "export_fiches_CSV_Standard_2031_12_31.csv")
    (rncp_copy / "notes.txt").write_text("pas un fichier de l'export", encoding="utf-8")

    frames = read_rncp(rncp_copy)

    assert list(frames) == ["Standard", "Blocs_De_Compétences", "Rome", "Formacode", "Nsf", "Certificateurs"]
    assert frames["Standard"].attrs["source"] == "export_fiches_CSV_Standard_2031_12_31.csv"
    assert list(frames["Standard"].index) == [2, 3, 4, 5, 6, 7]  # physical lines, header = 1
    assert frames["Certificateurs"].loc[2, "Siret_Certificateur"] == "13002091000019"


def test_absent_optional_part_keeps_what_the_database_holds(rncp_dir, rncp_copy, occupations):
    import_rncp(rncp_dir)
    (rncp_copy / ROME_FILE).unlink()
    (rncp_copy / BLOCS_FILE).unlink()

    reports = import_rncp(rncp_copy)

    assert figures(reports) == [(STANDARD_FILE, 0, 0, 6), ("Blocs_De_Compétences (fichier absent)", 0, 0, 0)]
    assert SkillBlock.objects.count() == 7
    assert list(Certification.objects.get(code="RNCP37827").occupations.values_list("code", flat=True)) == ["M1805"]


def test_progress_is_reported_after_each_step(rncp_dir):
    fractions = []

    import_rncp(rncp_dir, progress=fractions.append)

    assert fractions == [0.4, 0.6, 1.0]


def test_load_runs_a_bounded_number_of_queries(rncp_dir, occupations, django_assert_max_num_queries):
    clean = clean_rncp(read_rncp(rncp_dir))

    # Bulk reads and writes: the count does not grow with the number of rows.
    with django_assert_max_num_queries(16):
        load_rncp(clean)


def test_certifiers_beyond_the_field_length_are_counted():
    names = [f"UNIVERSITE NUMERO {n:02d}" for n in range(60)]  # 20 characters each

    text = join_names(names)

    assert len(text) <= 1000
    kept = text.split(" et ")[0].split(", ")
    assert kept == names[: len(kept)]
    assert text.endswith(f" et {60 - len(kept)} autre(s)")
    assert join_names(["A", "B"]) == "A, B"


# Refused exports: nothing written, the file and line named


def test_missing_standard_file_is_refused(rncp_copy):
    (rncp_copy / STANDARD_FILE).unlink()

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    assert "export_fiches_CSV_Standard_<date>.csv absent" in str(refused.value)
    assert str(refused.value).startswith(f"{rncp_copy} refusé, rien n'a été écrit")
    assert nothing_written()


def test_missing_column_is_refused_on_the_header_line(rncp_copy):
    edit_line(rncp_copy / BLOCS_FILE, 1, '"Bloc_Competences_Libelle"', '"Libelle"')

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (BLOCS_FILE, 1)
    assert error.message == "colonne(s) absente(s) de l'en-tête : Bloc_Competences_Libelle"
    assert nothing_written()


def test_bad_level_is_refused_with_its_line(rncp_copy):
    edit_line(rncp_copy / STANDARD_FILE, 3, '"NIV5"', '"NIV9"')
    edit_line(rncp_copy / STANDARD_FILE, 6, '"NIV3"', "")  # an RNCP fiche must have a level

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    assert [(e.source, e.line) for e in refused.value.errors] == [(STANDARD_FILE, 3), (STANDARD_FILE, 6)]
    assert refused.value.errors[0].message.startswith("niveau européen : valeur « NIV9 » inconnue")
    assert refused.value.errors[1].message.startswith("niveau européen vide")
    assert f"{STANDARD_FILE}, ligne 3 : niveau européen" in str(refused.value)
    assert nothing_written()


def test_bloc_of_an_unknown_fiche_is_refused(rncp_copy):
    edit_line(rncp_copy / BLOCS_FILE, 8, "RNCP34127", "RNCP99999")  # the fiche and its bloc code
    edit_line(rncp_copy / BLOCS_FILE, 8, "RNCP34127BC02", "RNCP99999BC02")
    edit_line(rncp_copy / BLOCS_FILE, 7, '"RNCP34127BC01"', '"RNCP35288BC03"')  # another fiche's code

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    errors = refused.value.errors
    assert [(e.source, e.line) for e in errors] == [(BLOCS_FILE, 7), (BLOCS_FILE, 8)]
    assert errors[0].message == "bloc « RNCP35288BC03 » d'une autre fiche que « RNCP34127 »"
    assert errors[1].message == f"fiche « RNCP99999 » inconnue : absente du fichier {STANDARD_FILE}"
    assert nothing_written()


def test_bad_date_is_refused_with_its_line(rncp_copy):
    edit_line(rncp_copy / STANDARD_FILE, 2, '"20/07/2026"', '"2026-07-20"')
    edit_line(rncp_copy / STANDARD_FILE, 5, '"28/09/2023"', '"31/02/2023"')

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    errors = refused.value.errors
    assert [(e.source, e.line) for e in errors] == [(STANDARD_FILE, 2), (STANDARD_FILE, 5)]
    assert errors[0].message == "Date_Fin_Enregistrement : date « 2026-07-20 » invalide (attendu : jj/mm/aaaa)"
    assert errors[1].message == "Date_Decision : date « 31/02/2023 » invalide (attendu : jj/mm/aaaa)"
    assert nothing_written()


def test_bad_codes_of_the_other_parts_are_refused_together(rncp_copy):
    edit_line(rncp_copy / ROME_FILE, 3, '"M1403"', '"M14033"')
    edit_line(rncp_copy / STANDARD_FILE, 4, '"INACTIVE"', '"Inactive"')

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    assert [(e.source, e.line) for e in refused.value.errors] == [(STANDARD_FILE, 4), (ROME_FILE, 3)]
    assert refused.value.errors[1].message == "code ROME « M14033 » invalide"
    assert str(refused.value).startswith("Export RNCP / RS refusé, rien n'a été écrit")
    assert nothing_written()


def test_file_not_in_utf8_is_refused_naming_the_file(rncp_copy):
    path = rncp_copy / STANDARD_FILE
    path.write_bytes(path.read_bytes().decode("utf-8").encode("latin-1", errors="replace"))

    with pytest.raises(ImportFailed) as refused:
        import_rncp(rncp_copy)

    [error] = refused.value.errors
    # Line 4 is the first with an accent (« secrétariat »).
    assert (error.source, error.line) == (STANDARD_FILE, 4)
    assert error.message == "caractère invalide : le fichier doit être encodé en UTF-8"
    assert f"{STANDARD_FILE}, ligne 4 : caractère invalide" in str(refused.value)
    assert nothing_written()


def test_truncated_zip_is_refused(rncp_dir, tmp_path):
    archive = zip_folder(rncp_dir, tmp_path / "export-fiches-csv-2025-01-15.zip")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    with pytest.raises(ImportFailed) as refused:
        import_rncp(archive)

    assert str(refused.value).startswith(
        "export-fiches-csv-2025-01-15.zip refusé, rien n'a été écrit : archive zip illisible ou tronquée"
    )
    assert nothing_written()


def test_refused_export_leaves_existing_data_untouched(rncp_dir, rncp_copy, occupations):
    import_rncp(rncp_dir)
    Certification.objects.filter(code="RNCP35288").update(title="Ancien intitulé")
    before = snapshot()
    edit_line(rncp_copy / STANDARD_FILE, 7, '"INACTIVE"', '"SUSPENDUE"')

    with pytest.raises(ImportFailed):
        import_rncp(rncp_copy)

    assert snapshot() == before


# The command


def test_command_prints_the_reports_and_the_ai_blocks(rncp_dir, occupations, tmp_path):
    archive = zip_folder(rncp_dir, tmp_path / "export-fiches-csv-2025-01-15.zip")
    out = StringIO()

    call_command("import_rncp", str(archive), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{STANDARD_FILE} : 6 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)")
    assert lines[1] == f"{BLOCS_FILE} : 7 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"
    assert lines[2] == (
        "Repérage IA : 3 bloc(s) de compétences en lien avec l'IA et les données "
        "(3 marquage(s) modifié(s) par ce passage)."
    )
    assert sorted(SkillBlock.objects.filter(ai_related=True).values_list("code", flat=True)) == [
        "RNCP35288BC02",
        "RNCP37827BC01",
        "RNCP37827BC02",
    ]


def test_command_fails_on_a_refused_export(rncp_copy):
    edit_line(rncp_copy / STANDARD_FILE, 3, '"NIV5"', '"NIV9"')
    out = StringIO()

    with pytest.raises(CommandError, match=f"{STANDARD_FILE}, ligne 3 : niveau européen") as failed:
        call_command("import_rncp", str(rncp_copy), stdout=out)

    assert failed.value.returncode == 1  # manage.py exits with it
    assert out.getvalue() == ""
    assert nothing_written()


def test_command_fails_on_a_missing_path(tmp_path):
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_rncp", str(tmp_path / "nulle-part.zip"), stdout=StringIO())


# The real sample


@pytest.mark.realdata
def test_real_export_sample(shared_data):
    directory = shared_data / "rncp-francecompetences" / "export-fiches-csv-2024-02-22-sample"
    OccupationFactory(code="I1203")
    OccupationFactory(code="D1406")

    reports = import_rncp(directory)

    assert [(r.created, r.updated, r.unchanged) for r in reports] == [(9, 0, 0), (6, 0, 0)]
    assert reports[0].unknown_rome_codes == ["D1102", "D1104", "D1407", "H1102"]
    assert Certification.objects.count() == 9
    assert Certification.objects.filter(register=Certification.Register.RS).count() == 2
    assert Certification.objects.filter(active=True).count() == 2

    cap = Certification.objects.get(code="RNCP509")
    assert cap.title == "Agent vérificateur d'appareils extincteurs"
    assert (cap.level, cap.active, cap.end_date) == (3, False, datetime.date(2023, 8, 31))
    assert cap.certifiers == "MINISTERE DE L'EDUCATION NATIONALE ET DE LA JEUNESSE"
    assert (cap.formacodes, cap.nsf_codes) == (["42872"], ["251"])
    assert list(cap.occupations.values_list("code", flat=True)) == ["I1203"]
    assert list(cap.skill_blocks.values_list("code", flat=True)) == [f"RNCP509BC0{n}" for n in range(1, 7)]
    assert SkillBlock.objects.get(code="RNCP509BC06").label == "UG3 : Éducation physique et sportive"
    assert list(SkillBlock.objects.get(code="RNCP509BC01").occupations.values_list("code", flat=True)) == ["I1203"]

    tourier = Certification.objects.get(code="RS6117")
    assert (tourier.register, tourier.level, tourier.end_date) == ("RS", None, datetime.date(2025, 9, 29))
    assert tourier.certifiers == "CONFEDE. NATIONALE BOULANGERS PATISSIERS, INSTITUT NATIONAL BOULANGERIE PATISSERIE"
    assert tourier.formacodes == ["21538", "21528"]
    assert Certification.objects.get(code="RNCP19468").level is None  # « REPRISE »: sans niveau
    assert Certification.objects.get(code="RS5000").nsf_codes == ["326", "114b"]
    # D1406 is known: the four fiches listing it link to it, whatever the others.
    assert sorted(Certification.objects.filter(occupations="D1406").values_list("code", flat=True)) == [
        "RNCP22094",
        "RNCP28155",
        "RNCP30271",
        "RNCP4049",
    ]

    reports = import_rncp(directory)

    assert [(r.created, r.updated, r.unchanged) for r in reports] == [(0, 0, 9), (0, 0, 6)]


# --- Archives opened with limits --------------------------------------------------------------


def _bomb(rncp_dir: Path, target: Path, *, part: str, size: int, data: bytes = b"\0") -> Path:
    """The fixture's export zipped with one of its used parts replaced by `size` bytes made of
    `data` repeated, written a megabyte at a time (never held whole)."""
    chunk = (data * (2**20 // len(data) + 1))[: 2**20]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(rncp_dir.glob("*.csv")):
            if path.name != part:
                archive.write(path, path.name)
        with archive.open(part, "w") as member:
            for start in range(0, size, len(chunk)):
                member.write(chunk[: size - start])
    return target


def test_a_zip_bomb_is_refused_before_anything_is_written(rncp_dir, occupations, tmp_path):
    # 64 MiB of zeros in about 64 KiB: a thousand times compressed, where CSV text is about ten.
    part = next(p.name for p in rncp_dir.glob("*Blocs*.csv"))
    bomb = _bomb(rncp_dir, tmp_path / "export.zip", part=part, size=64 * 2**20)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ImportFailed, match="bombe de décompression"):
        import_rncp(bomb)
    assert not Certification.objects.exists() and not SkillBlock.objects.exists()


def test_an_archive_too_large_once_uncompressed_is_refused(rncp_dir, occupations, tmp_path, monkeypatch):
    """The total limit, counted on what is read: lowered here to 4 MiB, with 6 MiB of
    incompressible bytes in one part (the ratio limit cannot be what refuses it)."""
    from skills.importers import rncp

    monkeypatch.setattr(rncp, "MAX_UNCOMPRESSED_BYTES", 4 * 2**20)
    part = next(p.name for p in rncp_dir.glob("*Blocs*.csv"))
    archive = _bomb(rncp_dir, tmp_path / "export.zip", part=part, size=6 * 2**20, data=os.urandom(2**16))
    with pytest.raises(ImportFailed, match="archive trop volumineuse une fois décompressée"):
        import_rncp(archive)
    assert not Certification.objects.exists()
