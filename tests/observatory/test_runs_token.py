"""The run picker's cache token: renewed by the receivers of observatory/signals.py whenever a
run is saved or deleted, and once more when the transaction that made a run ready and current
commits, so that a page that read the runs while it was committing is not kept."""

import pytest
from django.core.cache import cache

from observatory import selectors, services
from observatory.models import GridRun, Lens

pytestmark = pytest.mark.django_db


def _token():
    return cache.get(selectors.GRID_RUNS_VERSION_KEY)


def test_saving_or_deleting_a_run_renews_the_token(hand_worked):  # noqa: F811
    run = services.grid_run_create(lens=Lens.DEFAULT)
    before = _token()
    assert before is not None
    run.step = "En attente"
    run.save()
    saved = _token()
    assert saved not in (None, before)
    GridRun.objects.filter(pk=run.pk).delete()
    assert _token() not in (None, saved)


def test_the_commit_of_a_ready_run_renews_the_token_again(hand_worked, django_capture_on_commit_callbacks):  # noqa: F811
    run = services.grid_run_create(lens=Lens.DEFAULT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.grid_run_compute(run.pk)
    assert callbacks.count(selectors.renew_grid_runs_token) == 1
    during = _token()  # drawn by the save, before the commit
    assert during is not None
    callbacks[callbacks.index(selectors.renew_grid_runs_token)]()  # the commit
    assert _token() not in (None, during)
