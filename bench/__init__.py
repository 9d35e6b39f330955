"""Performance benchmarks of the observatory, run by `make bench` (`python -m bench`).

Each benchmark is a module `bench/<name>.py` with a `run(args) -> dict[str, float]` function
(and, optionally, `add_arguments(parser)`), listed in BENCHMARKS. Figures are printed as
machine-readable lines `RESULT name=value`; everything else printed is context for people.
"""

import math

# Run in this order by `python -m bench`; `--only NAME` runs one of them.
BENCHMARKS = ("grid", "cube_engines", "cells", "national", "pages", "submissions")


def format_result(name: str, value: float) -> str:
    """One machine-readable line: `RESULT name=value`.

    Whole numbers print without a decimal point, other numbers with three decimals (seconds
    to the millisecond, ratios and megabytes to a thousandth); NaN prints as `nan`.
    """
    if not name or any(c.isspace() or c == "=" for c in name):
        raise ValueError(f"invalid result name {name!r}")
    if isinstance(value, bool):
        raise TypeError(f"result {name} is a bool, not a number")
    if isinstance(value, int):
        text = str(value)
    elif math.isnan(value):
        text = "nan"
    elif float(value).is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = f"{value:.3f}"
    return f"RESULT {name}={text}"
