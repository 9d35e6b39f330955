"""The grid computation at scale, against the floor of one SQL GROUP BY CUBE.

1. Reference data: the official files when REFERENCE_DATA, SHARED_DATA or `../shared/data`
   holds them (more fiches and communes, hence more cells), else the built-in subset.
2. Data: `--establishments` establishments of about 30 % as many companies, holding
   `--positions` job positions, drawn deterministically from `--seed` and written with COPY
   (PostgreSQL) in a few seconds. A database that already holds this draw is reused.
3. The grid: `manage.py compute_grid` in a child process, `--repeat` times, with Celery
   eager, each run followed by the floor (4) over its scores. The duration of a run is its
   GridRun's finished_at − started_at (what an analyst waits for); the child's wall time,
   CPU time and peak resident memory (rusage of that child only, through wait4) are
   reported beside it.
4. The floor (PostgreSQL only): the time PostgreSQL takes to run one GROUP BY CUBE over the
   same job positions (employees and headcount-weighted mean exposure over département ×
   NAF division × fiche × size band) and hand back every row. The grid does much more (96
   level combinations, distinct counts, secrecy, writing the cells), so the ratio says how
   far the whole pipeline is from the cost of merely reading and aggregating the rows once.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from companies import demo
from companies.models import Company, Establishment, JobPosition, Sector, SizeBand, Territory
from observatory import services
from observatory.analysis.cube import EPCI_DETAILS, EPCI_FULL
from observatory.models import GridCell, GridRun, Lens, Methodology, OccupationScore
from observatory.partitions import bulk_insert
from observatory.reference import BUILTIN_REFERENCE_DIR, COG_DIR, NAF_FILE, ROME_DIR, load_reference
from skills.models import Occupation
from skills.profiles import CATEGORIES

# The bench's companies are recognised by this SIREN prefix (the demo's is "000"): the bench
# refuses to replace a database holding any other company.
BENCH_SIREN_PREFIX = "01"
MAX_COMPANIES = 10 ** (8 - len(BENCH_SIREN_PREFIX))
COMPANIES_PER_ESTABLISHMENT = 0.3
WRITE_CHUNK = 250_000  # rows per COPY / executemany: bounds the CSV buffer of the parent

# Establishments by size band, of the order of INSEE's counts of employer establishments:
# (band, probability, relative number of distinct jobs, smallest and largest headcount of
# one job). Positions are spread over establishments in proportion to the second figure.
ESTABLISHMENT_BANDS = (
    (SizeBand.MICRO, 0.700, 3, 1, 3),
    (SizeBand.SMALL, 0.220, 8, 1, 12),
    (SizeBand.MEDIUM, 0.065, 16, 2, 60),
    (SizeBand.LARGE, 0.014, 30, 5, 500),
    (SizeBand.VERY_LARGE, 0.001, 40, 20, 3000),
)
# Share of positions that come from a submitted company diagnostic (the rest are surveys).
DIAGNOSTIC_SHARE = 0.02

CUBE_FLOOR_SQL = """
SELECT d.code AS departement, left(s.code, 2) AS naf_division, p.occupation_id, e.size_band,
       sum(p.headcount) AS employees,
       sum(p.headcount * o.exposure) / sum(p.headcount) AS exposure_mean
