from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from companies.importers.naf import import_naf, read_naf
from companies.models import Sector
from skills.importers.base import ImportFailed

pytestmark = pytest.mark.django_db

HEADER = "\ufeffCode; Intitulés de la  NAF rév. 2, version finale \r\n"


@pytest.fixture
def sample(fixtures_dir):
    return fixtures_dir / "naf" / "naf_sample.csv"


def summary(reports) -> list[tuple]:
    return [(r.source, r.created, r.updated, r.unchanged, r.rejected) for r in reports]


def write_csv(tmp_path, *rows: str):
    path = tmp_path / "naf.csv"
    path.write_bytes((HEADER + "".join(f"{row}\r\n" for row in rows)).encode("utf-8"))
    return path


def ancestry(code: str) -> list[str]:
    sector, chain = Sector.objects.get(code=code), []
    while sector is not None:
        chain.append(sector.code)
        sector = sector.parent
    return chain


def test_import_creates_the_five_levels(sample):
    reports = import_naf(sample)

    assert summary(reports) == [
        ("NAF sections", 3, 0, 0, 0),
        ("NAF divisions", 3, 0, 0, 0),
        ("NAF groupes", 3, 0, 0, 0),
        ("NAF classes", 4, 0, 0, 0),
        ("NAF sous-classes", 6, 0, 0, 0),
    ]
    levels = dict(Sector.objects.values_list("code", "level"))
    assert levels["A"] == Sector.Level.SECTION
    assert levels["01"] == Sector.Level.DIVISION  # the leading zero survives
    assert levels["01.1"] == Sector.Level.GROUPE
    assert levels["01.11"] == Sector.Level.CLASSE
    assert levels["01.11Z"] == Sector.Level.SOUS_CLASSE


def test_parents_follow_the_tree(sample):
    import_naf(sample)

    assert ancestry("01.11Z") == ["01.11Z", "01.11", "01.1", "01", "A"]
    assert ancestry("10.61B") == ["10.61B", "10.61", "10.6", "10", "C"]
    assert ancestry("88.99A") == ["88.99A", "88.99", "88.9", "88", "Q"]
    assert set(Sector.objects.get(code="10.61").children.values_list("code", flat=True)) == {
        "10.61A",
        "10.61B",
    }


def test_quoted_labels_keep_their_semicolon_and_lose_their_line_breaks(sample):
    import_naf(sample)

    labels = dict(Sector.objects.values_list("code", "label"))
    assert labels["A"] == "AGRICULTURE, SYLVICULTURE ET PÊCHE"
    assert labels["10.6"] == "Travail des grains ; fabrication de produits amylacés"
    assert labels["88.99A"] == (
        "Autre accueil ou accompagnement sans hébergement d’enfants et d’adolescents"
    )


def test_rows_know_their_physical_line(sample):
    frame = read_naf(sample)

    lines = dict(zip(frame["Code"], frame["line"], strict=True))
    # 88.99A's label runs over lines 19 to 21.
    assert (lines["SECTION A"], lines["88.99A"], lines["88.99B"]) == (2, 19, 22)


def test_second_run_changes_nothing(sample):
    import_naf(sample)

    reports = import_naf(sample)

    assert [(r.created, r.updated) for r in reports] == [(0, 0)] * 5
    assert [r.unchanged for r in reports] == [3, 3, 3, 4, 6]


def test_rerun_updates_changed_labels_only(sample):
    import_naf(sample)
    Sector.objects.filter(code="10.61A").update(label="Ancien intitulé")

    reports = import_naf(sample)

    assert summary(reports)[4] == ("NAF sous-classes", 0, 1, 5, 0)
    assert Sector.objects.get(code="10.61A").label == "Meunerie"


def test_bad_rows_are_reported_with_their_line_and_nothing_is_written(fixtures_dir):
    import_naf(fixtures_dir / "naf" / "naf_sample.csv")
    before = dict(Sector.objects.values_list("code", "label"))

    with pytest.raises(ImportFailed) as failure:
        import_naf(fixtures_dir / "naf" / "naf_bad.csv")

    # Line 5 is the second line of the quoted label of 01.1.
    assert [str(error) for error in failure.value.errors] == [
        "naf_bad.csv, ligne 6 : code « 01.1A » de forme inconnue "
        "(attendu : SECTION A, 01, 01.1, 01.11 ou 01.11Z)",
        "naf_bad.csv, ligne 7 : intitulé vide pour le code « 01.11 »",
    ]
    assert dict(Sector.objects.values_list("code", "label")) == before


