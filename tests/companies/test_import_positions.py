import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from companies.importers.positions import HEADER, import_positions
from companies.models import Company, Establishment, JobPosition, SizeBand
from companies.signals import field_data_changed
from companies.validators import luhn_complete
from skills.importers.base import ImportFailed
from skills.importers.rome import import_rome
from tests.companies.factories import (
    CommuneFactory,
    EstablishmentFactory,
    JobPositionFactory,
    SectionFactory,
    SousClasseFactory,
)

pytestmark = pytest.mark.django_db

NORDLOGIC_LILLE = "44306184100013"
NORDLOGIC_LAON = "44306184100021"
BEFFROI = "52148927800031"


@pytest.fixture
def reference(fixtures_dir):
    """What the survey file points to: ROME fiches, three communes, three sous-classes."""
    import_rome(fixtures_dir / "rome")
    CommuneFactory(code="59350", name="Lille")
    CommuneFactory(code="62041", name="Arras")
    CommuneFactory(code="02408", name="Laon")
    SousClasseFactory(code="62.01Z", label="Programmation informatique")
    SousClasseFactory(code="62.02A", label="Conseil en systèmes et logiciels informatiques")
    SousClasseFactory(
        code="10.71C",
        label="Boulangerie et boulangerie-pâtisserie",
        parent=SectionFactory(code="C", label="Industrie manufacturière"),
    )


@pytest.fixture
def positions(fixtures_dir, reference) -> Path:
    """8 positions of 3 establishments (2 companies); UTF-8 with a BOM."""
    return fixtures_dir / "positions" / "positions.csv"


@pytest.fixture
def positions_copy(positions, tmp_path) -> Path:
    path = tmp_path / "positions.csv"
    shutil.copy(positions, path)
    return path