FROM {position} p
JOIN {establishment} e ON e.id = p.establishment_id
JOIN {territory} c ON c.id = e.commune_id
JOIN {territory} d ON d.id = c.parent_id
JOIN {sector} s ON s.id = e.sector_id
LEFT JOIN {score} o ON o.occupation_id = p.occupation_id AND o.run_id = %s
GROUP BY CUBE (d.code, left(s.code, 2), p.occupation_id, e.size_band)
"""

# work_mem of the second floor measure: enough for the CUBE's sorts of a million rows.
IN_MEMORY_WORK_MEM = "256MB"

STEPS = ("load", "scores", "cube", "editions", "secrecy", "audit", "write")
# The aggregation pipeline without the comparison with the editions, the secrecy protection
# and its audit: reading the positions, the scores, the cube, the primary rules (the flags
# the cells are written with) and writing the cells (measure_pipeline).
PIPELINE_STEPS = ("load", "scores", "cube", "primary", "write")


class BenchRefused(Exception):
    """The database holds data the bench did not create; it will not replace them."""


def add_arguments(parser) -> None:
    group = parser.add_argument_group("grid")
    group.add_argument("--establishments", type=int, default=100_000, help="establishments (100,000)")
    group.add_argument("--positions", type=int, default=1_000_000, help="job positions (1,000,000)")
    group.add_argument("--companies", type=int, default=None, help="companies (default: 30 %% of the establishments)")
    group.add_argument("--seed", type=int, default=2026, help="seed of the draw (2026)")
    group.add_argument(
        "--full-runs",
        type=int,
        default=1,
        help="complete runs, secrecy included (1: at a million positions one takes more than an hour)",
    )
    group.add_argument(
        "--epci-detail",
        choices=EPCI_DETAILS,
        default=EPCI_FULL,
        help="publication plan of the EPCI level (full: every crossing; size: their totals by size band)",
    )


def run(args) -> dict[str, float]:
    results: dict[str, float] = {}
    prepare_reference()
    companies = args.companies or default_companies(args.establishments)
    counts = ensure_data(
        companies=companies, establishments=args.establishments, positions=args.positions, seed=args.seed
    )
    results.update({name: counts[name] for name in ("companies", "establishments", "positions", "employees")})
    use_epci_detail(args.epci_detail)
    if "generation_seconds" in counts:
        results["generation_seconds"] = counts["generation_seconds"]

    # Each measure is the aggregation pipeline, then the floor over its scores, so that both
    # medians are taken over the same minutes of a machine whose load varies; complete runs
    # (secrecy and audit included) come first, as many as --full-runs.
    postgresql = connection.vendor == "postgresql"
    full_runs = min(args.full_runs, args.repeat)
    runs, pipelines, floors, in_memory = [], [], [], []
    for attempt in range(1, args.repeat + 1):
        if attempt <= full_runs:
            runs.append(measure_grid_run(attempt=attempt, repeat=full_runs))
        pipelines.append(measure_pipeline(attempt=attempt, repeat=args.repeat))
        if postgresql:
            floor = measure_cube_floor(run_id=pipelines[-1]["run_id"])
            floors.append(floor["seconds"])
            # The same statement when it may sort and hash in memory: the floor of a tuned server.
            in_memory.append(
                measure_cube_floor(run_id=pipelines[-1]["run_id"], work_mem=IN_MEMORY_WORK_MEM)["seconds"]
            )
    results["grid_pipeline_seconds"] = statistics.median(p["seconds"] for p in pipelines)
    for step in PIPELINE_STEPS:
        results[f"grid_pipeline_{step}_seconds"] = statistics.median(p["timings"][step] for p in pipelines)
    results["grid_pipeline_peak_mb"] = max(p["peak_mb"] for p in pipelines)
    results["grid_pipeline_cells"] = pipelines[-1]["cells"]
    if runs:
        results["grid_seconds"] = statistics.median(r["seconds"] for r in runs)
        results["grid_process_seconds"] = statistics.median(r["process_seconds"] for r in runs)
        results["grid_cpu_seconds"] = statistics.median(r["cpu_seconds"] for r in runs)
        results["grid_peak_mb"] = max(r["peak_mb"] for r in runs)
        for step in STEPS:
            results[f"grid_{step}_seconds"] = statistics.median(r["timings"].get(step, float("nan")) for r in runs)
        results["grid_cells"] = runs[-1]["cells"]
        results["grid_secret_cells"] = runs[-1]["secret_cells"]
        results.update(secrecy_results(runs[-1]["audit"], runs[-1]["cells"]))

    if not postgresql:
        say("cube floor: needs PostgreSQL (set DATABASE_URL or start the local server); ratio skipped")
        return results
    results["cube_floor_seconds"] = statistics.median(floors)
    results["cube_floor_rows"] = floor["rows"]
    results["grid_vs_floor"] = results["grid_pipeline_seconds"] / results["cube_floor_seconds"]
    if runs:
        results["grid_with_secrecy_vs_floor"] = results["grid_seconds"] / results["cube_floor_seconds"]
    results["cube_floor_inmemory_seconds"] = statistics.median(in_memory)
    return results


def use_epci_detail(epci_detail: str) -> None:
    """Make `epci_detail` the publication plan of the default lens's current version (a new
    version when it differs), for the runs and pipelines that follow."""
    current = Methodology.objects.current(Lens.DEFAULT)
    if current.epci_detail != epci_detail:
        current = services.methodology_create_version(
            lens=Lens.DEFAULT, epci_detail=epci_detail, notes="Plan de publication du banc d'essai."
        )
    say(f"plan: EPCI {current.get_epci_detail_display().lower()} (method v{current.version})")


def secrecy_results(audit: dict, cells: int) -> dict[str, float]:
    """What the secrecy of the last run cost and what its audit found (`GridRun.audit`).

    "before": the one-secret rule alone, as audited in the protection's first round (bound
    propagation and determination only, so its under-protected count is a lower bound);
    "after": the run's own audit of the cells it publishes.
    """
    protection = audit.get("protection", {})
    cells = max(cells, 1)
    return {
        "grid_primary_cells": protection.get("primary", float("nan")),
        "grid_secondary_share_before": protection.get("secondary_one_secret_rule", float("nan")) / cells,
        "grid_secondary_share_after": protection.get("secondary", float("nan")) / cells,
        "grid_determined_before": protection.get("determined_before", float("nan")),
        "grid_determined_primary_before": protection.get("determined_primary_before", float("nan")),
        "grid_under_protected_before": protection.get("under_protected_before", float("nan")),
        "grid_protection_rounds": protection.get("rounds", float("nan")),
        "grid_protection_unproven_rounds": protection.get("unproven_rounds", float("nan")),
        "grid_determined_after": audit.get("determined", float("nan")),
        "grid_determined_primary_after": audit.get("determined_primary", float("nan")),
        "grid_under_protected_after": audit.get("under_protected", float("nan")),
        "grid_audit_skipped": audit.get("skipped", float("nan")),
        "grid_audit_passed": int(audit["passed"]) if "passed" in audit else float("nan"),
    }


def say(line: str) -> None:
    print(line, flush=True)


# --- Reference data -------------------------------------------------------------------------


def reference_directory() -> Path:
    """The first folder holding the official files: REFERENCE_DATA, SHARED_DATA, then
    `../shared/data` beside the checkout (as the tests look for it); else the built-in set."""
    candidates = (
        settings.REFERENCE_DATA,
        os.environ.get("SHARED_DATA", ""),
        Path(settings.BASE_DIR).parent / "shared" / "data",
    )
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).exists() for name in (COG_DIR, NAF_FILE, ROME_DIR)):
            return Path(candidate)
    return BUILTIN_REFERENCE_DIR


def prepare_reference() -> None:
    """Load the nomenclatures once; a database that has them keeps them (the draw depends on
    them, so reloading other files would change the data)."""
    if not Territory.objects.filter(level=Territory.Level.COMMUNE).exists():
        directory = reference_directory()
        say(f"reference: loading {directory} …")
        clock = time.perf_counter()
        load_reference(directory)
        say(f"reference: loaded in {time.perf_counter() - clock:.1f} s")
    communes = Territory.objects.filter(level=Territory.Level.COMMUNE).count()
    sous_classes = Sector.objects.filter(level=Sector.Level.SOUS_CLASSE).count()
    fiches = Occupation.objects.fiches().count()
    say(f"reference: {communes} communes, {sous_classes} NAF sous-classes, {fiches} ROME fiches")


# --- Data -----------------------------------------------------------------------------------


def default_companies(establishments: int) -> int:
    return max(1, round(establishments * COMPANIES_PER_ESTABLISHMENT))


def ensure_data(*, companies: int, establishments: int, positions: int, seed: int) -> dict:
    """Reuse the data already in the database when it is this draw, else generate it."""
    _refuse_foreign_companies()
    if _holds_draw(companies=companies, establishments=establishments, positions=positions, seed=seed):
        say(f"data: reusing the {companies} companies, {establishments} establishments and {positions} positions")
        return {
            "companies": companies,
            "establishments": establishments,
            "positions": positions,
            "employees": _employees(),
        }
    say(f"data: generating {companies} companies, {establishments} establishments, {positions} positions …")
    clock = time.perf_counter()
    counts = generate(companies=companies, establishments=establishments, positions=positions, seed=seed)
    counts["generation_seconds"] = time.perf_counter() - clock
    say(f"data: generated in {counts['generation_seconds']:.1f} s")
    return counts


def _refuse_foreign_companies() -> None:
    if Company.objects.exclude(siren__startswith=BENCH_SIREN_PREFIX).exists():
        raise BenchRefused(
            f"the database holds companies the bench did not create (SIREN not starting with "
            f"{BENCH_SIREN_PREFIX}); the bench replaces every company, so point DATABASE_URL at a "
            "database of its own (or leave it unset)"
        )


def _holds_draw(*, companies: int, establishments: int, positions: int, seed: int) -> bool:
    if (
        Company.objects.count() != companies
        or Establishment.objects.count() != establishments
        or JobPosition.objects.count() != positions
    ):
        return False
    # The SIRENs are the draw's first numbers: the first and last companies identify the seed.
    sirens = draw_sirens(np.random.default_rng(seed), companies)
    stored = dict(Company.objects.filter(pk__in=[1, companies]).values_list("pk", "siren"))
    return stored == {1: sirens[0], companies: sirens[-1]}


def _employees() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(headcount), 0) FROM {JobPosition._meta.db_table}")
        return int(cursor.fetchone()[0])


def generate(*, companies: int, establishments: int, positions: int, seed: int) -> dict:
    """Replace every company, establishment and job position by a deterministic draw and
    return the counts. The same seed on the same reference data gives the same rows."""
    if not 1 <= companies <= min(establishments, MAX_COMPANIES) or positions < establishments:
        raise ValueError("expected 1 ≤ companies ≤ establishments ≤ positions")
    frames = draw(np.random.default_rng(seed), demo._load_reference(), companies, establishments, positions)
    write(frames)
    return {
        "companies": len(frames["companies"]),
        "establishments": len(frames["establishments"]),
        "positions": len(frames["positions"]),
        "employees": int(frames["positions"]["headcount"].sum()),
    }


def draw(rng: np.random.Generator, reference: dict, n_companies: int, n_establishments: int, n_positions: int):
    """The three tables as frames whose columns are the tables' columns, ids from 1.

    `reference` is what `companies.demo._load_reference` returns (communes with their
    populations, NAF codes with their weights, fiches, typical fiches of each division and
    default task profiles), so that sectors and occupations are spread as in the demo.
    Vectorised: no Python loop over rows.
    """
    now = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M:%S")  # UTC, as both backends store it

    # Companies: a SIREN, a sector and a weight for how many more establishments they have
    # (a Pareto tail: a few chains with hundreds of sites).
    sirens = draw_sirens(rng, n_companies)
    company_sector = rng.choice(len(reference["sectors"]), size=n_companies, p=reference["sector_p"])
    company_weight = rng.pareto(1.5, size=n_companies) + 1
    companies = pd.DataFrame(
        {
            "id": np.arange(1, n_companies + 1),
            "siren": sirens,
            "name": "Entreprise d'essai n°" + pd.Series(np.arange(1, n_companies + 1)).astype(str),
            "created_at": now,
        }
    )

    # Establishments: every company has one, the others go to companies by weight; each sits
    # in a commune drawn by population and carries its company's NAF code.
    extra = rng.choice(n_companies, size=n_establishments - n_companies, p=company_weight / company_weight.sum())
    company = np.concatenate([np.arange(n_companies), extra])
    order = np.argsort(company, kind="stable")
    starts = np.searchsorted(company[order], company[order])
    nic = np.empty(n_establishments, dtype=np.int64)
    nic[order] = np.arange(n_establishments) - starts + 1  # 1, 2, … within each company
    if nic.max() > 9999:
        raise ValueError("a company would have more than 9 999 establishments")
    sirets = luhn_complete_array(sirens.astype(np.int64)[company] * 10_000 + nic, 13)
    band = rng.choice(len(ESTABLISHMENT_BANDS), size=n_establishments, p=[b[1] for b in ESTABLISHMENT_BANDS])
    commune = rng.choice(len(reference["communes"]), size=n_establishments, p=reference["commune_p"])
    sector = company_sector[company]
    sector_ids = np.array([pk for pk, _ in reference["sectors"]])
    commune_ids = np.array([row[0] for row in reference["communes"]])
    band_codes = np.array([str(b[0]) for b in ESTABLISHMENT_BANDS], dtype=object)
    establishments = pd.DataFrame(
        {
            "id": np.arange(1, n_establishments + 1),
            "siret": _zero_padded(sirets, 14),
            "company_id": company + 1,
            "name": "",
            "sector_id": sector_ids[sector],
            "commune_id": commune_ids[commune],
            "size_band": band_codes[band],
        }
    )

    # Positions: at least one per establishment, the rest in proportion to the band's number
    # of jobs; each a fiche typical of the establishment's NAF division.
    jobs = np.array([b[2] for b in ESTABLISHMENT_BANDS], dtype=float)[band] * rng.gamma(2.0, 0.5, n_establishments)
    per_establishment = 1 + rng.multinomial(n_positions - n_establishments, jobs / jobs.sum())
    establishment = np.repeat(np.arange(n_establishments), per_establishment)
    fiche = _draw_fiches(rng, reference, sector[establishment])
    position_band = band[establishment]
    low = np.array([b[3] for b in ESTABLISHMENT_BANDS], dtype=float)[position_band]
    high = np.array([b[4] for b in ESTABLISHMENT_BANDS], dtype=float)[position_band]
    headcount = np.floor(np.exp(rng.uniform(np.log(low), np.log(high + 1)))).clip(low, high).astype(np.int64)
    profiles = np.array([reference["profiles"][code] for code in reference["fiches"]])
    shares = rng.standard_gamma(np.maximum(demo.PROFILE_CONCENTRATION * profiles[fiche], 1e-3))
    shares /= shares.sum(axis=1, keepdims=True)
    percent = whole_percentages(shares)
    # Routine cognitive work is where companies report training needs most (as in the demo).
    training_need = rng.random(n_positions) < 0.2 + 0.6 * shares[:, 0]
    diagnostic = rng.random(n_positions) < DIAGNOSTIC_SHARE
    positions = pd.DataFrame(
        {
            "id": np.arange(1, n_positions + 1),
            "establishment_id": establishment + 1,
            "occupation_id": np.array(reference["fiches"], dtype=object)[fiche],
            "headcount": headcount,
            **{c: percent[:, i] for i, c in enumerate(CATEGORIES)},
            "training_need": training_need,
            "source": np.where(diagnostic, JobPosition.Source.DIAGNOSTIC.value, JobPosition.Source.DEMO.value),
            "updated_at": now,
        }
    )
    return {"companies": companies, "establishments": establishments, "positions": positions}


def draw_sirens(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` distinct SIRENs with the bench's prefix: the first draw of the seed."""
    numbers = rng.choice(MAX_COMPANIES, size=count, replace=False)
    prefix = int(BENCH_SIREN_PREFIX) * MAX_COMPANIES
    return _zero_padded(luhn_complete_array(prefix + numbers, 8), 9)


