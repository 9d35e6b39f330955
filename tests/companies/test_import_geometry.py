import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from companies.importers.cog import import_cog
from companies.importers.geometry import geometry_centre, import_geometry
from companies.models import Territory
from skills.importers.base import ImportFailed

pytestmark = pytest.mark.django_db

Level = Territory.Level


@pytest.fixture
def geojson_dir(fixtures_dir):
    return fixtures_dir / "geojson"


@pytest.fixture
def territories(fixtures_dir):
    import_cog(fixtures_dir / "cog")


def geometries(level: str) -> dict[str, str]:
    return dict(Territory.objects.filter(level=level).values_list("code", "geometry"))


@pytest.mark.usefixtures("territories")
def test_geometry_is_stored_as_compact_geojson(geojson_dir):
    path = geojson_dir / "departements-hauts-de-france.geojson"

    report = import_geometry(path, Level.DEPARTEMENT)

    assert (report.created, report.updated, report.unchanged, report.unmatched) == (0, 2, 0, [])
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    expected = {f["properties"]["code"]: json.dumps(f["geometry"], separators=(",", ":")) for f in features}
    assert geometries(Level.DEPARTEMENT) == expected
    nord = Territory.objects.get(level=Level.DEPARTEMENT, code="59")
    assert nord.has_geometry
    assert json.loads(nord.geometry)["type"] == "Polygon"
    assert " " not in nord.geometry


@pytest.mark.usefixtures("territories")
def test_a_lone_feature_is_read_too(geojson_dir):
    report = import_geometry(geojson_dir / "region-hauts-de-france.geojson", Level.REGION)

    assert report.updated == 1
    region = Territory.objects.get(level=Level.REGION, code="32")
    assert json.loads(region.geometry)["coordinates"][0][0] == [4.1409, 49.97876]


@pytest.mark.usefixtures("territories")
def test_features_without_territory_are_counted_not_refused(geojson_dir):
    # Bermeries (59070) was merged after 2018, the year of the boundary file.
    report = import_geometry(geojson_dir / "communes-hauts-de-france.geojson", Level.COMMUNE)

    assert (report.updated, report.unchanged, report.rejected) == (2, 0, 0)
    assert report.unmatched == ["59070"]
    assert str(report).endswith("1 sans territoire correspondant")
    assert report.as_dict()["unmatched"] == ["59070"]
    with_geometry = {code for code, geometry in geometries(Level.COMMUNE).items() if geometry}
    assert with_geometry == {"59350", "62041"}


@pytest.mark.usefixtures("territories")
def test_codes_are_matched_within_the_level_only(geojson_dir):
    # Département 59 exists, but no région has that code.
    report = import_geometry(geojson_dir / "departements-hauts-de-france.geojson", Level.REGION)

    assert (report.updated, report.unmatched) == (0, ["59", "62"])
    assert not any(geometries(Level.DEPARTEMENT).values())


@pytest.mark.usefixtures("territories")
def test_second_run_changes_nothing(geojson_dir):
    path = geojson_dir / "departements-hauts-de-france.geojson"
    import_geometry(path, Level.DEPARTEMENT)

    report = import_geometry(path, Level.DEPARTEMENT)

    assert (report.updated, report.unchanged) == (0, 2)


@pytest.mark.usefixtures("territories")
def test_feature_without_code_refuses_the_file(geojson_dir):
    with pytest.raises(ImportFailed) as failure:
        import_geometry(geojson_dir / "bad-missing-code.geojson", Level.DEPARTEMENT)

    (error,) = failure.value.errors
    assert str(error) == ("bad-missing-code.geojson, ligne 3 : entité n°2 : propriété « code » manquante ou vide")
    # The first feature was fine, yet nothing was written.
    assert not any(geometries(Level.DEPARTEMENT).values())


