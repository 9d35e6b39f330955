"""Two editions one reporting company apart: the fiche's profile must not give its answers.

The attack: a fiche's blended profile is s = (n·s_field + m·s_ref) / (n + m), with m and the
reference public. Between two editions where one company joined (or changed its answers),
(n₂ + m)·s₂ − (n₁ + m)·s₁ is that company's answers times its weight — and every exposure,
RTI, class and share of the fiche's cells moves with s. So a fiche whose answers fewer than
the minimum of companies changed keeps the field profile it was published with."""

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from companies.models import JobPosition, Territory
from observatory import services
from observatory.analysis import differencing
from observatory.models import GridCell, Lens, OccupationScore
from skills.categories import CATEGORIES
from tests.companies.factories import EstablishmentFactory, JobPositionFactory

SHARES = {"rc": 50, "rm": 0, "nra": 30, "nri": 20, "nrm": 0}  # what the hand-worked companies report


def _positions(rows):
    return pd.DataFrame(rows, columns=["company", "occupation", "headcount", *CATEGORIES])


def test_changed_reporters_counts_the_companies_whose_answers_for_a_fiche_changed():
    before = _positions(
        [
            (1, "M1607", 10, 50, 0, 30, 20, 0),
            (2, "M1607", 20, 50, 0, 30, 20, 0),
            (3, "M1607", 30, 50, 0, 30, 20, 0),
            (3, "A1101", 4, 10, 10, 10, 10, 60),
        ]
    )
    after = _positions(
        [
            (3, "A1101", 4, 10, 10, 10, 10, 60),  # unchanged, in another order
            (3, "M1607", 30, 50, 0, 30, 20, 0),
            (2, "M1607", 20, 60, 0, 20, 20, 0),  # company 2 moved ten points of its time
            (1, "M1607", 10, 50, 0, 30, 20, 0),
            (4, "M1607", 5, 100, 0, 0, 0, 0),  # company 4 is new
        ]
    )
    assert differencing.changed_reporters(before, after).to_dict() == {"M1607": 2}
    # A company gone counts as well, and the dtypes of the two frames do not matter.
    gone = after[after["company"] != 3].astype({"headcount": "int32", "occupation": "category"})
    assert differencing.changed_reporters(after, gone).to_dict() == {"A1101": 1, "M1607": 1}
    assert differencing.changed_reporters(before, before).empty
    # From no position at all, every reporting company is a change; and back.
    assert differencing.changed_reporters(before.iloc[:0], before).to_dict() == {"A1101": 1, "M1607": 3}
    assert differencing.changed_reporters(before, before.iloc[:0]).to_dict() == {"A1101": 1, "M1607": 3}


