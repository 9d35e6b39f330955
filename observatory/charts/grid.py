"""Figures of the overview and grid pages: the exposure heatmap sector × occupation, the most
exposed occupations and the shares of employees by exposure class.

Frames come from the selectors with the values of secret cells already blank; these builders
still never read a figure of a secret row, so a secret cell can only ever read « secret »."""

import math

import pandas as pd
import plotly.graph_objects as go

from .common import (
    CLASS_COLOURS,
    CLASS_LABELS,
    EXPOSURE_SCALE,
    SECRET_COLOUR,
    base_layout,
    format_number,
    format_percent,
    secret_reason_text,
)
from .map import downloadable

# Beyond this many columns the values no longer fit in the cells: they stay in the hover.
MAX_COLUMNS_WITH_VALUES = 16


def secret_reason_label(reason: str, methodology=None) -> str:
    return secret_reason_text(reason, methodology, default="cellule masquée")


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _number(value, decimals: int = 0) -> str:
    return format_number(float(value), decimals) if _known(value) else "—"


def _percent(value) -> str:
    return format_percent(float(value)) if _known(value) else "—"


def _wrap(text: str, width: int = 26, lines: int = 2) -> str:
    """A long bar label on at most `lines` lines: keeps the bars' labels readable on a phone,
    where plotly cannot widen its margin."""
    return wrap_label(text, width, lines)


def wrap_label(text: str, width: int, lines: int) -> str:
    """An axis label on at most `lines` lines of about `width` characters, broken with <br>
    between words, never inside one; beyond `lines`, the last words give way to « … ». The
    whole label is in the cell's hover."""
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1].split()
        while len(last) > 1 and len(" ".join(last)) + 2 > width:
            last.pop()
        out[-1] = " ".join(last) + " …"
    return "<br>".join(out)


def _member(code: str, label: str) -> str:
    return f"{code} · {label}" if label else code


def _cell_hover(row) -> str:
    sector = _member(row.sector_code, row.sector_label)
    head = f"<b>{sector}</b><br>{_member(row.occupation_code, row.occupation_label)}<br>"
    if row.secret:
        return head + f"<b>Secret statistique</b> : {secret_reason_label(row.secret_reason)}"
    return head + (
        f"Exposition moyenne : {_number(row.exposure_mean, 2)}<br>"
        f"Salariés : {_number(row.employees)}<br>"
        f"Entreprises : {_number(row.companies)}<br>"
        f"Exposition forte : {_percent(row.share_high)} · changement significatif : {_percent(row.share_medium)}"
    )


