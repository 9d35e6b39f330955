import csv
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from skills.importers.base import ImportFailed
from skills.importers.rome import (
    APPELLATION_FILE,
    COHERENCE_FILE,
    CONTEXT_FILE,
    DOMAINE_FILE,
    FICHE_FILE,
    ITEM_FILE,
    LINK_FILE,
    MOBILITY_FILE,
    NAF_FILE,
    REQUIRED_FILES,
    ClassificationStep,
    import_rome,
)
from skills.importers.rome.items import load_items, read_contexts, read_items
from skills.models import (
    Appellation,
    ItemOverride,
    Mobility,
    NafDivisionOccupation,
    Occupation,
    OccupationItem,
    RomeItem,
)
from skills.services import classify_rome_items

pytestmark = pytest.mark.django_db

Level = Occupation.Level
Kind = RomeItem.Kind
Core = OccupationItem.Core

FILES = [
    "unix_grand_domaine_v460_utf8.csv",
    DOMAINE_FILE,
    FICHE_FILE,
    APPELLATION_FILE,
    MOBILITY_FILE,
    NAF_FILE,
    ITEM_FILE,
    CONTEXT_FILE,
    LINK_FILE,
    COHERENCE_FILE,
]
ITEM_FILES = (ITEM_FILE, CONTEXT_FILE, LINK_FILE, COHERENCE_FILE)
# Rows of the fixture's files (see its README), in the order of FILES.
FIXTURE_ROWS = [3, 5, 13, 14, 12, 25, 466, 40, 662, 662]


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
        "items": RomeItem.objects.count(),
        "links": OccupationItem.objects.count(),
    }


FIXTURE_COUNTS = {"occupations": 21, "appellations": 14, "mobilities": 12, "naf": 25, "items": 466, "links": 662}
NOTHING = dict.fromkeys(FIXTURE_COUNTS, 0)


def figures(reports) -> dict:
    return {r.source: (r.created, r.updated, r.unchanged) for r in reports}


