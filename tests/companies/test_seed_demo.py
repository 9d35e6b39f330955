from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from companies.demo import DEMO_SIREN_PREFIX, DemoDataError, demo_companies, seed_demo
from companies.models import CompanyMembership, Establishment, JobPosition, Sector, SizeBand, Territory
from companies.validators import is_valid_siren, is_valid_siret
from observatory.reference import BUILTIN_REFERENCE_DIR, load_reference
from skills.models import NafDivisionOccupation

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def reference(django_db_setup, django_db_blocker):
    """The built-in reference set, loaded once for this module inside a transaction that is
    rolled back afterwards, so that the other modules still start from an empty database.
    Each test runs in its own savepoint inside it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            load_reference(BUILTIN_REFERENCE_DIR)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def snapshot():
    establishments = list(
        Establishment.objects.order_by("siret").values_list(
            "siret", "company__siren", "company__name", "name", "commune__code", "sector__code",
            "size_band",
        )
    )
    positions = list(
        JobPosition.objects.order_by("establishment__siret", "occupation_id").values_list(
            "establishment__siret", "occupation_id", "headcount", "rc", "rm", "nra", "nri", "nrm",
            "training_need", "source",
        )
    )
    return establishments, positions


def seed_in_a_fresh_database(seed, companies=200):
    with transaction.atomic():
        seed_demo(companies=companies, seed=seed)
        result = snapshot()
        transaction.set_rollback(True)
    return result


def test_the_same_seed_gives_the_same_data_and_another_seed_differs():
    first = seed_in_a_fresh_database(seed=7)
    again = seed_in_a_fresh_database(seed=7)
    other = seed_in_a_fresh_database(seed=8)
    assert first[0] and first[1]
    assert first == again
    assert [row[0] for row in first[0]] != [row[0] for row in other[0]]
    assert first[1] != other[1]


def test_sirens_and_sirets_are_valid_unique_and_marked():
    counts = seed_demo(companies=300, seed=1)
    assert counts["companies"] == demo_companies().count() == 300
    sirets = list(Establishment.objects.values_list("siret", "company__siren"))
    assert len(sirets) == counts["establishments"] == len({siret for siret, _ in sirets})
    for siret, siren in sirets:
        assert siren.startswith(DEMO_SIREN_PREFIX) and is_valid_siren(siren)
        assert siret.startswith(siren) and is_valid_siret(siret)


def test_every_position_is_a_demo_position_whose_shares_sum_to_100():
    seed_demo(companies=300, seed=2)
    positions = JobPosition.objects.all()
    assert positions.exists()
    for position in positions:
        assert sum(position.shares.values()) == 100
        assert position.headcount >= 1
        assert position.source == JobPosition.Source.DEMO


def test_demo_companies_are_verified_and_every_position_counts():
    """The demo stands for the observatory's own survey: the grid counts all of it, and the
    demo member's company (the first by SIREN) is verified, so its diagnostic counts too."""
    from observatory.demo import ensure_demo_accounts

    seed_demo(companies=100, seed=10)
    assert demo_companies().verified().count() == 100
    assert JobPosition.objects.counted_in_statistics().count() == JobPosition.objects.count()
    ensure_demo_accounts()
    membership = CompanyMembership.objects.get(user__username="entreprise")
    assert membership.role == CompanyMembership.Role.OWNER and membership.company.is_verified


def test_headcounts_match_each_establishments_size_band():
    seed_demo(companies=300, seed=3)
    headcounts = Counter()
    for siret, headcount in JobPosition.objects.values_list("establishment__siret", "headcount"):
        headcounts[siret] += headcount
    for siret, band in Establishment.objects.values_list("siret", "size_band"):
        assert SizeBand.for_headcount(headcounts[siret]) == band


def test_establishments_are_in_hauts_de_france_communes():
    seed_demo(companies=300, seed=4)
    communes = Territory.objects.filter(
        level=Territory.Level.COMMUNE, parent__parent__code="32"
    ).values_list("id", flat=True)
    used = set(Establishment.objects.values_list("commune_id", flat=True))
    assert used <= set(communes)
    # Drawn in proportion to population: Lille, the largest, is among the most frequent.
    top = Counter(Establishment.objects.values_list("commune__code", flat=True)).most_common(3)
    assert "59350" in [code for code, _ in top]


def test_company_sizes_follow_the_expected_distribution():
    seed_demo(companies=500, seed=5)
    per_company = Counter()
    for siren, headcount in JobPosition.objects.values_list(
        "establishment__company__siren", "headcount"
    ):
        per_company[siren] += headcount
    bands = Counter(SizeBand.for_headcount(total) for total in per_company.values())
    assert len(per_company) == 500
    assert (bands[SizeBand.MICRO] + bands[SizeBand.SMALL]) / 500 > 0.7
    assert bands[SizeBand.MICRO] > bands[SizeBand.SMALL] > bands[SizeBand.MEDIUM]
    assert (bands[SizeBand.LARGE] + bands[SizeBand.VERY_LARGE]) / 500 < 0.1
    assert bands[SizeBand.VERY_LARGE] / 500 < 0.02


def test_positions_hold_fiches_typical_of_the_establishments_division():
    seed_demo(companies=300, seed=6)
    links = defaultdict(set)
    for division, fiche in NafDivisionOccupation.objects.values_list("naf_division", "occupation"):
        links[division].add(fiche)
    checked = 0
    for code, fiche in JobPosition.objects.values_list(
        "establishment__sector__code", "occupation_id"
    ):
        if links[code[:2]]:
            assert fiche in links[code[:2]]
            checked += 1
    assert checked > 0


def test_only_divisions_loaded_still_gives_a_demo():
    Sector.objects.filter(level=Sector.Level.SOUS_CLASSE).delete()
    seed_demo(companies=50, seed=9)
    levels = set(Establishment.objects.values_list("sector__level", flat=True))
    assert levels == {Sector.Level.DIVISION}


def test_without_communes_the_seeder_asks_for_the_reference_data():
    Territory.objects.filter(level=Territory.Level.COMMUNE).delete()
    with pytest.raises(DemoDataError, match="load_reference"):
        seed_demo(companies=10, seed=1)


def test_the_command_refuses_to_seed_twice_and_replace_replaces():
    call_command("seed_demo", companies=40, seed=11, stdout=None)
    first = set(demo_companies().values_list("siren", flat=True))

    with pytest.raises(CommandError, match="--replace"):
        call_command("seed_demo", companies=40, seed=12)
    assert set(demo_companies().values_list("siren", flat=True)) == first

    call_command("seed_demo", companies=30, seed=12, replace=True)
    second = set(demo_companies().values_list("siren", flat=True))
    assert len(second) == 30 and second != first
    assert not Establishment.objects.exclude(company__siren__in=second).exists()
    assert not JobPosition.objects.exclude(establishment__company__siren__in=second).exists()
