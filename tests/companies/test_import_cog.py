import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from companies.importers.cog import import_cog
from companies.models import Territory
from skills.importers.base import ImportFailed

pytestmark = pytest.mark.django_db

Level = Territory.Level
FILES = (
    "regions.json",
    "departements.json",
    "communes-hauts-de-france.json",
    "epci-hauts-de-france.json",
)


@pytest.fixture
def cog_dir(fixtures_dir) -> Path:
    return fixtures_dir / "cog"


def counts() -> dict[str, int]:
    return {level: Territory.objects.filter(level=level).count() for level in Level.values}


def summary(reports) -> list[tuple]:
    return [(r.source, r.created, r.updated, r.unchanged, r.rejected) for r in reports]


def folder(tmp_path: Path, cog_dir: Path, **replacements: Path) -> Path:
    """A copy of the fixture folder where some files are replaced (keys: file names with
    `_` for `-` and without `.json`)."""
    for name in FILES:
        shutil.copy(cog_dir / name, tmp_path / name)
    for key, path in replacements.items():
        shutil.copy(path, tmp_path / f"{key.replace('_', '-')}.json")
    return tmp_path


def test_import_creates_the_region_its_departements_epci_and_communes(cog_dir):
    reports = import_cog(cog_dir)

    assert summary(reports) == [
        ("COG régions", 1, 0, 0, 0),
        ("COG départements", 2, 0, 0, 0),
        ("COG EPCI", 4, 0, 0, 0),
        ("COG communes", 6, 0, 0, 0),
    ]
    region = Territory.objects.get(level=Level.REGION)
    assert (region.code, region.name, region.parent) == ("32", "Hauts-de-France", None)
    departements = Territory.objects.filter(level=Level.DEPARTEMENT)
    assert {(d.code, d.name, d.parent_id) for d in departements} == {
        ("59", "Nord", region.id),
        ("62", "Pas-de-Calais", region.id),
    }


def test_communes_carry_population_departement_and_epci(cog_dir):
    import_cog(cog_dir)

    lille = Territory.objects.get(level=Level.COMMUNE, code="59350")
    assert lille.name == "Lille"
    assert lille.population == 238246
    assert (lille.parent.level, lille.parent.code) == (Level.DEPARTEMENT, "59")
    assert (lille.epci.level, lille.epci.code) == (Level.EPCI, "200093201")
    arras = Territory.objects.get(level=Level.COMMUNE, code="62041")
    assert (arras.parent.code, arras.epci.name, arras.population) == ("62", "CU d'Arras", 42875)


def test_communes_deleguees_and_associees_are_not_territories(cog_dir):
    import_cog(cog_dir)

    codes = set(Territory.objects.filter(level=Level.COMMUNE).values_list("code", flat=True))
    assert codes == {"59350", "59512", "59599", "62041", "62193", "62295"}
    # 62295 is both a commune nouvelle and one of its communes déléguées: the former wins.
    enquin = Territory.objects.get(level=Level.COMMUNE, code="62295")
    assert (enquin.name, enquin.population) == ("Enquin-lez-Guinegatte", 1594)


def test_epci_carry_siren_type_population_and_members(cog_dir):
    import_cog(cog_dir)

    mel = Territory.objects.get(level=Level.EPCI, code="200093201")
    assert mel.name == "Métropole Européenne de Lille"
    assert (mel.epci_type, mel.population) == ("METRO", 1194040)
    assert mel.parent == Territory.objects.get(level=Level.REGION, code="32")
    # Villeneuve-d'Ascq is listed among its members but is not in the communes file.
    members = set(mel.member_communes.values_list("code", flat=True))
    assert members == {"59350", "59512", "59599"}
    types = dict(Territory.objects.filter(level=Level.EPCI).values_list("code", "epci_type"))
    assert types == {"200033579": "CU", "200069037": "CA", "200090751": "CA", "200093201": "METRO"}


def test_second_run_changes_nothing(cog_dir):
    import_cog(cog_dir)

    reports = import_cog(cog_dir)

    assert summary(reports) == [
        ("COG régions", 0, 0, 1, 0),
        ("COG départements", 0, 0, 2, 0),
        ("COG EPCI", 0, 0, 4, 0),
        ("COG communes", 0, 0, 6, 0),
    ]


def test_rerun_updates_what_changed_and_keeps_geometry(cog_dir):
    import_cog(cog_dir)
    Territory.objects.filter(level=Level.COMMUNE, code="59350").update(
        population=1, epci=None, geometry='{"type":"Point","coordinates":[3.06,50.63]}'
    )

    reports = import_cog(cog_dir)

    assert summary(reports)[3] == ("COG communes", 0, 1, 5, 0)
    lille = Territory.objects.get(level=Level.COMMUNE, code="59350")
    assert (lille.population, lille.epci.code) == (238246, "200093201")
    assert lille.geometry.startswith('{"type":"Point"')


def test_national_files_are_cut_down_to_the_region(cog_dir, tmp_path):
    national = cog_dir / "national"
    directory = folder(tmp_path, cog_dir)
    for name in ("communes-hauts-de-france.json", "epci-hauts-de-france.json"):
        (directory / name).unlink()
    shutil.copy(national / "communes.json", directory)
    shutil.copy(national / "epci.json", directory)

    import_cog(directory)

    assert counts() == {"region": 1, "departement": 2, "epci": 1, "commune": 1}
    lille = Territory.objects.get(level=Level.COMMUNE)
    assert (lille.code, lille.epci.code) == ("59350", "200093201")


