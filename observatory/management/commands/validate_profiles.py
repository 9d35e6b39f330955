"""Check the reference task profiles against published occupation-level indices.

    manage.py validate_profiles [--from /path/to/shared/data]

Maps every fiche to ISCO-08 through its ROME v3 parent and the imported crosswalks
(`import_crosswalks`), and prints, as `RESULT name=value` lines, Spearman's correlation of each
lens's exposure with the ILO 2025 generative-AI index, the routine task intensity of Mihaylov
& Tijdens (2019) and Frey & Osborne's probability of computerisation, and of each task share
with the published shares, each with its number of ISCO-08 codes (`n_<name>`).
"""

import os
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from observatory.analysis.validation import soc_index_by_isco, validation_figures
from observatory.models import Lens, Methodology
from skills.categories import CATEGORIES
from skills.models import Occupation, OccupationCrosswalk
from skills.selectors import reference_profiles_frame

ILO_FILE = "ai-exposure/ilo-genai-gmyrek2025/Final_Scores_ISCO08_Gmyrek_et_al_2025_occupations.csv"
RTI_FILE = "ai-exposure/occupationRiskPack/source_rti_mihaylov_2019.csv"
FREY_OSBORNE_FILE = "ai-exposure/frey-osborne/frey_osborne_automation_risk_index_clean.csv"
System = OccupationCrosswalk.System


def default_shared_data() -> Path:
    return Path(os.environ.get("SHARED_DATA") or Path(settings.BASE_DIR).parent / "shared" / "data")


def read_published(directory: Path) -> dict:
    """The three published indices, keyed by ISCO-08 (ILO, RTI) or SOC 2010 (Frey–Osborne)."""

    def read(relative, columns, codes):
        path = directory / relative
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        frame = pd.read_csv(path, dtype=dict.fromkeys(codes, str))
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CommandError(f"{path} : colonne(s) absente(s) : {', '.join(missing)}")
        return frame

    ilo = read(ILO_FILE, ["ISCO_08", "mean_score_2025"], ["ISCO_08"])
    rti = read(RTI_FILE, ["isco08_code", *CATEGORIES, "rti"], ["isco08_code"])
    fo = read(FREY_OSBORNE_FILE, ["SOC code", "Probability"], ["SOC code"])
    return {
        "ilo": ilo.set_index(ilo["ISCO_08"].str.strip().str.zfill(4))["mean_score_2025"].astype(float),
        "rti": rti.set_index(rti["isco08_code"].str.strip().str.zfill(4))[[*CATEGORIES, "rti"]].astype(float),
        "frey_osborne": fo.set_index(fo["SOC code"].str.strip())["Probability"].astype(float),
    }


class Command(BaseCommand):
    help = (
        "Compare les profils de tâches de référence et l'exposition de chaque lecture aux indices "
        "publiés (OIT 2025, Mihaylov & Tijdens 2019, Frey & Osborne) par la correspondance ROME → CITP-08."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="directory", type=Path, default=None, help="dossier shared/data")

    def handle(self, *args, directory=None, **options):
        published = read_published(Path(directory) if directory else default_shared_data())
        pairs = OccupationCrosswalk.objects.filter(source_system=System.ROME_V3, target_system=System.ISCO08)
        v3_to_isco = dict(pairs.values_list("source_code", "target_code"))
        if not v3_to_isco:
            raise CommandError("Aucune correspondance ROME v3 → CITP-08 : lancez d'abord import_crosswalks.")
        parents = dict(Occupation.objects.fiches().values_list("code", "rome_v3_parent_id"))
        isco_of_fiche = pd.Series({code: v3_to_isco.get(parent) for code, parent in parents.items()}).dropna()
        isco_to_soc = pd.DataFrame.from_records(
            OccupationCrosswalk.objects.filter(source_system=System.ISCO08, target_system=System.SOC2010).values_list(
                "source_code", "target_code"
            ),
            columns=["isco", "soc"],
        )

        methodologies = {lens: Methodology.objects.current(lens) for lens in Lens.values}
        default = methodologies[Lens.DEFAULT]
        profiles = reference_profiles_frame(default.profile_params() if default else None)
        susceptibilities = {lens: m.susceptibility for lens, m in methodologies.items() if m is not None}
        figures = validation_figures(
            profiles,
            susceptibilities,
            isco_of_fiche,
            ilo=published["ilo"],
            routine_intensity=published["rti"],
            frey_osborne=soc_index_by_isco(published["frey_osborne"], isco_to_soc),
        )
        self.stdout.write(f"RESULT fiches_mapped_to_isco={len(isco_of_fiche)}")
        for name, value, n in figures:
            self.stdout.write(f"RESULT {name}={value:.3f}")
            self.stdout.write(f"RESULT n_{name}={n}")
