"""The submissions benchmark's parts that need no server: the percentile and the count of what
a burst stored (lost and duplicated diagnostics)."""

import argparse
import datetime
import math

import pytest
from django.utils import timezone

from bench import BENCHMARKS, submissions
from companies.models import Campaign, Diagnostic, JobPosition
from tests.companies.factories import CompanyFactory, EstablishmentFactory, JobPositionFactory
from tests.skills.factories import OccupationFactory


def test_registered_and_its_options():
    assert "submissions" in BENCHMARKS
    parser = argparse.ArgumentParser()
    submissions.add_arguments(parser)
    args = parser.parse_args([])
    assert args.submit_clients == 50
    assert args.submit_database_url.endswith("/observatoire_bench_submit")


def test_percentile_is_a_measured_value_by_nearest_rank():
    durations = [float(n) for n in range(1, 51)]  # 50 clients, 1 to 50 ms, in any order
    durations.reverse()
    assert submissions.percentile(durations, 99) == 50.0  # with 50 values, the slowest
    assert submissions.percentile(durations, 50) == 25.0
    assert submissions.percentile(durations, 100) == 50.0
    assert submissions.percentile([7.5], 99) == 7.5
    assert submissions.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_percentile_without_values_or_out_of_range():
    assert math.isnan(submissions.percentile([], 99))
    with pytest.raises(ValueError):
        submissions.percentile([1.0], 0)
    with pytest.raises(ValueError):
        submissions.percentile([1.0], 101)


def _campaign(year: int, *, current: bool) -> Campaign:
    return Campaign.objects.create(
        year=year,
        name=f"Campagne {year}",
        opens_on=datetime.date(year, 1, 1),
        closes_on=datetime.date(year, 12, 31),
        is_current=current,
    )


def _diagnostic(company, campaign, *, submitted: bool, positions: int) -> Diagnostic:
    diagnostic = Diagnostic.objects.create(
        company=company,
        campaign=campaign,
        status=Diagnostic.Status.SUBMITTED if submitted else Diagnostic.Status.DRAFT,
        submitted_at=timezone.now() if submitted else None,
    )
    establishment = EstablishmentFactory(company=company)
    for _ in range(positions):
        JobPositionFactory(
            establishment=establishment,
            occupation=OccupationFactory(),
            source=JobPosition.Source.DIAGNOSTIC,
            campaign=campaign,
            diagnostic=diagnostic,
        )
    return diagnostic


@pytest.mark.django_db
def test_count_outcomes_lost_and_duplicates():
    current, earlier = _campaign(2026, current=True), _campaign(2025, current=False)
    stored = CompanyFactory(name="Boulangerie Dufour")
    _diagnostic(stored, current, submitted=True, positions=2)
    draft_only = CompanyFactory(name="Menuiserie Lefebvre")
    _diagnostic(draft_only, current, submitted=False, positions=0)
    nothing = CompanyFactory(name="Transports Martin")
    short = CompanyFactory(name="Cabinet Leroy")  # submitted, but a position went missing
    _diagnostic(short, current, submitted=True, positions=1)
    extra_position = CompanyFactory(name="Garage Petit")
    _diagnostic(extra_position, current, submitted=True, positions=3)
    twice = CompanyFactory(name="Imprimerie Moreau")  # two submitted diagnostics
    _diagnostic(twice, current, submitted=True, positions=2)
    _diagnostic(twice, earlier, submitted=True, positions=0)
    # A company outside the burst is not counted, whatever it holds.
    _diagnostic(CompanyFactory(name="Hors banc"), current, submitted=True, positions=5)
    # Positions imported from a file are not the diagnostic's.
    JobPositionFactory(establishment=EstablishmentFactory(company=stored), source=JobPosition.Source.SURVEY)

    ids = [company.pk for company in (stored, draft_only, nothing, short, extra_position, twice)]
    assert submissions.count_outcomes(ids) == {"lost": 3, "duplicates": 2}
    assert submissions.count_outcomes([stored.pk]) == {"lost": 0, "duplicates": 0}
    assert submissions.count_outcomes([]) == {"lost": 0, "duplicates": 0}
