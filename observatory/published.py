"""The one door: what may be published of a run, read by every consumer.

**Cells.** A secret cell (observatory.analysis.secrecy: its own rule, a complementary
suppression, or withheld against an earlier edition) keeps its coordinates, `secret` and
its reason, and loses every figure. Cells leave the database for a page, an export, the API
or a chart only through `cells_frame` (frames) or `cell_figures` (one cell), both masked by
`secrecy.mask_values`'s rule; the comparison of two runs reads both sides masked.

**Occupation scores.** What may be published of a run's occupation scores: one rule, read
by every consumer.

An occupation score carries three profiles: the reference (public: built from the ROME), the
field profile (what the companies reporting the fiche declared) and the blend of both. The
field profile and a blend it moved are the companies' own answers: with the reference and m
public, a blend of n companies' answers gives them back, s_field = ((n + m)·s − m·s_ref) / n.
So, for a fiche of the run:

- its employees and reporting companies are shown only where its cell for the whole région,
  every sector and size (the same cell the grid publishes) is not secret;
- its field profile is shown only where at least the methodology's minimum of companies
  reported it and their answers did move the blend (a run blends only publishable field
  data: below the minimum, or under one dominant company, the blend is the reference,
  analysis.exposure.blend_profiles). The fiche's cell may still be secret for its employees
  (a secondary suppression protects counts in linked tables): the average answer of enough
  companies, none dominant, is an aggregate the rule allows;
- its blend is shown where the field profile is, or where it is the reference (nothing of
  any company in it). A run computed before the blend followed that rule may hold a blend of
  one or two companies: it is hidden.

The occupation page, the API, the occupations export and the company report all ask
`profile_visibility` / `mask_occupation_scores` / `score_publication`; none decides for
itself.

**The one cache.** What a finished run publishes never changes, so every figure, table and
chart drawn from one is kept under one key scheme, `cache_key(name, *runs, **params)`: what
it is, the runs it reads (with their methodology) and the parameters that chose it (filters,
levels, indicator). `cached` reads or builds it; no page keeps data of a run in a cache of
its own. Entries age only through the labels of the nomenclatures they carry (a re-import):
EDITION_CACHE_SECONDS. The grid and map pages also keep their rendered HTML as template
fragments keyed by the same run and parameters: rendering the grid page from cached data
takes about three times as long as serving its fragments (bench/README.md, « pages »).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from django.core.cache import cache

from .analysis.secrecy import mask_values
from .models import CATEGORIES, CELL_FIGURES, GridCell, GridRun, Lens


def cells_frame(cells, columns) -> pd.DataFrame:
    """The cells of the queryset `cells` as a frame of `columns` (which must include
    `secret`), in the queryset's order, every figure of a secret cell NaN."""
    columns = list(columns)
    frame = pd.DataFrame.from_records(list(cells.values_list(*columns)), columns=columns)
    frame["secret"] = frame["secret"].astype(bool)
    return mask_values(frame)


