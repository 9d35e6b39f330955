"""Reads of the observatory, one module per page (the cells and scores they publish pass
through observatory.published, the one door):

    inputs        what a grid computation reads (positions, coverage, index scores)
    runs          the runs pages: history, progress, launch checks, comparison, state token
    grid          the grid page: reference labels, heatmap, table
    map           the map
    occupations   occupation search and detail pages
    exports       the frames the CSV and XLSX exports write
    reference     counts of the reference data loaded, labels of codes

Every name is importable from the package itself.
"""

from ..analysis.comparison import COMPARED_COLUMNS, compare_cells, rank_correlation
from .exports import (
    cells_export_frame,
    grid_cells_export_frame,
    occupation_scores_export_frame,
)
from .grid import (
    GRID_DEFAULT_ORDER,
    GRID_REFERENCE_CACHE_KEY,
    GRID_REFERENCE_TIMEOUT,
    GRID_SORT_FIELDS,
    UNKNOWN_LABEL,
    grid_cells_ordered,
    grid_heatmap_frame,
    grid_reference,
    grid_reference_scope,
    grid_table_rows,
    occupation_label,
    sector_label,
    territory_name,
)
from .inputs import (
    POSITION_ID_COLUMNS,
    epci_departements,
    index_scores_frame,
    positions_frame,
    section_of_division,
    training_coverage_frame,
)
from .map import (
    MAP_TERRITORY_LEVELS,
    MAP_VALUE_COLUMNS,
    OUTLINE_COUNTS_CACHE_KEY,
    map_territories,
    territory_geometry_counts,
)
from .occupations import (
    MOBILITY_COLUMNS,
    OCCUPATION_CELL_VALUES,
    ProfileBreakdown,
    fiche_links_frames,
    mobilities_frame,
    most_exposed_occupations,
    occupation_appellations,
    occupation_cells_frame,
    occupation_fiche,
    occupation_index_scores_frame,
    occupation_score,
    occupation_search,
    occupation_suggestions,
    profile_breakdown,
    skill_links_frame,
    task_profile_frame,
    transitions_frame,
)
from .reference import (
    labels,
    reference_counts,
)
from .runs import (
    GRID_RUNS_TIMEOUT,
    GRID_RUNS_VERSION_KEY,
    STALE_RUNNING_AFTER_MINUTES,
    active_grid_run,
    compared_cells,
    current_grid_runs,
    exposure_indices,
    grid_run_choices,
    grid_run_progress,
    grid_run_summaries,
    grid_runs_history,
    ready_grid_runs,
    renew_grid_runs_token,
    run_comparison_frame,
    run_comparison_summary,
)

__all__ = [
    "COMPARED_COLUMNS",
    "GRID_DEFAULT_ORDER",
    "GRID_REFERENCE_CACHE_KEY",
    "GRID_REFERENCE_TIMEOUT",
    "GRID_RUNS_TIMEOUT",
    "GRID_RUNS_VERSION_KEY",
    "GRID_SORT_FIELDS",
    "MAP_TERRITORY_LEVELS",
    "MAP_VALUE_COLUMNS",
    "MOBILITY_COLUMNS",
    "OCCUPATION_CELL_VALUES",
    "OUTLINE_COUNTS_CACHE_KEY",
    "POSITION_ID_COLUMNS",
    "ProfileBreakdown",
    "STALE_RUNNING_AFTER_MINUTES",
    "UNKNOWN_LABEL",
    "active_grid_run",
    "cells_export_frame",
    "compare_cells",
    "compared_cells",
    "current_grid_runs",
    "exposure_indices",
    "fiche_links_frames",
    "grid_cells_export_frame",
    "grid_cells_ordered",
    "grid_heatmap_frame",
    "grid_reference",
    "grid_reference_scope",
    "grid_run_choices",
    "grid_run_progress",
    "grid_run_summaries",
    "grid_runs_history",
    "grid_table_rows",
    "index_scores_frame",
    "labels",
    "map_territories",
    "mobilities_frame",
    "most_exposed_occupations",
    "occupation_appellations",
    "occupation_cells_frame",
    "occupation_fiche",
    "occupation_index_scores_frame",
    "occupation_label",
    "occupation_score",
    "occupation_scores_export_frame",
    "occupation_search",
    "occupation_suggestions",
    "positions_frame",
    "epci_departements",
    "profile_breakdown",
    "rank_correlation",
    "ready_grid_runs",
    "reference_counts",
    "renew_grid_runs_token",
    "run_comparison_frame",
    "run_comparison_summary",
    "section_of_division",
    "sector_label",
    "skill_links_frame",
    "task_profile_frame",
    "territory_geometry_counts",
    "territory_name",
    "training_coverage_frame",
    "transitions_frame",
]
