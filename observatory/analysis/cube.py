"""The cube of the grille d'analyse: job positions aggregated over four dimensions.

Step 6 of the method (DESIGN.md). Each job position carries the exposure E(o), RTI and
exposure class of its occupation (the blended score of `exposure.occupation_scores`, never
the company's own reported profile), and positions are aggregated over

    territory   all > région > département, and région > EPCI
    sector      all > NAF section > NAF division
    occupation  all > ROME grand domaine > domaine professionnel > fiche métier
    size        all > size band (0-9, 10-49, 50-249, 250-4999, 5000+ employees)

for every combination of levels (4 × 3 × 4 × 2 = 96), with roll-ups ("all") on every
dimension. A cell exists when at least one position falls in it.

EPCI do not nest inside départements (an EPCI may straddle two of them), so an EPCI cell is
a child of its région, not of a département. A position whose code is missing (NaN or "") at
some level, typically a commune outside any EPCI in the source, is counted in an unknown
member of that level under its parent, so children always add up to their parent. That
member is named after its parent (« inconnu-32 » below région 32; `codes.unknown_code`):
stored without their parents, the unknown EPCI of two régions are still two cells.

Distinct counts (companies, establishments, diagnostics) and the largest companies are
never added up from children where a member could count twice: a company present in two
départements counts once in their région. Only establishments are added, across size
bands, where each establishment has one band.

How it scales: positions are first summed to one row per (establishment, company,
département, EPCI, division, occupation code at the level, size band), so the 24 groupings
with occupation "all" run on about one row per establishment; every grouping is then a few
`pd.factorize` calls and `np.bincount`s on integer codes. The size roll-up of a grouping is
summed from its cells by band, far fewer than the rows, where an establishment has one band
(its companies merged across bands by their (cell, company) pairs). Two threads
(`CUBE_THREADS`) take the (territory, sector) level pairs: the hash factorizations, half the
time, release the GIL.
"""

import functools
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codes import UNKNOWN_CODE as UNKNOWN_CODE  # re-exported: the "inconnu" member
from .codes import Level, all_level, dense_codes, dense_ids, encode_level, first_rows, raw_codes

TERRITORY_LEVELS = ("all", "region", "departement", "epci")
SECTOR_LEVELS = ("all", "section", "division")
OCCUPATION_LEVELS = ("all", "grand_domaine", "domaine", "fiche")
SIZE_LEVELS = ("all", "band")
SIZE_BANDS = ("0-9", "10-49", "50-249", "250-4999", "5000+")

# Threads aggregating the groupings of an occupation level (the machines have two cores).
CUBE_THREADS = 2

ALL_CODE = ""  # code of a roll-up cell on the territory, sector and occupation dimensions
ALL_SIZE = "all"  # size_band of a roll-up cell on the size dimension

DIMENSIONS = ("territory", "sector", "occupation", "size")
LEVELS = {
    "territory": TERRITORY_LEVELS,
    "sector": SECTOR_LEVELS,
    "occupation": OCCUPATION_LEVELS,
    "size": SIZE_LEVELS,
}
# The level a level's members roll up into; "epci" rolls up into "region" (see above).
PARENT_LEVEL = {
    "territory": {"region": "all", "departement": "region", "epci": "region"},
    "sector": {"section": "all", "division": "section"},
    "occupation": {"grand_domaine": "all", "domaine": "grand_domaine", "fiche": "domaine"},
    "size": {"band": "all"},
}
# Column of the positions frame holding the code of each level.
POSITION_COLUMNS = {
    "region": "region",
    "departement": "departement",
    "epci": "epci",
    "section": "naf_section",
    "division": "naf_division",
    "grand_domaine": "grand_domaine",
    "domaine": "domaine",
    "fiche": "occupation",
    "band": "size_band",
}

