"""Figures of the occupation page: the task profiles of a fiche, and its exposure beside the
external indices."""

import math

import pandas as pd
import plotly.graph_objects as go

from .common import CLASS_COLOURS, CLASS_LABELS, base_layout, format_number, format_percent
from .map import NO_MODEBAR

# Reference and field are the two inputs, the blended profile the result: the inputs are
# drawn in quieter colours so the eye goes to what the exposure is computed from.
PROFILE_SERIES = {
    "reference": ("Référence", "#a9b4c2"),
    "field": ("Terrain (entreprises)", "#6f9bd1"),
    "blended": ("Mélangé (retenu)", "#1d4f91"),
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _two_lines(label: str) -> str:
    """« Non routinier interpersonnel » → « Non routinier<br>interpersonnel »: two short lines
    per tick keep the bars wide on a phone."""
    words = label.split()
    if len(words) < 2:
        return label
    best = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return " ".join(words[:best]) + "<br>" + " ".join(words[best:])


def task_profile_figure(frame: pd.DataFrame, labels: dict[str, str], show_field: bool = True) -> go.Figure:
    """Grouped horizontal bars of the task profiles in `frame` (selectors.task_profile_frame:
    index RC…NRM, columns reference, field, blended as fractions of 1). `labels` gives each
    category's French label; `show_field` False leaves the field profile out (too few
    reporting companies to publish it)."""
    categories = list(frame.index)
    ticks = [f"{_two_lines(labels.get(code, code))} ({code})" for code in categories]
    figure = go.Figure()
    for column, (name, colour) in PROFILE_SERIES.items():
        if column == "field" and not show_field:
            continue
        if frame[column].isna().all():  # not published (secrecy) or no data
            continue
        values = frame[column]
        figure.add_trace(
            go.Bar(
                orientation="h",
                y=ticks,
                x=[None if _missing(v) else v * 100 for v in values],
                name=name,
                marker={"color": colour},
                customdata=[format_percent(None if _missing(v) else v) for v in values],
                hovertemplate=f"{name} : %{{customdata}}<extra>%{{y}}</extra>",
            )
        )
    figure.update_layout(
        **base_layout(
            barmode="group",
            modebar=NO_MODEBAR,
            height=420,
            margin={"l": 10, "r": 10, "t": 40, "b": 30},
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            bargap=0.25,
            # Percent points with a French suffix (« 40 % »): d3's ".0%" would print « 40% ».
            xaxis={"ticksuffix": "\u00a0%", "rangemode": "tozero", "gridcolor": "#e6e9ee", "fixedrange": True},
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
        )
    )
    return figure


def task_profile_summary(frame: pd.DataFrame, labels: dict[str, str]) -> str:
    """The blended profile in one sentence, for the chart's aria-label."""
    parts = [f"{labels.get(code, code).lower()} {format_percent(share)}" for code, share in frame["blended"].items()]
    return "Profil de tâches retenu : " + ", ".join(parts) + ". Détail dans le tableau qui suit."


def exposure_comparison_figure(frame: pd.DataFrame, high: float, medium: float) -> go.Figure:
    """Horizontal bars of the exposure of one fiche by several sources (rows: name, score in
    [0, 1]), coloured by the exposure class each score falls in, with the class thresholds
    drawn as dotted lines."""
    colours = [
        CLASS_COLOURS["high"] if s >= high else CLASS_COLOURS["medium"] if s >= medium else CLASS_COLOURS["low"]
        for s in frame["score"]
    ]
    figure = go.Figure(
        go.Bar(
            orientation="h",
            y=list(frame["name"]),
            x=list(frame["score"]),
            marker={"color": colours},
            text=[format_number(s, 2) for s in frame["score"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y} : %{text}<extra></extra>",
        )
    )
    for threshold, key in ((medium, "medium"), (high, "high")):
        figure.add_vline(x=threshold, line={"color": CLASS_COLOURS[key], "dash": "dot", "width": 1.5})
        figure.add_annotation(
            x=threshold,
            y=1,
            yref="paper",
            yanchor="bottom",
            text=f"{CLASS_LABELS[key]} ({format_number(threshold, 2)})",
            showarrow=False,
            font={"size": 11, "color": CLASS_COLOURS[key]},
            xanchor="left" if key == "high" else "right",
        )
    figure.update_layout(
        **base_layout(
            height=max(200, 60 + 44 * len(frame)),
            margin={"l": 10, "r": 40, "t": 40, "b": 30},
            showlegend=False,
            modebar=NO_MODEBAR,
            xaxis={"range": [0, 1.05], "tickformat": ".1f", "gridcolor": "#e6e9ee", "fixedrange": True},
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
        )
    )
    return figure


# One colour per task category for the contributions to the exposure: the routine categories
# (which most published readings hold the most exposed) in the warm colours of the classes.
CATEGORY_COLOURS = {"RC": "#b42318", "RM": "#e07a1f", "NRA": "#1d4f91", "NRI": "#6f9bd1", "NRM": "#2e7d57"}


def exposure_contribution_figure(frame: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Horizontal bars of each category's share of the exposure, α_c·s_c / E in percent
    (`frame`: index RC…NRM, columns `contribution`, `alpha`, `blended`), with α and the
    share of working time in the hover text."""
    categories = list(frame.index)
    ticks = [f"{_two_lines(labels.get(code, code))} ({code})" for code in categories]
    hover = [
        f"α = {format_number(row.alpha, 2)} × part {format_percent(row.blended)}"
        f" → {format_percent(row.contribution)} de E"
        for row in frame.itertuples()
    ]
    figure = go.Figure(
        go.Bar(
            orientation="h",
            y=ticks,
            x=[value * 100 for value in frame["contribution"]],
            marker={"color": [CATEGORY_COLOURS.get(code, "#1d4f91") for code in categories]},
            text=[format_percent(value, 0) for value in frame["contribution"]],
            textposition="outside",
            cliponaxis=False,
            customdata=hover,
            hovertemplate="%{customdata}<extra>%{y}</extra>",
        )
    )
    figure.update_layout(
        **base_layout(
            height=320,
            margin={"l": 10, "r": 40, "t": 20, "b": 30},
            showlegend=False,
            modebar=NO_MODEBAR,
            xaxis={"ticksuffix": "\u00a0%", "rangemode": "tozero", "gridcolor": "#e6e9ee", "fixedrange": True},
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
        )
    )
    return figure


def exposure_contribution_summary(frame: pd.DataFrame, labels: dict[str, str]) -> str:
    """The contributions in one sentence, for the chart's aria-label."""
    parts = [
        f"{labels.get(code, code).lower()} {format_percent(value, 0)}" for code, value in frame["contribution"].items()
    ]
    return "Part de chaque catégorie dans l'exposition : " + ", ".join(parts) + ". Détail dans le tableau qui suit."
