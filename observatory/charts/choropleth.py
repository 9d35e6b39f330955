"""The map page's choropleth: one indicator per territory, its colour scale fitted to the
values shown so that five départements (or the EPCI of one) that differ by a few points read
as different colours, and the scale's bounds written under the map.

A fitted scale no longer says « high » or « low » on its own: the legend gives its bounds and
the table under the map every value. Labels are written in dark or white ink, whichever
contrasts more with the fill beneath (WCAG relative luminance), on a halo of the other.
"""

import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from .common import SECRET_COLOUR, base_layout, format_number, format_percent, secret_reason_text
from .map import NO_DATA_COLOUR, OUTLINE_COLOUR, _feature_collection, downloadable, label_position

# Black, not the site's dark ink: with pure black and white, every fill colour has one of the
# two at a contrast of at least 4.58:1 (WCAG AA for text); a dark grey leaves a gap of mid
# tones where neither reaches 4.5.
DARK_INK = "#000000"
LIGHT_INK = "#ffffff"


@dataclass(frozen=True)
class Indicator:
    label: str
    kind: str  # "score" (0,45), "share" (23,4 %), "count" (12 345) or "index" (−0,32)
    colorscale: tuple
    help: str = ""


# Sequential scales from a pale to a dark colour of one hue (the low end stays clearly apart
# from the grey of secret territories); a diverging one for the routine index.
WARM = ((0.0, "#fff3d6"), (0.5, "#f08a3c"), (1.0, "#8f1d14"))
BLUE = ((0.0, "#e3ecf7"), (1.0, "#143a6b"))
GREEN = ((0.0, "#e7f5ee"), (1.0, "#1f5c3f"))
DIVERGING = ((0.0, "#1f7a8c"), (0.5, "#f4f1ea"), (1.0, "#6b3fa0"))

# The indicators a map can show, in the order of the form.
INDICATORS = {
    "exposure_mean": Indicator(
        "Exposition moyenne", "score", WARM, "Moyenne de l'exposition des postes, pondérée par les effectifs (0 à 1)."
    ),
    "exposed_share": Indicator(
        "Part des salariés exposés",
        "share",
        WARM,
        "Part des salariés dont le métier est en exposition forte ou en changement significatif.",
    ),
    "share_high": Indicator(
        "Part des salariés en exposition forte",
        "share",
        WARM,
        "Part des salariés dont le métier est en classe d'exposition forte.",
    ),
    "exposed_employees": Indicator(
        "Salariés exposés",
        "count",
        WARM,
        "Salariés dont le métier est en exposition forte ou en changement significatif.",
    ),
    "employees": Indicator("Salariés", "count", BLUE, "Salariés des entreprises couvertes par l'observatoire."),
    "training_need_share": Indicator(
        "Part des salariés avec un besoin de formation",
        "share",
        BLUE,
        "Part des salariés pour lesquels l'entreprise a déclaré un besoin de formation.",
    ),
    "training_coverage": Indicator(
        "Couverture par l'offre de formation",
        "share",
        GREEN,
        "Part des salariés exposés pour lesquels une formation publiée mène à un bloc de compétences utile, "
        "dans le même département.",
    ),
    "rti_mean": Indicator(
        "Intensité routinière moyenne",
        "index",
        DIVERGING,
        "ln(RC + RM) − ln(NRA + NRI) − ln(NRM) : positive quand les tâches routinières dominent.",
    ),
}
DEFAULT_INDICATOR = "exposure_mean"


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


def colour_range(values: pd.Series, indicator: str) -> tuple[float, float]:
    """The scale's bounds: the smallest and largest value shown; symmetric around 0 for the
    routine index (its sign is its meaning). One value, or all equal, gets a range around it
    so that the colour is the middle of the scale rather than an end."""
    values = values.dropna().astype(float)
    if values.empty:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if INDICATORS[indicator].kind == "index":
        bound = max(abs(low), abs(high)) or 1.0
        return -bound, bound
    if high - low < 1e-12:
        pad = abs(low) * 0.05 or (0.01 if INDICATORS[indicator].kind in ("score", "share") else 1.0)
        return low - pad, high + pad
    return low, high


def _hex(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4))


def scale_colour(scale, position: float) -> str:
    """The colour at `position` (0–1) of a plotly colour scale, interpolated in RGB as
    plotly does."""
    position = min(1.0, max(0.0, position))
    for (start, left), (end, right) in zip(scale, scale[1:], strict=False):
        if position <= end:
            t = 0.0 if end == start else (position - start) / (end - start)
            mixed = [a + (b - a) * t for a, b in zip(_hex(left), _hex(right), strict=True)]
            return "#" + "".join(f"{round(channel * 255):02x}" for channel in mixed)
    return scale[-1][1]


def _luminance(colour: str) -> float:
    def linear(channel):
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def ink_for(fill: str) -> str:
    """Dark or white ink, whichever contrasts more with `fill`."""
    return DARK_INK if contrast(DARK_INK, fill) >= contrast(LIGHT_INK, fill) else LIGHT_INK


