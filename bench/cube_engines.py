"""The grid's cube in pandas (`observatory.analysis.cube.build_cube`) against the same cube
computed by DuckDB over the same in-memory frames.

1. Data: the grid benchmark's draw (`bench/grid.py`: the same reference data, the same
   `ensure_data`, so a database holding it is reused), read once with the run's own
   `positions_frame()` and `training_coverage_frame()`, and scored once as
   `grid_run_compute` scores it (`exposure.occupation_scores` with the parameters of the
   default lens's current methodology, or the function's defaults when there is none), in
   a child process that stores the three frames (numpy arrays, no pickle).
2. Exactness: another child computes both cubes once; the cells are compared on their
   coordinates (levels, codes, parents, size band), counts exactly and ratios to 1e-9
   relative.
3. Timing: each engine computes the cube in a child process of its own that reads the
   frames first, `--repeat` times, the two engines taking turns within each repeat so that
   a busy spell of the shared machine hits both. The duration is the call alone (frames in
   memory → cells in a pandas frame); the peak is the child's (`ru_maxrss` through wait4).
   This process never holds the frames: on Linux a child's peak starts from the resident
   size of its parent.

DuckDB's cube, as cube.py's, runs one occupation level at a time: positions → one row per
(establishment, node of every level) → one row per (cell, company) for the level's 24
GROUPING SETS → one row per cell. Codes become integer node ids first (grouping on text was
three times slower). Distinct companies are a cell's (cell, company) rows, the two largest
come from `max(employees, 2)` over them, and distinct establishments are summed over a
cell's companies (an establishment belongs to one company, and lies in one row of its cell
since it has one territory, sector and band; else `count(DISTINCT …)` is used).
"""

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from bench import read_frame, write_frame
from observatory.analysis import cube
from observatory.analysis.codes import UNKNOWN_CODE, unknown_code

COORDINATES = cube.CUBE_COLUMNS[:10]
# The cube's figures: counts compared exactly, means and shares to RELATIVE_TOLERANCE.
COUNTS = tuple(c for c in cube.CUBE_COLUMNS[10:] if np.issubdtype(cube.VALUE_DTYPES[c], np.integer))
RATIOS = tuple(c for c in cube.CUBE_COLUMNS[10:] if c not in COUNTS)
RELATIVE_TOLERANCE = 1e-9
ENGINES = ("pandas", "duckdb")

# The path of each level's node, as cube.py nests them (an EPCI under its région, not under
# a département): a GROUPING SET groups on the whole path, so that one code under two
# parents (an "inconnu" EPCI in two régions) gives two cells, as in build_cube.
LEVEL_PATHS = {
    "territory": {
        "all": (),
        "region": ("region",),
        "departement": ("region", "departement"),
        "epci": ("region", "epci"),
    },
    "sector": {"all": (), "section": ("section",), "division": ("section", "division")},
    "occupation": {
        "all": (),
        "grand_domaine": ("grand_domaine",),
        "domaine": ("grand_domaine", "domaine"),
        "fiche": ("grand_domaine", "domaine", "fiche"),
    },
    "size": {"all": (), "band": ("band",)},
}
# Column of the positions frame behind each path column.
SOURCE_COLUMNS = cube.POSITION_COLUMNS
PATH_COLUMNS = tuple(SOURCE_COLUMNS)
SUMS = tuple(name.removeprefix("sum_") for name in cube.RAW_COLUMNS)


def add_arguments(parser) -> None:
    group = parser.add_argument_group("cube_engines")
    group.add_argument(
        "--engines-positions",
        type=int,
        default=None,
        help="job positions of the draw (default: the grid's --positions and --establishments; "
        "when given, a tenth as many establishments)",
    )


