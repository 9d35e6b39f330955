"""Editions compared with one another: what a run withholds so that its difference with any
published edition reveals no single company (observatory.analysis.differencing).

Every run keeps the positions it was computed from (`GridRunInput`). A run is compared, while
it is computed, with every edition already published; the cells too few companies changed
are withheld (primary secrets of reason "edition"), then protected and audited with the
others, and the fiches whose field answers too few companies changed keep the field profile
they were published with (`freeze_field_profiles`). A run may become an edition only if no
edition was published since it was computed from other positions: otherwise the two were
never compared, and it must be computed again.
"""

import hashlib
import logging

import numpy as np
import pandas as pd

from skills.categories import CATEGORIES

from .analysis import differencing
from .models import GridCell, GridRun, GridRunInput, OccupationScore
from .published import blend_moved

logger = logging.getLogger(__name__)

NOT_COMPARED = (
    "Une édition a été publiée depuis ce calcul à partir d'autres données : les deux n'ont pas été "
    "comparées. Lancez un nouveau calcul pour publier ces données."
)


def positions_digest(positions: pd.DataFrame) -> str:
    """A digest of a position set that ignores the order of its rows."""
    digests = differencing.company_digests(positions).sort_index()
    payload = (
        np.asarray(digests.index.astype(str)).astype(bytes).tobytes()
        + digests["hash"].to_numpy(dtype=np.uint64).tobytes()
        + digests["rows"].to_numpy(dtype=np.int64).tobytes()
    )
    return hashlib.sha256(payload).hexdigest()


def store_input(run: GridRun, positions: pd.DataFrame) -> str:
    """Keep the positions of `run` for the comparisons to come; returns their digest."""
    digest = positions_digest(positions)
    GridRunInput.objects.update_or_create(
        run=run,
        defaults={
            "positions": differencing.frame_to_bytes(positions),
            "companies": int(positions["company"].nunique()) if len(positions) else 0,
            "digest": digest,
        },
    )
    return digest


def edition_positions(run_id: int, cache: dict | None = None) -> pd.DataFrame | None:
    """The positions run `run_id` was computed from (None when they were not kept), read once
    per `cache` (a dict the caller keeps for one computation)."""
    cache = {} if cache is None else cache
    if run_id not in cache:
        stored = GridRunInput.objects.filter(run_id=run_id).values_list("positions", flat=True).first()
        cache[run_id] = None if stored is None else differencing.frame_from_bytes(bytes(stored))
    return cache[run_id]


_FIELD = [f"field_{c}" for c in CATEGORIES]


