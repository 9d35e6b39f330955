import shutil
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from companies.models import Sector, Territory
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from skills.models import Appellation, Mobility, NafDivisionOccupation, Occupation

pytestmark = pytest.mark.django_db

NAF_FILE = "naf-rev2/int_courts_naf_rev_2.csv"


def total(reports, attribute):
    return sum(getattr(report, attribute) for report in reports)


def test_the_built_in_set_loads_every_nomenclature_and_reloads_as_a_no_op():
    reports = load_reference(BUILTIN_REFERENCE_DIR)

    departements = Territory.objects.filter(level=Territory.Level.DEPARTEMENT)
    assert sorted(departements.values_list("code", flat=True)) == ["02", "59", "60", "62", "80"]
    assert all(departements.values_list("geometry", flat=True))
    communes = Territory.objects.filter(level=Territory.Level.COMMUNE)
    assert communes.count() >= 60
    assert communes.filter(code="59350", name="Lille", population__gt=200_000).exists()
    assert Sector.objects.filter(level=Sector.Level.SECTION).count() == 21
    assert Sector.objects.filter(level=Sector.Level.DIVISION).count() == 88
    assert Sector.objects.filter(level=Sector.Level.SOUS_CLASSE).count() >= 80
    assert Occupation.objects.filter(level=Occupation.Level.GRAND_DOMAINE).count() == 14
    assert Occupation.objects.fiches().count() >= 50
    assert Appellation.objects.exists() and Mobility.objects.exists()
    assert NafDivisionOccupation.objects.filter(naf_division="62").exists()
    assert total(reports, "created") > 0

    again = load_reference(BUILTIN_REFERENCE_DIR)
    assert total(again, "created") == 0
    assert total(again, "updated") == 0


def test_the_command_prints_each_report_with_the_communes_outlines(settings):
    settings.REFERENCE_DATA = ""
    out = StringIO()
    call_command("load_reference", stdout=out)
    text = out.getvalue()
    assert str(BUILTIN_REFERENCE_DIR) in text
    assert "NAF sections" in text
    assert "Contours GeoJSON (Commune)" in text
    assert not Territory.objects.filter(level="commune", geometry="").exists()
    assert not Territory.objects.filter(level="commune", latitude__isnull=True).exists()


def test_the_command_reads_the_folder_named_by_reference_data(settings, tmp_path):
    shutil.copytree(BUILTIN_REFERENCE_DIR, tmp_path / "ref")
    for name in ("departements", "communes"):
        (tmp_path / f"ref/france-geojson/{name}-hauts-de-france.geojson").unlink()
    settings.REFERENCE_DATA = str(tmp_path / "ref")
    out = StringIO()
    call_command("load_reference", stdout=out)
    assert str(tmp_path / "ref") in out.getvalue()
    assert "departements-hauts-de-france.geojson absent" in out.getvalue()
    assert not Territory.objects.exclude(geometry="").exists()


def test_a_broken_file_is_refused_and_nothing_is_written(tmp_path):
    folder = tmp_path / "ref"
    shutil.copytree(BUILTIN_REFERENCE_DIR, folder)
    naf = folder / NAF_FILE
    raw = naf.read_bytes()
    assert b"\r\n62.01Z;" in raw
    naf.write_bytes(raw.replace(b"\r\n62.01Z;", b"\r\n62.0?Z;", 1))

    with pytest.raises(CommandError, match="ligne"):
        call_command("load_reference", "--from", str(folder), stdout=StringIO())
    # The COG was read before the NAF: it must have been rolled back too.
    assert not Territory.objects.exists()
    assert not Sector.objects.exists()
    assert not Occupation.objects.exists()


def test_a_missing_mandatory_folder_is_refused(tmp_path):
    folder = tmp_path / "ref"
    shutil.copytree(BUILTIN_REFERENCE_DIR, folder)
    shutil.rmtree(folder / "rome4-francetravail")
    with pytest.raises(CommandError, match="rome4-francetravail"):
        call_command("load_reference", "--from", str(folder), stdout=StringIO())
    assert not Territory.objects.exists()


@pytest.mark.realdata
def test_the_full_official_files_load_and_reload_as_a_no_op(shared_data):
    load_reference(shared_data)

    fiches = Occupation.objects.fiches()
    assert fiches.count() == 1584
    assert Occupation.objects.filter(level=Occupation.Level.DOMAINE).count() == 110
    assert Occupation.objects.filter(level=Occupation.Level.GRAND_DOMAINE).count() == 14
    assert Sector.objects.filter(level=Sector.Level.SOUS_CLASSE).count() == 732
    assert Territory.objects.filter(level=Territory.Level.DEPARTEMENT).count() == 5
    assert Territory.objects.filter(level=Territory.Level.COMMUNE).count() == 3782
    assert Territory.objects.filter(level=Territory.Level.COMMUNE).exclude(geometry="").count() > 3700

    again = load_reference(shared_data)
    assert total(again, "created") == 0
    assert total(again, "updated") == 0
