"""EPCI outlines dissolved from the outlines of their member communes.

No official file of EPCI boundaries sits beside the COG's, but the COG says which EPCI each
commune belongs to (`Territory.epci`, from the EPCI file's `membres`) and the commune outlines
are loaded: an EPCI's outline is the union of its communes' (shapely's `union_all`). The
result is stored on the EPCI like any imported outline (`load_geometry`: compact GeoJSON text
and its centre), so the map reads it the same way.

Coordinates are snapped to a grid of 1e-6 degree (about 0.1 m) before the union: two
communes' copies of a shared border then coincide exactly and dissolve, instead of leaving a
sliver of float noise between them. An EPCI none of whose communes has an outline gets none.

Known gap: the boundary file is of 2018, the COG of 2026. A commune merged since then keeps
only its 2018 outline (the part that bore its code); the outlines of the communes it absorbed
match no territory and are dropped by `import_geometry`, so its EPCI shows a hole there (15
holes in 11 of the 92 EPCI of Hauts-de-France). Attaching those outlines to the commune that
absorbed them (the COG's `anciensCodes`) at import would close them.
"""

import json

import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from companies.models import Territory

from .geometry import GeometryReport, load_geometry

GRID_SIZE = 1e-6  # degrees


def epci_outline_frame() -> pd.DataFrame:
    """One row per EPCI with at least one outlined member commune: `code` and `geometry`
    (compact GeoJSON text of the union of its communes' outlines), one query."""
    members: dict[str, list] = {}
    rows = (
        Territory.objects.filter(level=Territory.Level.COMMUNE, epci__isnull=False)
        .exclude(geometry="")
        .values_list("epci__code", "geometry")
        .order_by("epci__code", "code")
    )
    for epci_code, geometry in rows.iterator(chunk_size=500):
        members.setdefault(epci_code, []).append(_shape(geometry))
    records = []
    for code, shapes in members.items():
        outline = shapely.union_all(shapely.set_precision(shapes, GRID_SIZE))
        records.append({"code": code, "geometry": json.dumps(_rounded(mapping(outline)), separators=(",", ":"))})
    return pd.DataFrame(records, columns=["code", "geometry"])


def build_epci_outlines() -> GeometryReport:
    """Store the dissolved outline (and its centre) of every EPCI that has outlined communes;
    only real changes are written. Returns the report of `load_geometry`."""
    report = load_geometry(epci_outline_frame(), Territory.Level.EPCI)
    report.source = "Contours des EPCI (union des contours de leurs communes)"
    return report


def _shape(geometry_text: str):
    geometry = json.loads(geometry_text)
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    return shape(geometry)


def _rounded(geometry: dict) -> dict:
    """GeoJSON with coordinates as lists of floats rounded to the snapping grid (shapely's
    `mapping` gives tuples and the float noise of the grid: 50.600001000000006)."""

    def walk(value):
        if isinstance(value, list | tuple):
            if value and isinstance(value[0], int | float):
                return [round(float(coordinate), 6) for coordinate in value]
            return [walk(part) for part in value]
        return value

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}