def exposure_heatmap(cells: pd.DataFrame, *, row_title: str = "", column_title: str = "") -> go.Figure:
    """Heatmap sector (rows) × occupation (columns) coloured by mean exposure.

    `cells`: one row per cell with sector_code, sector_label, occupation_code,
    occupation_label, companies, employees, exposure_mean (0–1), share_high, share_medium,
    secret, secret_reason (as `selectors.grid_heatmap_frame` returns them). Published cells
    take the exposure colour scale on a fixed 0–1 range, so a colour means the same exposure
    on every page and lens; secret cells are a grey layer reading « secret », with the reason
    in the hover; coordinates without any cell stay empty.
    """
    sectors = sorted(cells["sector_code"].unique())
    occupations = sorted(cells["occupation_code"].unique())
    sector_names = dict(zip(cells["sector_code"], cells["sector_label"], strict=False))
    occupation_names = dict(zip(cells["occupation_code"], cells["occupation_label"], strict=False))
    # Long labels wrap between words (a code keeps every label unique); the hover has them whole.
    y = [wrap_label(_member(code, sector_names.get(code, "")), 32, 2) for code in sectors]
    few_columns = len(occupations) <= MAX_COLUMNS_WITH_VALUES
    x = [
        wrap_label(_member(code, occupation_names.get(code, "")), 20, 3) if few_columns else code
        for code in occupations
    ]
    row_of = {code: i for i, code in enumerate(sectors)}
    column_of = {code: j for j, code in enumerate(occupations)}

    def grid(rows: pd.DataFrame, value) -> tuple[list, list]:
        z = [[None] * len(occupations) for _ in sectors]
        hover = [[None] * len(occupations) for _ in sectors]
        for row in rows.itertuples(index=False):
            i, j = row_of[row.sector_code], column_of[row.occupation_code]
            z[i][j] = value(row)
            hover[i][j] = _cell_hover(row)
        return z, hover

    secret = cells["secret"].astype(bool)
    published = cells[~secret]
    figure = go.Figure()
    z, hover = grid(published, lambda row: float(row.exposure_mean) if _known(row.exposure_mean) else None)
    # Texts are written out (never None): plotly prints a gap's missing text as garbage over
    # the other layer's text.
    text = [[_number(value, 2) if value is not None else "" for value in line] for line in z]
    figure.add_trace(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=text,
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            texttemplate="%{text}" if few_columns else "",
            textfont={"size": 12},
            colorscale=EXPOSURE_SCALE,
            zmin=0,
            zmax=1,
            xgap=1,
            ygap=1,
            hoverongaps=False,
            colorbar={
                "title": {"text": "Exposition<br>moyenne"},
                "thickness": 12,
                "lenmode": "pixels",
                "len": max(110, min(280, 34 * len(sectors))),
                "tickformat": ".1f",
            },
            name="Exposition moyenne",
        )
    )
    if secret.any():
        z, hover = grid(cells[secret], lambda row: 1)
        figure.add_trace(
            go.Heatmap(
                z=z,
                x=x,
                y=y,
                text=[["secret" if value is not None else "" for value in line] for line in z],
                customdata=hover,
                texttemplate="%{text}",
                # Dark ink on the grey: white would fall short of the 4.5:1 contrast for small text.
                textfont={"color": "#1b2430", "size": 10 if few_columns else 8},
                hovertemplate="%{customdata}<extra></extra>",
                colorscale=[[0, SECRET_COLOUR], [1, SECRET_COLOUR]],
                showscale=False,
                xgap=1,
                ygap=1,
                hoverongaps=False,
                name="Secret statistique",
            )
        )
    figure.update_layout(
        **base_layout(
            height=max(300, 34 * len(sectors) + (170 if few_columns else 90)),
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            **downloadable("grille-exposition-ia"),
        )
    )
    figure.update_xaxes(
        side="top",
        type="category",
        tickangle=-40 if few_columns else -90,
        automargin=True,
        title={"text": column_title, "standoff": 6},
        tickfont={"size": 11},
    )
    figure.update_yaxes(
        autorange="reversed", type="category", automargin=True, title={"text": row_title}, tickfont={"size": 11}
    )
    return figure


def heatmap_min_width(cells: pd.DataFrame) -> int:
    """Width in px under which the heatmap scrolls sideways instead of shrinking, so that a
    cell still holds « secret » (and its value) on a phone: room for the row labels and a
    fixed width per column."""
    columns = cells["occupation_code"].nunique()
    return 300 + columns * (52 if columns <= MAX_COLUMNS_WITH_VALUES else 32)


def heatmap_summary(cells: pd.DataFrame, *, row_title: str, column_title: str) -> str:
    """One sentence for the chart's aria-label: its shape, range and secret cells."""
    if cells.empty:
        return "Carte de chaleur vide : aucune cellule ne correspond aux filtres."
    secret = cells["secret"].astype(bool)
    exposures = cells.loc[~secret, "exposure_mean"].dropna()
    text = (
        f"Carte de chaleur de l'exposition moyenne : {cells['sector_code'].nunique()} {row_title.lower()} en lignes, "
        f"{cells['occupation_code'].nunique()} {column_title.lower()} en colonnes, {len(cells)} cellules"
    )
    if not exposures.empty:
        text += f", exposition de {_number(exposures.min(), 2)} à {_number(exposures.max(), 2)}"
    text += f", dont {int(secret.sum())} secrètes. Les mêmes valeurs figurent dans le tableau ci-dessous."
    return text


