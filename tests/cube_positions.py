"""Positions frames for the cube's tests, written as short tuples.

One tuple per position: (company, establishment, headcount, training need, diagnostic,
département, EPCI, NAF division, ROME fiche, size band); the région, the NAF section, the
domaine and the grand domaine follow from the mappings given."""

import pandas as pd

POSITION_COLUMNS = [
    "company", "establishment", "headcount", "training_need", "diagnostic",
    "region", "departement", "epci", "naf_section", "naf_division",
    "grand_domaine", "domaine", "occupation", "size_band",
]  # fmt: skip
SECTIONS = {"10": "C", "11": "C", "47": "G", "62": "J"}
OCCUPATIONS = {"M1607": ("M", "M16"), "M1602": ("M", "M16"), "K2111": ("K", "K21"), "N1101": ("N", "N11")}


def positions_frame(rows, *, regions: dict[str, str] | None = None) -> pd.DataFrame:
    """The positions of `rows`; `regions` maps a département to its région (all in 32 by
    default)."""
    regions = regions or {}
    records = [
        (c, e, hc, need, diag, regions.get(dep, "32"), dep, epci, SECTIONS[div], div, *OCCUPATIONS[occ], occ, band)
        for c, e, hc, need, diag, dep, epci, div, occ, band in rows
    ]
    return pd.DataFrame(records, columns=POSITION_COLUMNS)