@pytest.fixture
def signals():
    """The calls of `field_data_changed`, as the keyword arguments each one carried."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append({"sender": sender, **kwargs})

    field_data_changed.connect(receiver, weak=False)
    yield calls
    field_data_changed.disconnect(receiver)


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def position(siret: str, rome: str) -> JobPosition:
    return JobPosition.objects.get(establishment__siret=siret, occupation_id=rome)


def test_import_creates_companies_establishments_and_positions(positions):
    report = import_positions(positions)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (8, 0, 0, 0)
    assert (report.companies_created, report.establishments_created) == (2, 3)
    assert str(report) == (
        "positions.csv : 8 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s) ; "
        "entreprises : 2 créée(s), 0 mise(s) à jour ; établissements : 3 créé(s), 0 mis à jour"
    )
    assert dict(Company.objects.values_list("siren", "name")) == {
        "443061841": "Nordlogic",
        "521489278": "Boulangerie du Beffroi",
    }
    establishments = {
        e.siret: (e.company.siren, e.sector.code, e.commune.code, e.size_band)
        for e in Establishment.objects.select_related("company", "sector", "commune")
    }
    assert establishments == {
        # 6201Z written without its dot; 12 + 6 + 2 = 20 employees.
        NORDLOGIC_LILLE: ("443061841", "62.01Z", "59350", SizeBand.SMALL),
        # 40 + 25 + 5 = 70 employees; Laon keeps its leading zero.
        NORDLOGIC_LAON: ("443061841", "62.02A", "02408", SizeBand.MEDIUM),
        BEFFROI: ("521489278", "10.71C", "62041", SizeBand.MICRO),
    }
    developer = position(NORDLOGIC_LILLE, "M1805")
    assert (developer.headcount, developer.training_need, developer.source) == (
        12,
        True,
        JobPosition.Source.SURVEY,
    )
    assert developer.shares == {"rc": 10, "rm": 0, "nra": 55, "nri": 30, "nrm": 5}
    assert position(NORDLOGIC_LILLE, "M1855").training_need is False  # « Non »
    assert position(NORDLOGIC_LILLE, "M1607").training_need is True  # « OUI »


def test_second_import_changes_nothing(positions):
    import_positions(positions)

    report = import_positions(positions)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 8)
    assert (report.companies_created, report.companies_updated) == (0, 0)
    assert (report.establishments_created, report.establishments_updated) == (0, 0)
    assert JobPosition.objects.count() == 8


def test_changed_headcount_updates_one_position(positions, positions_copy):
    import_positions(positions)
    edit_line(positions_copy, 2, ";M1805;12;", ";M1805;14;")

    report = import_positions(positions_copy)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 7)
    assert position(NORDLOGIC_LILLE, "M1805").headcount == 14
    # 22 employees: still 10–49, the establishment is unchanged.
    assert report.establishments_updated == 0


def test_headcount_crossing_a_size_band_updates_the_establishment(positions, positions_copy):
    import_positions(positions)
    edit_line(positions_copy, 5, ";M1602;3;", ";M1602;6;")  # Beffroi: 7 → 10 employees

    report = import_positions(positions_copy)

    assert (report.updated, report.establishments_updated) == (1, 1)
    assert Establishment.objects.get(siret=BEFFROI).size_band == SizeBand.SMALL


def test_changed_company_name_updates_the_company(positions, positions_copy):
    import_positions(positions)
    text = positions_copy.read_text(encoding="utf-8-sig").replace(
        "Boulangerie du Beffroi", "Boulangerie du Beffroi SARL"
    )
    positions_copy.write_text(text, encoding="utf-8")

    report = import_positions(positions_copy)

    assert (report.companies_updated, report.updated) == (1, 0)
    assert Company.objects.get(siren="521489278").name == "Boulangerie du Beffroi SARL"


def test_signal_is_sent_once_after_commit(
    positions, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_positions(positions)
        assert signals == []  # nothing before the commit

    # Receivers may register callbacks of their own (the observatory's recomputation).
    assert callbacks
    assert signals == [{"sender": JobPosition, "signal": field_data_changed,
                        "source": "import_positions", "positions": 8}]  # fmt: skip


def test_no_signal_when_nothing_changed(positions, signals, django_capture_on_commit_callbacks):
    import_positions(positions)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_positions(positions)

    assert callbacks == []


def test_positions_of_other_sources_are_left_alone(positions):
    import_positions(positions)
    establishment = Establishment.objects.get(siret=BEFFROI)
    diagnostic = JobPositionFactory(
        establishment=establishment,
        occupation_id="M1607",
        headcount=9,
        source=JobPosition.Source.DIAGNOSTIC,
    )

    report = import_positions(positions)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 8)
    diagnostic.refresh_from_db()
    assert diagnostic.headcount == 9


def test_existing_establishment_is_updated_from_the_file(positions):
    # Known from elsewhere (SIRENE, a diagnostic) with another sector and size band.
    EstablishmentFactory(
        company__siren="521489278",
        company__name="Boulangerie du Beffroi",
        siret=BEFFROI,
        sector=SousClasseFactory(code="62.01Z"),
        commune=CommuneFactory(code="62041"),
        size_band=SizeBand.LARGE,
    )

    report = import_positions(positions)

    assert (report.companies_created, report.companies_updated) == (1, 0)
    assert (report.establishments_created, report.establishments_updated) == (2, 1)
    beffroi = Establishment.objects.get(siret=BEFFROI)
    assert (beffroi.sector.code, beffroi.size_band) == ("10.71C", SizeBand.MICRO)


def test_query_count_does_not_grow_with_the_file(
    reference, tmp_path, django_assert_max_num_queries
):
    rows = []
    for n in range(60):
        siret = luhn_complete(luhn_complete(f"{30000000 + n:08d}") + "0001")
        for rome in ("M1805", "M1607"):
            rows.append(f"{siret};Entreprise {n};6201Z;59350;{rome};3;10;0;55;30;5;oui")
    path = tmp_path / "enquete.csv"
    path.write_text(";".join(HEADER) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")

    # 3 reference lookups, 3 reads of existing rows, 2 reads of new keys, the savepoint and
    # 3 inserts: 13 for the 8 rows of the fixture. SQLite caps the parameters of one INSERT,
    # so 120 positions may take a second one: no query per row.
    with django_assert_max_num_queries(15):
        report = import_positions(path)

    assert (report.created, report.companies_created, report.establishments_created) == (
        120,
        60,
        60,
    )


def test_bad_file_is_refused_with_its_lines_and_writes_nothing(fixtures_dir, reference):
    with pytest.raises(ImportFailed) as refused:
        import_positions(fixtures_dir / "positions" / "positions_bad.csv")

    assert [(e.source, e.line, e.message) for e in refused.value.errors] == [
        (
            "positions_bad.csv",
            3,
            "SIRET « 44306184100014 » invalide : la clé de contrôle est fausse",
        ),
        (
            "positions_bad.csv",
            4,
            "la somme des parts de tâches fait 99 % (attendu : exactement 100 %)",
        ),
        ("positions_bad.csv", 5, "sous-classe NAF « 99.99Z » inconnue"),
        (
            "positions_bad.csv",
            6,
            "besoin de formation « peut-être » invalide (attendu : « oui » ou « non »)",
        ),
        (
            "positions_bad.csv",
            8,
            "poste M1805 du SIRET 44306184100013 en double (déjà ligne 2)",
        ),
        (
            "positions_bad.csv",
            9,
            "SIRET 44306184100021 : la commune diffère de celle de la ligne 6 "
            "(« 59350 » au lieu de « 02408 »)",
        ),
    ]
    assert not Company.objects.exists()
    assert not Establishment.objects.exists()
    assert not JobPosition.objects.exists()


def test_refused_file_leaves_existing_data_untouched(positions, fixtures_dir):
    import_positions(positions)

    with pytest.raises(ImportFailed):
        import_positions(fixtures_dir / "positions" / "positions_bad.csv")

    assert JobPosition.objects.count() == 8
    assert position(NORDLOGIC_LILLE, "M1805").headcount == 12


def test_other_bad_values_are_reported(reference, tmp_path):
    rows = [
        "4430618410001;Nordlogic;6201Z;59350;M1805;12;10;0;55;30;5;oui",
        "44306184100013;;62-01Z;2408;M18X5;0;10;0;55;30;5;oui",
        "44306184100013;Nordlogic;6201Z;59350;M1999;1.5;110;0;-5;30;5;",
    ]
    path = tmp_path / "enquete.csv"
    path.write_text(";".join(HEADER) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as refused:
        import_positions(path)

    assert [(e.line, e.message) for e in refused.value.errors] == [
        (2, "SIRET « 4430618410001 » invalide : 14 chiffres attendus"),
        (3, "raison sociale vide"),
        (3, "code NAF « 62-01Z » invalide (attendu : une sous-classe, « 62.01Z » ou « 6201Z »)"),
        (3, "code commune « 2408 » invalide (attendu : code INSEE à 5 caractères, « 02408 »)"),
        (3, "code ROME « M18X5 » invalide (attendu : une lettre et 4 chiffres)"),
        (3, "effectif « 0 » invalide : un nombre entier de salariés, au moins 1, est attendu"),
        (4, "fiche ROME « M1999 » inconnue"),
        (4, "effectif « 1.5 » invalide : un nombre entier de salariés, au moins 1, est attendu"),
        (4, "part rc « 110 » invalide : un entier de 0 à 100 est attendu"),
        (4, "part nra « -5 » invalide : un entier de 0 à 100 est attendu"),
        (4, "besoin de formation vide"),
    ]


def test_file_with_another_header_is_refused_on_line_1(reference, tmp_path):
    path = tmp_path / "enquete.csv"
    path.write_text(
        ",".join(HEADER) + "\n44306184100013,Nordlogic,6201Z,59350,M1805,12,10,0,55,30,5,oui\n",
        encoding="utf-8",
    )

    with pytest.raises(ImportFailed) as refused:
        import_positions(path)

    (error,) = refused.value.errors
    assert error.line == 1
    assert error.message.startswith("en-tête inattendu « siret,raison_sociale,")


def test_command_prints_the_report(positions):
    out = StringIO()

    call_command("import_positions", str(positions), stdout=out)

    assert out.getvalue().startswith("positions.csv : 8 créé(s), 0 mis à jour")


def test_command_fails_on_a_refused_file(fixtures_dir, reference):
    with pytest.raises(CommandError, match="positions_bad.csv, ligne 3 : SIRET"):
        call_command(
            "import_positions",
            str(fixtures_dir / "positions" / "positions_bad.csv"),
            stdout=StringIO(),
        )
    assert not JobPosition.objects.exists()