CUBE_COLUMNS = [
    "territory_level", "territory_code", "territory_parent",
    "sector_level", "sector_code", "sector_parent",
    "occupation_level", "occupation_code", "occupation_parent",
    "size_band",
    "companies", "establishments", "employees",
    "exposure_mean", "share_high", "share_medium", "share_low", "rti_mean",
    "training_need_share", "training_coverage", "diagnostics",
    "max_company_employees", "second_company_employees",
]  # fmt: skip
VALUE_DTYPES = {
    "companies": np.int32, "establishments": np.int32, "employees": np.int64,
    "exposure_mean": np.float64, "share_high": np.float64, "share_medium": np.float64,
    "share_low": np.float64, "rti_mean": np.float64, "training_need_share": np.float64,
    "training_coverage": np.float64, "diagnostics": np.int32,
    "max_company_employees": np.int64, "second_company_employees": np.int64,
}  # fmt: skip

# Headcount-weighted sums carried from positions to cells (all in employees).
_SUMS = (
    "employees",  # headcount
    "exposure_w", "exposure_den",  # Σ headcount·E, Σ headcount where E is known
    "rti_w", "rti_den",
    "high", "medium", "low",  # headcount by exposure class
    "need",  # headcount with a declared training need
    "covered",  # exposed headcount whose (département, occupation) has a published offer
)  # fmt: skip


# With `raw=True`, the cube also carries each cell's sums of _SUMS (employees, not rounded),
# from which cells of disjoint position sets merge exactly (analysis.national).
RAW_COLUMNS = tuple(f"sum_{name}" for name in _SUMS)


def cube_levels(territory_levels=TERRITORY_LEVELS) -> list[tuple[str, str, str, str]]:
    """The level combinations (territory, sector, occupation, size) of the cube: 96, or 24
    per territory level of `territory_levels`."""
    return list(itertools.product(territory_levels, SECTOR_LEVELS, OCCUPATION_LEVELS, SIZE_LEVELS))


# Publication plans of the EPCI level (Methodology.epci_detail): every crossing, or only each
# EPCI's totals over all sectors and all occupations, by size band. At a million positions the
# EPCI crossings are 84 % of the cells, 65 % of them secret by the primary rules: their
# protection was not proven within a run's hour (bench README).
EPCI_FULL = "full"
EPCI_SIZE = "size"
EPCI_DETAILS = (EPCI_FULL, EPCI_SIZE)


def within_plan(cells: pd.DataFrame, epci_detail: str) -> pd.DataFrame:
    """The cells of a cube (`build_cube`) that the plan `epci_detail` publishes.

    The others are left out before the comparison with the editions, secrecy and the audit:
    whole level combinations, so that no group of the cube's relations is left with some of
    its children (a lone parent forms no group, and a département cell without EPCI no
    inclusion equation). A reader then knows nothing of them, not even that they are zero.
    """
    if epci_detail == EPCI_FULL or cells.empty:
        plan_publishes(epci_detail, "all", "all", "all")  # an unknown plan raises
        return cells
    keep = plan_publishes(
        epci_detail,
        cells["territory_level"].to_numpy(),
        cells["sector_level"].to_numpy(),
        cells["occupation_level"].to_numpy(),
    )
    return cells[keep].reset_index(drop=True)


def plan_publishes(epci_detail: str, territory_level, sector_level, occupation_level):
    """Whether the plan `epci_detail` publishes the level combination: levels as strings (a
    bool) or as arrays of one row per cell (a bool array)."""
    if epci_detail not in EPCI_DETAILS:
        raise ValueError(f"unknown EPCI publication plan {epci_detail!r}")
    if epci_detail == EPCI_FULL:
        return np.ones(np.shape(territory_level), dtype=bool) if np.ndim(territory_level) else True
    return (territory_level != "epci") | ((sector_level == "all") & (occupation_level == "all"))


def _bool_column(positions: pd.DataFrame, column: str) -> np.ndarray:
    return positions[column].fillna(False).to_numpy(dtype=bool)