def _edition(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


def _profile(run):
    score = OccupationScore.objects.get(run=run, occupation_id="M1607")
    return np.array([getattr(score, c) for c in CATEGORIES]), score


def _fiche_cell(run):
    return GridCell.objects.get(
        run=run, territory_level="all", sector_level="all", occupation_level="fiche", size_band="all"
    )


def _new_company(hand_worked, headcount=8, **shares):
    lille = Territory.objects.get(code="59350")
    JobPositionFactory(
        establishment=EstablishmentFactory(commune=lille),
        occupation=hand_worked,
        headcount=headcount,
        **(shares or {"rc": 100, "rm": 0, "nra": 0, "nri": 0, "nrm": 0}),
    )


@pytest.mark.django_db
def test_a_company_joining_a_fiche_moves_no_published_profile(hand_worked):
    first = _edition()
    s1, score1 = _profile(first)
    # The hand-worked blend: (4·field + 5·ref) / 9, RC 5/9.
    assert score1.field_companies == 4 and score1.field_basis is None
    assert s1[0] == pytest.approx(5 / 9)

    # A fifth company reports the fiche with every hour on routine cognitive work.
    _new_company(hand_worked, headcount=8)
    second = _edition()
    s2, score2 = _profile(second)

    # The attack: the new company's answers would be ((5 + m)·s₂ − (4 + m)·s₁) / 1 with the
    # published n. Nothing moved, so there is nothing to solve.
    np.testing.assert_array_equal(s2, s1)
    assert score2.exposure == score1.exposure and score2.rti == score1.rti
    assert score2.exposure_class == score1.exposure_class
    assert [getattr(score2, f"field_{c}") for c in CATEGORIES] == [getattr(score1, f"field_{c}") for c in CATEGORIES]
    # The fiche's cells carry the same exposure (a mean over more employees: to the last bit).
    assert _fiche_cell(second).exposure_mean == pytest.approx(_fiche_cell(first).exposure_mean, rel=1e-12)
    # What the run stored: the profile of the first edition, behind four companies; the
    # fiche's own count is the new one (its cell decides whether it is shown).
    assert score2.field_basis_id == first.pk and score2.field_companies == 4 and score2.n_companies == 5
    assert second.audit["editions"]["field_frozen"] == {"frozen": 1, "fiches": ["M1607"]}


@pytest.mark.django_db
def test_the_profile_stays_frozen_until_the_minimum_of_companies_changed_since_it_was_published(hand_worked):
    first = _edition()
    s1, _ = _profile(first)
    positions = {p.headcount: p for p in JobPosition.objects.filter(occupation=hand_worked)}

    # One company changes its answers, then another: two changes since the published profile,
    # though each edition is one company apart from the one before.
    for headcount in (10, 20):
        position = positions[headcount]
        position.rc, position.nra = 70, 10
        position.save()
        edition = _edition()
        frozen, score = _profile(edition)
        np.testing.assert_array_equal(frozen, s1)
        assert score.field_basis_id == first.pk

    # The third change: three companies since the profile first published — the minimum.
    position = positions[30]
    position.rc, position.nra = 70, 10
    position.save()
    third = _edition()
    s3, score3 = _profile(third)
    assert score3.field_basis is None and score3.field_companies == 4
    assert third.audit["editions"]["field_frozen"]["frozen"] == 0
    # The new blend, worked by hand: field RC = (10·70 + 20·70 + 30·70 + 5·50) / 65 = 4450/65,
    # blended RC = (4 · 4450/6500 + 5 · .6) / 9.
    assert s3[0] == pytest.approx((4 * 4450 / 6500 + 5 * 0.6) / 9)


@pytest.mark.django_db
def test_an_edition_of_another_lens_freezes_the_profile_too(hand_worked):
    """The lenses share the companies' answers: an edition of the generative-AI lens is a
    basis like any other."""
    first = _edition(Lens.GENAI)
    _new_company(hand_worked)
    second = _edition(Lens.DEFAULT)
    _, score = _profile(second)
    assert score.field_basis_id == first.pk
    fields = [getattr(OccupationScore.objects.get(run=first, occupation_id="M1607"), f"field_{c}") for c in CATEGORIES]
    assert [getattr(score, f"field_{c}") for c in CATEGORIES] == fields


@pytest.mark.django_db
def test_an_internal_run_is_no_basis(hand_worked):
    """Only what was published is frozen against: a recomputation nobody read is not."""
    services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    _new_company(hand_worked)
    edition = _edition()
    _, score = _profile(edition)
    assert score.field_basis is None and score.field_companies == 5
    assert edition.audit["editions"]["field_frozen"]["frozen"] == 0


@pytest.mark.django_db
def test_the_occupation_page_says_which_edition_the_field_profile_comes_from(client, analyst, hand_worked):
    first = _edition()
    _new_company(hand_worked)
    second = _edition()
    client.force_login(analyst)
    page = client.get(reverse("observatory:occupation", args=["M1607"])).content.decode()
    assert second.is_current
    published = timezone.localtime(first.published_at).strftime("%d/%m/%Y")
    assert f"celui que 4 entreprises ont déclaré, tel que publié le {published}" in page
    assert "<em>n</em> = 4 entreprises déclarantes" in page


def test_the_blend_names_its_companies_only_from_the_minimum():
    """The n of the formula on the occupation page comes through the read layer: the
    companies behind the profile (the kept edition's when frozen), never a count below the
    minimum."""
    from types import SimpleNamespace

    from observatory.published import blend_companies

    assert blend_companies(SimpleNamespace(n_companies=5, field_companies=4), min_companies=3) == 4
    assert blend_companies(SimpleNamespace(n_companies=4, field_companies=None), min_companies=3) == 4
    assert blend_companies(SimpleNamespace(n_companies=2, field_companies=2), min_companies=3) is None
    assert blend_companies(SimpleNamespace(n_companies=4, field_companies=4), min_companies=5) is None
    assert blend_companies(SimpleNamespace(n_companies=0, field_companies=0), min_companies=3) == 0
