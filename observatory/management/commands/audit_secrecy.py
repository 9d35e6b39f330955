"""Attack a run's published cells as a reader who solves every published total at once.

    manage.py audit_secrecy [RUN_ID …] [--lp-seconds 60]

Without a run id, audits each current run (every lens and external index). Prints, per run,
`RESULT name=value` lines: the secret cells, the primary ones, the cells the published totals
determine (and the primary ones among them), the primary cells bounded within their
protection interval (`under_protected`, determined ones included), the primary cells left
unverified (`skipped`), the linear programs solved, the seconds, and `passed` (1 or 0).
The audit reads the cells as stored; a run computed before the audit existed is audited the
same way. Exit status 1 when a run fails.
"""

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from companies.models import Territory
from observatory.analysis import secrecy
from observatory.analysis.codes import unknown_parent
from observatory.analysis.cube import ALL_CODE, CUBE_COLUMNS
from observatory.models import CELL_COORDINATES, GridCell, GridRun
from observatory.selectors import epci_departements, section_of_division
from skills.models import Occupation

# What the audit reads of a stored cell; the parent codes are rebuilt from the nomenclatures.
STORED = (
    *CELL_COORDINATES,
    "employees",
    "secret",
    "secret_reason",
)


class Command(BaseCommand):
    help = "Audite le secret statistique d'un calcul de la grille (par défaut : chaque calcul en vigueur)."

    def add_arguments(self, parser):
        parser.add_argument("run_ids", nargs="*", type=int, help="numéros des calculs à auditer")
        parser.add_argument(
            "--lp-seconds", type=float, default=secrecy.audit.LP_SECONDS, help="budget des programmes linéaires (s)"
        )

    def handle(self, *args, run_ids, lp_seconds, **options):
        if run_ids:
            runs = list(GridRun.objects.filter(pk__in=run_ids).select_related("methodology").order_by("pk"))
            missing = sorted(set(run_ids) - {run.pk for run in runs})
            if missing:
                raise CommandError(f"Calcul(s) inconnu(s) : {', '.join(map(str, missing))}.")
        else:
            runs = list(GridRun.objects.filter(is_current=True).select_related("methodology").order_by("pk"))
            if not runs:
                raise CommandError("Aucun calcul en vigueur.")
        failed = []
        for run in runs:
            cells = stored_cells(run)
            methodology = run.methodology
            audit = secrecy.audit_secrecy(
                cells,
                protection=methodology.secrecy_protection,
                protection_floor=methodology.secrecy_protection_floor,
                lp_seconds=lp_seconds,
                inside=epci_departements(),
            )
            summary = audit.summary()
            verdict = "satisfait" if audit.passed else "NON satisfait"
            self.stdout.write(
                f"Calcul n°{run.pk} ({methodology}) : {len(cells)} cellules, audit {verdict} en {audit.seconds:.1f} s."
            )
            if not audit.passed:
                self.stdout.write(audit.explanation())
                failed.append(run.pk)
            for name in (
                "hidden",
                "primary",
                "determined",
                "determined_primary",
                "under_protected",
                "skipped",
                "core_unknowns",
                "components",
                "largest_component",
                "linear_programs",
                "seconds",
            ):
                self.stdout.write(f"RESULT run{run.pk}_{name}={summary.get(name, 0)}")
            self.stdout.write(f"RESULT run{run.pk}_passed={int(audit.passed)}")
        if failed:
            raise CommandError(f"Audit non satisfait pour le(s) calcul(s) {', '.join(map(str, failed))}.")


def stored_cells(run: GridRun) -> pd.DataFrame:
    """A run's cells with the columns the audit reads, parent codes included.

    Cells are stored without their parent codes; they come back from the nomenclatures as
    the cube built them (`selectors.positions_frame`): a département's région from the COG,
    an EPCI's from its communes (or the only région of the run), a division's section from
    the NAF, a fiche's domaine and a domaine's grand domaine from the ROME; an unknown
    member's from its own code (« inconnu-32 » is below région 32).
    """
    rows = GridCell.objects.filter(run=run).values_list(*STORED).order_by()
    cells = pd.DataFrame.from_records(rows, columns=list(STORED))
    regions = sorted(set(cells.loc[cells["territory_level"] == "region", "territory_code"]))
    departement_region = dict(
        Territory.objects.filter(level=Territory.Level.DEPARTEMENT).values_list("code", "parent__code")
    )
    epci_region = dict(
        Territory.objects.filter(level=Territory.Level.COMMUNE, epci__isnull=False)
        .values_list("epci__code", "parent__parent__code")
        .distinct()
    )
    only_region = regions[0] if len(regions) == 1 else ""
    territory_parent = {
        "all": lambda code: "",
        "region": lambda code: ALL_CODE,
        "departement": lambda code: only_region or departement_region.get(code, ""),
        "epci": lambda code: only_region or epci_region.get(code, ""),
    }
    sections = section_of_division()
    occupation_parent = dict(Occupation.objects.values_list("code", "parent_id"))
    sector_parent = {"all": lambda code: "", "section": lambda code: ALL_CODE, "division": sections.get}
    occupation_parent_of = {
        "all": lambda code: "",
        "grand_domaine": lambda code: ALL_CODE,
        "domaine": lambda code: occupation_parent.get(code) or code[:1],
        "fiche": lambda code: occupation_parent.get(code) or code[:3],
    }
    for dimension, parent_of in (
        ("territory", territory_parent),
        ("sector", sector_parent),
        ("occupation", occupation_parent_of),
    ):
        pairs = cells[[f"{dimension}_level", f"{dimension}_code"]].drop_duplicates()
        parents = [
            unknown_parent(code) or parent_of[level](code) or "" for level, code in pairs.itertuples(index=False)
        ]
        cells = cells.merge(pairs.assign(**{f"{dimension}_parent": parents}), how="left")
    return cells.reindex(columns=[*CUBE_COLUMNS[:10], "employees", "secret", "secret_reason"])