def _coverage_flags(positions: pd.DataFrame, training_coverage: pd.DataFrame) -> np.ndarray:
    """Whether each position's (département, occupation) has a published relevant offer.

    The join runs on the distinct (département, occupation) pairs, not on the positions.
    """
    dep_ids, dep_labels = raw_codes(positions["departement"])
    occ_ids, occ_labels = raw_codes(positions["occupation"])
    pair_ids, pairs = pd.factorize(dep_ids * len(occ_labels) + occ_ids)
    pair_frame = pd.DataFrame(
        {
            "departement": dep_labels[pairs // len(occ_labels)],
            "occupation": occ_labels[pairs % len(occ_labels)],
        }
    )
    covered = (
        training_coverage.assign(
            departement=training_coverage["departement"].astype(str),
            occupation=training_coverage["occupation"].astype(str),
            covered=training_coverage["covered"].fillna(False).astype(bool),
        )
        .groupby(["departement", "occupation"], as_index=False, observed=True)["covered"]
        .any()
    )
    flags = pair_frame.merge(covered, how="left", on=["departement", "occupation"])["covered"]
    flags = flags.fillna(False).to_numpy(dtype=bool)  # one per distinct pair, in order
    return flags[pair_ids]


def _position_sums(
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    fiche: Level,
    training_coverage: pd.DataFrame | None,
) -> dict[str, np.ndarray]:
    """The headcount-weighted sums of `_SUMS`, one float array per name, per position."""
    headcount = positions["headcount"].to_numpy(dtype=np.float64)
    node_scores = scores.reindex(pd.Index(fiche.labels))
    node_exposure = node_scores["exposure"].to_numpy(dtype=np.float64)
    node_rti = node_scores["rti"].to_numpy(dtype=np.float64)
    node_class = node_scores["exposure_class"].astype(object).to_numpy()

    e = node_exposure[fiche.codes]
    r = node_rti[fiche.codes]
    cls = pd.Categorical(node_class, categories=["low", "medium", "high"]).codes[fiche.codes]
    e_known = ~np.isnan(e)
    r_known = ~np.isnan(r)
    sums = {
        "employees": headcount,
        "exposure_w": headcount * np.nan_to_num(e),
        "exposure_den": np.where(e_known, headcount, 0.0),
        "rti_w": headcount * np.nan_to_num(r),
        "rti_den": np.where(r_known, headcount, 0.0),
        "high": np.where(cls == 2, headcount, 0.0),
        "medium": np.where(cls == 1, headcount, 0.0),
        "low": np.where(cls == 0, headcount, 0.0),
        "need": np.where(_bool_column(positions, "training_need"), headcount, 0.0),
    }
    if training_coverage is None:
        sums["covered"] = np.zeros(len(positions))
    else:
        flags = _coverage_flags(positions, training_coverage)
        sums["covered"] = np.where(flags & (cls >= 1), headcount, 0.0)
    return sums


def _empty_cube(raw: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CUBE_COLUMNS[:10]})
    for c in CUBE_COLUMNS[10:]:
        frame[c] = pd.Series(dtype=VALUE_DTYPES[c])
    for c in RAW_COLUMNS if raw else ():
        frame[c] = pd.Series(dtype=np.float64)
    return frame


def _encode_dimensions(positions: pd.DataFrame) -> dict[str, dict[str, Level]]:
    """Every level of every dimension as integer nodes, each level nested in its parent."""
    n = len(positions)

    def level(name: str, parent: Level) -> Level:
        return encode_level(positions[POSITION_COLUMNS[name]], parent)

    t_all = all_level(n, ALL_CODE)
    region = level("region", t_all)
    s_all = all_level(n, ALL_CODE)
    section = level("section", s_all)
    o_all = all_level(n, ALL_CODE)
    grand_domaine = level("grand_domaine", o_all)
    domaine = level("domaine", grand_domaine)
    z_all = all_level(n, ALL_SIZE)
    return {
        "territory": {
            "all": t_all,
            "region": region,
            "departement": level("departement", region),
            "epci": level("epci", region),
        },
        "sector": {"all": s_all, "section": section, "division": level("division", section)},
        "occupation": {
            "all": o_all,
            "grand_domaine": grand_domaine,
            "domaine": domaine,
            "fiche": level("fiche", domaine),
        },
        "size": {"all": z_all, "band": level("band", z_all)},
    }


