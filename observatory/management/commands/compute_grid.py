import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from observatory.models import GridRun, Lens
from observatory.services import grid_run_create
from observatory.tasks import compute_grid_run
from skills.models import ExposureIndex


class Command(BaseCommand):
    help = "Calcule la grille d'analyse (méthode des tâches, ou un indice externe avec --index)."

    def add_arguments(self, parser):
        parser.add_argument("--lens", choices=Lens.values, default=Lens.DEFAULT, help="lecture de la méthode")
        parser.add_argument("--all-lenses", action="store_true", help="calcule les trois lectures")
        parser.add_argument("--index", help="nom d'un indice externe importé avec import_index")
        parser.add_argument("--wait", action="store_true", help="attend la fin du calcul (worker Celery)")
        parser.add_argument("--timeout", type=int, default=3600, help="attente maximale en secondes")

    def handle(self, *args, lens, all_lenses, index, wait, timeout, **options):
        exposure_index = None
        if index:
            exposure_index = ExposureIndex.objects.filter(name=index).first()
            if exposure_index is None:
                known = ", ".join(ExposureIndex.objects.values_list("name", flat=True)) or "aucun"
                raise CommandError(f"Indice « {index} » inconnu (indices importés : {known}).")
        lenses = Lens.values if all_lenses else [lens]
        for current_lens in lenses:
            run = grid_run_create(lens=current_lens, index=exposure_index, trigger=GridRun.Trigger.COMMAND)
            self.stdout.write(f"Calcul n°{run.pk} ({run.methodology}, {run.source_label}) …")
            result = compute_grid_run.delay(run.pk)
            if settings.CELERY_TASK_ALWAYS_EAGER:
                result.get()
            elif wait:
                self._wait(run, timeout)
            else:
                self.stdout.write(f"Tâche {result.id} envoyée au worker Celery.")
                continue
            self._report(run)

    def _wait(self, run, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (GridRun.Status.READY, GridRun.Status.FAILED):
                return
            self.stdout.write(f"  {run.progress:3d} % {run.step}")
            time.sleep(2)
        raise CommandError(f"Le calcul n°{run.pk} n'a pas fini en {timeout} s.")

    def _report(self, run):
        run.refresh_from_db()
        if run.status != GridRun.Status.READY:
            raise CommandError(f"Le calcul n°{run.pk} a échoué : {run.error}")
        stats = run.stats
        self.stdout.write(
            self.style.SUCCESS(
                f"Calcul n°{run.pk} terminé en {run.duration:.1f} s : {stats.get('positions', 0)} postes, "
                f"{stats.get('cells', 0)} cellules dont {stats.get('secret_cells', 0)} secrètes."
            )
        )