def file_reports(reports) -> list:
    """The reports of the files, without the classification's that follows them."""
    assert isinstance(reports[-1], ClassificationStep)
    return reports[:-1]


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def drop_lines(path: Path, predicate) -> int:
    """Remove the data lines of `path` whose record satisfies `predicate`; returns how many."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]] + [
        line for line in lines[1:] if not predicate(dict(zip(header, next(csv.reader([line])), strict=True)))
    ]
    path.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


def line_of(path: Path, text: str) -> int:
    """The number of the first line of `path` holding `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def append_line(path: Path, line: str) -> int:
    """Append a record; returns its line number."""
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
    return len(path.read_text(encoding="utf-8").splitlines())


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_import_builds_the_tree_from_the_fixture(rome_dir):
    reports = file_reports(import_rome(rome_dir))

    assert [r.source for r in reports] == FILES
    assert [r.created for r in reports] == FIXTURE_ROWS
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
    assert list(NafDivisionOccupation.objects.filter(occupation="M1811").values_list("naf_division", flat=True)) == [
        "62",
        "63",
        "74",
    ]


def test_second_import_changes_nothing(rome_dir):
    import_rome(rome_dir)
    reports = import_rome(rome_dir)

    assert all(r.created == r.updated == 0 for r in reports)
    assert [r.unchanged for r in file_reports(reports)] == FIXTURE_ROWS
    assert [getattr(r, "deleted", 0) for r in reports] == [0] * 11
    assert reports[-1].classification.changed == 0
    assert counts() == FIXTURE_COUNTS


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
    assert counts() == NOTHING


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

    with pytest.raises(ImportFailed, match=f"fichier\\(s\\) obligatoire\\(s\\) absent\\(s\\).*{name}"):
        import_rome(rome_copy)
    assert counts()["occupations"] == 0


def test_optional_files_may_be_absent_and_their_tables_are_kept(rome_dir, rome_copy):
    import_rome(rome_dir)
    for name in (APPELLATION_FILE, MOBILITY_FILE, NAF_FILE, *ITEM_FILES):
        (rome_copy / name).unlink()

    reports = import_rome(rome_copy)

    # Without the item file there is nothing to classify: no classification report.
    assert [r.source for r in reports] == list(REQUIRED_FILES)
    assert counts() == FIXTURE_COUNTS


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
    edit_line(rome_copy / APPELLATION_FILE, 2, '"Agent administratif / ', '"Agent\nadministratif / ')

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (APPELLATION_FILE, 5)
    assert error.message == "code ROME « K9999 » inconnu"


# The items that describe the fiches.

CORES = {"Principale": Core.MAIN, "Émergente": Core.EMERGING, "": Core.OTHER}


def test_import_loads_the_items_of_the_fixture(rome_dir):
    reports = import_rome(rome_dir)

    assert dict(RomeItem.objects.values_list("kind").annotate(n=Count("code"))) == {
        Kind.SKILL: 338,
        Kind.SOFT_SKILL: 12,
        Kind.KNOWLEDGE: 76,
        Kind.CONTEXT: 40,
    }
    links = OccupationItem.objects.values_list("item__kind").annotate(n=Count("pk"))
    assert dict(links) == {Kind.SKILL: 415, Kind.SOFT_SKILL: 45, Kind.KNOWLEDGE: 104, Kind.CONTEXT: 98}
    # Blocs 1 and 2 name the fiche and its appellations: skipped, not items.
    assert not RomeItem.objects.filter(code__in=["489081", "14156"]).exists()

    item = RomeItem.objects.get(code="486515")
    assert item.kind == Kind.SKILL
    assert item.label == "Analyser les besoins des utilisateurs pour la création de sites web"
    assert item.context_type == ""
    context = RomeItem.objects.get(code="23376")
    assert (context.kind, context.label) == (Kind.CONTEXT, "Travail les week-ends et jours fériés")
    assert context.context_type == "Horaires et durée du travail"
    assert not RomeItem.objects.filter(kind=Kind.CONTEXT, context_type="").exists()
    assert isinstance(reports[-1], ClassificationStep)
    assert str(reports[-1]).startswith("Classement des éléments du ROME : ")


def test_core_flags_are_those_of_the_coherence_file(rome_dir):
    import_rome(rome_dir)

    pairs = OccupationItem.objects.values_list("occupation", "item", "core")
    stored = {(fiche, item): core for fiche, item, core in pairs}
    rows = read_rows(rome_dir / COHERENCE_FILE)
    in_file = {(r["code_rome"], r["code_ogr"]): CORES[r["coeur_metier"]] for r in rows}
    assert stored == in_file
    assert stored["M1607", "108328"] == Core.MAIN  # the savoir « Sténographie » of Secrétaire
    assert stored["M1855", "486519"] == Core.MAIN
    assert stored["M1855", "486515"] == Core.EMERGING
    assert stored["M1855", "102732"] == Core.OTHER
    assert stored["H2502", "23376"] == Core.OTHER  # a work context
    assert OccupationItem.objects.filter(core=Core.MAIN).count() == 135
    assert OccupationItem.objects.filter(core=Core.EMERGING).count() == 9


def test_links_gone_from_the_file_are_deleted_and_cores_follow_the_file(rome_dir, rome_copy):
    import_rome(rome_dir)
    gone = ("M1855", "486515")
    assert drop_lines(rome_copy / LINK_FILE, lambda r: (r["code_rome"], r["code_ogr"]) == gone) == 1
    assert drop_lines(rome_copy / COHERENCE_FILE, lambda r: (r["code_rome"], r["code_ogr"]) == gone) == 1
    # No longer at the heart of Secrétaire: its coherence row dropped, the link kept.
    stenography = ("M1607", "108328")
    assert drop_lines(rome_copy / COHERENCE_FILE, lambda r: (r["code_rome"], r["code_ogr"]) == stenography) == 1
    # M1602 left out of the links file altogether: the file no longer speaks of it.
    m1602 = OccupationItem.objects.filter(occupation="M1602").count()
    assert drop_lines(rome_copy / LINK_FILE, lambda r: r["code_rome"] == "M1602") > 0
    drop_lines(rome_copy / COHERENCE_FILE, lambda r: r["code_rome"] == "M1602")

    reports = import_rome(rome_copy)

    links = next(r for r in reports if r.source == LINK_FILE)
    assert (links.created, links.updated, links.deleted) == (0, 0, 1)
    # The coherence rows left: all but the two dropped and those of M1602; one core changed.
    assert figures(reports)[COHERENCE_FILE] == (0, 1, 662 - 2 - m1602)
    assert not OccupationItem.objects.filter(occupation=gone[0], item=gone[1]).exists()
    assert RomeItem.objects.filter(code="486515").exists()  # items are kept
    assert OccupationItem.objects.get(occupation="M1607", item="108328").core == Core.OTHER
    assert OccupationItem.objects.filter(occupation="M1602").count() == m1602

    again = import_rome(rome_dir)

    assert figures(again)[LINK_FILE] == (1, 0, 661)
    assert figures(again)[COHERENCE_FILE] == (1, 1, 660)
    assert OccupationItem.objects.get(occupation="M1855", item="486515").core == Core.EMERGING
    assert OccupationItem.objects.get(occupation="M1607", item="108328").core == Core.MAIN


def test_changed_items_are_updated(rome_dir, rome_copy):
    import_rome(rome_dir)
    # 104016, a savoir-faire of H2502 (links line 4), becomes a savoir: its link says so too.
    edit_line(rome_copy / ITEM_FILE, line_of(rome_copy / ITEM_FILE, '"104016"'), '"1"', '"3"')
    edit_line(rome_copy / LINK_FILE, 4, '"5","1","104016"', '"5","3","104016"')
    edit_line(rome_copy / CONTEXT_FILE, 2, '"Horaires et durée du travail"', '"Horaires"')

    reports = import_rome(rome_copy)

    assert figures(reports)[ITEM_FILE] == (0, 1, 465)
    assert figures(reports)[CONTEXT_FILE] == (0, 1, 39)
    assert figures(reports)[LINK_FILE] == (0, 0, 662)
    assert RomeItem.objects.get(code="104016").kind == Kind.KNOWLEDGE
    assert RomeItem.objects.get(code="23376").context_type == "Horaires"


def test_bad_items_folder_is_refused_with_its_lines_and_writes_nothing(rome_dir):
    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_dir / "bad_items")

    errors = refused.value.errors
    assert [(e.source, e.line) for e in errors] == [(LINK_FILE, 4), (LINK_FILE, 62), (LINK_FILE, 691)]
    assert errors[0].message == "élément « 104016 » : un savoir-faire, pas un savoir comme le dit la rubrique « 3 »"
    assert errors[1].message.startswith("rubrique « 2 » inattendue dans le bloc 6")
    assert errors[2].message == "élément « 999999 » inconnu"
    assert str(refused.value).startswith(f"{LINK_FILE} refusé, rien n'a été écrit")
    assert counts() == NOTHING


def test_bad_items_folder_leaves_existing_data_untouched(rome_dir):
    import_rome(rome_dir)
    RomeItem.objects.filter(code="486515").update(label="Ancien libellé")
    OccupationItem.objects.filter(occupation="M1855", item="486515").update(core=Core.OTHER)
    before = counts()

    with pytest.raises(ImportFailed):
        import_rome(rome_dir / "bad_items")

    assert counts() == before
    assert RomeItem.objects.get(code="486515").label == "Ancien libellé"
    assert OccupationItem.objects.get(occupation="M1855", item="486515").core == Core.OTHER


@pytest.mark.parametrize(
    "name, record, message",
    [
        pytest.param(ITEM_FILE, '"12A4","Saisir des données","1"', "code OGR « 12A4 » invalide", id="bad OGR code"),
        pytest.param(
            ITEM_FILE, '"999998","Saisir des données","4"', "code_rubrique : valeur « 4 » inconnue", id="bad rubrique"
        ),
        pytest.param(
            ITEM_FILE, f'"999998","{"x" * 501}","1"', "libellé trop long : 500 caractères au plus", id="long label"
        ),
        pytest.param(ITEM_FILE, '"104016","Doublon","1"', "élément « 104016 » en double (déjà ligne", id="duplicate"),
        pytest.param(
            CONTEXT_FILE,
            '"486515","Analyser","1","Conditions de travail et risques professionnels"',
            f"élément « 486515 » : un savoir-faire dans {ITEM_FILE}, pas un contexte de travail",
            id="not a context",
        ),
        pytest.param(LINK_FILE, '"M1999","5","1","486515"', "code ROME « M1999 » inconnu", id="unknown fiche"),
        pytest.param(LINK_FILE, '"M1855","7","","486515"', "bloc « 7 » inattendu", id="unexpected bloc"),
        pytest.param(LINK_FILE, '"M1855","5","1","486515"', "lien M1855 → 486515 en double", id="duplicate link"),
        pytest.param(
            COHERENCE_FILE,
            '"M1602","486515",""',
            f"élément « 486515 » de la fiche M1602 absent de {LINK_FILE}",
            id="pair not linked",
        ),
        pytest.param(
            COHERENCE_FILE,
            '"M1855","486515","Secondaire"',
            "coeur_metier : valeur « Secondaire » inconnue",
            id="unknown coeur_metier",
        ),
        pytest.param(
            COHERENCE_FILE,
            '"M1855","486515","Principale"',
            "cohérence M1855 → 486515 en double",
            id="duplicate coherence",
        ),
    ],
)
def test_bad_item_row_is_refused_on_its_line(rome_copy, name, record, message):
    line = append_line(rome_copy / name, record)

    with pytest.raises(ImportFailed) as refused:
        import_rome(rome_copy)

    [error] = refused.value.errors
    assert (error.source, error.line) == (name, line)
    assert message in error.message
    assert counts() == NOTHING


@pytest.mark.parametrize("companion, main", [(CONTEXT_FILE, ITEM_FILE), (COHERENCE_FILE, LINK_FILE)])
def test_a_file_is_refused_without_the_one_it_completes(rome_copy, companion, main):
    (rome_copy / main).unlink()

    with pytest.raises(ImportFailed, match=f"{companion} ne se lit qu'avec {main}, absent du dossier"):
        import_rome(rome_copy)
    assert counts() == NOTHING


def test_overrides_are_untouched_by_a_reimport(rome_dir, rome_copy, django_user_model):
    import_rome(rome_dir)
    user = django_user_model.objects.create_user(username="curateur")
    ItemOverride.objects.create(item_id="486515", rc=0.5, rm=0, nra=0.5, nri=0, nrm=0, reason="Test", created_by=user)
    ItemOverride.objects.create(item_id="300280", reason="Rendu au lexique")
    before = list(ItemOverride.objects.values())
    edit_line(rome_copy / ITEM_FILE, 2, '","', '","Nouveau : ')  # an item updated on the way

    reports = import_rome(rome_copy)

    assert figures(reports)[ITEM_FILE] == (0, 1, 465)
    assert list(ItemOverride.objects.values()) == before


def test_the_importer_never_writes_the_classification(rome_dir, rome_copy):
    """`rc`…`nrm` and `rule` belong to classify_rome_items: loading items leaves them be, even
    on an item whose label changes."""
    import_rome(rome_dir)
    shares = {"rc": 0.1, "rm": 0.2, "nra": 0.3, "nri": 0.15, "nrm": 0.25, "rule": "à la main"}
    RomeItem.objects.filter(code__in=["486515", "23376"]).update(**shares)
    edit_line(rome_copy / ITEM_FILE, 2, '","', '","Nouveau : ')
    first = read_rows(rome_copy / ITEM_FILE)[0]["code_ogr"]
    RomeItem.objects.filter(code=first).update(**shares)

    items, contexts = read_items(rome_copy / ITEM_FILE), read_contexts(rome_copy / CONTEXT_FILE)
    item_report, context_report = load_items(items, contexts)

    assert (item_report.updated, context_report.updated) == (1, 0)
    fields = list(shares)
    for code in ("486515", "23376", first):
        assert RomeItem.objects.values(*fields).get(code=code) == shares
    assert RomeItem.objects.get(code=first).label.startswith("Nouveau : ")


def test_the_import_leaves_every_item_classified(rome_dir):
    reports = import_rome(rome_dir)

    assert reports[-1].updated == reports[-1].classification.changed
    assert classify_rome_items().changed == 0


def test_command_prints_one_report_per_file(rome_dir):
    out = StringIO()

    call_command("import_rome", str(rome_dir), stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[2] == f"{FICHE_FILE} : 13 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)"
    assert lines[4].endswith("0 supprimé(s)")
    assert lines[8] == f"{LINK_FILE} : 662 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s), 0 supprimé(s)"
    assert lines[10].startswith("Classement des éléments du ROME : ")


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

    with CaptureQueriesContext(connection) as queries:
        reports = import_rome(directory)

    # v460 has no mobility from a fiche to itself, so every one of its 14,912 rows is kept.
    # Of the 118,923 links, 104,219 are of blocs 5 and 6 (the others name the fiche and its
    # appellations), and the coherence file lists exactly those pairs.
    rows = [14, 110, 1584, 13120, 14912, 2920, 33850, 179, 104219, 104219]
    assert [r.created for r in file_reports(reports)] == rows
    fiches = Occupation.objects.fiches()
    assert fiches.count() == 1584
    assert fiches.values("rome_v3_parent").distinct().count() == 532
    assert sum(1 for code, parent in fiches.values_list("code", "rome_v3_parent") if code == parent) == 532
    assert Occupation.objects.get(code="M1811").rome_v3_parent_id == "M1802"
    assert Occupation.objects.get(code="A1206").rome_v3_parent_id == "F1101"
    assert Appellation.objects.count() == 13120
    assert Mobility.objects.count() == 14912
    assert NafDivisionOccupation.objects.count() == 2920
    assert NafDivisionOccupation.objects.filter(naf_division="01", occupation="A1101").exists()

    kinds = dict(RomeItem.objects.order_by().values_list("kind").annotate(n=Count("code")))
    assert kinds == {Kind.SKILL: 18301, Kind.SOFT_SKILL: 16, Kind.KNOWLEDGE: 15354, Kind.CONTEXT: 179}
    assert not RomeItem.objects.filter(kind=Kind.CONTEXT, context_type="").exists()
    links = OccupationItem.objects.order_by()
    assert dict(links.values_list("item__kind").annotate(n=Count("pk"))) == {
        Kind.SKILL: 49440,
        Kind.SOFT_SKILL: 5255,
        Kind.KNOWLEDGE: 35861,
        Kind.CONTEXT: 13663,
    }
    skills_per_fiche = links.filter(item__kind=Kind.SKILL).values("occupation").annotate(n=Count("pk"))
    assert len(skills_per_fiche) == 1584
    assert min(row["n"] for row in skills_per_fiche) == 7
    assert dict(links.values_list("core").annotate(n=Count("pk"))) == {
        Core.MAIN: 18900,
        Core.EMERGING: 1731,
        Core.OTHER: 83588,
    }
    # Work contexts and savoir-être are never at the heart of a job in v460.
    assert dict(links.exclude(core="").values_list("item__kind").annotate(n=Count("pk"))) == {
        Kind.SKILL: 16048 + 1374,
        Kind.KNOWLEDGE: 2852 + 357,
    }
    # Written in bulk (958 queries on SQLite): one per row would be some 290,000. How long it
    # takes is a benchmark's business, not a test's.
    assert len(queries) < 3_000, f"{len(queries)} queries"

    reports = import_rome(directory)

    assert all(r.created == r.updated == 0 for r in reports)
    assert [r.unchanged for r in file_reports(reports)] == rows
    assert [getattr(r, "deleted", 0) for r in reports] == [0] * 11
