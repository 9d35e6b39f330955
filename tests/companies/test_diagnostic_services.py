"""Services of the company diagnostic: start, copy, save with optimistic locking, jobs,
idempotent submission and the job positions it gives the observatory."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from companies.diagnostic import services
from companies.models import (
    Diagnostic,
    DiagnosticJob,
    Establishment,
    JobPosition,
    SizeBand,
)
from companies.validators import luhn_complete
from skills.models import Certification, SkillBlock
from tests.companies.factories import (
    CampaignFactory,
    CommuneFactory,
    CompanyFactory,
    EstablishmentFactory,
    SousClasseFactory,
    all_answers,
    make_member,
)
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.usefixtures("no_grid_recomputation")

# --- Builders shared with test_diagnostic_views.py ------------------------------------------


def siret_of(company, nic="0001"):
    return luhn_complete(f"{company.siren}{nic}")


def job_data(occupation, **overrides):
    data = {
        "occupation": occupation,
        "headcount": 12,
        "rc": 40,
        "rm": 10,
        "nra": 20,
        "nri": 20,
        "nrm": 10,
        "training_need": True,
        "wished_skill_blocks": [],
    }
    data.update(overrides)
    return data


def complete_diagnostic(diagnostic, user, occupations):
    """Fill every step of a draft through the services; returns it at its new version."""
    commune = CommuneFactory(code="59350", name="Lille", population=236_000)
    sector = SousClasseFactory()
    services.diagnostic_save_step(
        diagnostic=diagnostic,
        step=services.IDENTITY,
        data={
            "siret": siret_of(diagnostic.company),
            "company_name": diagnostic.company.name,
            "sector": sector,
            "commune": commune,
            "size_band": SizeBand.SMALL,
        },
        expected_version=diagnostic.version,
        user=user,
    )
    services.diagnostic_save_step(
        diagnostic=diagnostic,
        step=services.MATURITY,
        data=all_answers(),
        expected_version=diagnostic.version,
        user=user,
    )
    for occupation in occupations:
        services.diagnostic_job_add(
            diagnostic=diagnostic, data=job_data(occupation), expected_version=diagnostic.version, user=user
        )
    return diagnostic


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def company(db):
    return CompanyFactory(name="Menuiserie Delattre")


@pytest.fixture
def member(django_user_model, company):
    return make_member(company, "claire")


@pytest.fixture
def occupations(db):
    return [
        OccupationFactory(code="M1607", label="Secrétariat"),
        OccupationFactory(code="M1203", label="Comptabilité"),
        OccupationFactory(code="H2206", label="Réalisation de menuiserie bois et tonnellerie"),
    ]


@pytest.fixture
def draft(company, campaign, member):
    return services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)


# --- Start ------------------------------------------------------------------------------------


def test_get_or_create_prefills_from_the_only_establishment(company, campaign, member):
    establishment = EstablishmentFactory(company=company, size_band=SizeBand.MEDIUM)
    diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)
    assert diagnostic.status == Diagnostic.Status.DRAFT
    assert diagnostic.version == 1
    assert diagnostic.company_name == "Menuiserie Delattre"
    assert diagnostic.siret == establishment.siret
    assert diagnostic.sector_id == establishment.sector_id
    assert diagnostic.commune_id == establishment.commune_id
    assert diagnostic.size_band == SizeBand.MEDIUM
    assert diagnostic.created_by == member
    again = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)
    assert again.pk == diagnostic.pk
    assert Diagnostic.objects.count() == 1


def test_get_or_create_with_several_establishments_prefills_only_the_name(company, campaign, member):
    EstablishmentFactory(company=company)
    EstablishmentFactory(company=company)
    diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)
    assert diagnostic.company_name == company.name
    assert diagnostic.siret == ""
    assert diagnostic.sector is None


# --- Saving steps with optimistic locking ------------------------------------------------------


def test_save_identity_bumps_the_version(draft, member):
    sector = SousClasseFactory(code="16.23Z", label="Fabrication de charpentes et d'autres menuiseries")
    commune = CommuneFactory(code="62041", name="Arras")
    services.diagnostic_save_step(
        diagnostic=draft,
        step=services.IDENTITY,
        data={
            "siret": siret_of(draft.company),
            "company_name": "Delattre",
            "sector": sector,
            "commune": commune,
            "size_band": SizeBand.SMALL,
        },
        expected_version=1,
        user=member,
    )
    assert draft.version == 2
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert (stored.version, stored.company_name, stored.sector_id, stored.commune_id, stored.size_band) == (
        2,
        "Delattre",
        sector.pk,
        commune.pk,
        SizeBand.SMALL,
    )
    assert stored.last_step == services.IDENTITY


def test_a_draft_may_be_partial(draft, member):
    services.diagnostic_save_step(
        diagnostic=draft, step=services.IDENTITY, data={"company_name": "Delattre"}, expected_version=1, user=member
    )
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.company_name == "Delattre"
    assert stored.siret == "" and stored.sector is None and stored.size_band == ""


def test_save_maturity_keeps_only_valid_answers(draft, member):
    services.diagnostic_save_step(
        diagnostic=draft,
        step=services.MATURITY,
        data={"data_digital": 3, "uses_processes": 9, "nope": 1},
        expected_version=1,
        user=member,
    )
    assert Diagnostic.objects.get(pk=draft.pk).maturity == {"data_digital": 3}


def test_a_stale_version_is_refused_and_changes_nothing(draft, member, django_user_model):
    colleague = make_member(draft.company, "bruno")
    first_tab = Diagnostic.objects.get(pk=draft.pk)  # read at version 1 by Claire
    services.diagnostic_save_step(
        diagnostic=draft, step=services.MATURITY, data={"data_digital": 4}, expected_version=1, user=colleague
    )
    with pytest.raises(services.DiagnosticConflict) as conflict:
        services.diagnostic_save_step(
            diagnostic=first_tab, step=services.MATURITY, data={"data_digital": 0}, expected_version=1, user=member
        )
    assert conflict.value.current_version == 2
    assert "Un autre membre" in str(conflict.value)
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.maturity == {"data_digital": 4}
    assert stored.version == 2


def test_moving_on_from_the_jobs_step_never_conflicts(draft, member):
    services.diagnostic_save_step(diagnostic=draft, step=services.JOBS, data={}, expected_version=99, user=member)
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert (stored.last_step, stored.version) == (services.JOBS, 1)


def test_unknown_step_is_a_programming_error(draft, member):
    with pytest.raises(ValueError):
        services.diagnostic_save_step(diagnostic=draft, step="autre", data={}, expected_version=1, user=member)


# --- Jobs --------------------------------------------------------------------------------------


def test_add_update_remove_jobs(draft, member, occupations):
    certification = Certification.objects.create(code="RNCP35503", register="RNCP", title="Assistant de direction")
    block = SkillBlock.objects.create(code="RNCP35503BC01", label="Gérer l'information", certification=certification)
    first = services.diagnostic_job_add(
        diagnostic=draft, data=job_data(occupations[0], wished_skill_blocks=[block]), expected_version=1, user=member
    )
    second = services.diagnostic_job_add(
        diagnostic=draft, data=job_data(occupations[1], headcount=3), expected_version=2, user=member
    )
    assert (first.position, second.position) == (0, 1)
    assert list(first.wished_skill_blocks.all()) == [block]
    services.diagnostic_job_update(
        diagnostic=draft,
        job=first,
        data=job_data(occupations[0], headcount=5, rc=100, rm=0, nra=0, nri=0, nrm=0, training_need=False),
        expected_version=3,
        user=member,
    )
    first.refresh_from_db()
    assert (first.headcount, first.rc, first.training_need) == (5, 100, False)
    assert not first.wished_skill_blocks.exists()
    services.diagnostic_job_remove(diagnostic=draft, job=second, expected_version=4, user=member)
    assert list(draft.jobs.values_list("occupation_id", flat=True)) == ["M1607"]
    assert Diagnostic.objects.get(pk=draft.pk).version == 5


def test_a_job_added_from_a_stale_page_is_refused(draft, member, occupations):
    services.diagnostic_save_step(
        diagnostic=draft, step=services.MATURITY, data={"data_digital": 1}, expected_version=1, user=member
    )
    with pytest.raises(services.DiagnosticConflict):
        services.diagnostic_job_add(diagnostic=draft, data=job_data(occupations[0]), expected_version=1, user=member)
    assert not DiagnosticJob.objects.exists()


# --- Submission --------------------------------------------------------------------------------


def verify(company):
    """A curator approved the company's owner: its diagnostics count in the statistics."""
    company.verified_at = timezone.now()
    company.save(update_fields=["verified_at"])