def run(args) -> dict[str, float]:
    from bench import grid  # imports the models: kept out of the timing children, which need no Django

    positions_count = args.engines_positions or args.positions
    establishments = args.establishments if args.engines_positions is None else max(1, positions_count // 10)
    grid.prepare_reference()
    counts = grid.ensure_data(
        companies=args.companies or grid.default_companies(establishments),
        establishments=establishments,
        positions=positions_count,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="cube_engines_") as folder:
        # The frames are read, compared and timed in child processes: this one never holds
        # them, since a child's peak (ru_maxrss) starts from its parent's resident size.
        inputs = str(Path(folder) / "inputs.npz")
        say(
            f"this process: peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:.0f} MB "
            "(on Linux, the floor of its children's peaks: more than usual right after a generation)"
        )
        say(_child_report("prepare", inputs)["line"])
        comparison = _child_report("compare", inputs)
        say(comparison["line"])
        measures = {engine: [] for engine in ENGINES}
        for attempt in range(1, args.repeat + 1):
            # Alternate which engine goes first, so that neither always follows the other.
            order = ENGINES if attempt % 2 else ENGINES[::-1]
            for engine in order:
                measures[engine].append(measure_engine(engine, inputs))
                m = measures[engine][-1]
                say(f"{engine} {attempt}/{args.repeat}: {m['seconds']:.2f} s (cpu {m['cpu_seconds']:.2f} s), "
                    f"peak {m['peak_mb']:.0f} MB ({m['inputs_mb']:.0f} MB before the call), {m['cells']} cells; "
                    f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    results: dict[str, float] = {"cube_engines_positions": counts["positions"]}
    for engine in ENGINES:
        results[f"cube_{engine}_seconds"] = statistics.median(m["seconds"] for m in measures[engine])
        results[f"cube_{engine}_cpu_seconds"] = statistics.median(m["cpu_seconds"] for m in measures[engine])
        results[f"cube_{engine}_peak_mb"] = max(m["peak_mb"] for m in measures[engine])
    results["cube_engines_inputs_mb"] = max(m["inputs_mb"] for engine in ENGINES for m in measures[engine])
    results["cube_duckdb_vs_pandas"] = results["cube_duckdb_seconds"] / results["cube_pandas_seconds"]
    results["cube_engines_equal"] = int(comparison["differing"] == 0)
    results["cube_engines_cells"] = int(comparison["cells"])
    results["cube_engines_differing_cells"] = int(comparison["differing"])
    return results


def say(line: str) -> None:
    print(line, flush=True)


def load_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Positions, occupation scores and training coverage, read and scored as
    `observatory.services.grid_run_compute` does for the default lens."""
    from observatory.analysis import exposure
    from observatory.models import Methodology
    from observatory.selectors import positions_frame, training_coverage_frame
    from skills.profiles import CATEGORIES
    from skills.selectors import reference_profiles_frame

    methodology = Methodology.objects.current()
    params = methodology.as_params() if methodology else {}
    positions = positions_frame()
    reference = reference_profiles_frame(methodology.profile_params() if methodology else None)
    scores = exposure.occupation_scores(reference[list(CATEGORIES)], positions, params)
    return positions, scores, training_coverage_frame()


# --- The cube in DuckDB ---------------------------------------------------------------------

# Each dimension's code columns, coarsest first: its nodes are the distinct combinations.
DIMENSION_COLUMNS = {
    "territory": ("region", "departement", "epci"),
    "sector": ("section", "division"),
    "occupation": ("grand_domaine", "domaine", "fiche"),
    "size": ("band",),
}


def _node(dim: str, level: str) -> str:
    """Column of a level's node id: the level's own name (region_id, band_id…)."""
    return f"{LEVEL_PATHS[dim][level][-1]}_id"


def duckdb_cube(
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    training_coverage: pd.DataFrame | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """The cube of `cube.build_cube` (same arguments, same columns and categoricals),
    computed by DuckDB; the cells come in no particular order.

    DuckDB groups on integer node ids (one per path, as codes.encode_level numbers them) and
    returns each cell's level and node per dimension; the codes and parents are put back
    with `pd.Categorical.from_codes` from the small node tables, as cube.py does.
    `threads`: DuckDB's worker threads (default: one per core).
    """
    import duckdb

    if positions.empty:  # no cell: build_cube's empty frame, with its columns and dtypes
        return cube.build_cube(positions, scores, training_coverage=training_coverage)
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.register("positions_input", positions[["company", "establishment", "headcount", "training_need",
                                                   "diagnostic", *SOURCE_COLUMNS.values()]])  # fmt: skip
        con.register(
            "scores_input",
            pd.DataFrame(
                {
                    "occupation": scores.index.astype(str),
                    "exposure": scores["exposure"].to_numpy(dtype=np.float64),
                    "rti": scores["rti"].to_numpy(dtype=np.float64),
                    "exposure_class": scores["exposure_class"].astype(object).to_numpy(),
                }
            ),
        )
        with_coverage = training_coverage is not None
        if with_coverage:
            con.register("coverage_input", training_coverage[["departement", "occupation", "covered"]])
        for statement in weighted_sql(with_coverage):
            con.execute(statement)
        # As build_cube: when every establishment lies in one company, territory, sector and
        # band (as in the database), a cell's establishments are its grain rows; else they
        # are counted distinct, which DuckDB does far more slowly over grouping sets.
        single = con.execute(
            "SELECT count(*) = count(DISTINCT establishment) FROM (SELECT DISTINCT establishment, company, "
            "departement_id, epci_id, division_id, band_id FROM weighted)"
        ).fetchone()[0]
        cells = con.execute(cube_sql(with_coverage, distinct_establishments=not single)).df()
        nodes = {dim: con.execute(f"SELECT * FROM {dim}_nodes").df() for dim in DIMENSION_COLUMNS}
    finally:
        con.close()
    return _with_coordinates(cells, nodes)


def _label(column: str) -> str:
    # As codes.raw_codes: the code as text, stripped; missing or empty is "inconnu".
    return f"coalesce(nullif(trim(CAST(p.{column} AS VARCHAR)), ''), '{UNKNOWN_CODE}')"


def weighted_sql(with_coverage: bool) -> list[str]:
    """Statements creating the temporary tables `labelled` (each position's codes, as text,
    and its headcount-weighted sums, the `_SUMS` of cube.py: its score looked up by fiche,
    its coverage by (département, fiche)), `<dimension>_nodes` (the node id of each level
    for each distinct combination of the dimension's codes) and `weighted` (the positions
    with node ids instead of codes)."""
    labels = ",\n    ".join(f"{_label(source)} AS {name}" for name, source in SOURCE_COLUMNS.items())
    coverage_join = (
        """LEFT JOIN (
  SELECT CAST(departement AS VARCHAR) AS departement, CAST(occupation AS VARCHAR) AS occupation,
         bool_or(coalesce(covered, false)) AS covered
  FROM coverage_input GROUP BY ALL
) c ON c.departement = p.departement AND c.occupation = p.fiche"""
        if with_coverage
        else ""
    )
    covered = "coalesce(c.covered, false)" if with_coverage else "false"
    statements = [
        f"""
CREATE TEMPORARY TABLE labelled AS
WITH coded AS (
  SELECT
    p.company, p.establishment,
    CAST(p.headcount AS DOUBLE) AS hc,
    coalesce(p.training_need, false) AS need_flag,
    coalesce(p.diagnostic, false) AS diagnostic,
    {labels}
  FROM positions_input p
)
SELECT p.company, p.establishment, p.diagnostic, {", ".join(f"p.{c}" for c in PATH_COLUMNS)},
  p.hc AS employees,
  CASE WHEN e_known THEN p.hc * s.exposure ELSE 0 END AS exposure_w,
  CASE WHEN e_known THEN p.hc ELSE 0 END AS exposure_den,
  CASE WHEN r_known THEN p.hc * s.rti ELSE 0 END AS rti_w,
  CASE WHEN r_known THEN p.hc ELSE 0 END AS rti_den,
  CASE WHEN cls = 2 THEN p.hc ELSE 0 END AS high,
  CASE WHEN cls = 1 THEN p.hc ELSE 0 END AS medium,
  CASE WHEN cls = 0 THEN p.hc ELSE 0 END AS low,
  CASE WHEN p.need_flag THEN p.hc ELSE 0 END AS need,
  CASE WHEN {covered} AND cls >= 1 THEN p.hc ELSE 0 END AS covered
FROM coded p
LEFT JOIN (
  SELECT occupation, exposure, rti,
    coalesce(NOT isnan(exposure), false) AS e_known,
    coalesce(NOT isnan(rti), false) AS r_known,
    CASE CAST(exposure_class AS VARCHAR) WHEN 'high' THEN 2 WHEN 'medium' THEN 1 WHEN 'low' THEN 0 END AS cls
  FROM scores_input
) s ON s.occupation = p.fiche
{coverage_join}
"""
    ]
    joins = []
    for dim, columns in DIMENSION_COLUMNS.items():
        ids = ", ".join(
            f"dense_rank() OVER (ORDER BY {', '.join(path)}) - 1 AS {_node(dim, level)}"
            for level, path in LEVEL_PATHS[dim].items()
            if path
        )
        statements.append(
            f"CREATE TEMPORARY TABLE {dim}_nodes AS SELECT *, {ids} "
            f"FROM (SELECT DISTINCT {', '.join(columns)} FROM labelled)"
        )
        on = " AND ".join(f"{dim}_nodes.{c} = p.{c}" for c in columns)
        joins.append(f"JOIN {dim}_nodes ON {on}")
    ids = ", ".join(_node(dim, level) for dim in DIMENSION_COLUMNS for level, path in LEVEL_PATHS[dim].items() if path)
    statements.append(
        f"CREATE TEMPORARY TABLE weighted AS SELECT p.company, p.establishment, p.diagnostic, {ids}, "
        f"{', '.join(SUMS)} FROM labelled p {' '.join(joins)}"
    )
    return statements


def _grouping_sets(o_level: str) -> str:
    sets = []
    for levels in cube.cube_levels():
        if levels[2] != o_level:
            continue
        nodes = [_node(dim, level) for dim, level in zip(cube.DIMENSIONS, levels, strict=True) if level != "all"]
        sets.append(f"({', '.join([*nodes, 'company'])})")
    return ",\n      ".join(sets)


def _level_columns() -> str:
    """Each dimension's level (its index in cube.LEVELS) and node id, from the node column a
    cell grouped on (the others are NULL there; node ids never are)."""
    lines = []
    for dim in cube.DIMENSIONS:
        levels = [level for level in cube.LEVELS[dim] if level != "all"]
        level = " ".join(f"WHEN {_node(dim, lv)} IS NOT NULL THEN {cube.LEVELS[dim].index(lv)}" for lv in levels)
        lines.append(f"CAST(CASE {level} ELSE 0 END AS TINYINT) AS {dim}_level")
        lines.append(f"CAST(coalesce({', '.join(_node(dim, lv) for lv in levels)}, 0) AS INTEGER) AS {dim}_node")
    return ",\n  ".join(lines)


def cube_sql(with_coverage: bool, *, distinct_establishments: bool = False) -> str:
    """The cube from the `weighted` table, one occupation level at a time (as cube.py):
    positions → one row per establishment and occupation node of the level (the grain) →
    one row per cell and company (24 grouping sets) → one row per cell."""
    sums = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
    establishments = "count(DISTINCT establishment)" if distinct_establishments else "count(*)"
    all_nodes = [_node(d, lv) for d in cube.DIMENSIONS for lv in cube.LEVELS[d] if lv != "all"]
    occupation_nodes = [_node("occupation", lv) for lv in cube.OCCUPATION_LEVELS if lv != "all"]
    levels = []
    for o_level in cube.OCCUPATION_LEVELS:
        # The grain keeps every node but the occupation's, of which only this level's.
        own = _node("occupation", o_level) if o_level != "all" else None
        keys = [n for n in all_nodes if n not in occupation_nodes or n == own]
        nulls = "".join(f", NULL AS {n}" for n in all_nodes if n not in keys)
        levels.append(f"""
  SELECT {", ".join(all_nodes)},
    count(*) AS companies,
    sum(establishments) AS establishments,
    count(*) FILTER (WHERE diagnostic) AS diagnostics,
    max(employees, 2) AS largest,
    {sums}
  FROM (
    SELECT {", ".join(keys)}{nulls}, company,
      {sums},
      {establishments} AS establishments,
      bool_or(diagnostic) AS diagnostic
    FROM (
      SELECT company, establishment, {", ".join(keys)}, {sums}, bool_or(diagnostic) AS diagnostic
      FROM weighted
      GROUP BY company, establishment, {", ".join(keys)}
    ) grain
    GROUP BY GROUPING SETS (
      {_grouping_sets(o_level)}
    )
  ) pairs
  GROUP BY {", ".join(all_nodes)}""")

    def ratio(numerator: str, denominator: str) -> str:
        return f"CASE WHEN ({denominator}) > 0 THEN ({numerator}) / ({denominator}) END"

    return f"""
WITH cells AS ({" UNION ALL ".join(levels)}
)
SELECT
  {_level_columns()},
  CAST(companies AS INTEGER) AS companies,
  CAST(establishments AS INTEGER) AS establishments,
  CAST(round(employees) AS BIGINT) AS employees,
  {ratio("exposure_w", "exposure_den")} AS exposure_mean,
  {ratio("high", "high + medium + low")} AS share_high,
  {ratio("medium", "high + medium + low")} AS share_medium,
  {ratio("low", "high + medium + low")} AS share_low,
  {ratio("rti_w", "rti_den")} AS rti_mean,
  {ratio("need", "employees")} AS training_need_share,
  {ratio("covered", "high + medium") if with_coverage else "CAST(NULL AS DOUBLE)"} AS training_coverage,
  CAST(diagnostics AS INTEGER) AS diagnostics,
  CAST(round(largest[1]) AS BIGINT) AS max_company_employees,
  CAST(round(coalesce(largest[2], 0)) AS BIGINT) AS second_company_employees
FROM cells
"""


def _path_codes(table: pd.DataFrame, path: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The code and parent code of each node of `table` whose path is `path`, an unknown
    member below a parent named after it as build_cube names it (`codes.unknown_code`)."""
    parent = np.full(len(table), "", dtype=object)
    code = table[path[0]].to_numpy(dtype=object)
    for column in path[1:]:
        parent = code
        raw = table[column].to_numpy(dtype=object)
        pairs = zip(raw, parent, strict=True)
        named = [unknown_code(above) if value == UNKNOWN_CODE else value for value, above in pairs]
        code = np.array(named, dtype=object)
    return code, parent


def _with_coordinates(cells: pd.DataFrame, nodes: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The cells with build_cube's coordinate columns (categoricals) instead of each
    dimension's level index and node id."""
    columns = {}
    for dim in cube.DIMENSIONS:
        level_index = cells.pop(f"{dim}_level").to_numpy(dtype=np.int64)
        node = cells.pop(f"{dim}_node").to_numpy(dtype=np.int64)
        # Per level (in cube.LEVELS order), the code and parent code of each node id.
        all_code = cube.ALL_SIZE if dim == "size" else cube.ALL_CODE
        codes, parents = [np.array([all_code], dtype=object)], [np.array([cube.ALL_CODE], dtype=object)]
        for level in cube.LEVELS[dim][1:]:
            path = LEVEL_PATHS[dim][level]
            table = nodes[dim].drop_duplicates(_node(dim, level)).sort_values(_node(dim, level))
            code, parent = _path_codes(table, path)
            codes.append(code)
            parents.append(parent)
        offsets = np.cumsum([0] + [len(c) for c in codes[:-1]])
        flat = offsets[level_index] + node
        columns[f"{dim}_level"] = pd.Categorical.from_codes(level_index, categories=list(cube.LEVELS[dim]))
        code_labels, parent_labels = np.concatenate(codes), np.concatenate(parents)
        if dim == "size":
            columns["size_band"] = pd.Categorical(code_labels[flat])
            continue
        categories = pd.Index(pd.unique(np.concatenate([[cube.ALL_CODE], code_labels])))
        columns[f"{dim}_code"] = pd.Categorical.from_codes(categories.get_indexer(code_labels)[flat], categories)
        columns[f"{dim}_parent"] = pd.Categorical.from_codes(categories.get_indexer(parent_labels)[flat], categories)
    frame = pd.DataFrame({**{name: columns[name] for name in COORDINATES}, **cells}, copy=False)
    return frame[cube.CUBE_COLUMNS]


# --- Comparison -----------------------------------------------------------------------------


def compare_cubes(expected: pd.DataFrame, actual: pd.DataFrame) -> dict:
    """Cell by cell on the coordinates: counts exactly, ratios to RELATIVE_TOLERANCE (NaN
    equal to NaN). Returns cells (of `expected`), differing (cells missing from either side
    or with any differing figure) and detail (differing cells per column, as text)."""
    left = _by_coordinates(expected)
    right = _by_coordinates(actual)
    both = left.index.intersection(right.index)
    missing = len(left.index.difference(right.index)) + len(right.index.difference(left.index))
    left, right = left.loc[both], right.loc[both]
    differs = np.zeros(len(both), dtype=bool)
    detail = {}
    if missing:
        detail["coordinates"] = missing
    for column in COUNTS + RATIOS:
        a = left[column].to_numpy(dtype=np.float64)
        b = right[column].to_numpy(dtype=np.float64)
        if column in COUNTS:
            bad = a != b
        else:
            bad = ~(np.isclose(a, b, rtol=RELATIVE_TOLERANCE, atol=0.0) | (np.isnan(a) & np.isnan(b)))
        if bad.any():
            detail[column] = int(bad.sum())
        differs |= bad
    return {
        "cells": len(expected),
        "differing": int(differs.sum()) + missing,
        "detail": ", ".join(f"{name} {count}" for name, count in detail.items()),
    }


def _by_coordinates(cells: pd.DataFrame) -> pd.DataFrame:
    frame = cells.copy()
    for column in COORDINATES:
        frame[column] = frame[column].astype(str)
    return frame.set_index(list(COORDINATES)).sort_index()


# --- Timing in a child process --------------------------------------------------------------


def measure_engine(engine: str, inputs: str) -> dict:
    """One cube by `engine` in a fresh process: the call's wall and CPU time, the process's
    peak resident memory and the part of it the inputs took (MB of 10⁶ bytes)."""
    report = _child_report(engine, inputs)
    return {
        "seconds": report["seconds"],
        "cpu_seconds": report["cpu_seconds"],
        "peak_mb": report["peak_kb"] * 1024 / 1e6,
        "inputs_mb": report["inputs_kb"] * 1024 / 1e6,
        "cells": int(report["cells"]),
    }


def _child_report(mode: str, inputs: str) -> dict:
    """Run `python -m bench.cube_engines MODE INPUTS`; its last `REPORT` line as a dict, plus
    the child's peak resident memory (kB, through wait4)."""
    from bench import grid

    command = [sys.executable, "-m", "bench.cube_engines", mode, inputs]
    child = grid.run_child(command, env={**os.environ}, cwd=settings.BASE_DIR)
    lines = [line for line in child["output"].splitlines() if line.startswith("REPORT ")]
    if child["status"] != 0 or not lines:
        raise RuntimeError(f"cube_engines {mode} failed (exit status {child['status']}):\n{child['output'][-4000:]}")
    report = json.loads(lines[-1].removeprefix("REPORT "))
    return {**report, "peak_kb": child["peak_kb"]}


_INPUT_FRAMES = ("positions", "scores", "coverage")


def _dump_inputs(path: str, frames) -> None:
    """The three frames as the project stores frames (differencing.frame_to_bytes: numpy
    arrays, no pickle), one file each beside `path`; the scores' index as a column."""
    positions, scores, coverage = frames
    for name, frame in zip(_INPUT_FRAMES, (positions, scores.reset_index(), coverage), strict=True):
        write_frame(f"{path}.{name}", frame)


def _read_inputs(path: str):
    positions, scores, coverage = (read_frame(f"{path}.{name}") for name in _INPUT_FRAMES)
    scores["occupation"] = scores["occupation"].astype(str)
    return positions, scores.set_index("occupation"), coverage


def _child(mode: str, inputs: str) -> None:
    """A child's work, reported as one line `REPORT {json}`.

    prepare: read and score the inputs (Django, the bench's database) and store them;
    compare: both cubes and their comparison; pandas / duckdb: one cube, timed.
    """
    if mode == "prepare":
        import django

        django.setup()
        clock = time.perf_counter()
        frames = load_inputs()
        _dump_inputs(inputs, frames)
        positions, scores, coverage = frames
        from observatory.models import Methodology

        methodology = Methodology.objects.current()
        line = (
            f"inputs: {len(positions)} positions, {len(scores)} scored fiches, {len(coverage)} covered "
            f"(département, fiche) pairs, read and scored in {time.perf_counter() - clock:.1f} s "
            f"({f'methodology version {methodology.version}' if methodology else 'default parameters'})"
        )
        print("REPORT " + json.dumps({"line": line}), flush=True)
        return
    positions, scores, coverage = _read_inputs(inputs)
    if mode == "compare":
        comparison = compare_cubes(
            cube.build_cube(positions, scores, training_coverage=coverage),
            duckdb_cube(positions, scores, training_coverage=coverage),
        )
        comparison["line"] = (
            f"exactness: {comparison['cells']} cells, {comparison['differing']} differing "
            f"({comparison['detail'] or 'none'})"
        )
        print("REPORT " + json.dumps(comparison), flush=True)
        return
    if mode == "duckdb":
        import duckdb  # noqa: F401  (the import is start-up, not the cube)
    inputs_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()  # the whole process: DuckDB's worker threads included
    clock = time.perf_counter()
    if mode == "pandas":
        cells = cube.build_cube(positions, scores, training_coverage=coverage)
    elif mode == "duckdb":
        cells = duckdb_cube(positions, scores, training_coverage=coverage)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - clock
    report = {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "inputs_kb": inputs_kb,
        "cells": len(cells),
    }
    print("REPORT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    _child(*sys.argv[1:])
