"""A national grid split by région across two Celery workers, against one process.

1. Data, in memory: the grid benchmark's draw (`grid.draw`: communes of the Hauts-de-France
   by population, NAF codes, typical fiches, task shares) of `--national-positions`
   positions, spread over `--regions` régions. Région 32 keeps its real communes; every
   other région is a real one of the COG (`departements.json`: its own départements, in
   turn in place of the five of the Hauts-de-France), its communes and EPCI synthetic
   copies of those of the Hauts-de-France. Each company has a home région; an establishment
   of a company with several lies elsewhere one time in five, so chains span régions.
2. The split run: the positions and scores stored as the run's pieces
   (`national_runs.store_inputs`), one task per part sent to two real Celery workers (solo
   pool, one queue of their own, the bench's database, Redis database 13 as broker), then the
   merge (`national_runs.merged_cells`) in a process of its own, as the chord's callback
   runs in a worker. Each worker's peak resident memory is read from /proc (VmHWM) before it
   stops; the merge's from `wait4`.
3. One process: `cube.build_cube` over every position, in a process of its own too (the
   positions read from a file), whose grid is compared with the merged one cell by cell
   (counts exactly, means and shares to 1e-9).

Secrecy and its audit are left out on both sides: what is compared is the aggregation that
the split distributes (the secrecy of a merged grid is that of one grid: `grid`).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from companies import demo
from companies.models import Sector, Territory
from observatory import national_runs
from observatory.analysis import cube, exposure
from observatory.analysis.national import spanning_companies
from observatory.models import GridRun, Lens, Methodology
from observatory.selectors import section_of_division
from skills.categories import CATEGORIES
from skills.models import Occupation
from skills.selectors import reference_profiles_frame

from . import grid, read_frame, write_frame
from .cube_engines import compare_cubes

BROKER_DATABASE = 13  # Redis database of the bench's broker and results
HOME_REGION = "32"
CHAIN = 10  # establishments from which a company is a chain, present in several régions
AWAY_SHARE = 0.3  # share of a chain's establishments outside its company's home région
WORKERS = 2
COORDINATOR = "bench-national"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("national")
    group.add_argument("--regions", type=int, default=13, help="régions of the national draw (13)")
    group.add_argument(
        "--national-positions", type=int, default=5_000_000, help="positions of the national draw (5,000,000)"
    )
    group.add_argument("--national-seed", type=int, default=2027, help="seed of the national draw (2027)")


def run(args) -> dict[str, float]:
    broker = _broker_url()
    if broker is None:
        grid.say("national: Redis does not answer at 127.0.0.1:6379: skipped")
        return {}
    grid.prepare_reference()
    clock = time.perf_counter()
    positions = national_positions(args.national_positions, args.regions, args.national_seed)
    scores = _scores(positions)
    results = {
        "national_positions": len(positions),
        "national_regions": positions["region"].nunique(),
        "national_companies": positions["company"].nunique(),
        "national_spanning_companies": len(spanning_companies(positions)),
        "national_generation_seconds": time.perf_counter() - clock,
    }
    grid.say(
        f"national: {results['national_positions']} positions in {results['national_regions']} régions, "
        f"{results['national_companies']} companies ({results['national_spanning_companies']} in several)"
    )
    split, single = [], []
    with tempfile.TemporaryDirectory(prefix="bench-national-") as folder:
        folder = Path(folder)
        write_frame(folder / "positions.npz", positions)
        write_frame(folder / "scores.npz", scores.rename_axis("occupation").reset_index())
        for attempt in range(1, args.repeat + 1):
            split.append(measure_split(positions, scores, broker, folder))
            grid.say(
                f"split {attempt}/{args.repeat}: {split[-1]['seconds']:.1f} s (store {split[-1]['store']:.1f}, "
                f"parts {split[-1]['parts']:.1f}, merge {split[-1]['merge']:.1f}); worker peaks "
                f"{', '.join(f'{mb:.0f}' for mb in split[-1]['worker_peaks_mb'])} MB, merge "
                f"{split[-1]['merge_peak_mb']:.0f} MB"
            )
            single.append(measure_single(folder))
            grid.say(
                f"one process {attempt}/{args.repeat}: {single[-1]['seconds']:.1f} s, "
                f"peak {single[-1]['peak_mb']:.0f} MB; {single[-1]['differing']} differing cells "
                f"of {single[-1]['cells']}"
            )
    results.update(
        {
            "national_store_seconds": statistics.median(m["store"] for m in split),
            "national_parts_seconds": statistics.median(m["parts"] for m in split),
            "national_merge_seconds": statistics.median(m["merge"] for m in split),
            "national_seconds": statistics.median(m["seconds"] for m in split),
            "national_worker_peak_mb": max(max(m["worker_peaks_mb"]) for m in split),
            "national_merge_peak_mb": max(m["merge_peak_mb"] for m in split),
            "national_cells": split[-1]["cells"],
            "single_cube_seconds": statistics.median(s["seconds"] for s in single),
            "single_cube_peak_mb": max(s["peak_mb"] for s in single),
            "national_equal": int(all(s["differing"] == 0 for s in single)),
            "national_differing_cells": max(s["differing"] for s in single),
        }
    )
    results["national_vs_single"] = results["national_seconds"] / results["single_cube_seconds"]
    return results


# --- Data -----------------------------------------------------------------------------------


def national_positions(n_positions: int, n_regions: int, seed: int) -> pd.DataFrame:
    """The positions frame (as `selectors.positions_frame` gives it) of a draw over
    `n_regions` régions, région 32 first."""
    rng = np.random.default_rng(seed)
    reference = demo._load_reference()
    n_establishments = max(n_positions // 10, 1)
    n_companies = max(int(n_establishments * grid.COMPANIES_PER_ESTABLISHMENT), 1)
    frames = grid.draw(rng, reference, n_companies, n_establishments, n_positions)
    establishments, positions = frames["establishments"], frames["positions"]

    # Régions: each company has a home région, and a chain's establishments sometimes lie
    # in another one.
    regions = _regions(n_regions)
    home = rng.integers(len(regions), size=n_companies)
    company = establishments["company_id"].to_numpy() - 1
    away = rng.random(len(establishments)) < AWAY_SHARE
    chain = np.bincount(company, minlength=n_companies)[company] >= CHAIN
    region = np.where(away & chain, rng.integers(len(regions), size=len(establishments)), home[company])

    communes = pd.DataFrame.from_records(
        Territory.objects.filter(level=Territory.Level.COMMUNE).values_list(
            "id", "code", "parent__code", "epci__code"
        ),
        columns=["commune_id", "commune", "departement", "epci"],
    ).set_index("commune_id")
    place = communes.reindex(establishments["commune_id"].to_numpy())
    departement = place["departement"].to_numpy(dtype=object)
    epci = place["epci"].fillna("").to_numpy(dtype=object)
    home_departements = sorted(set(departement))
    for index, (code, departements) in enumerate(regions):
        if code == HOME_REGION:
            continue
        here = region == index
        # The Hauts-de-France's départements in turn become this région's.
        mapping = {d: departements[i % len(departements)] for i, d in enumerate(home_departements)}
        departement[here] = [mapping[d] for d in departement[here]]
        epci[here] = [f"{e}-{code}" if e else "" for e in epci[here]]
    region_codes = np.array([code for code, _ in regions], dtype=object)[region]

    sectors = dict(Sector.objects.values_list("id", "code"))
    division = pd.Series(establishments["sector_id"].map(sectors).str[:2].to_numpy())
    sections = section_of_division()
    fiches = pd.DataFrame.from_records(
        Occupation.objects.fiches().values_list("code", "parent_id", "parent__parent_id"),
        columns=["occupation", "domaine", "grand_domaine"],
    ).set_index("occupation")
    establishment = positions["establishment_id"].to_numpy() - 1
    fiche = positions["occupation_id"].to_numpy()
    frame = pd.DataFrame(
        {
            "company": company[establishment] + 1,
            "establishment": establishment + 1,
            "headcount": positions["headcount"].to_numpy(dtype=np.int32),
            "training_need": positions["training_need"].to_numpy(dtype=bool),
            **{c: positions[c].to_numpy(dtype=np.int32) for c in CATEGORIES},
            "occupation": fiche,
            "domaine": fiches["domaine"].reindex(fiche).to_numpy(),
            "grand_domaine": fiches["grand_domaine"].reindex(fiche).to_numpy(),
            "departement": departement[establishment],
            "region": region_codes[establishment],
            "epci": epci[establishment],
            "size_band": establishments["size_band"].to_numpy()[establishment],
            "naf_division": division.to_numpy()[establishment],
            "diagnostic": (positions["source"] == "diagnostic").to_numpy(),
        }
    )
    frame["naf_section"] = frame["naf_division"].map(lambda d: sections.get(d, ""))
    for column in (
        "occupation", "domaine", "grand_domaine", "departement", "region", "epci", "size_band",
        "naf_division", "naf_section",
    ):  # fmt: skip
        frame[column] = frame[column].astype("category")
    return frame


def _regions(count: int) -> list[tuple[str, list[str]]]:
    """Région 32 and `count − 1` other régions of metropolitan France, with their
    départements (from the COG when it is there; else synthetic codes)."""
    path = grid.reference_directory() / "cog-decoupage-administratif" / "departements.json"
    by_region: dict[str, list[str]] = {}
    if path.exists():
        for row in json.loads(path.read_text(encoding="utf-8")):
            if row.get("zone") == "metro" and row["region"] != HOME_REGION:
                by_region.setdefault(row["region"], []).append(row["code"])
    others = sorted(by_region.items())
    while len(others) < count - 1:  # more régions than the COG has: synthetic ones
        n = len(others)
        others.append((f"S{n:02d}", [f"S{n:02d}{i}" for i in range(5)]))
    return [(HOME_REGION, [])] + [(code, sorted(deps)) for code, deps in others[: count - 1]]


def _scores(positions: pd.DataFrame) -> pd.DataFrame:
    methodology = Methodology.objects.current(Lens.DEFAULT)
    reference = reference_profiles_frame(methodology.profile_params())[list(CATEGORIES)]
    return exposure.occupation_scores(reference, positions, methodology.as_params())


# --- Measures -------------------------------------------------------------------------------


def measure_split(positions: pd.DataFrame, scores: pd.DataFrame, broker: str, folder: Path) -> dict:
    """The split aggregation of one run, through two real workers and a merge process:
    timings and peak memories. The merged grid is left in `folder` / merged.npz."""
    methodology = Methodology.objects.current(Lens.DEFAULT)
    GridRun.objects.filter(task_id=COORDINATOR).delete()
    run = GridRun.objects.create(
        methodology=methodology, trigger=GridRun.Trigger.AUTO, status=GridRun.Status.RUNNING, task_id=COORDINATOR
    )
    try:
        clock = time.perf_counter()
        keys = national_runs.store_inputs(run, positions, scores, None, frozen={})
        store = time.perf_counter() - clock
        connection.close()  # the workers write the same tables
        queue = f"bench-national-{uuid.uuid4().hex[:8]}"
        workers = [_start_worker(broker, queue, i) for i in range(WORKERS)]
        try:
            from celery import group

            app = _client(broker)
            clock = time.perf_counter()
            tasks = group(
                app.signature("observatory.compute_grid_part", args=(run.pk, key, COORDINATOR), queue=queue)
                for key in keys
            )
            outcome = tasks.apply_async().get(timeout=3600)
            parts = time.perf_counter() - clock
            peaks = [_peak_mb(worker.pid) for worker, _ in workers]
            app.close()
        finally:
            for worker, log in workers:
                _stop(worker)
                log.close()
        if any(part.get("skipped") for part in outcome):
            raise RuntimeError(f"a part was skipped: {outcome}")
        merge = _child("merge", str(run.pk), str(folder / "merged.npz"))
        report = json.loads(merge["output"].strip().splitlines()[-1])
    finally:
        run.delete()
    return {
        "store": store,
        "parts": parts,
        "merge": report["seconds"],
        "seconds": store + parts + report["seconds"],
        "worker_peaks_mb": peaks,
        "merge_peak_mb": merge["peak_kb"] * 1024 / 1e6,
        "cells": report["cells"],
    }


def measure_single(folder: Path) -> dict:
    """`build_cube` over every position in a process of its own: its time, its peak memory,
    and how many cells differ from the merged grid."""
    child = _child("single", str(folder))
    report = json.loads(child["output"].strip().splitlines()[-1])
    report["peak_mb"] = child["peak_kb"] * 1024 / 1e6
    return report


def _child(*arguments: str) -> dict:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "observatory.settings"}
    # Django is set up before this module's imports, which need the apps ready.
    program = "import sys, django; django.setup(); from bench import national; national.child_main(sys.argv[1:])"
    child = grid.run_child([sys.executable, "-c", program, *arguments], env=env, cwd=settings.BASE_DIR)
    if child["status"] != 0:
        raise RuntimeError(f"bench.national {arguments[0]} failed:\n{child['output'][-4000:]}")
    return child


def child_merge(run_id: int, out: Path) -> dict:
    """In the merge's own process: the merged grid of the run's parts, written to `out`."""
    clock = time.perf_counter()
    merged = national_runs.merged_cells(run_id, national_runs.part_keys(run_id))
    seconds = time.perf_counter() - clock
    write_frame(out, merged)
    return {"seconds": seconds, "cells": len(merged)}


def child_single(folder: Path) -> dict:
    """In the one process: the grid of every position, compared with the merged one."""
    positions = read_frame(folder / "positions.npz")
    scores = read_frame(folder / "scores.npz")
    scores["occupation"] = scores["occupation"].astype(str)
    scores = scores.set_index("occupation")
    clock = time.perf_counter()
    single = cube.build_cube(positions, scores)
    seconds = time.perf_counter() - clock
    return {
        "seconds": seconds,
        "cells": len(single),
        "differing": differing_cells(read_frame(folder / "merged.npz"), single),
    }


def differing_cells(merged: pd.DataFrame, single: pd.DataFrame) -> int:
    """Cells present in one grid only, or whose figures differ (`cube_engines.compare_cubes`:
    counts exactly, means and shares to 1e-9 relative)."""
    return compare_cubes(single, merged)["differing"]


# --- Workers --------------------------------------------------------------------------------


def _broker_url() -> str | None:
    url = f"redis://127.0.0.1:6379/{BROKER_DATABASE}"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        return None
    return url


def _client(broker: str):
    from celery import Celery

    app = Celery("observatory-bench", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker, result_backend=broker, task_always_eager=False)
    return app


def _start_worker(broker: str, queue: str, number: int):
    """A Celery worker of the project (solo pool: it computes in its main process, whose
    VmHWM is then the part's peak) on `queue`, answering a ping."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CELERY_")}
    env.update(
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        DATABASE_URL=_database_url(),
        DJANGO_SETTINGS_MODULE="observatory.settings",
    )
    name = f"{queue}-{number}@{os.uname().nodename}"
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (kept open while the worker runs)
    command = [
        sys.executable, "-m", "celery", "-A", "observatory", "worker", "--pool=solo", "--concurrency=1",
        "-l", "warning", "-n", name, "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    app = _client(broker)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=1):
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"the Celery worker did not start:\n{log.read()[-3000:]}")
    app.close()
    return process, log


def _database_url() -> str:
    """The bench's own database, as the workers must open it."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _peak_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB of 10⁶ bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def child_main(argv: list[str]) -> None:
    """The merge's and the one process's own processes (`_child`): print their outcome."""
    mode, *rest = argv
    if mode == "merge":
        outcome = child_merge(int(rest[0]), Path(rest[1]))
    elif mode == "single":
        outcome = child_single(Path(rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(outcome), flush=True)