class _Output:
    """The cube's columns, preallocated at an upper bound of the number of cells and filled
    grouping after grouping.

    Pages of `np.empty` that are never written are never resident, and shrinking in place at
    the end gives the memory back, so the cube is built without holding per-grouping pieces
    next to their concatenation (which doubled the peak on a million positions).
    """

    def __init__(self, dims: dict[str, dict[str, Level]], capacity: int, raw: bool = False):
        self.categories, self.code, self.parent = {}, {}, {}
        for dim in ("territory", "sector", "occupation"):
            members = dims[dim]
            self.categories[dim] = pd.Index(
                pd.unique(np.concatenate([[ALL_CODE], *[lv.labels for lv in members.values()]]))
            )
            dtype = np.int16 if len(self.categories[dim]) < 2**15 else np.int32
            self.code[dim] = {
                k: self.categories[dim].get_indexer(lv.labels).astype(dtype) for k, lv in members.items()
            }
            self.parent[dim] = {
                k: self.code[dim][PARENT_LEVEL[dim][k]][lv.parent] if k != "all" else self.code[dim][k]
                for k, lv in members.items()
            }
        bands = [b for b in dims["size"]["band"].labels if b not in SIZE_BANDS]
        self.categories["size"] = pd.Index([ALL_SIZE, *SIZE_BANDS, *bands])
        self.code["size"] = {
            k: self.categories["size"].get_indexer(lv.labels).astype(np.int16) for k, lv in dims["size"].items()
        }
        dtypes = {f"{dim}_level": np.int8 for dim in ("territory", "sector", "occupation")}
        for dim in ("territory", "sector", "occupation"):
            dtypes[f"{dim}_code"] = dtypes[f"{dim}_parent"] = self.code[dim]["all"].dtype
        dtypes["size_band"] = np.int16
        dtypes.update(VALUE_DTYPES)
        dtypes.update(dict.fromkeys(RAW_COLUMNS, np.float64))
        self.names = [*CUBE_COLUMNS, *(RAW_COLUMNS if raw else ())]
        self.columns = {name: np.empty(capacity, dtype=dtypes[name]) for name in self.names}
        self.filled = 0

    def write(self, levels: tuple[str, str, str, str], nodes: tuple, values: dict[str, np.ndarray]) -> None:
        """Append the cells of one grouping: its levels, each cell's node per dimension, values."""
        stop = self.filled + len(nodes[0])
        window = slice(self.filled, stop)
        for i, dim in enumerate(("territory", "sector", "occupation")):
            level, node = levels[i], nodes[i]
            self.columns[f"{dim}_level"][window] = LEVELS[dim].index(level)
            self.columns[f"{dim}_code"][window] = self.code[dim][level][node]
            self.columns[f"{dim}_parent"][window] = self.parent[dim][level][node]
        self.columns["size_band"][window] = self.code["size"][levels[3]][nodes[3]]
        for name, array in values.items():
            if name in self.columns:
                self.columns[name][window] = array
            elif name not in RAW_COLUMNS:  # a raw cell's sums are kept by a raw cube only
                raise KeyError(f"the cube has no column {name!r}")
        self.filled = stop

    def frame(self) -> pd.DataFrame:
        columns = {}
        for name in self.names:
            array = self.columns.pop(name)
            array.resize(self.filled, refcheck=False)  # in place: the unused tail is released
            if name.endswith("_level"):
                dim = name.removesuffix("_level")
                columns[name] = pd.Categorical.from_codes(array, categories=list(LEVELS[dim]))
            elif name.endswith(("_code", "_parent")):
                dim = name.rsplit("_", 1)[0]
                columns[name] = pd.Categorical.from_codes(array, categories=self.categories[dim])
            elif name == "size_band":
                columns[name] = pd.Categorical.from_codes(array, categories=self.categories["size"])
            else:
                columns[name] = array
        # copy=False keeps one block per column instead of consolidating (copying) them.
        return pd.DataFrame(columns, columns=self.names, copy=False)