def top_occupations_bar(top: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the employees of the most exposed occupations, the largest on top,
    coloured by the exposure class of the occupation.

    `top`: occupation_code, occupation_label, employees, exposed_employees, exposure_mean,
    share_high, share_medium (published fiche cells, as `key_figures.overview_figures` gives).
    """
    rows = top.iloc[::-1]
    classes = ["high" if (row.share_high or 0) > 0 else "medium" for row in rows.itertuples()]
    figure = go.Figure(
        go.Bar(
            x=[float(v) for v in rows["employees"]],
            y=[_wrap(f"{row.occupation_code} · {row.occupation_label}") for row in rows.itertuples()],
            orientation="h",
            marker={"color": [CLASS_COLOURS[c] for c in classes]},
            text=[_number(v) for v in rows["employees"]],
            textposition="outside",
            cliponaxis=False,
            customdata=[
                f"<b>{row.occupation_label}</b> ({row.occupation_code})<br>Salariés : {_number(row.employees)}<br>"
                f"Exposition moyenne : {_number(row.exposure_mean, 2)} — {CLASS_LABELS[cls].lower()}"
                for row, cls in zip(rows.itertuples(), classes, strict=True)
            ],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    figure.update_layout(
        **base_layout(
            height=max(220, 40 * len(rows) + 60),
            margin={"l": 10, "r": 40, "t": 10, "b": 30},
            showlegend=False,
            **downloadable("metiers-les-plus-exposes"),
        )
    )
    figure.update_xaxes(
        title={"text": "Salariés"}, tickformat=",d", nticks=4, tickangle=0, gridcolor="#e6e9ee", rangemode="tozero"
    )
    figure.update_yaxes(automargin=True)
    return figure


def class_shares_bar(shares: pd.DataFrame) -> go.Figure:
    """100 % stacked horizontal bars of the shares of employees by exposure class per ROME
    grand domaine; secret grands domaines get a grey bar reading « secret ».

    `shares`: occupation_code, occupation_label, employees, share_high, share_medium,
    share_low, secret, secret_reason (blank values when secret).
    """
    rows = shares.iloc[::-1]
    labels = [_wrap(f"{row.occupation_code} · {row.occupation_label}") for row in rows.itertuples()]
    secret = rows["secret"].astype(bool).tolist()
    figure = go.Figure()
    for name in ("high", "medium", "low"):
        values = [
            None if s else float(v) if _known(v) else 0.0 for v, s in zip(rows[f"share_{name}"], secret, strict=True)
        ]
        figure.add_trace(
            go.Bar(
                x=values,
                y=labels,
                orientation="h",
                name=CLASS_LABELS[name],
                marker={"color": CLASS_COLOURS[name]},
                customdata=[
                    f"<b>{row.occupation_label}</b><br>{CLASS_LABELS[name]} : {_percent(v)}"
                    f"<br>Salariés : {_number(row.employees)}"
                    for row, v in zip(rows.itertuples(), values, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    if any(secret):
        figure.add_trace(
            go.Bar(
                x=[1.0 if s else None for s in secret],
                y=labels,
                orientation="h",
                name="Secret statistique",
                marker={"color": SECRET_COLOUR},
                text=["secret" if s else None for s in secret],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": "#1b2430"},
                customdata=[
                    f"<b>{row.occupation_label}</b><br>Secret statistique : {secret_reason_label(row.secret_reason)}"
                    if s
                    else None
                    for row, s in zip(rows.itertuples(), secret, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    figure.update_layout(
        **base_layout(
            barmode="stack",
            height=max(240, 36 * len(rows) + 50),
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
            showlegend=False,  # the page draws the legend in HTML, as for the other charts
            **downloadable("salaries-par-classe-exposition"),
        )
    )
    figure.update_xaxes(
        range=[0, 1],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        ticktext=[format_percent(v, 0) for v in (0, 0.25, 0.5, 0.75, 1)],
        gridcolor="#e6e9ee",
    )
    figure.update_yaxes(automargin=True)
    return figure