def _draw_fiches(rng: np.random.Generator, reference: dict, sector: np.ndarray) -> np.ndarray:
    """Index in reference["fiches"] of a fiche typical of each position's NAF division."""
    index = {code: i for i, code in enumerate(reference["fiches"])}
    divisions = [code[:2] for _, code in reference["sectors"]]
    cache: dict[str, list[str]] = {}
    pools = [[index[code] for code in demo._candidate_fiches(d, reference, cache)] for d in divisions]
    sizes = np.array([len(pool) for pool in pools])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate(pools)
    pick = (rng.random(len(sector)) * sizes[sector]).astype(np.int64)
    return flat[starts[sector] + pick]


def luhn_complete_array(prefixes: np.ndarray, digits: int) -> np.ndarray:
    """Each prefix of `digits` digits (leading zeros allowed) followed by its Luhn key, as
    integers: the vectorised `companies.validators.luhn_complete`."""
    values = np.asarray(prefixes, dtype=np.int64)
    # Column j is the j-th digit from the right; once the key is appended, even j are doubled.
    digit = (values[:, None] // 10 ** np.arange(digits, dtype=np.int64)) % 10
    doubled = digit[:, 0::2] * 2
    total = digit[:, 1::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return values * 10 + (10 - total % 10) % 10


def whole_percentages(shares: np.ndarray) -> np.ndarray:
    """Rows of fractions summing to 1 as whole percentages summing to exactly 100 (largest
    remainder, as `companies.demo._percentages`, on every row at once)."""
    raw = shares * 100
    floors = np.floor(raw).astype(np.int64)
    missing = 100 - floors.sum(axis=1)
    order = np.argsort(-(raw - floors), axis=1, kind="stable")
    rank = np.argsort(order, axis=1)  # 0 for the largest remainder of the row
    return floors + (rank < missing[:, None])


def _zero_padded(numbers: np.ndarray, width: int) -> np.ndarray:
    return pd.Series(numbers).astype(str).str.zfill(width).to_numpy(dtype=object)


def write(frames: dict[str, pd.DataFrame]) -> None:
    """Replace the three tables by the frames, in one transaction, with COPY on PostgreSQL."""
    models = (Company, Establishment, JobPosition)
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for model in reversed(models):
                model.objects.all().delete()
        for model, name in zip(models, ("companies", "establishments", "positions"), strict=True):
            frame = frames[name]
            for start in range(0, len(frame), WRITE_CHUNK):
                bulk_insert(model._meta.db_table, frame.iloc[start : start + WRITE_CHUNK])
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
                cursor.execute(statement)
    if connection.vendor == "postgresql":
        # Fresh statistics for the planner, and hint bits set now rather than by the first run.
        maintenance = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{maintenance} {table}")


# --- Measures -------------------------------------------------------------------------------


def measure_grid_run(*, attempt: int, repeat: int) -> dict:
    """Compute the default lens once, in a fresh `manage.py compute_grid`, on empty cell tables."""
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "compute_grid"]
    # An empty broker makes Celery eager: the computation runs inside the child.
    env = {**os.environ, "CELERY_BROKER_URL": ""}
    clear_runs()  # every run writes into empty cell tables, as the first one does
    before = GridRun.objects.aggregate(last=Max("pk"))["last"] or 0
    connection.close()  # hold no connection (nor lock) while the child works
    child = run_child(command, env=env, cwd=settings.BASE_DIR)
    run = GridRun.objects.filter(pk__gt=before).order_by("-pk").first()
    # A run the secrecy audit refuses is measured all the same: how long it took to find out
    # is the figure, and its audit says why.
    refused = run is not None and run.status == GridRun.Status.FAILED and run.audit and not run.audit.get("passed")
    if run is None or not (run.status == GridRun.Status.READY and child["status"] == 0 or refused):
        raise RuntimeError(f"compute_grid failed (exit status {child['status']}):\n{child['output'][-4000:]}")
    if refused:
        say(f"grid run {attempt}/{repeat}: refused by the secrecy audit — {run.error}")
    protection = run.audit.get("protection", {})
    measured = {
        "run_id": run.pk,
        "seconds": run.duration,
        "process_seconds": child["seconds"],
        "cpu_seconds": child["cpu_seconds"],
        "peak_mb": child["peak_kb"] * 1024 / 1e6,
        "timings": run.timings,
        "cells": run.stats.get("cells", protection.get("cells", 0)),
        "secret_cells": run.stats.get("secret_cells", run.audit.get("hidden", 0)),
        "audit": run.audit,
    }
    steps = " ".join(f"{step} {run.timings.get(step, float('nan')):.1f}" for step in STEPS)
    say(
        f"grid run {attempt}/{repeat}: {measured['seconds']:.1f} s (process {child['seconds']:.1f} s, "
        f"cpu {child['cpu_seconds']:.1f} s, peak {measured['peak_mb']:.0f} MB; {steps}) — "
        f"{measured['cells']} cells; load average {os.getloadavg()[0]:.1f}"
    )
    return measured


def measure_pipeline(*, attempt: int, repeat: int) -> dict:
    """The run's aggregation without secrecy beyond the primary rules, in a fresh process
    (`pipeline_child`): a run made of the same steps as `grid_run_compute`'s, written
    (cells in their partition, scores) and left ready for the floor to read its scores."""
    clear_runs()
    program = "import django; django.setup(); from bench import grid; grid.pipeline_child()"
    connection.close()
    child = run_child([sys.executable, "-c", program], env=dict(os.environ), cwd=settings.BASE_DIR)
    if child["status"] != 0:
        raise RuntimeError(f"the pipeline failed (exit status {child['status']}):\n{child['output'][-4000:]}")
    report = json.loads(child["output"].strip().splitlines()[-1])
    report["peak_mb"] = child["peak_kb"] * 1024 / 1e6
    steps = " ".join(f"{step} {report['timings'][step]:.1f}" for step in PIPELINE_STEPS)
    say(
        f"pipeline {attempt}/{repeat}: {report['seconds']:.1f} s ({steps}), peak {report['peak_mb']:.0f} MB — "
        f"{report['cells']} cells; load average {os.getloadavg()[0]:.1f}"
    )
    return report


def pipeline_child() -> None:
    """Read, score, aggregate and write a run as `grid_run_compute` does, without the
    comparison with the editions, the complementary suppression and the audit; print the
    timings as JSON."""
    from observatory import partitions
    from observatory.analysis import cube, exposure, secrecy

    methodology = Methodology.objects.current(Lens.DEFAULT)
    params = methodology.as_params()
    run = GridRun.objects.create(
        methodology=methodology, trigger=GridRun.Trigger.COMMAND, status=GridRun.Status.RUNNING
    )
    timings = {}
    clock = time.perf_counter()
    positions, reference, coverage = services.read_inputs(methodology)
    reference = reference[list(CATEGORIES)]
    timings["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    scores = exposure.occupation_scores(reference, positions, params)
    scores["employees"] = positions.groupby("occupation")["headcount"].sum().reindex(scores.index).fillna(0)
    scores["field_companies"] = scores["n_companies"]
    timings["scores"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cells = cube.within_plan(cube.build_cube(positions, scores, training_coverage=coverage), params["epci_detail"])
    timings["cube"] = time.perf_counter() - clock
    del positions
    clock = time.perf_counter()
    cells = secrecy.primary_secrecy(cells, params["min_companies"], params["dominance"])
    timings["primary"] = time.perf_counter() - clock
    clock = time.perf_counter()
    staged = services._write_cells(run, cells)
    with transaction.atomic():
        partitions.attach_run_cells(staged)
        services._write_scores(run, scores)
        GridRun.objects.filter(pk=run.pk).update(status=GridRun.Status.READY)
    timings["write"] = time.perf_counter() - clock
    print(json.dumps({"run_id": run.pk, "seconds": sum(timings.values()), "timings": timings, "cells": len(cells)}))


def clear_runs() -> None:
    """Delete every grid run and its cells (the bench database is the bench's own)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (GridCell, OccupationScore))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables}")
    GridRun.objects.all().delete()


def run_child(command: list[str], *, env: dict, cwd) -> dict:
    """Run a command; return its exit status, output, wall time (s), CPU time (user + system,
    s) and peak resident memory (kB) — of that child alone: wait4 gives its own rusage, where
    getrusage(RUSAGE_CHILDREN) would give the largest of all children waited for so far."""
    with tempfile.TemporaryFile(mode="w+") as log:
        clock = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - clock
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return {
        "status": process.returncode,
        "output": output,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        # kB on Linux, bytes on macOS
        "peak_kb": usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss,
    }


def cube_floor_sql() -> str:
    tables = {
        "position": JobPosition,
        "establishment": Establishment,
        "territory": Territory,
        "sector": Sector,
        "score": OccupationScore,
    }
    return CUBE_FLOOR_SQL.format(**{k: connection.ops.quote_name(m._meta.db_table) for k, m in tables.items()})


def measure_cube_floor(*, run_id: int, work_mem: str | None = None) -> dict:
    """Run the GROUP BY CUBE once and fetch every row (PostgreSQL only), with the server's
    work_mem or, when given, `work_mem` for this statement only."""
    with transaction.atomic(), connection.cursor() as cursor:
        if work_mem:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        clock = time.perf_counter()
        cursor.execute(cube_floor_sql(), [run_id])
        rows = cursor.fetchall()
        seconds = time.perf_counter() - clock
    say(f"cube floor ({f'work_mem {work_mem}' if work_mem else 'server work_mem'}): {seconds:.2f} s, {len(rows)} rows")
    return {"seconds": seconds, "rows": len(rows)}
