"""Editions compared with one another: what a run withholds so that its difference with any
published edition reveals no single company (observatory.analysis.differencing).

Every run keeps the positions it was computed from (`GridRunInput`). A run is compared, while
it is computed, with every edition already published; the cells too few companies changed
are withheld (primary secrets of reason "edition"), then protected and audited with the
others. A run may become an edition only if no edition was published since it was computed
from other positions: otherwise the two were never compared, and it must be computed again.
"""

import hashlib
import logging

import numpy as np
import pandas as pd

from .analysis import differencing
from .models import GridCell, GridRun, GridRunInput

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


def compare_with_editions(
    run: GridRun, positions: pd.DataFrame, scores: pd.DataFrame, cells: pd.DataFrame, *, min_companies: int
) -> tuple[np.ndarray, dict]:
    """The cells of `run` to withhold against every published edition, and a summary:
    the editions compared, the changed companies and the withheld cells per edition."""
    withheld = np.zeros(len(cells), dtype=bool)
    summary = {"compared_with": [], "withheld": 0}
    editions = (
        GridRun.objects.published()
        .exclude(pk=run.pk)
        .filter(input__isnull=False)
        .select_related("input")
        .order_by("pk")
    )
    for edition in editions:
        before = differencing.frame_from_bytes(bytes(edition.input.positions))
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