def test_blank_lines_are_skipped_but_counted(tmp_path):
    path = write_csv(tmp_path, "", "SECTION A;AGRICULTURE", "", "01;")

    with pytest.raises(ImportFailed) as failure:
        import_naf(path)

    assert [(e.line, e.message) for e in failure.value.errors] == [
        (5, "intitulé vide pour le code « 01 »")
    ]


def test_missing_or_misplaced_parents_are_errors(tmp_path):
    path = write_csv(tmp_path, "01;Culture", "SECTION A;AGRICULTURE", "01.11;Culture de céréales")

    with pytest.raises(ImportFailed) as failure:
        import_naf(path)

    assert [(e.line, e.message) for e in failure.value.errors] == [
        (2, "la division 01 précède toute section"),
        (4, "classe 01.11 : groupe 01.1 absent du fichier"),
    ]


def test_duplicate_codes_and_extra_fields_are_errors(tmp_path):
    path = write_csv(tmp_path, "SECTION A;AGRICULTURE", "01;Culture;en trop", "01;Culture")

    with pytest.raises(ImportFailed) as failure:
        import_naf(path)

    assert [(e.line, e.message) for e in failure.value.errors] == [
        (3, "3 champs au lieu de 2"),
        (4, "code 01 en double (déjà ligne 3)"),
    ]


def test_broken_quoting_is_refused_with_its_line(tmp_path):
    path = write_csv(tmp_path, "SECTION A;AGRICULTURE", '01;"Culture"et production')

    with pytest.raises(ImportFailed) as failure:
        import_naf(path)

    (error,) = failure.value.errors
    assert error.line == 3
    assert error.message.startswith("CSV illisible")


def test_other_file_layouts_are_refused(tmp_path):
    path = tmp_path / "naf_labels.csv"
    path.write_text("naf_id|naf_label\n0111Z|Culture de céréales\n", encoding="utf-8")

    with pytest.raises(ImportFailed, match="en-tête inattendu"):
        import_naf(path)


def test_non_utf8_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "naf.csv"
    # The bad byte opens line 3, within reach of the BOM's three bytes if they were miscounted.
    rows = "SECTION A;AGRICULTURE\r\nÉ;x\r\n"
    path.write_bytes(HEADER.encode("utf-8") + rows.encode("cp1252"))

    with pytest.raises(ImportFailed) as failure:
        import_naf(path)

    (error,) = failure.value.errors
    assert error.line == 3
    assert "octet n°" in error.message


def test_command_prints_one_report_per_level(sample):
    out = StringIO()

    call_command("import_naf", str(sample), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "NAF sections : 3 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"
    assert len(lines) == 5


def test_command_exits_non_zero_on_a_refused_file(fixtures_dir):
    with pytest.raises(CommandError, match="naf_bad.csv, ligne 6"):
        call_command("import_naf", str(fixtures_dir / "naf" / "naf_bad.csv"), stdout=StringIO())
    assert not Sector.objects.exists()


@pytest.mark.realdata
def test_real_insee_file(shared_data):
    path = shared_data / "naf-rev2" / "int_courts_naf_rev_2.csv"

    reports = import_naf(path)

    assert [r.created for r in reports] == [21, 88, 272, 615, 732]
    assert ancestry("01.11Z") == ["01.11Z", "01.11", "01.1", "01", "A"]
    assert ancestry("99.00Z") == ["99.00Z", "99.00", "99.0", "99", "U"]
    # Divisions take the section above them: 05 to 09 are in B, 10 starts C.
    assert Sector.objects.get(code="09").parent.code == "B"
    assert Sector.objects.get(code="10").parent.code == "C"
    assert Sector.objects.get(code="88.99A").label == (
        "Autre accueil ou accompagnement sans hébergement d’enfants et d’adolescents"
    )

    again = import_naf(path)

    assert [(r.created, r.updated) for r in again] == [(0, 0)] * 5