def test_another_region_can_be_chosen(cog_dir, tmp_path):
    directory = folder(
        tmp_path,
        cog_dir,
        communes_hauts_de_france=cog_dir / "national" / "communes.json",
        epci_hauts_de_france=cog_dir / "national" / "epci.json",
    )

    import_cog(directory, region_code="28")

    assert counts() == {"region": 1, "departement": 1, "epci": 1, "commune": 1}
    rouen = Territory.objects.get(level=Level.COMMUNE)
    assert (rouen.name, rouen.parent.code, rouen.epci.name) == (
        "Rouen",
        "76",
        "Métropole Rouen Normandie",
    )


def test_commune_without_population_refuses_everything(cog_dir, tmp_path):
    directory = folder(
        tmp_path, cog_dir, communes_hauts_de_france=cog_dir / "bad" / "communes-hauts-de-france.json"
    )

    with pytest.raises(ImportFailed) as failure:
        import_cog(directory)

    assert counts() == {"region": 0, "departement": 0, "epci": 0, "commune": 0}
    (error,) = failure.value.errors
    # The communes file is written on one line: the element's rank finds it.
    assert (error.source, error.line) == ("communes-hauts-de-france.json", 1)
    assert "élément n°3 (code 59512)" in error.message
    assert "population" in error.message


def test_unparsable_json_names_its_line(cog_dir, tmp_path):
    directory = folder(tmp_path, cog_dir, regions=cog_dir / "bad" / "regions.json")

    with pytest.raises(ImportFailed) as failure:
        import_cog(directory)

    (error,) = failure.value.errors
    assert (error.source, error.line) == ("regions.json", 3)
    assert error.message.startswith("JSON illisible")
    assert counts()["region"] == 0


def test_missing_key_names_the_line_of_its_element(cog_dir, tmp_path):
    directory = folder(tmp_path, cog_dir)
    lines = (cog_dir / "departements.json").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"nom":"Pas-de-Calais",', "")  # line 3 of the file
    (directory / "departements.json").write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as failure:
        import_cog(directory)

    messages = [str(error) for error in failure.value.errors]
    assert messages[0] == (
        "departements.json, ligne 3 : élément n°2 (code 62) : clé « nom » manquante ou vide"
    )
    # Its communes then point to a département that is not there.
    assert all("département « 62 »" in message for message in messages[1:])
    assert counts()["departement"] == 0


def test_region_absent_from_the_file_is_an_error(cog_dir):
    with pytest.raises(ImportFailed, match="aucune région de code « 99 »"):
        import_cog(cog_dir, region_code="99")


def test_commune_claimed_by_two_epci_is_an_error(cog_dir, tmp_path):
    directory = folder(tmp_path, cog_dir)
    epci = json.loads((cog_dir / "epci-hauts-de-france.json").read_text(encoding="utf-8"))
    epci[0]["membres"].append({"code": "59350", "siren": "215903501", "nom": "Lille"})
    (directory / "epci-hauts-de-france.json").write_text(json.dumps(epci), encoding="utf-8")

    with pytest.raises(ImportFailed, match="la commune 59350 est déjà membre de l'EPCI"):
        import_cog(directory)


def test_folder_without_communes_file(cog_dir, tmp_path):
    directory = folder(tmp_path, cog_dir)
    (directory / "communes-hauts-de-france.json").unlink()

    with pytest.raises(FileNotFoundError, match="communes.json"):
        import_cog(directory)
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("import_cog", str(directory), stdout=StringIO())


def test_command_prints_one_report_per_level(cog_dir):
    out = StringIO()

    call_command("import_cog", str(cog_dir), "--region", "32", stdout=out)

    assert out.getvalue().splitlines() == [
        "COG régions : 1 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)",
        "COG départements : 2 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)",
        "COG EPCI : 4 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)",
        "COG communes : 6 créé(s), 0 mis à jour, 0 inchangé(s), 0 rejeté(s)",
    ]


def test_command_exits_with_the_errors_of_a_refused_folder(cog_dir, tmp_path):
    directory = folder(
        tmp_path, cog_dir, communes_hauts_de_france=cog_dir / "bad" / "communes-hauts-de-france.json"
    )

    with pytest.raises(CommandError, match="élément n°3 \\(code 59512\\)"):
        call_command("import_cog", str(directory), stdout=StringIO())
    assert counts()["commune"] == 0


@pytest.mark.realdata
def test_real_package_files(shared_data):
    directory = shared_data / "cog-decoupage-administratif"

    reports = import_cog(directory)

    assert [r.created for r in reports] == [1, 5, 92, 3782]
    assert counts() == {"region": 1, "departement": 5, "epci": 92, "commune": 3782}
    departements = Territory.objects.filter(level=Level.DEPARTEMENT)
    assert sorted(departements.values_list("code", flat=True)) == ["02", "59", "60", "62", "80"]
    communes = Territory.objects.filter(level=Level.COMMUNE)
    assert communes.aggregate(total=Sum("population"))["total"] == 5_992_194
    assert not communes.filter(epci=None).exists()
    lille = communes.get(code="59350")
    assert (lille.population, lille.parent.code, lille.epci.code) == (238246, "59", "200093201")
    assert lille.epci.member_communes.count() == 95
    # An EPCI straddling the border with Normandie keeps only its members of the région.
    villes_soeurs = Territory.objects.get(level=Level.EPCI, code="247600588")
    assert villes_soeurs.member_communes.exclude(parent__code="80").count() == 0

    again = import_cog(directory)

    assert [(r.created, r.updated) for r in again] == [(0, 0)] * 4
    assert [r.unchanged for r in again] == [1, 5, 92, 3782]
