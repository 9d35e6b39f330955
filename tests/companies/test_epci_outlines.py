"""EPCI outlines dissolved from their communes' outlines: on the built-in reference subset,
and on the real COG and boundaries of Hauts-de-France (`-m realdata`)."""

import json

import pytest
import shapely
from django.core.management import call_command
from shapely.geometry import shape

from companies.importers.cog import import_cog
from companies.importers.epci_outlines import build_epci_outlines
from companies.importers.geometry import import_geometry
from companies.models import Territory
from observatory.reference import BUILTIN_REFERENCE_DIR

pytestmark = pytest.mark.django_db

Level = Territory.Level


def _shapes(level: str) -> dict:
    return {
        code: shape(json.loads(geometry))
        for code, geometry in Territory.objects.filter(level=level)
        .exclude(geometry="")
        .values_list("code", "geometry")
    }


def _check_partition(*, expected_epci: int | None = None) -> None:
    """Every outlined commune lies in its own EPCI's outline and in no other one, and each
    EPCI's area is the sum of its communes' areas (the union leaves nothing out and adds
    nothing)."""
    epcis = _shapes(Level.EPCI)
    communes = _shapes(Level.COMMUNE)
    membership = dict(
        Territory.objects.filter(level=Level.COMMUNE, epci__isnull=False).values_list("code", "epci__code")
    )
    if expected_epci is not None:
        assert len(epcis) == expected_epci
    tree = shapely.STRtree(list(epcis.values()))
    codes = list(epcis)
    areas: dict[str, float] = {}
    for code, commune in communes.items():
        if code not in membership:
            continue
        point = commune.representative_point()
        containing = [codes[i] for i in tree.query(point, predicate="intersects")]
        assert containing == [membership[code]], code
        areas[membership[code]] = areas.get(membership[code], 0.0) + commune.area
    for code, outline in epcis.items():
        assert outline.is_valid, code
        assert outline.area == pytest.approx(areas[code], rel=1e-4), code
    # Centres are stored like the other outlines'.
    assert not Territory.objects.filter(level=Level.EPCI).exclude(geometry="").filter(latitude__isnull=True).exists()


def test_the_builtin_subset_gets_its_epci_outlines_at_import():
    import_cog(BUILTIN_REFERENCE_DIR / "cog-decoupage-administratif")
    import_geometry(BUILTIN_REFERENCE_DIR / "france-geojson/communes-hauts-de-france.geojson", Level.COMMUNE)

    _check_partition()
    assert Territory.objects.filter(level=Level.EPCI).exclude(geometry="").count() > 0
    # Lille's métropole holds Lille.
    lille = Territory.objects.get(level=Level.COMMUNE, code="59350")
    mel = shape(json.loads(lille.epci.geometry))
    assert mel.contains(shape(json.loads(lille.geometry)).representative_point())


def test_the_command_is_idempotent(capsys):
    import_cog(BUILTIN_REFERENCE_DIR / "cog-decoupage-administratif")
    import_geometry(BUILTIN_REFERENCE_DIR / "france-geojson/communes-hauts-de-france.geojson", Level.COMMUNE)
    outlined = Territory.objects.filter(level=Level.EPCI).exclude(geometry="").count()

    call_command("build_epci_outlines")

    assert f"0 mis à jour, {outlined} inchangé(s)" in capsys.readouterr().out
    report = build_epci_outlines()
    assert (report.updated, report.unchanged) == (0, outlined)


@pytest.mark.realdata
def test_real_epci_outlines(shared_data):
    import_cog(shared_data / "cog-decoupage-administratif")
    import_geometry(shared_data / "france-geojson" / "communes-hauts-de-france.geojson", Level.COMMUNE)

    # The 92 EPCI of Hauts-de-France, every one outlined.
    assert Territory.objects.filter(level=Level.EPCI).count() == 92
    _check_partition(expected_epci=92)
    # Every commune belongs to exactly one EPCI.
    assert not Territory.objects.filter(level=Level.COMMUNE, epci__isnull=True).exists()
