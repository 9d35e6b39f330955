"""Figures of the method page: how the exposure of every ROME fiche spreads under one lens, and
where the lens's class thresholds cut that spread."""

import pandas as pd
import plotly.graph_objects as go

from .common import CLASS_COLOURS, CLASS_LABELS, base_layout, format_number, format_percent
from .map import NO_MODEBAR

# Exposure is read to the hundredth on every page: one bar per hundredth.
BIN_WIDTH = 0.01


def exposure_histogram(exposures: pd.Series, classes: pd.Series, *, high: float, medium: float) -> go.Figure:
    """Histogram of the exposure of the fiches (`exposures`, in [0, 1], indexed by ROME code),
    one stacked trace per class (`classes`: `high`, `medium` or `low` on the same index, as
    analysis.exposure.exposure_class gives them), and the two thresholds as labelled
    vertical lines. Each trace's `x` holds its fiches' exposures in code order."""
    figure = go.Figure()
    for name in ("low", "medium", "high"):
        values = exposures[classes.astype(str) == name].sort_index()
        figure.add_trace(
            go.Histogram(
                x=values.to_list(),
                name=CLASS_LABELS[name],
                marker={"color": CLASS_COLOURS[name]},
                xbins={"start": 0.0, "end": 1.0 + BIN_WIDTH, "size": BIN_WIDTH},
                hovertemplate="Exposition %{x}<br>%{y} fiche(s)<extra>" + CLASS_LABELS[name] + "</extra>",
            )
        )
    low_end = max(0.0, min(exposures.min(), medium) - 0.05) if len(exposures) else 0.0
    high_end = min(1.0, max(exposures.max(), high) + 0.05) if len(exposures) else 1.0
    figure.update_layout(
        **base_layout(
            barmode="stack",
            bargap=0.05,
            modebar=NO_MODEBAR,
            height=320,
            margin={"l": 10, "r": 10, "t": 40, "b": 40},
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "traceorder": "reversed"},
            xaxis={
                "title": {"text": "Exposition E"},
                "range": [low_end, high_end],
                "tickformat": ".2f",
                "gridcolor": "#e6e9ee",
                "fixedrange": True,
            },
            yaxis={"title": {"text": "Nombre de fiches"}, "gridcolor": "#e6e9ee", "fixedrange": True},
        )
    )
    for threshold, name, position in ((high, "high", "top right"), (medium, "medium", "top left")):
        figure.add_vline(
            x=threshold,
            line={"color": CLASS_COLOURS[name], "width": 2, "dash": "dash"},
            annotation_text=f"{CLASS_LABELS[name]} ≥ {format_number(threshold, 2)}",
            annotation_position=position,
            annotation_font={"color": CLASS_COLOURS[name]},
        )
    return figure


def exposure_histogram_summary(lens_label: str, shares: dict[str, float], *, high: float, medium: float) -> str:
    """The histogram in one sentence, for the chart's aria-label."""
    return (
        f"Répartition de l'exposition des fiches ROME, lecture « {lens_label} » : "
        f"{format_percent(shares['high'])} en exposition forte (E ≥ {format_number(high, 2)}), "
        f"{format_percent(shares['medium'])} en changement significatif, "
        f"{format_percent(shares['low'])} en exposition faible (E < {format_number(medium, 2)})."
    )