def test_submission_turns_jobs_into_job_positions_and_signals_once_after_commit(
    draft, member, occupations, signals_sent, django_capture_on_commit_callbacks
):
    verify(draft.company)
    complete_diagnostic(draft, member, occupations[:2])
    assert not Establishment.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        submitted = services.diagnostic_submit(diagnostic=draft, user=member, expected_version=draft.version)
        assert signals_sent == []  # not before the commit
    assert len(callbacks) == 1
    assert signals_sent == [{"sender": Diagnostic, "source": "diagnostic", "positions": 2}]

    assert submitted.is_submitted
    assert submitted.submitted_by == member and submitted.submitted_at is not None
    # The establishment is created from the identity step.
    establishment = Establishment.objects.get()
    assert establishment.siret == draft.siret
    assert establishment.company == draft.company
    assert establishment.sector.code == "62.01Z"
    assert establishment.commune.code == "59350"
    assert establishment.size_band == SizeBand.SMALL
    positions = JobPosition.objects.order_by("occupation_id")
    assert [(p.occupation_id, p.headcount, p.rc, p.rm, p.nra, p.nri, p.nrm, p.training_need) for p in positions] == [
        ("M1203", 12, 40, 10, 20, 20, 10, True),
        ("M1607", 12, 40, 10, 20, 20, 10, True),
    ]
    assert {(p.source, p.campaign_id, p.diagnostic_id, p.establishment_id) for p in positions} == {
        (JobPosition.Source.DIAGNOSTIC, draft.campaign_id, draft.pk, establishment.pk)
    }