def with_exposed_employees(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (masked cells with employees, share_high, share_medium) with
    exposed_employees (employees whose fiche is in the high or significant-change class;
    a whole number up to the float error of the shares) and exposed_share. NaN where the
    cell is secret, since its employees are."""
    employees = frame["employees"].astype(float)
    shares = frame["share_high"].astype(float).fillna(0) + frame["share_medium"].astype(float).fillna(0)
    exposed = (employees * shares).round()
    return frame.assign(exposed_employees=exposed, exposed_share=(exposed / employees).where(employees > 0))


def cell_figures(cell) -> dict:
    """The figures of one GridCell as they may be shown: None for each of a secret cell's."""
    return {name: None if cell.secret else getattr(cell, name) for name in CELL_FIGURES}


# A blend within this distance of the reference, category by category, was not moved by
# any company's answers (the shares are fractions of 1).
_UNMOVED_TOLERANCE = 1e-9


def blend_moved(blended, reference):
    """Whether field answers moved the blend: arrays (rows × 5 categories) or one score."""
    blended = np.asarray(blended, dtype=float)
    reference = np.asarray(reference, dtype=float)
    return np.nan_to_num(np.abs(blended - reference), nan=np.inf).max(axis=-1) > _UNMOVED_TOLERANCE


def profile_visibility(*, n_companies, moved, min_companies: int):
    """(show_field, show_blended) for one score or arrays of them."""
    n_companies = np.asarray(n_companies)
    moved = np.asarray(moved, dtype=bool)
    show_field = (n_companies >= min_companies) & moved
    show_blended = show_field | ~moved
    return show_field, show_blended


def score_visibility(score, *, min_companies: int) -> tuple[bool, bool]:
    """`profile_visibility` for one OccupationScore."""
    moved = blend_moved(
        [getattr(score, c) for c in CATEGORIES],
        [np.nan if getattr(score, f"ref_{c}") is None else getattr(score, f"ref_{c}") for c in CATEGORIES],
    )
    n = score.n_companies
    show_field, show_blended = profile_visibility(n_companies=n, moved=moved, min_companies=min_companies)
    return bool(show_field), bool(show_blended)


def blend_companies(score, *, min_companies: int) -> int | None:
    """The n of a fiche's published blend: the companies behind its field profile (an earlier
    edition's when too few changed since: editions.freeze_field_profiles); None below the
    minimum, where a page says only « moins de N »."""
    n = score.n_companies if score.field_companies is None else score.field_companies
    return n if n == 0 or n >= min_companies else None


def fiche_secrecy(run, codes=None) -> dict[str, tuple[bool, str]]:
    """Secrecy of each fiche in `run` (its cell for the whole région, all sectors and sizes),
    as {code: (secret, reason)}; `codes` limits the fiches (one query)."""
    if run is None:
        return {}
    cells = GridCell.objects.filter(
        run=run, territory_level="all", sector_level="all", size_band="all", occupation_level="fiche"
    )
    if codes is not None:
        cells = cells.filter(occupation_code__in=list(codes))
    rows = cells.values_list("occupation_code", "secret", "secret_reason")
    return {code: (secret, reason) for code, secret, reason in rows}


@dataclass(frozen=True)
class ScorePublication:
    """What one fiche's score may show: its counts (None when secret) and which profiles."""

    secret: bool
    secret_reason: str
    employees: int | None
    n_companies: int | None
    show_field: bool
    show_blended: bool


def score_publication(score, *, secrecy: dict, min_companies: int) -> ScorePublication:
    """`mask_occupation_scores` for one OccupationScore; `secrecy` from `fiche_secrecy`."""
    secret, reason = secrecy.get(score.occupation_id, (None, ""))
    if secret is None:
        # A fiche without a cell (no position): the frequency rule on its reporting companies.
        secret = 0 < score.n_companies < min_companies
        reason = "companies" if secret else ""
    show_field, show_blended = score_visibility(score, min_companies=min_companies)
    return ScorePublication(
        secret=bool(secret),
        secret_reason=reason if secret else "",
        employees=None if secret else score.employees,
        n_companies=None if secret else score.n_companies,
        show_field=show_field,
        show_blended=show_blended,
    )


def mask_occupation_scores(frame: pd.DataFrame, *, secrecy: dict, min_companies: int) -> pd.DataFrame:
    """The rows of an occupation scores frame (columns `code_rome`, `n_companies`,
    `employees`, rc…nrm, ref_rc…, field_rc…) as they may be published: what the rule above
    hides is emptied, and a column `secret` says whose counts are. A fiche without a cell
    (no position) counts as secret only if it has between 1 and min_companies − 1 reporting
    companies."""
    frame = frame.copy()
    codes = frame["code_rome"].to_numpy()
    n = frame["n_companies"].to_numpy()
    known = np.array([code in secrecy for code in codes])
    from_cells = np.array([secrecy.get(code, (False, ""))[0] for code in codes], dtype=bool)
    secret = np.where(known, from_cells, (n > 0) & (n < min_companies))
    moved = blend_moved(frame[list(CATEGORIES)].to_numpy(), frame[[f"ref_{c}" for c in CATEGORIES]].to_numpy())
    show_field, show_blended = profile_visibility(n_companies=n, moved=moved, min_companies=min_companies)
    frame.loc[~show_field, [f"field_{c}" for c in CATEGORIES]] = np.nan
    frame.loc[~show_blended, list(CATEGORIES)] = np.nan
    for column in ("n_companies", "employees"):
        frame[column] = frame[column].astype("Int64")
        frame.loc[secret, column] = pd.NA
    frame["secret"] = secret
    return frame


def edition_totals(lens: str = Lens.DEFAULT) -> dict | None:
    """The région's totals in the current edition of `lens` (companies, employees, job
    positions and the run), as everyone may read them; None before any edition. Live counts
    of the database would move by one company's headcount at each submission."""
    run = GridRun.objects.current(lens)
    if run is None:
        return None
    total = (
        GridCell.objects.filter(
            run=run, territory_level="all", sector_level="all", occupation_level="all", size_band="all"
        )
        .values("companies", "employees", "secret")
        .first()
    )
    if total is None or total["secret"]:
        return {"run": run, "companies": None, "employees": None, "positions": None}
    return {
        "run": run,
        "companies": total["companies"],
        "employees": total["employees"],
        "positions": (run.stats or {}).get("positions"),
    }


# --- The one cache ------------------------------------------------------------------------

# How long an entry lives: a run never changes once finished, only the labels of the codes
# an entry carries do (a nomenclature re-imported).
EDITION_CACHE_SECONDS = 60 * 60
_CACHE_PREFIX = "observatory:published:v1"
_LONGEST_KEY = 200  # characters; a longer key is hashed (memcached refuses keys over 250)
_MISSING = object()

T = TypeVar("T")


def cache_key(name: str, *runs, **params) -> str:
    """The key of what `name` draws from `runs` (GridRun or anything with pk and
    methodology_id) chosen by `params` (values turned into text; None is ""). The parameters
    are sorted, so their order never makes two keys for one entry."""
    if not runs:
        raise ValueError("an entry of the published cache is drawn from at least one run")
    editions = ",".join(f"{run.pk}.{run.methodology_id}" for run in runs)
    query = urlencode(sorted((key, "" if value is None else str(value)) for key, value in params.items()))
    key = f"{_CACHE_PREFIX}:{name}:{editions}:{query}"
    if len(key) > _LONGEST_KEY:
        key = f"{_CACHE_PREFIX}:{name}:{editions}:sha256={hashlib.sha256(query.encode()).hexdigest()}"
    return key


def cached(name: str, *runs, build: Callable[[], T], timeout: int = EDITION_CACHE_SECONDS, **params) -> T:
    """The entry `cache_key(name, *runs, **params)`, built by `build()` and kept on a miss.
    None is a value like any other: it is kept, and not built again."""
    key = cache_key(name, *runs, **params)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        cache.set(key, value, timeout)
    return value