def map_figure(frame: pd.DataFrame, geometries: dict[str, str], indicator: str, label_names: bool = True):
    """(figure, legend) of `indicator` over the territories of `frame` (observatory.maps) whose
    outline is in `geometries` (code → GeoJSON text).

    Published territories are coloured on the fitted scale; secret ones are grey, labelled
    « secret » and described with their reason, never a value; territories without a value
    are pale grey. `label_names` writes each territory's name and value on the map (the
    five départements, or a handful of EPCI); otherwise only « secret » is written. `legend`
    holds the scale's bounds as the page writes them: low, high (formatted) and the colours
    of both ends.
    """
    spec = INDICATORS[indicator]
    drawn = frame[frame["code"].isin(geometries.keys())]
    secret = drawn[drawn["secret"]]
    published = drawn[~drawn["secret"] & drawn["has_data"] & drawn[indicator].notna()]
    missing = drawn[~drawn.index.isin(secret.index) & ~drawn.index.isin(published.index)]
    figure = go.Figure()
    legend = None
    fills: dict[str, str] = {}

    if len(published):
        low, high = colour_range(published[indicator], indicator)
        scale = [list(step) for step in spec.colorscale]
        ticks = [low + (high - low) * step / 4 for step in range(5)]
        for code, value in zip(published["code"], published[indicator], strict=True):
            fills[code] = scale_colour(spec.colorscale, (value - low) / (high - low))
        legend = {
            "low": format_indicator(low, indicator),
            "high": format_indicator(high, indicator),
            "low_colour": spec.colorscale[0][1],
            "high_colour": spec.colorscale[-1][1],
        }
        figure.add_trace(
            go.Choropleth(
                geojson=_feature_collection(geometries, published),
                featureidkey="properties.code",
                locations=list(published["code"]),
                z=list(published[indicator]),
                zmin=low,
                zmax=high,
                colorscale=scale,
                marker={"line": {"color": OUTLINE_COLOUR, "width": 1.2}},
                customdata=[
                    [name, format_indicator(value, indicator), format_number(employees), format_number(companies)]
                    for name, value, employees, companies in zip(
                        published["name"],
                        published[indicator],
                        published["employees"],
                        published["companies"],
                        strict=True,
                    )
                ],
                hovertemplate=(
                    f"<b>%{{customdata[0]}}</b><br>{spec.label} : %{{customdata[1]}}"
                    "<br>Salariés : %{customdata[2]}<br>Entreprises : %{customdata[3]}<extra></extra>"
                ),
                colorbar={
                    "title": {"text": spec.label, "side": "top"},
                    "orientation": "h",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": 0,
                    "yanchor": "top",
                    "len": 0.9,
                    "thickness": 12,
                    "tickvals": ticks,
                    "ticktext": [format_indicator(value, indicator) for value in ticks],
                },
                name=spec.label,
            )
        )
    for rows, colour, describe in (
        (secret, SECRET_COLOUR, lambda row: f"secret : {secret_reason_text(row.secret_reason)}"),
        (missing, NO_DATA_COLOUR, lambda row: "aucune donnée pour cet indicateur"),
    ):
        if not len(rows):
            continue
        fills.update(dict.fromkeys(rows["code"], colour))
        figure.add_trace(
            go.Choropleth(
                geojson=_feature_collection(geometries, rows),
                featureidkey="properties.code",
                locations=list(rows["code"]),
                z=[0] * len(rows),
                colorscale=[[0.0, colour], [1.0, colour]],
                showscale=False,
                marker={"line": {"color": OUTLINE_COLOUR, "width": 1.2}},
                customdata=[[row.name, describe(row)] for row in rows.itertuples()],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
            )
        )

    labels = {DARK_INK: [], LIGHT_INK: []}
    for row in drawn.itertuples():
        if row.secret:
            text = f"{row.name}<br>secret" if label_names else "secret"
        elif label_names:
            text = f"{row.name}<br>{format_indicator(getattr(row, indicator), indicator)}"
        else:
            continue
        position = label_position(geometries[row.code])
        if position:
            labels[ink_for(fills.get(row.code, NO_DATA_COLOUR))].append((position, text))
    for ink, chosen in labels.items():
        if not chosen:
            continue
        halo = LIGHT_INK if ink == DARK_INK else DARK_INK
        figure.add_trace(
            go.Scattergeo(
                lon=[position[0] for position, _ in chosen],
                lat=[position[1] for position, _ in chosen],
                text=[text for _, text in chosen],
                mode="text",
                textfont={"size": 12, "color": ink, "shadow": f"0 0 3px {halo}"},
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
            **downloadable("carte-exposition-ia-hauts-de-france"),
            geo={"visible": False, "fitbounds": "locations", "projection": {"type": "mercator"}, "bgcolor": "#ffffff"},
        )
    )
    return figure, legend


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
