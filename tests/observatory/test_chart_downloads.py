"""Charts analysts read are saved as PNG under a French file name (the button static/js/charts.js
draws after them); axis labels wrap between words, whole in the hover."""

import pandas as pd

from observatory.charts.grid import class_shares_bar, exposure_heatmap, top_occupations_bar, wrap_label

LONG = "Fabrication de produits informatiques, électroniques et optiques"


def _cells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sector_code": ["26", "26"],
            "sector_label": [LONG, LONG],
            "occupation_code": ["M1607", "H1206"],
            "occupation_label": [
                "Secrétaire",
                "Management et ingénierie études, recherche et développement industriel",
            ],
            "companies": [4, None],
            "employees": [65, None],
            "exposure_mean": [0.62, None],
            "share_high": [1.0, None],
            "share_medium": [0.0, None],
            "secret": [False, True],
            "secret_reason": ["", "dominance"],
        }
    )


def test_analysts_charts_are_downloadable_under_a_french_name():
    top = pd.DataFrame(
        {
            "occupation_code": ["M1607"],
            "occupation_label": ["Secrétaire"],
            "employees": [65],
            "exposed_employees": [65],
            "exposure_mean": [0.62],
            "share_high": [1.0],
            "share_medium": [0.0],
        }
    )
    figures = {
        "grille-exposition-ia": exposure_heatmap(_cells()),
        "metiers-les-plus-exposes": top_occupations_bar(top),
    }
    for filename, figure in figures.items():
        layout = figure.to_plotly_json()["layout"]
        assert layout["meta"] == {"download": filename}
        assert "sendChartToCloud" in layout["modebar"]["remove"]


def test_heatmap_labels_wrap_between_words_and_stay_whole_in_the_hover():
    figure = exposure_heatmap(_cells())
    published, secret = figure.data
    for label in [*published.x, *published.y]:
        for line in label.split("<br>"):
            words = line.removesuffix(" …").split()
            # No word cut: every word of a line is a word of the full label.
            full = f"26 · {LONG}" if label.startswith("26") else label.replace("<br>", " ").removesuffix(" …")
            assert all(word in full.split() or word == "·" for word in words), label
    assert published.y[0].startswith("26 · Fabrication de produits<br>")
    # Columns in code order: H1206 (secret), M1607. The hover holds the whole labels.
    assert LONG in published.customdata[0][1]
    assert "Management et ingénierie études, recherche et développement industriel" in secret.customdata[0][0]
    assert "une entreprise dépasse" in secret.customdata[0][0]


def test_wrap_label_never_cuts_a_word():
    assert wrap_label("Σ · Tous métiers", 20, 3) == "Σ · Tous métiers"
    assert wrap_label("C · Industrie manufacturière et fabrication", 20, 2) == "C · Industrie<br>manufacturière et …"
    assert wrap_label("Anticonstitutionnellement", 10, 2) == "Anticonstitutionnellement"


def test_class_shares_are_downloadable():
    shares = pd.DataFrame(
        {
            "occupation_code": ["M1607"],
            "occupation_label": ["Secrétaire"],
            "employees": [65],
            "share_high": [1.0],
            "share_medium": [0.0],
            "share_low": [0.0],
            "secret": [False],
            "secret_reason": [""],
        }
    )
    layout = class_shares_bar(shares).to_plotly_json()["layout"]
    assert layout["meta"] == {"download": "salaries-par-classe-exposition"}