@pytest.mark.usefixtures("territories")
def test_unparsable_file_is_refused(geojson_dir):
    with pytest.raises(ImportFailed) as failure:
        import_geometry(geojson_dir / "bad-unparsable.geojson", Level.DEPARTEMENT)

    (error,) = failure.value.errors
    assert error.line == 1
    assert error.message.startswith("JSON illisible")


@pytest.mark.usefixtures("territories")
def test_numeric_code_duplicate_code_and_missing_geometry_are_errors(tmp_path):
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [3.0, 50.6]}}
    features = [
        {**feature, "properties": {"code": 59, "nom": "Nord"}},
        {**feature, "properties": {"code": "62", "nom": "Pas-de-Calais"}},
        {**feature, "properties": {"code": "62", "nom": "Pas-de-Calais"}},
        {"type": "Feature", "geometry": None, "properties": {"code": "80", "nom": "Somme"}},
    ]
    path = tmp_path / "departements.geojson"
    lines = ",\n".join(json.dumps(f) for f in features)
    path.write_text('{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n")

    with pytest.raises(ImportFailed) as failure:
        import_geometry(path, Level.DEPARTEMENT)

    assert [(e.line, e.message) for e in failure.value.errors] == [
        (2, "entité n°1 (code 59) : la propriété « code » doit être une chaîne de caractères (lu : 59)"),
        (4, "entité n°3 (code 62) : code en double (déjà entité n°2)"),
        (5, "entité n°4 (code 80) : géométrie absente ou de type inconnu"),
    ]


def test_unknown_level_is_rejected(geojson_dir):
    with pytest.raises(ValueError, match="niveau de territoire inconnu"):
        import_geometry(geojson_dir / "region-hauts-de-france.geojson", "canton")


@pytest.mark.usefixtures("territories")
def test_command_prints_the_unmatched_codes(geojson_dir):
    out = StringIO()

    path = geojson_dir / "communes-hauts-de-france.geojson"
    call_command("import_geometry", str(path), "--level", "commune", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Contours GeoJSON (Commune) : 0 créé(s), 2 mis à jour")
    assert lines[1] == "1 entité(s) sans territoire correspondant, ignorée(s) : 59070"


@pytest.mark.usefixtures("territories")
def test_command_exits_non_zero_on_a_refused_file(geojson_dir):
    path = geojson_dir / "bad-missing-code.geojson"

    with pytest.raises(CommandError, match="ligne 3 : entité n°2"):
        call_command("import_geometry", str(path), "--level", "departement", stdout=StringIO())
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_geometry", str(path), "--level", "canton", stdout=StringIO())


# --- Centres ---------------------------------------------------------------------------------


def polygon(*rings):
    return {"type": "Polygon", "coordinates": [list(map(list, ring)) for ring in rings]}


def test_centre_of_a_square_is_its_middle():
    square = [(3.0, 50.0), (3.2, 50.0), (3.2, 50.2), (3.0, 50.2), (3.0, 50.0)]

    assert geometry_centre(polygon(square)) == pytest.approx((3.1, 50.1))


def test_centre_of_an_l_shape_by_hand():
    # The L is a 2 × 1 rectangle (area 2, centre (1, 0.5)) under a 1 × 1 square on its left
    # (area 1, centre (0.5, 1.5)): x = (2 × 1 + 1 × 0.5) / 3 = 5/6, y = (2 × 0.5 + 1 × 1.5) / 3
    # = 5/6. The bounding box's middle, (1, 1), would be wrong. Clockwise on purpose.
    l_shape = [(0, 0), (0, 2), (1, 2), (1, 1), (2, 1), (2, 0), (0, 0)]

    assert geometry_centre(polygon(l_shape)) == pytest.approx((5 / 6, 5 / 6), abs=1e-6)


def test_centre_ignores_holes_and_weights_the_parts_of_a_multipolygon_by_area():
    big = [(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)]  # area 4, centre (1, 1)
    hole = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5), (0.1, 0.1)]
    small = [(10, 0), (11, 0), (11, 1), (10, 1), (10, 0)]  # area 1, centre (10.5, 0.5)
    geometry = {"type": "MultiPolygon", "coordinates": [[big, hole], [small]]}

    # x = (4 × 1 + 1 × 10.5) / 5 = 2.9 ; y = (4 × 1 + 1 × 0.5) / 5 = 0.9
    assert geometry_centre(geometry) == pytest.approx((2.9, 0.9))