def test_an_unverified_companys_submission_stores_its_positions_but_asks_no_recomputation(
    draft, member, occupations, signals_sent, django_capture_on_commit_callbacks
):
    complete_diagnostic(draft, member, occupations[:2])
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.diagnostic_submit(diagnostic=draft, user=member, expected_version=draft.version)
    assert submitted.is_submitted
    assert JobPosition.objects.filter(diagnostic=draft).count() == 2
    # They count in no published figure until a curator verifies the company.
    assert not JobPosition.objects.counted_in_statistics().exists()
    assert signals_sent == []


def test_submitting_twice_makes_one_submission(
    draft, member, occupations, signals_sent, django_capture_on_commit_callbacks
):
    verify(draft.company)
    complete_diagnostic(draft, member, occupations)
    version = draft.version
    stale_tab = Diagnostic.objects.get(pk=draft.pk)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.diagnostic_submit(diagnostic=draft, user=member, expected_version=version)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # A double click, the back button, a second tab: same version, or the one it had.
        second = services.diagnostic_submit(diagnostic=stale_tab, user=member, expected_version=version)
        third = services.diagnostic_submit(diagnostic=draft, user=member, expected_version=version - 1)
    assert callbacks == []
    assert first.pk == second.pk == third.pk
    assert second.is_submitted and second.submitted_at == first.submitted_at
    assert JobPosition.objects.count() == 3
    assert Establishment.objects.count() == 1
    assert len(signals_sent) == 1


def test_submitting_after_a_colleague_changed_the_answers_is_refused(draft, member, occupations):
    complete_diagnostic(draft, member, occupations[:1])
    seen = draft.version
    services.diagnostic_save_step(
        diagnostic=draft, step=services.MATURITY, data=all_answers(4), expected_version=seen, user=member
    )
    with pytest.raises(services.DiagnosticConflict):
        services.diagnostic_submit(diagnostic=draft, user=member, expected_version=seen)
    assert not Diagnostic.objects.get(pk=draft.pk).is_submitted
    assert not JobPosition.objects.exists()


def test_an_incomplete_diagnostic_cannot_be_submitted(draft, member, signals_sent):
    services.diagnostic_save_step(
        diagnostic=draft, step=services.MATURITY, data={"data_digital": 2}, expected_version=1, user=member
    )
    with pytest.raises(services.DiagnosticIncomplete) as incomplete:
        services.diagnostic_submit(diagnostic=draft, user=member, expected_version=2)
    steps = [step for step, _message in incomplete.value.problems]
    assert steps == [services.IDENTITY, services.MATURITY, services.JOBS]
    messages = [str(message) for _step, message in incomplete.value.problems]
    assert "SIRET" in messages[0] and "commune" in messages[0]
    assert messages[1] == "11 question(s) sans réponse sur 12."
    assert not Diagnostic.objects.get(pk=draft.pk).is_submitted
    assert signals_sent == []


def test_a_submitted_diagnostic_is_read_only(draft, member, occupations):
    complete_diagnostic(draft, member, occupations[:1])
    services.diagnostic_submit(diagnostic=draft, user=member, expected_version=draft.version)
    current = Diagnostic.objects.get(pk=draft.pk)
    job = current.jobs.get()
    with pytest.raises(services.DiagnosticReadOnly):
        services.diagnostic_save_step(
            diagnostic=current, step=services.MATURITY, data={}, expected_version=current.version, user=member
        )
    with pytest.raises(services.DiagnosticReadOnly):
        services.diagnostic_save_step(diagnostic=current, step=services.JOBS, data={}, expected_version=0, user=member)
    with pytest.raises(services.DiagnosticReadOnly):
        services.diagnostic_job_add(
            diagnostic=current, data=job_data(occupations[1]), expected_version=current.version, user=member
        )
    with pytest.raises(services.DiagnosticReadOnly):
        services.diagnostic_job_remove(diagnostic=current, job=job, expected_version=current.version, user=member)
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.maturity == all_answers()
    assert stored.jobs.count() == 1


