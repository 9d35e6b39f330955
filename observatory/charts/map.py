"""The choropleth of the map page: one indicator of a run's cells per territory, drawn from the
outlines stored on the territories (`Territory.geometry`, GeoJSON). There is no base map: the
figure needs no tile nor topojson from the network."""

import json
import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from .common import EXPOSURE_SCALE, SECRET_COLOUR, base_layout, format_number, format_percent, secret_reason_text

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
OUTLINE_COLOUR = "#ffffff"


@dataclass(frozen=True)
class Indicator:
    label: str
    kind: str  # "score" (0,45), "share" (23,4 %), "count" (12 345) or "index" (−0,32)
    colorscale: list
    zmin: float | None = None
    zmax: float | None = None
    help: str = ""


# The indicators a map can show, in the order of the form. Exposure keeps the colours of the
# exposure classes on a fixed 0–1 scale, so that two maps (or two lenses) compare by eye.
INDICATORS = {
    "exposure_mean": Indicator(
        "Exposition moyenne",
        "score",
        EXPOSURE_SCALE,
        0.0,
        1.0,
        "Moyenne de l'exposition des postes, pondérée par les effectifs (0 à 1).",
    ),
    "share_high": Indicator(
        "Part des salariés en exposition forte",
        "share",
        [[0.0, "#fdeceb"], [1.0, "#b42318"]],
        0.0,
        None,
        "Part des salariés dont le métier est en classe d'exposition forte.",
    ),
    "employees": Indicator(
        "Salariés",
        "count",
        [[0.0, "#e3ecf7"], [1.0, "#143a6b"]],
        0.0,
        None,
        "Salariés des entreprises couvertes par l'observatoire.",
    ),
    "training_need_share": Indicator(
        "Part des salariés avec un besoin de formation",
        "share",
        [[0.0, "#e3ecf7"], [1.0, "#1d4f91"]],
        0.0,
        None,
        "Part des salariés pour lesquels l'entreprise a déclaré un besoin de formation.",
    ),
    "training_coverage": Indicator(
        "Couverture par l'offre de formation",
        "share",
        [[0.0, "#e7f5ee"], [1.0, "#2e7d57"]],
        0.0,
        1.0,
        "Part des salariés exposés pour lesquels une formation publiée mène à un bloc de compétences utile, "
        "dans le même département.",
    ),
    "rti_mean": Indicator(
        "Intensité routinière moyenne",
        "index",
        [[0.0, "#1f7a8c"], [0.5, "#f4f1ea"], [1.0, "#6b3fa0"]],
        None,
        None,
        "ln(RC + RM) − ln(NRA + NRI) − ln(NRM) : positive quand les tâches routinières dominent.",
    ),
}
DEFAULT_INDICATOR = "exposure_mean"


def secret_label(reason: str, methodology=None) -> str:
    return secret_reason_text(reason, methodology)


def format_indicator(value, indicator: str) -> str:
    """A value of `indicator` in French: « 0,45 », « 23,4 % », « 12 345 »; « — » when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    kind = INDICATORS[indicator].kind
    if kind == "share":
        return format_percent(value)
    if kind == "count":
        return format_number(value)
    return format_number(value, 2).replace("-", "−")


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


def _ring_centroid(ring: list) -> tuple[float, float, float]:
    """Area and centroid of a lon/lat ring (planar shoelace: enough to place a label)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-12:
        xs, ys = zip(*ring, strict=True)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(area) / 2, cx / (3 * area), cy / (3 * area)


def label_position(geometry_text: str) -> tuple[float, float] | None:
    """Where to write a territory's label: the centroid of its largest polygon."""
    geometry = json.loads(geometry_text)
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return None
    best = max((_ring_centroid([tuple(p[:2]) for p in polygon[0]]) for polygon in polygons if polygon), default=None)
    return (best[1], best[2]) if best else None


def _nice_ceiling(value: float) -> float:
    """The smallest round number ≥ value (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k), so that the
    colour bar's five ticks read as round figures (0, 20 000, 40 000…)."""
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = mantissa * 10**exponent
        if candidate >= value * (1 - 1e-9):
            return candidate
    return 10 ** (exponent + 1)


def _colour_range(values: pd.Series, spec: Indicator) -> tuple[float, float]:
    if spec.kind == "index":
        # Diverging around 0: routine and non-routine dominance read as opposite colours.
        bound = _nice_ceiling(float(values.abs().max()) if len(values) else 1.0) or 1.0
        return -bound, bound
    low = spec.zmin if spec.zmin is not None else float(values.min())
    if spec.zmax is not None:
        return low, spec.zmax
    high = _nice_ceiling(float(values.max()))
    if high <= low:
        high = low + (0.1 if spec.kind == "share" else 10.0)
    return low, high


def _ticks(low: float, high: float, indicator: str) -> tuple[list[float], list[str]]:
    values = [low + (high - low) * step / 4 for step in range(5)]
    return values, [format_indicator(value, indicator) for value in values]