def freeze_field_profiles(
    run: GridRun, positions: pd.DataFrame, field: pd.DataFrame, *, min_companies: int, cache: dict | None = None
) -> tuple[pd.DataFrame, pd.Series, dict]:
    """Field profiles for `run` that no published edition can be subtracted from to give one
    company's answers.

    A fiche's published profile (hence its exposure, RTI, class and every share of its cells)
    moves with its field profile, the headcount-weighted mean of the reporting companies'
    answers. Between two editions one company apart, the difference of the two means is that
    company's answers times its weight. So, for every fiche whose field profile moved a
    published blend in some edition, the companies whose answers for it changed since the
    positions that profile was computed from (its basis) are counted
    (`differencing.changed_reporters`); where, against any basis, at least one but fewer
    than `min_companies` changed, the fiche keeps the field profile of the latest edition
    that published one — nothing new is published about it — until enough companies have
    changed. The editions of every lens count: they share the companies' answers.

    `field`: `exposure.field_profiles(positions)`. Returns the field frame to blend (the
    frozen fiches' rows replaced: their profile, the companies behind it as n_companies,
    top_share 0 since it passed the dominance rule when it was published), the basis of each
    frozen fiche (run id, indexed by occupation) and a summary for the run's audit.
    """
    summary = {"frozen": 0, "fiches": []}
    editions = dict(
        GridRun.objects.published().exclude(pk=run.pk).order_by("published_at", "pk").values_list("pk", "published_at")
    )
    basis = pd.Series(dtype="Int64", name="field_basis")
    if not editions:
        return field, basis, summary
    rows = pd.DataFrame.from_records(
        OccupationScore.objects.filter(run__in=list(editions), field_rc__isnull=False).values(
            "run_id",
            "occupation_id",
            "n_companies",
            "field_companies",
            "field_basis_id",
            *_FIELD,
            *CATEGORIES,
            *[f"ref_{c}" for c in CATEGORIES],
        )
    )
    if rows.empty:
        return field, basis, summary
    moved = blend_moved(
        rows[list(CATEGORIES)].to_numpy(dtype=float), rows[[f"ref_{c}" for c in CATEGORIES]].to_numpy(dtype=float)
    )
    rows = rows[moved].copy()
    rows["basis"] = rows["field_basis_id"].fillna(rows["run_id"]).astype(np.int64)
    rows["order"] = rows["run_id"].map({pk: order for order, pk in enumerate(editions)})

    frozen = set()
    for basis_run, of_basis in rows.groupby("basis"):
        before = edition_positions(int(basis_run), cache)
        if before is None:  # positions not kept (an edition older than the comparisons)
            continue
        fiches = of_basis["occupation_id"].unique()
        changed = differencing.changed_reporters(
            before[before["occupation"].astype(str).isin(fiches)],
            positions[positions["occupation"].astype(str).isin(fiches)],
        )
        frozen |= set(changed.index[(changed >= 1) & (changed < min_companies)])
    if not frozen:
        return field, basis, summary

    latest = rows[rows["occupation_id"].isin(frozen)].sort_values("order").groupby("occupation_id").last()
    kept = pd.DataFrame(
        {
            **{c: latest[f"field_{c}"].to_numpy(dtype=float) for c in CATEGORIES},
            "n_companies": latest["field_companies"].fillna(latest["n_companies"]).to_numpy(dtype=np.int64),
            "top_share": 0.0,
        },
        index=pd.Index(latest.index, name="occupation"),
    )
    if "employees" in field.columns:
        kept["employees"] = field["employees"].reindex(kept.index).fillna(0).astype("int64")
    field = pd.concat([field.drop(index=kept.index, errors="ignore"), kept[field.columns.intersection(kept.columns)]])
    field = field.sort_index()
    basis = latest["basis"].astype("Int64").rename("field_basis")
    basis.index.name = "occupation"
    summary.update(frozen=len(kept), fiches=sorted(kept.index))
    logger.info("run %s keeps the published field profile of %d fiche(s)", run.pk, len(kept))
    return field, basis, summary


def compare_with_editions(
    run: GridRun,
    positions: pd.DataFrame,
    scores: pd.DataFrame,
    cells: pd.DataFrame,
    *,
    min_companies: int,
    cache: dict | None = None,
) -> tuple[np.ndarray, dict]:
    """The cells of `run` to withhold against every published edition, and a summary:
    the editions compared, the changed companies and the withheld cells per edition."""
    withheld = np.zeros(len(cells), dtype=bool)
    summary = {"compared_with": [], "withheld": 0}
    editions = GridRun.objects.published().exclude(pk=run.pk).filter(input__isnull=False).order_by("pk")
    for edition in editions:
        before = edition_positions(edition.pk, cache)
        changed = differencing.changed_contributors(before, positions, scores)
        published_before = pd.DataFrame.from_records(
            GridCell.objects.filter(run=edition, secret=False).values_list(
                *differencing.COORDINATES, *differencing.COMPARED_FIGURES
            ),
            columns=[*differencing.COORDINATES, *differencing.COMPARED_FIGURES],
        )
        these = differencing.withheld_cells(cells, published_before, changed, min_companies=min_companies)
        summary["compared_with"].append({"run": edition.pk, "withheld": int(these.sum())})
        withheld |= these
    summary["withheld"] = int(withheld.sum())
    return withheld, summary


def publication_refusal(run: GridRun) -> str:
    """Why `run` may not become an edition ("" when it may): an edition published since it
    started was computed from other positions, and the two were never compared."""
    digest = GridRunInput.objects.filter(run=run).values_list("digest", flat=True).first()
    later = GridRun.objects.published().exclude(pk=run.pk)
    if run.started_at:
        later = later.filter(published_at__gte=run.started_at)
    # Editions published before positions were kept have nothing to compare with.
    others = set(later.values_list("input__digest", flat=True)) - {None}
    if not others:
        return ""
    if digest is None or others != {digest}:
        return NOT_COMPARED
    return ""


def prune_inputs() -> int:
    """Forget the positions no comparison will need: those of failed runs and of internal
    runs that can no longer be published (an edition came after them)."""
    latest = GridRun.objects.published().order_by("-published_at").values_list("published_at", flat=True).first()
    stale = GridRunInput.objects.filter(run__status=GridRun.Status.FAILED)
    if latest is not None:
        stale = stale | GridRunInput.objects.filter(
            run__published_at__isnull=True, run__status=GridRun.Status.READY, run__started_at__lt=latest
        )
    deleted, _ = stale.delete()
    return deleted
