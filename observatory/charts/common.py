"""What every chart of the observatory shares: the colours of the exposure classes, French
number formats, and the JSON embedding of a figure."""

import plotly.graph_objects as go
import plotly.io as pio

# The same colours as static/css/site.css (--exp-high, --exp-medium, --exp-low, --secret).
CLASS_COLOURS = {"high": "#b42318", "medium": "#e07a1f", "low": "#2e7d57"}
SECRET_COLOUR = "#8a94a3"
CLASS_LABELS = {"high": "Forte", "medium": "Changement significatif", "low": "Faible"}
# Sequential scale for exposure (0 → 1): green, amber, red.
EXPOSURE_SCALE = [[0.0, "#2e7d57"], [0.5, "#f2c14e"], [0.7, "#e07a1f"], [1.0, "#b42318"]]
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, DejaVu Sans, sans-serif"


def secret_reason_text(reason: str, methodology=None, *, default: str = "secret statistique") -> str:
    """How a secret cell is explained everywhere (GridCell.secret_reason), with the thresholds
    of the run's methodology when it is given (else the default ones, 3 companies and 85 %)."""
    min_companies = methodology.secrecy_min_companies if methodology else 3
    dominance = round(methodology.secrecy_dominance * 100) if methodology else 85
    labels = {
        "companies": f"moins de {min_companies} entreprises",
        "dominance": f"une entreprise dépasse {dominance} % des salariés",
        "secondary": "secret secondaire",
        "edition": "trop peu d'entreprises ont changé depuis l'édition précédente",
    }
    return labels.get(reason, default)


def base_layout(**overrides) -> dict:
    """French separators (decimal comma, thin space for thousands), the site's font."""
    layout = {
        "separators": ", ",
        "font": {"family": FONT, "size": 13, "color": "#1b2430"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(overrides)
    return layout


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON for `json_script` / Plotly.newPlot (no plotly.js inside)."""
    return pio.to_json(figure, validate=False, engine="json")


def format_number(value, decimals: int = 0) -> str:
    """12345.6 → '12 346' (narrow no-break space between thousands, decimal comma)."""
    if value is None:
        return "—"
    if round(value, decimals) == 0:
        value = 0.0  # no « -0,00 » for a difference that rounds to nothing
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def format_percent(share, decimals: int = 1) -> str:
    """0.234 → '23,4 %'."""
    if share is None:
        return "—"
    return f"{format_number(share * 100, decimals)}\u00a0%"
