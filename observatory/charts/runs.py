"""Figures of the runs pages: the heatmap of the differences of exposure between two runs."""

import math

import pandas as pd
import plotly.graph_objects as go

from .common import SECRET_COLOUR, base_layout, format_number, secret_reason_text

# Diverging scale centred on 0: blue where run B reads a lower exposure than run A, red (the
# colour of high exposure) where it reads a higher one, white where they agree.
DIFFERENCE_SCALE = [[0.0, "#1f5fa8"], [0.25, "#8fb6e0"], [0.5, "#f7f7f7"], [0.75, "#ef9a8a"], [1.0, "#b42318"]]
ABSENT_COLOUR = "#eceff3"


def secret_label(reason: str) -> str:
    """« secret (moins de 3 entreprises) »: how a secret cell reads everywhere."""
    detail = secret_reason_text(reason, default="")
    return f"secret ({detail})" if detail else "secret"


def signed(value, decimals: int = 3) -> str:
    """+0,036 / −0,012 (a true minus sign), « — » when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if round(value, decimals) == 0:
        return format_number(0.0, decimals)
    sign = "+" if value > 0 else "−"
    return sign + format_number(abs(value), decimals)


def _short(text: str, length: int = 34) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _hover(row) -> str:
    head = f"<b>{row.sector_code} · {row.sector_label}</b><br>{row.occupation_code} · {row.occupation_label}<br>"
    if row.secret:
        return head + f"Secret statistique : {secret_reason_text(row.secret_reason, default='cellule masquée')}"
    if row.presence == "a":
        return head + "Absente du calcul B"
    if row.presence == "b":
        return head + "Absente du calcul A"
    return head + (
        f"Exposition A : {format_number(row.exposure_a, 3) if pd.notna(row.exposure_a) else '—'}<br>"
        f"Exposition B : {format_number(row.exposure_b, 3) if pd.notna(row.exposure_b) else '—'}<br>"
        f"Écart B − A : {signed(row.difference)}<br>"
        f"Salariés : {format_number(row.employees_b)}"
    )


def difference_heatmap(compared: pd.DataFrame) -> go.Figure:
    """Heatmap sector (rows) × occupation (columns) of exposure B − A.

    `compared` is a frame of `selectors.run_comparison_frame` (sector_code/_label,
    occupation_code/_label, exposure_a/_b, difference, employees_b, presence, secret,
    secret_reason; values of secret rows already blank). Three layers share the grid: the
    differences on a scale symmetric around 0, secret cells in grey marked « S » (never a
    number), and cells present in one run only in a pale grey.
    """
    sectors = sorted(compared["sector_code"].unique())
    occupations = sorted(compared["occupation_code"].unique())
    sector_names = dict(zip(compared["sector_code"], compared["sector_label"], strict=False))
    y_labels = [f"{code} · {_short(sector_names.get(code, ''))}" for code in sectors]
    x_labels = list(occupations)
    y_of = dict(zip(sectors, y_labels, strict=True))

    def layer(rows: pd.DataFrame, values) -> tuple[list, list, list]:
        z = [[None] * len(occupations) for _ in sectors]
        text = [[None] * len(occupations) for _ in sectors]
        row_index = {code: i for i, code in enumerate(sectors)}
        col_index = {code: j for j, code in enumerate(occupations)}
        for row, value in zip(rows.itertuples(index=False), values, strict=True):
            i, j = row_index[row.sector_code], col_index[row.occupation_code]
            z[i][j] = value
            text[i][j] = _hover(row)
        return z, text

    public = compared[(~compared["secret"]) & (compared["presence"] == "both")]
    secret = compared[compared["secret"]]
    absent = compared[(~compared["secret"]) & (compared["presence"] != "both")]
    spread = public["difference"].abs().max()
    spread = float(spread) if pd.notna(spread) and spread > 0 else 0.01

    figure = go.Figure()
    z, text = layer(public, [None if pd.isna(v) else float(v) for v in public["difference"]])
    figure.add_trace(
        go.Heatmap(
            z=z,
            x=x_labels,
            y=[y_of[code] for code in sectors],
            text=text,
            hovertemplate="%{text}<extra></extra>",
            colorscale=DIFFERENCE_SCALE,
            zmid=0,
            zmin=-spread,
            zmax=spread,
            xgap=1,
            ygap=1,
            colorbar={
                "title": {"text": "Écart d'exposition B − A", "side": "right"},
                "tickformat": "+.2f",
                "thickness": 14,
                "len": 0.9,
            },
            name="Écart",
        )
    )
    for rows, colour, label, mark in (
        (secret, SECRET_COLOUR, "Secret statistique", "S"),
        (absent, ABSENT_COLOUR, "Présente dans un seul calcul", ""),
    ):
        if rows.empty:
            continue
        z, text = layer(rows, [1] * len(rows))
        # An empty string, not None: a missing text would be printed « null » on the other cells.
        marks = [[mark if value is not None else "" for value in line] for line in z]
        figure.add_trace(
            go.Heatmap(
                z=z,
                x=x_labels,
                y=[y_of[code] for code in sectors],
                text=marks,
                customdata=text,
                texttemplate="%{text}",
                textfont={"color": "#ffffff", "size": 11},
                hovertemplate="%{customdata}<extra></extra>",
                colorscale=[[0, colour], [1, colour]],
                showscale=False,
                xgap=1,
                ygap=1,
                name=label,
            )
        )
    height = max(320, 26 * len(sectors) + 150)
    figure.update_layout(
        **base_layout(
            # No plotly template: it would add some 8 kB of unused styles to every page.
            template="none",
            height=height,
            margin={"l": 10, "r": 10, "t": 10, "b": 10},
        )
    )
    # Every column and row labelled: plotly would otherwise skip ticks on a dense grid.
    figure.update_xaxes(
        side="top",
        tickangle=0 if len(occupations) <= 20 else -90,
        type="category",
        tickmode="array",
        tickvals=x_labels,
        showgrid=False,
        ticks="",
        automargin=True,
    )
    figure.update_yaxes(
        autorange="reversed",
        type="category",
        tickmode="array",
        tickvals=y_labels,
        showgrid=False,
        ticks="",
        automargin=True,
    )
    return figure