def map_figure(frame: pd.DataFrame, geometries: dict[str, str], indicator: str, label_names: bool = True) -> go.Figure:
    """A choropleth of `indicator` over the territories of `frame` (selectors.map_cells_frame)
    whose outline is in `geometries` (code → GeoJSON text).

    Published territories are coloured by value; secret ones are grey and labelled « secret »
    with their reason, never a value; territories without a cell (or without a value for the
    indicator) are pale grey. `label_names` writes each territory's name and value on the map
    (right for the five départements, too crowded for the EPCI, where only « secret » is
    written).
    """
    spec = INDICATORS[indicator]
    drawn = frame[frame["code"].isin(geometries.keys())]
    secret = drawn[drawn["secret"]]
    published = drawn[~drawn["secret"] & drawn["has_data"] & drawn[indicator].notna()]
    missing = drawn[~drawn.index.isin(secret.index) & ~drawn.index.isin(published.index)]
    figure = go.Figure()

    if len(published):
        low, high = _colour_range(published[indicator], spec)
        tickvals, ticktext = _ticks(low, high, indicator)
        customdata = [
            [name, format_indicator(value, indicator), format_number(employees), format_number(companies)]
            for name, value, employees, companies in zip(
                published["name"], published[indicator], published["employees"], published["companies"], strict=True
            )
        ]
        figure.add_trace(
            go.Choropleth(
                geojson=_feature_collection(geometries, published),
                featureidkey="properties.code",
                locations=list(published["code"]),
                z=list(published[indicator]),
                zmin=low,
                zmax=high,
                colorscale=spec.colorscale,
                marker={"line": {"color": OUTLINE_COLOUR, "width": 1.5}},
                customdata=customdata,
                hovertemplate=(
                    f"<b>%{{customdata[0]}}</b><br>{spec.label} : %{{customdata[1]}}"
                    "<br>Salariés : %{customdata[2]}<br>Entreprises : %{customdata[3]}<extra></extra>"
                ),
                # Horizontal, under the map: on a phone a vertical bar would take a third of
                # the width.
                colorbar={
                    "title": {"text": spec.label, "side": "top"},
                    "orientation": "h",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": 0,
                    "yanchor": "top",
                    "len": 0.9,
                    "thickness": 12,
                    "tickvals": tickvals,
                    "ticktext": ticktext,
                },
                name=spec.label,
            )
        )
    for rows, colour, describe in (
        (secret, SECRET_COLOUR, lambda row: f"secret : {secret_label(row.secret_reason)}"),
        (missing, NO_DATA_COLOUR, lambda row: "aucune donnée pour cet indicateur"),
    ):
        if not len(rows):
            continue
        figure.add_trace(
            go.Choropleth(
                geojson=_feature_collection(geometries, rows),
                featureidkey="properties.code",
                locations=list(rows["code"]),
                z=[0] * len(rows),
                colorscale=[[0.0, colour], [1.0, colour]],
                showscale=False,
                marker={"line": {"color": OUTLINE_COLOUR, "width": 1.5}},
                customdata=[[row.name, describe(row)] for row in rows.itertuples()],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
            )
        )

    labels = []
    for row in drawn.itertuples():
        if row.secret:
            text = f"{row.name}<br>secret" if label_names else "secret"
        elif label_names:
            text = f"{row.name}<br>{format_indicator(getattr(row, indicator), indicator)}"
        else:
            continue
        position = label_position(geometries[row.code])
        if position:
            labels.append((position, text, bool(row.secret)))
    # Names and values in dark ink on a white halo; « secret » in white on the grey fill.
    for secret_labels, colour, halo in ((False, "#1b2430", "#ffffff"), (True, "#ffffff", "#3d4653")):
        chosen = [(position, text) for position, text, is_secret in labels if is_secret == secret_labels]
        if not chosen:
            continue
        figure.add_trace(
            go.Scattergeo(
                lon=[position[0] for position, _ in chosen],
                lat=[position[1] for position, _ in chosen],
                text=[text for _, text in chosen],
                mode="text",
                textfont={"size": 12, "color": colour, "shadow": f"0 0 3px {halo}"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    figure.update_layout(
        **base_layout(
            height=560,
            margin={"l": 0, "r": 0, "t": 10, "b": 70},
            showlegend=False,
            dragmode=False,
            modebar=NO_MODEBAR,
            geo={
                "visible": False,
                "fitbounds": "locations",
                "projection": {"type": "mercator"},
                "bgcolor": "#ffffff",
            },
        )
    )
    return figure


def map_summary(frame: pd.DataFrame, indicator: str, territories_label: str) -> str:
    """One sentence for the chart's aria-label: range of values, secret and empty territories."""
    spec = INDICATORS[indicator]
    published = frame[~frame["secret"] & frame["has_data"] & frame[indicator].notna()]
    parts = [f"Carte des {territories_label}, {spec.label.lower()}"]
    if len(published):
        low = published.loc[published[indicator].idxmin()]
        high = published.loc[published[indicator].idxmax()]
        parts[0] += (
            f" : de {format_indicator(low[indicator], indicator)} ({low['name']})"
            f" à {format_indicator(high[indicator], indicator)} ({high['name']})"
        )
    secret = int(frame["secret"].sum())
    if secret:
        parts.append(f"{secret} territoire{'s' if secret > 1 else ''} sous secret statistique")
    missing = len(frame) - len(published) - secret
    if missing:
        parts.append(f"{missing} sans donnée")
    return " ; ".join(parts) + ". Les mêmes chiffres figurent dans le tableau sous la carte."