def build_cube(
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    training_coverage: pd.DataFrame | None = None,
    territory_levels: tuple[str, ...] = TERRITORY_LEVELS,
    raw: bool = False,
) -> pd.DataFrame:
    """Aggregate job positions into every cell of the 96 level combinations.

    `territory_levels` limits the cube to those territory levels (analysis.national computes
    the national level and the régions' apart); `raw=True` adds the RAW_COLUMNS.

    `positions`: one row per job position with columns
      company, establishment   ids (any hashable),
      headcount                employees (int > 0),
      training_need            bool, the company declared a training need for the position,
      diagnostic               bool, the position comes from a submitted company diagnostic,
      region, departement, epci, naf_section, naf_division, grand_domaine, domaine,
      occupation (ROME fiche), size_band   the codes of each level (str; a missing code,
                               NaN or "", is counted in the unknown member of its parent).
    `scores`: indexed by ROME fiche with exposure (0–1), rti and exposure_class
      (low / medium / high), as returned by `exposure.occupation_scores`. Positions whose
      occupation has no score count in employees, companies and establishments but not in
      exposure_mean, rti_mean or the class shares, whose denominators are scored employees.
    `training_coverage` (optional): columns departement, occupation, covered (bool: a
      published offer leading to a relevant skills block exists in that département).

    Returns one row per cell, the cells of a level combination together (occupation level
    outermost), with columns
      territory_level / sector_level / occupation_level   level names (see LEVELS),
      territory_code / sector_code / occupation_code      member code ("" for level "all"),
      territory_parent / sector_parent / occupation_parent  code of the member it rolls up
                               into (EPCI and département → région; "" under "all" and for
                               the "all" cell itself),
      size_band                a band of SIZE_BANDS, or "all" for the roll-up,
      companies, establishments   distinct counts,
      employees                sum of headcounts,
      exposure_mean            headcount-weighted mean exposure (0–1),
      share_high / share_medium / share_low   shares of scored employees by class (sum 1),
      rti_mean                 headcount-weighted mean RTI,
      training_need_share      share of employees with a declared training need (0–1),
      training_coverage        share of exposed (high or medium) employees whose
                               (département, occupation) is covered; NaN when the cell has
                               no exposed employee or `training_coverage` is None,
      diagnostics              distinct companies with at least one position from a
                               submitted diagnostic in the cell,
      max_company_employees, second_company_employees   employees of the largest and second
                               largest company in the cell (0 when there is no second), for
                               the dominance rule of statistical secrecy.
    Level and code columns are categoricals; companies, establishments and diagnostics are
    int32, employees int64, shares and means float64.
    """
    if positions.empty:
        return _empty_cube(raw)
    dims = _encode_dimensions(positions)
    territory, sector, occupation, size = (dims[d] for d in DIMENSIONS)
    company, company_labels = pd.factorize(positions["company"])
    establishment, establishment_labels = pd.factorize(positions["establishment"])
    n_company, n_establishment = len(company_labels), len(establishment_labels)
    diagnostic = _bool_column(positions, "diagnostic").astype(np.float64)
    sums = _position_sums(positions, scores, occupation["fiche"], training_coverage)

    # A grouping has at most one cell per position, and at most the product of its levels' sizes.
    capacity = sum(
        min(len(positions), territory[t].size * sector[s].size * occupation[o].size * size[z].size)
        for t, s, o, z in cube_levels(territory_levels)
    )
    output = _Output(dims, capacity, raw)
    with ThreadPoolExecutor(CUBE_THREADS) as pool:
        for o_level in OCCUPATION_LEVELS:
            # One row per (establishment, company, département, EPCI, division, occupation member,
            # band): the finest grain any grouping with this occupation level needs.
            o = occupation[o_level]
            rows, _ = dense_ids(
                [
                    (establishment, n_establishment),
                    (company, n_company),
                    (territory["departement"].codes, territory["departement"].size),
                    (territory["epci"].codes, territory["epci"].size),
                    (sector["division"].codes, sector["division"].size),
                    (o.codes, o.size),
                    (size["band"].codes, size["band"].size),
                ]
            )
            first = first_rows(rows)
            n_rows = len(first)
            if o_level == "all":
                # One row per establishment: each has a single company, territory, sector and
                # band, so at every occupation level a row is one (establishment, member) pair
                # lying in one cell, and a cell's establishments are simply its rows.
                rows_are_establishments = n_rows == n_establishment
            grain = {name: np.bincount(rows, weights=sums[name], minlength=n_rows) for name in _SUMS}
            grain["diagnostic"] = np.bincount(rows, weights=diagnostic, minlength=n_rows) > 0
            grain["company"] = company[first]
            grain["establishment"] = establishment[first]
            del rows
            zeros = np.zeros(n_rows, dtype=np.int32)
            departement = territory["departement"].codes[first]
            division = sector["division"].codes[first]
            codes = {
                "territory": {
                    "all": zeros,
                    "region": territory["departement"].parent[departement],
                    "departement": departement,
                    "epci": territory["epci"].codes[first],
                },
                "sector": {"all": zeros, "section": sector["division"].parent[division], "division": division},
                "size": {"all": zeros, "band": size["band"].codes[first]},
            }
            occupation_codes = o.codes[first]
            pairs = list(itertools.product(territory_levels, SECTOR_LEVELS))
            groupings = functools.partial(
                _groupings,
                grain,
                n_company=n_company,
                n_establishment=None if rows_are_establishments else n_establishment,
                with_coverage=training_coverage is not None,
                band=(size["band"].size, codes["size"]["band"]),
            )
            # Each (territory, sector) level pair is independent and its hash factorizations
            # release the GIL: two threads run them on two cores, written in order.
            results = pool.map(
                groupings,
                [(codes["territory"][t], codes["sector"][s], occupation_codes) for t, s in pairs],
                [(territory[t].size, sector[s].size, o.size) for t, s in pairs],
            )
            for (t_level, s_level), by_size in zip(pairs, results, strict=True):
                for z_level in SIZE_LEVELS:
                    output.write((t_level, s_level, o_level, z_level), *by_size[z_level])
    return output.frame()