def test_centre_of_points_and_of_nothing():
    assert geometry_centre({"type": "Point", "coordinates": [3.06, 50.63]}) == (3.06, 50.63)
    assert geometry_centre({"type": "MultiPoint", "coordinates": [[0, 0], [2, 4]]}) == (1.0, 2.0)
    assert geometry_centre({"type": "Polygon", "coordinates": []}) is None


@pytest.mark.usefixtures("territories")
def test_centres_are_set_by_the_import(geojson_dir):
    import_geometry(geojson_dir / "communes-hauts-de-france.geojson", Level.COMMUNE)

    lille = Territory.objects.get(level=Level.COMMUNE, code="59350")
    # The fixture's outline of Lille: its centre lies in the city, inside the outline's box.
    assert (lille.longitude, lille.latitude) == pytest.approx((3.05827, 50.633814), abs=1e-6)
    assert 2.97225 < lille.longitude < 3.11681 and 50.61792 < lille.latitude < 50.65155
    arras = Territory.objects.get(level=Level.COMMUNE, code="62041")
    assert (arras.longitude, arras.latitude) == pytest.approx((2.764319, 50.290995), abs=1e-6)
    # A commune without outline has no centre.
    assert not Territory.objects.filter(level=Level.COMMUNE, geometry="", latitude__isnull=False).exists()


@pytest.mark.usefixtures("territories")
def test_an_outline_loaded_before_centres_existed_gets_its_centre(geojson_dir):
    path = geojson_dir / "communes-hauts-de-france.geojson"
    import_geometry(path, Level.COMMUNE)
    Territory.objects.update(latitude=None, longitude=None)

    report = import_geometry(path, Level.COMMUNE)

    assert (report.updated, report.unchanged) == (2, 0)
    assert Territory.objects.get(level=Level.COMMUNE, code="59350").latitude == pytest.approx(50.633814)


@pytest.mark.realdata
def test_real_boundaries(shared_data):
    import_cog(shared_data / "cog-decoupage-administratif")
    boundaries = shared_data / "france-geojson"

    departements = import_geometry(boundaries / "departements-hauts-de-france.geojson", Level.DEPARTEMENT)
    region = import_geometry(boundaries / "region-hauts-de-france.geojson", Level.REGION)
    communes = import_geometry(boundaries / "communes-hauts-de-france.geojson", Level.COMMUNE)

    assert (departements.updated, departements.unmatched) == (5, [])
    assert all(geometries(Level.DEPARTEMENT).values())
    assert json.loads(geometries(Level.DEPARTEMENT)["59"])["type"] == "MultiPolygon"
    assert region.updated == 1
    # COG 2018 boundaries against COG 2026 communes: the merged ones do not match.
    assert (communes.updated, len(communes.unmatched)) == (3782, 26)
    assert "59070" in communes.unmatched
    assert all(geometries(Level.COMMUNE).values())
    assert not Territory.objects.exclude(geometry="").filter(latitude__isnull=True).exists()
    # Amiens' centre, from the real outline: in the city (the cathedral is at 49.894 N, 2.302 E).
    amiens = Territory.objects.get(level=Level.COMMUNE, code="80021")
    assert amiens.latitude == pytest.approx(49.90, abs=0.03) and amiens.longitude == pytest.approx(2.29, abs=0.04)

    again = import_geometry(boundaries / "departements-hauts-de-france.geojson", Level.DEPARTEMENT)

    assert (again.updated, again.unchanged) == (0, 5)
