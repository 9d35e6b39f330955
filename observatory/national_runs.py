"""A run over several régions, computed by several Celery workers.

The grid of one région is one process. Over a whole country, the positions are split by
région (observatory.analysis.national) and each worker aggregates one part:

1. the run's own task reads every position once (the run's snapshot, also kept for the
   comparison with the editions), computes the occupation scores, and stores what the parts
   need (`store_inputs`): the scores, the training coverage, the positions of each région and
   those of the companies present in several régions. Then it sends one task per part, with
   the merge as the chord's callback;
2. each part (`compute_part`) reads its positions and the shared inputs, aggregates them, and
   stores its cells. A part holds one région's positions: the memory of a worker is bounded
   by the largest région, not by the country;
3. the merge (`merged_cells`) rebuilds the whole grid exactly from the parts; the run then
   goes on as a run of one process does: the comparison with the editions, statistical
   secrecy and its audit once on the merged grid, the cells written, the parts deleted.

Every piece lives in `GridRunPart` rows of the run: a part sent twice (its worker died)
computes the same cells again and replaces its own; a failed run's parts go with it.
"""

import time

import pandas as pd
import psycopg
from django.conf import settings
from django.db import connection, transaction

from .analysis import differencing, national
from .models import GridRun, GridRunPart

SPANNING = "plusieurs-regions"  # key of the part holding the companies present in several régions
_SCORE_COLUMNS = ["exposure", "rti", "exposure_class"]


def split_regions(positions: pd.DataFrame) -> list[str]:
    """The régions a run is split into, or [] when it is computed in one process: fewer
    régions than GRID_SPLIT_MIN_REGIONS (0: never split)."""
    least = settings.GRID_SPLIT_MIN_REGIONS
    if not least or positions.empty:
        return []
    regions = national.region_codes(positions)
    return regions if len(regions) >= least else []


def _save(run_id: int, key: str, frame: pd.DataFrame, seconds: float = 0.0) -> None:
    # Nullable integers (ids, counts) as floats: stored arrays never hold Python objects.
    nullable = [c for c in frame.columns if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)]
    nullable = [c for c in nullable if pd.api.types.is_numeric_dtype(frame[c].dtype)]
    if nullable:
        frame = frame.astype(dict.fromkeys(nullable, "float64"))
    payload = differencing.frame_to_bytes(frame, compress=False)  # pieces live minutes: fast, not small
    if connection.vendor == "postgresql":
        # Sent as a binary parameter: Django's client-side binding would write the bytes as
        # hexadecimal text into the statement, twice their size, for the server to parse.
        with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as raw:
            raw.execute(_UPSERT, [run_id, key, payload, round(seconds, 3)])
        return
    GridRunPart.objects.update_or_create(
        run_id=run_id, key=key, defaults={"frame": payload, "seconds": round(seconds, 3)}
    )


_UPSERT = """
INSERT INTO observatory_gridrunpart (run_id, key, frame, seconds, created_at) VALUES (%s, %s, %b, %s, now())
ON CONFLICT (run_id, key) DO UPDATE SET frame = EXCLUDED.frame, seconds = EXCLUDED.seconds,
    created_at = EXCLUDED.created_at
"""