@dataclass(frozen=True)
class _Cells:
    """A grouping's cells before their ratios: each cell's key (its nodes in mixed radix) and
    sums, each (cell, company) pair, each cell's establishments."""

    keys: np.ndarray
    sums: dict[str, np.ndarray]
    pairs: "_Pairs"
    establishments: np.ndarray

    @classmethod
    def from_rows(cls, grain, key, bound, n_company, n_establishment) -> "_Cells":
        """From the grain rows and each row's cell key in [0, bound)."""
        cell, keys = dense_codes(key, bound)
        n_cells = len(keys)
        if n_establishment is None:  # each row is a distinct establishment of its cell
            establishments = np.bincount(cell, minlength=n_cells)
        else:
            distinct = pd.unique(cell * n_establishment + grain["establishment"])
            establishments = np.bincount(distinct // n_establishment, minlength=n_cells)
        return cls(
            keys,
            {name: np.bincount(cell, weights=grain[name], minlength=n_cells) for name in _SUMS},
            _Pairs.of(cell, grain["company"], grain["employees"], grain["diagnostic"], n_company),
            establishments,
        )

    def rolled_up(self, radix: int, bound: int, n_company: int) -> "_Cells":
        """The cells of the grouping whose last coordinate (the size band, the lowest digit
        of the keys, in [0, radix)) is rolled up, their keys in [0, bound). Exact for the
        establishments only where no establishment lies in two of the cells merged (one size
        band per establishment)."""
        cell, keys = dense_codes(self.keys // radix, bound)
        n_cells = len(keys)
        pairs = self.pairs
        return _Cells(
            keys,
            {name: np.bincount(cell, weights=values, minlength=n_cells) for name, values in self.sums.items()},
            _Pairs.of(cell[pairs.cell], pairs.company, pairs.employees, pairs.diagnostic, n_company),
            np.bincount(cell, weights=self.establishments, minlength=n_cells).astype(np.int64),
        )

    def values(self, with_coverage: bool) -> dict[str, np.ndarray]:
        n_cells = len(self.keys)
        values = cell_indicators(self.sums, with_coverage)
        values.update({f"sum_{name}": self.sums[name] for name in _SUMS})  # kept by a raw cube only
        pairs = self.pairs
        values["companies"] = np.bincount(pairs.cell, minlength=n_cells)
        values["diagnostics"] = np.bincount(pairs.cell, weights=pairs.diagnostic, minlength=n_cells)
        values["max_company_employees"], values["second_company_employees"] = two_largest(
            pairs.cell, pairs.employees, n_cells
        )
        values["establishments"] = self.establishments
        return values


@dataclass(frozen=True)
class _Pairs:
    """The distinct (cell, company) pairs of a grouping: each pair's cell, company, employees
    and whether any of its positions comes from a diagnostic."""

    cell: np.ndarray
    company: np.ndarray
    employees: np.ndarray
    diagnostic: np.ndarray

    @classmethod
    def of(cls, cell, company, employees, diagnostic, n_company: int) -> "_Pairs":
        """The pairs of items (rows, or the pairs of a finer grouping) lying in `cell`, of
        `company`, with their employees and diagnostic flags."""
        pair, keys = pd.factorize(cell * n_company + company)
        return cls(
            keys // n_company,
            keys % n_company,
            np.bincount(pair, weights=employees),
            np.bincount(pair, weights=diagnostic) > 0,
        )


def _groupings(
    grain: dict[str, np.ndarray],
    codes: tuple[np.ndarray, np.ndarray, np.ndarray],
    sizes: tuple[int, int, int],
    *,
    n_company: int,
    n_establishment: int | None,
    with_coverage: bool,
    band: tuple[int, np.ndarray],
) -> dict[str, tuple[tuple[np.ndarray, ...], dict[str, np.ndarray]]]:
    """The cells of the two groupings of one (territory, sector, occupation) level triple, by
    size level: each cell's node per dimension and its values.

    The band grouping comes from the grain rows; the size roll-up from its cells, far fewer
    than the rows, when each row is a distinct establishment (an establishment has one band);
    else from the rows too. `n_establishment` is None in the first case."""
    t, s, o = codes
    _, n_s, n_o = sizes
    n_band, band_codes = band
    # A cell's key is its nodes in mixed radix (at most a few 1e9, hence int64).
    key = ((t.astype(np.int64) * n_s + s) * n_o + o) * n_band + band_codes
    bound = sizes[0] * n_s * n_o * n_band
    by_band = _Cells.from_rows(grain, key, bound, n_company, n_establishment)
    if n_establishment is None:
        rolled = by_band.rolled_up(n_band, bound // n_band, n_company)
    else:
        rolled = _Cells.from_rows(grain, key // n_band, bound // n_band, n_company, n_establishment)
    result = {}
    for z_level, cells, n_z in (("all", rolled, 1), ("band", by_band, n_band)):
        keys = cells.keys
        nodes = (keys // (n_z * n_o * n_s), keys // (n_z * n_o) % n_s, keys // n_z % n_o, keys % n_z)
        result[z_level] = (nodes, cells.values(with_coverage))
    return result


def cell_indicators(cell_sums: dict[str, np.ndarray], with_coverage: bool) -> dict:
    """Ratios of a grouping's cells from their headcount-weighted sums."""

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / denominator, np.nan)

    scored = cell_sums["high"] + cell_sums["medium"] + cell_sums["low"]
    exposed = cell_sums["high"] + cell_sums["medium"]
    return {
        "employees": np.rint(cell_sums["employees"]),
        "exposure_mean": ratio(cell_sums["exposure_w"], cell_sums["exposure_den"]),
        "share_high": ratio(cell_sums["high"], scored),
        "share_medium": ratio(cell_sums["medium"], scored),
        "share_low": ratio(cell_sums["low"], scored),
        "rti_mean": ratio(cell_sums["rti_w"], cell_sums["rti_den"]),
        "training_need_share": ratio(cell_sums["need"], cell_sums["employees"]),
        "training_coverage": ratio(cell_sums["covered"], exposed) if with_coverage else np.nan,
    }


def two_largest(group: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest and second largest value per group (0 where the group has fewer values)."""
    largest = np.zeros(n_groups)
    np.maximum.at(largest, group, values)
    is_top = values == largest[group]
    tops = np.bincount(group, weights=is_top, minlength=n_groups)
    second = np.zeros(n_groups)
    np.maximum.at(second, group, np.where(is_top, 0.0, values))
    second = np.where(tops >= 2, largest, second)  # a tie for first place
    return np.rint(largest), np.rint(second)
