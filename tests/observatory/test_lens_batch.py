"""Every lens kept together: new field data queues one batch of runs (one per lens), one task
computes it, and publishing one run of it publishes the whole batch as one edition."""

import pytest
from django.urls import reverse

from companies.models import JobPosition
from companies.signals import field_data_changed
from observatory import services
from observatory.models import GridRun, Lens
from observatory.provenance import forget_site_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_recompute(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = True


def _queue_batch(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        field_data_changed.send(sender=JobPosition, source="test", positions=1)
    return callbacks


def _computed_batch(django_capture_on_commit_callbacks) -> list[GridRun]:
    callbacks = _queue_batch(django_capture_on_commit_callbacks)
    for callback in callbacks:
        callback()  # eager Celery: the batch computes now
    head = GridRun.objects.get(trigger="auto")
    return list(GridRun.objects.filter(batch=head.batch).select_related("methodology").order_by("pk"))


def test_new_field_data_queues_one_batch_of_every_lens(
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        field_data_changed.send(sender=JobPosition, source="diagnostic", positions=3)
        # A second arrival before the batch runs queues nothing more.
        field_data_changed.send(sender=JobPosition, source="diagnostic", positions=1)

    pending = GridRun.objects.filter(status=GridRun.Status.PENDING).select_related("methodology")
    assert sorted(run.methodology.lens for run in pending) == sorted(Lens.values)
    assert len({run.batch for run in pending}) == 1 and pending[0].batch is not None
    assert all(run.trigger in GridRun.INTERNAL_TRIGGERS for run in pending)
    assert len(callbacks) == 1  # one task for the batch


def test_one_task_computes_the_whole_batch_and_keeps_it_internal(
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
):
    runs = _computed_batch(django_capture_on_commit_callbacks)
    assert len(runs) == 3
    assert all(run.status == GridRun.Status.READY and run.is_internal for run in runs)
    assert not GridRun.objects.filter(is_current=True).exists()


def test_data_arriving_once_the_batch_started_queues_a_new_batch(
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
):
    _queue_batch(django_capture_on_commit_callbacks)
    head = GridRun.objects.get(trigger="auto")
    GridRun.objects.filter(pk=head.pk).update(status=GridRun.Status.RUNNING)
    callbacks = _queue_batch(django_capture_on_commit_callbacks)
    assert len(callbacks) == 1
    assert GridRun.objects.filter(trigger="auto").values("batch").distinct().count() == 2


def test_publishing_one_run_of_a_batch_publishes_every_lens_as_one_edition(
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
    django_user_model,
):
    runs = _computed_batch(django_capture_on_commit_callbacks)
    analyst = django_user_model.objects.create_user("analyste")
    genai = next(run for run in runs if run.methodology.lens == Lens.GENAI)

    services.grid_run_publish(run=genai, user=analyst)

    published = GridRun.objects.filter(pk__in=[run.pk for run in runs])
    assert all(run.is_current and run.published_by == analyst for run in published)
    assert len({run.published_at for run in published}) == 1
    for lens in Lens.values:
        assert GridRun.objects.current(lens).batch == genai.batch


def test_a_batch_with_a_lens_not_ready_is_refused_whole(
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
    django_user_model,
):
    runs = _computed_batch(django_capture_on_commit_callbacks)
    automation = next(run for run in runs if run.methodology.lens == Lens.AUTOMATION)
    GridRun.objects.filter(pk=automation.pk).update(status=GridRun.Status.RUNNING)
    analyst = django_user_model.objects.create_user("analyste")

    with pytest.raises(
        ValueError, match="La lecture « Automatisation des tâches répétitives » de ce lot n'est pas prête"
    ):
        services.grid_run_publish(run=runs[0], user=analyst)
    assert not GridRun.objects.filter(is_current=True).exists()

    GridRun.objects.filter(pk=automation.pk).update(status=GridRun.Status.FAILED)
    with pytest.raises(ValueError, match="a échoué"):
        services.grid_run_publish(run=runs[0], user=analyst)
    assert not GridRun.objects.filter(published_at__isnull=False).exists()


def test_the_runs_page_publishes_the_batch(
    client,
    analyst,
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
):
    runs = _computed_batch(django_capture_on_commit_callbacks)
    client.force_login(analyst)
    response = client.post(reverse("observatory:run_publish", args=[runs[0].pk]), follow=True)
    assert "publié avec les autres lectures de son lot" in response.content.decode()
    assert GridRun.objects.filter(pk__in=[run.pk for run in runs], is_current=True).count() == 3


def test_the_overview_says_which_lens_is_older(
    client,
    analyst,
    hand_worked,
    auto_recompute,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    # A first edition of every lens, then new data published for two lenses only.
    first = {
        lens: services.grid_run_compute(services.grid_run_create(lens=lens, trigger="manual").pk)
        for lens in Lens.values
    }
    JobPosition.objects.update(headcount=40)
    for lens in (Lens.DEFAULT, Lens.AUTOMATION):
        services.grid_run_compute(services.grid_run_create(lens=lens, trigger="manual").pk)
    genai = first[Lens.GENAI]
    genai.refresh_from_db()
    assert genai.is_current

    client.force_login(analyst)
    client.get(reverse("observatory:overview"), {"lens": Lens.DEFAULT})  # fills the caches
    with django_assert_max_num_queries(10):
        text = client.get(reverse("observatory:overview"), {"lens": Lens.DEFAULT}).content.decode()
    assert "Provenance des chiffres" in text
    assert "La lecture IA générative date du" in text and "plus ancienne que les autres" in text
    assert "La lecture Par défaut date du" not in text

    # The same data published for the three lenses: none is older (once the site's
    # provenance, cached a minute, is read again).
    services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI, trigger="manual").pk)
    forget_site_data()
    text = client.get(reverse("observatory:overview"), {"lens": Lens.DEFAULT}).content.decode()
    assert "plus ancienne que les autres" not in text