def _load(run_id: int, key: str, *, required: bool = True) -> pd.DataFrame | None:
    """The piece `key` of the run; a missing one is an error, or None when not `required`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, psycopg.Cursor(cursor.connection) as raw:
            raw.execute(
                "SELECT frame FROM observatory_gridrunpart WHERE run_id = %s AND key = %s", [run_id, key], binary=True
            )
            row = raw.fetchone()
    else:
        row = GridRunPart.objects.filter(run_id=run_id, key=key).values_list("frame").first()
    if row is None:
        if not required:
            return None
        raise LookupError(f"run {run_id} has no part {key!r}")
    return differencing.frame_from_bytes(bytes(row[0]))


def store_inputs(
    run: GridRun, positions: pd.DataFrame, scores: pd.DataFrame, coverage: pd.DataFrame | None, *, frozen: dict
) -> list[str]:
    """Keep what the parts of `run` and its merge read, replacing any earlier attempt's
    pieces: the scores (and the fiches whose field profile was kept, `frozen`), the training
    coverage, the positions of each part. Returns the parts' keys: one per région, and
    SPANNING when companies span régions."""
    GridRunPart.objects.filter(run=run).delete()
    spanning = national.spanning_companies(positions)
    _save(run.pk, "scores", scores.rename_axis("occupation").reset_index())
    _save(run.pk, "frozen", pd.DataFrame({"occupation": pd.Series(frozen.get("fiches", []), dtype=str)}))
    if coverage is not None:
        _save(run.pk, "coverage", coverage[["departement", "occupation", "covered"]].reset_index(drop=True))
    _save(run.pk, "spanning", pd.DataFrame({"company": spanning}))
    keys = []
    for region, part in national.split_by_region(positions).items():
        _save(run.pk, f"positions/{region}", part.reset_index(drop=True))
        keys.append(region)
    if len(spanning):
        _save(run.pk, f"positions/{SPANNING}", positions[positions["company"].isin(spanning)].reset_index(drop=True))
        keys.append(SPANNING)
    return keys


def _scores(run_id: int) -> pd.DataFrame:
    scores = _load(run_id, "scores")
    scores["occupation"] = scores["occupation"].astype(str)
    return scores.set_index("occupation")


def stored_scores(run_id: int) -> tuple[pd.DataFrame, dict]:
    """The run's occupation scores as its own task computed them, and the summary of the
    fiches whose field profile was kept (editions.freeze_field_profiles)."""
    scores = _scores(run_id)
    for column in ("exposure_class", "ref_source"):
        if column in scores:
            scores[column] = scores[column].astype(object)
    fiches = sorted(_load(run_id, "frozen")["occupation"].astype(str))
    return scores, {"frozen": len(fiches), "fiches": fiches}


def compute_part(run_id: int, key: str) -> dict:
    """Aggregate one part of a run (a région, or SPANNING) and store its cells."""
    clock = time.perf_counter()
    positions = _load(run_id, f"positions/{key}")
    scores, coverage = _scores(run_id)[_SCORE_COLUMNS], _load(run_id, "coverage", required=False)
    if key == SPANNING:
        cells = {"national": national.spanning_part(positions, scores, training_coverage=coverage)}
    else:
        spanning = _load(run_id, "spanning")["company"].to_numpy()
        cells = national.region_part(positions, scores, spanning=spanning, training_coverage=coverage)
    seconds = time.perf_counter() - clock
    with transaction.atomic():
        for name, frame in cells.items():
            _save(run_id, f"cells/{key}/{name}", frame, seconds)
    return {"run": run_id, "part": key, "positions": len(positions), "seconds": round(seconds, 3)}


def merged_cells(run_id: int, keys: list[str]) -> pd.DataFrame:
    """The grid of the whole run, from its parts' cells (analysis.national.merge_parts)."""
    with_coverage = GridRunPart.objects.filter(run_id=run_id, key="coverage").exists()
    parts = [
        {"regional": _load(run_id, f"cells/{key}/regional"), "national": _load(run_id, f"cells/{key}/national")}
        for key in keys
        if key != SPANNING
    ]
    spanning = _load(run_id, f"cells/{SPANNING}/national") if SPANNING in keys else None
    return national.merge_parts(parts, spanning, with_coverage=with_coverage)


def part_keys(run_id: int) -> list[str]:
    """The parts' keys of a run, as `store_inputs` returned them."""
    keys = GridRunPart.objects.filter(run_id=run_id, key__startswith="positions/").values_list("key", flat=True)
    return sorted(key.removeprefix("positions/") for key in keys)


def part_timings(run_id: int) -> dict[str, float]:
    """Seconds the parts took: `parts`, all together (CPU time spent), `parts_longest`."""
    seconds = list(
        GridRunPart.objects.filter(run_id=run_id, key__endswith="/national").values_list("seconds", flat=True)
    )
    return {"parts": sum(seconds), "parts_longest": max(seconds, default=0.0)}


def discard(run_id: int) -> None:
    """Forget every piece of a run (it is merged, or it failed)."""
    GridRunPart.objects.filter(run_id=run_id).delete()
