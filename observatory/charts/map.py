"""What the maps share: territories' outlines as a GeoJSON feature collection (from
`Territory.geometry`; no base map, no tile nor topojson from the network), where to write a
territory's name, the colours of an empty territory and of outlines, a mode bar with no
button (or only the PNG download), and a secret territory's reason. The map page's
choropleth is `charts.choropleth`."""

import json

import pandas as pd
from shapely.geometry import shape

from .common import secret_reason_text

NO_DATA_COLOUR = "#e9edf2"
# Every mode-bar button removed: these figures are read, not explored (the figures are also
# in the tables), and a chart with role="img" must hold no focusable control. It also drops
# plotly.js's « Share chart… » button, which uploads the figure to Plotly Cloud.
NO_MODEBAR = {
    "remove": [
        "sendChartToCloud",
        "toImage",
        "zoom",
        "zoom2d",
        "pan",
        "pan2d",
        "select",
        "select2d",
        "lasso",
        "lasso2d",
        "zoomin",
        "zoomIn2d",
        "zoomout",
        "zoomOut2d",
        "autoscale",
        "autoScale2d",
        "resetscale",
        "resetScale2d",
        "zoomInGeo",
        "zoomOutGeo",
        "resetGeo",
        "hoverClosestGeo",
        "hoverclosest",
        "hoverClosestCartesian",
        "hovercompare",
        "hoverCompareCartesian",
        "togglespikelines",
        "toggleSpikelines",
        "togglehover",
        "toggleHover",
        "resetViews",
        "resetviews",
    ]
}


def downloadable(filename: str) -> dict:
    """Layout entries of a chart analysts may save as PNG under `filename` (French, no
    extension): static/js/charts.js draws a « Télécharger le graphique (PNG) » button after
    the chart (plotly.js's own downloadImage, offline); the mode bar stays hidden."""
    return {"modebar": NO_MODEBAR, "meta": {"download": filename}}


OUTLINE_COLOUR = "#ffffff"


def secret_label(reason: str, methodology=None) -> str:
    return secret_reason_text(reason, methodology)


def _feature_collection(geometries: dict[str, str], rows: pd.DataFrame) -> dict:
    features = []
    for code, name in zip(rows["code"], rows["name"], strict=True):
        geometry = json.loads(geometries[code])
        if geometry.get("type") == "Feature":  # tolerate a whole Feature stored as the outline
            geometry = geometry["geometry"]
        features.append(
            {"type": "Feature", "id": code, "properties": {"code": code, "name": name}, "geometry": geometry}
        )
    return {"type": "FeatureCollection", "features": features}


def label_position(geometry_text: str) -> tuple[float, float] | None:
    """Where to write a territory's label: the centroid of its largest polygon (shapely)."""
    geometry = json.loads(geometry_text)
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    outline = shape(geometry)
    if outline.is_empty:
        return None
    largest = max(getattr(outline, "geoms", [outline]), key=lambda polygon: polygon.area)
    point = largest.centroid if largest.area > 0 else largest.representative_point()
    return point.x, point.y
