"""Territory boundaries from GeoJSON files (gregoiredavid/france-geojson: IGN Admin Express,
simplified, WGS84 lon/lat, properties `{code, nom}`), kept on `Territory.geometry` as compact
GeoJSON text for the map pages.

Communes' outlines also give the EPCI theirs (`epci_outlines`), rebuilt whenever they are
imported.

A boundary file carries the COG of its own year (2018 for the stored ones), the territories
the COG of theirs: a commune merged since then has a shape but no territory. Such features are
counted and listed in the report, never a reason to refuse the file. The territories must be
loaded first (`import_cog`); this importer creates none.

Each territory also gets the centre of its outline (`latitude`, `longitude`), which the
training catalogue uses to measure distances between communes: the area-weighted centroid of
the outer rings of its polygon(s), holes ignored. It is computed on the lon/lat degrees as a
plane: over a commune or a département the distortion this brings is far below a kilometre.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import transaction

from companies.models import Territory
from skills.importers.base import ImportFailed, ImportReport, RowError

from ._csv import read_json_with_lines

LINE = "line"  # line of the file where the feature starts
POSITION = "position"  # rank of the feature, from 1: the files are written on one line
GEOMETRY_TYPES = {"Polygon", "MultiPolygon", "Point", "MultiPoint", "LineString"}
GEOMETRY_TYPES |= {"MultiLineString", "GeometryCollection"}
# A département's outline runs to some 50 kB: keep each UPDATE statement of a sane size.
BATCH_SIZE = 100
# Centres are stored to 1e-6 degree (about 0.1 m): enough, and stable from one run to the next.
CENTRE_DECIMALS = 6


@dataclass
class GeometryReport(ImportReport):
    """The report of a boundary load, with the codes of the features no territory matched."""

    unmatched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "unmatched": list(self.unmatched)}

    def __str__(self):
        return f"{super().__str__()}, {len(self.unmatched)} sans territoire correspondant"


def import_geometry(path: Path, level: str) -> GeometryReport:
    """Attach the boundaries of a GeoJSON file to the territories of `level` (a
    Territory.Level value) with the same codes. Refused whole (ImportFailed) if a feature has
    no code or no geometry."""
    if level not in Territory.Level.values:
        raise ValueError(f"niveau de territoire inconnu : {level!r}")
    source = Path(path).name
    frame, errors = clean_geometry(read_geometry(path), source)
    if errors:
        raise ImportFailed(errors, source)
    report = load_geometry(frame, level)
    if level == Territory.Level.COMMUNE:
        # The EPCI have no boundary file: their outlines are their communes' (epci_outlines).
        from .epci_outlines import build_epci_outlines

        build_epci_outlines()
    return report


def read_geometry(path: Path) -> pd.DataFrame:
    """One row per feature of a FeatureCollection, or of a lone Feature: `code` and `nom`
    from its properties (None when absent), `geometry` as decoded, `line`, `position`."""
    source = Path(path).name
    document, lines = read_json_with_lines(path, source=source, array_key="features")
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection" and isinstance(document.get("features"), list):
        features = document["features"]
    elif kind == "Feature":
        features, lines = [document], [1]
    else:
        message = "un objet GeoJSON FeatureCollection ou Feature est attendu"
        raise ImportFailed([RowError(1, message, source)], source)
    rows, errors = [], []
    for position, (line, feature) in enumerate(zip(lines, features, strict=True), 1):
        if not isinstance(feature, dict):
            errors.append(RowError(line, f"entité n°{position} : objet JSON attendu", source))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        rows.append(
            {
                "code": properties.get("code"),
                "nom": properties.get("nom"),
                "geometry": feature.get("geometry"),
                LINE: line,
                POSITION: position,
            }
        )
    if errors:
        raise ImportFailed(errors, source)
    return pd.DataFrame(rows, columns=["code", "nom", "geometry", LINE, POSITION], dtype=object)


def clean_geometry(frame: pd.DataFrame, source: str = "") -> tuple[pd.DataFrame, list[RowError]]:
    """Check every feature and serialise its geometry. Returns `code`, `geometry` (compact
    GeoJSON text), `line`, and the errors: no code, a code that is not a string (a number
    would have lost its leading zero), no valid geometry, the same code twice."""
    errors: list[RowError] = []
    rows, seen = [], {}
    for record in frame.to_dict("records"):
        code, geometry, position = record["code"], record["geometry"], record[POSITION]
        problem = _problem(code, geometry)
        if problem is None:
            code = code.strip()
            first = seen.setdefault(code, position)
            if first != position:
                problem = f"code en double (déjà entité n°{first})"
        if problem:
            where = f"entité n°{position}" + (f" (code {code})" if code else "")
            errors.append(RowError(record[LINE], f"{where} : {problem}", source))
            continue
        compact = json.dumps(geometry, separators=(",", ":"))
        rows.append({"code": code, "geometry": compact, LINE: record[LINE]})
    return pd.DataFrame(rows, columns=["code", "geometry", LINE], dtype=object), errors


def _problem(code, geometry) -> str | None:
    if code is None or (isinstance(code, str) and not code.strip()):
        return "propriété « code » manquante ou vide"
    if not isinstance(code, str):
        return f"la propriété « code » doit être une chaîne de caractères (lu : {code!r})"
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return "géométrie absente ou de type inconnu"
    return None


def load_geometry(frame: pd.DataFrame, level: str) -> GeometryReport:
    """Store each geometry, and its centre, on the territory of `level` with its code. Only
    real changes are written (a territory whose outline was loaded before centres existed gets
    its centre); codes without a territory end in `report.unmatched`."""
    report = GeometryReport(f"Contours GeoJSON ({Territory.Level(level).label})")
    territories = {
        territory.code: territory
        for territory in Territory.objects.filter(level=level).only("id", "code", "geometry", "latitude", "longitude")
    }
    to_update = []
    for code, geometry in zip(frame["code"], frame["geometry"], strict=True):
        territory = territories.get(code)
        if territory is None:
            report.unmatched.append(code)
            continue
        centre = geometry_centre(json.loads(geometry))
        longitude, latitude = centre if centre else (None, None)
        if (territory.geometry, territory.latitude, territory.longitude) == (geometry, latitude, longitude):
            report.unchanged += 1
        else:
            territory.geometry, territory.latitude, territory.longitude = geometry, latitude, longitude
            to_update.append(territory)
    with transaction.atomic():
        Territory.objects.bulk_update(to_update, ["geometry", "latitude", "longitude"], batch_size=BATCH_SIZE)
    report.updated = len(to_update)
    report.unmatched.sort()
    return report


# --- Centres -------------------------------------------------------------------------------


def geometry_centre(geometry: dict) -> tuple[float, float] | None:
    """(longitude, latitude) of the centre of a GeoJSON geometry, rounded to CENTRE_DECIMALS;
    None when it has no coordinates.

    Polygons: the centroid of their outer rings, each weighted by its area (a commune made of
    a large part and a small enclave leans towards the large part). Points: their mean. Lines,
    and polygons of no area: the mean of their vertices. A collection: the centre of its
    polygons if it has any, else of all its vertices.
    """
    rings = _outer_rings(geometry)
    centre = _rings_centroid(rings) if rings else None
    if centre is None:
        vertices = [np.asarray(point, dtype=float)[:2] for point in _vertices(geometry)]
        if not vertices:
            return None
        centre = np.mean(vertices, axis=0)
    longitude, latitude = (round(float(value), CENTRE_DECIMALS) for value in centre)
    return longitude, latitude


def _outer_rings(geometry: dict) -> list:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return coordinates[:1]
    if kind == "MultiPolygon":
        return [polygon[0] for polygon in coordinates if polygon]
    if kind == "GeometryCollection":
        return [ring for part in geometry.get("geometries") or [] for ring in _outer_rings(part)]
    return []


def _vertices(geometry: dict) -> list:
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return [point for part in geometry.get("geometries") or [] for point in _vertices(part)]
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
    points = [geometry.get("coordinates")] if geometry.get("coordinates") else []
    for _ in range(depth.get(kind, 0)):
        points = [point for part in points for point in part]
    return [point for point in points if isinstance(point, list | tuple) and len(point) >= 2]


def _rings_centroid(rings: list) -> np.ndarray | None:
    """Area-weighted centroid of closed rings (shoelace formula), None if their area is nil."""
    total_area, weighted = 0.0, np.zeros(2)
    for ring in rings:
        points = np.asarray(ring, dtype=float)
        if points.ndim != 2 or len(points) < 3:
            continue
        points = points[:, :2]
        # Shifted to the ring's first vertex: the cross products of small differences keep
        # their precision where those of raw degrees (3.05 × 50.63) would not.
        origin = points[0]
        x, y = (points - origin).T
        x_next, y_next = np.roll(x, -1), np.roll(y, -1)
        cross = x * y_next - x_next * y
        area = cross.sum() / 2
        if area == 0:
            continue
        centroid = np.array([((x + x_next) * cross).sum(), ((y + y_next) * cross).sum()]) / (6 * area) + origin
        total_area += abs(area)
        weighted += abs(area) * centroid
    return weighted / total_area if total_area else None