def test_a_known_establishment_is_reused(draft, member, occupations):
    complete_diagnostic(draft, member, occupations[:1])
    known = EstablishmentFactory(company=draft.company, siret=draft.siret, size_band=SizeBand.MICRO)
    services.diagnostic_submit(diagnostic=draft, user=member, expected_version=draft.version)
    assert Establishment.objects.get() == known
    assert JobPosition.objects.get().establishment == known


def test_the_siret_must_belong_to_the_company(draft, member, occupations):
    complete_diagnostic(draft, member, occupations[:1])
    other = CompanyFactory()
    Diagnostic.objects.filter(pk=draft.pk).update(siret=siret_of(other))
    with pytest.raises(services.DiagnosticIncomplete) as incomplete:
        services.diagnostic_submit(diagnostic=draft, user=member, expected_version=draft.version)
    assert "SIREN" in str(incomplete.value.problems[0][1])
    assert not JobPosition.objects.exists()


# --- Copy for the next campaign ------------------------------------------------------------


def test_next_campaign_starts_from_a_copy(company, member, occupations):
    previous_campaign = CampaignFactory(year=2025, is_current=False)
    previous = services.diagnostic_get_or_create_for(company=company, campaign=previous_campaign, user=member)
    complete_diagnostic(previous, member, occupations[:2])
    certification = Certification.objects.create(code="RNCP1", register="RNCP", title="Comptable")
    block = SkillBlock.objects.create(code="RNCP1BC01", label="Tenir les comptes", certification=certification)
    previous.jobs.get(occupation_id="M1203").wished_skill_blocks.add(block)
    services.diagnostic_submit(diagnostic=previous, user=member, expected_version=previous.version)
    previous.refresh_from_db()

    campaign = CampaignFactory(year=2026)
    copy = services.diagnostic_copy_from(previous=previous, campaign=campaign, user=member)
    assert copy.pk != previous.pk
    assert (copy.campaign, copy.company, copy.copied_from) == (campaign, company, previous)
    assert copy.status == Diagnostic.Status.DRAFT and copy.version == 1 and copy.last_step == ""
    assert (copy.siret, copy.sector_id, copy.commune_id, copy.size_band) == (
        previous.siret,
        previous.sector_id,
        previous.commune_id,
        previous.size_band,
    )
    assert copy.maturity == previous.maturity
    copied_jobs = list(copy.jobs.order_by("position"))
    assert [(j.occupation_id, j.headcount, j.rc, j.position) for j in copied_jobs] == [
        (j.occupation_id, j.headcount, j.rc, j.position) for j in previous.jobs.order_by("position")
    ]
    assert list(copy.jobs.get(occupation_id="M1203").wished_skill_blocks.all()) == [block]
    # The previous campaign's diagnostic is untouched.
    assert previous.jobs.count() == 2 and previous.is_submitted
    # Asking again returns the same copy.
    assert services.diagnostic_copy_from(previous=previous, campaign=campaign, user=member).pk == copy.pk
    assert Diagnostic.objects.filter(campaign=campaign).count() == 1


def test_no_copy_over_a_diagnostic_started_blank(company, member):
    previous = services.diagnostic_get_or_create_for(
        company=company, campaign=CampaignFactory(year=2025, is_current=False), user=member
    )
    campaign = CampaignFactory(year=2026)
    services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)
    with pytest.raises(services.DiagnosticAlreadyStarted):
        services.diagnostic_copy_from(previous=previous, campaign=campaign, user=member)
    with pytest.raises(ValueError):
        services.diagnostic_copy_from(previous=previous, campaign=previous.campaign, user=member)


# --- Concurrency (PostgreSQL: SQLite serialises every writer anyway) --------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_store_one_set_of_positions(django_user_model, migration_data, signals_sent):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are exercised on PostgreSQL")
    company = CompanyFactory(verified=True)
    member = make_member(company, "claire")
    campaign = CampaignFactory()
    diagnostic = services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)
    complete_diagnostic(diagnostic, member, [OccupationFactory(code="M1607"), OccupationFactory(code="M1203")])
    version = diagnostic.version
    barrier = threading.Barrier(6)
    results, errors = [], []

    def submit():
        from django.db import connections

        try:
            barrier.wait()
            stale = Diagnostic.objects.get(pk=diagnostic.pk)
            results.append(services.diagnostic_submit(diagnostic=stale, user=member, expected_version=version).pk)
        except Exception as error:  # noqa: BLE001 — collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [diagnostic.pk] * 6
    assert JobPosition.objects.filter(diagnostic=diagnostic).count() == 2
    assert Establishment.objects.count() == 1
    assert len(signals_sent) == 1
