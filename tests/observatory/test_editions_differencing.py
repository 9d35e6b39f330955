"""Two editions whose difference would be one company: the cells it changed are withheld.

The attack: a reader subtracts two editions cell by cell; where only one company changed,
the difference is its own headcount."""

import importlib

import numpy as np
import pandas as pd
import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils.html import escape

from companies.models import JobPosition, Territory
from observatory import editions, services
from observatory.analysis import differencing
from observatory.analysis.secrecy import primary_secrecy
from observatory.models import GridCell, GridRun, GridRunInput, Lens
from tests.companies.factories import EstablishmentFactory, JobPositionFactory

# Three companies in the Nord (10, 20 and 30 employees on M1607), one in the Pas-de-Calais (5).


@pytest.fixture
def six_companies(hand_worked):
    """The hand-worked case with two more companies in the Pas-de-Calais (6 and 7 employees):
    both départements and the région are published."""
    arras = Territory.objects.get(code="62041")
    shares = {"rc": 50, "rm": 0, "nra": 30, "nri": 20, "nrm": 0}
    for headcount in (6, 7):
        JobPositionFactory(
            establishment=EstablishmentFactory(commune=arras), occupation=hand_worked, headcount=headcount, **shares
        )
    return hand_worked


COORDINATES = list(differencing.COORDINATES)


def _positions(rows):
    frame = pd.DataFrame(
        rows, columns=["company", "establishment", "headcount", "occupation", "departement", "size_band"]
    )
    frame["training_need"] = False
    frame["diagnostic"] = True
    frame["naf_division"] = "62"
    frame["epci"] = ""
    return frame


def test_a_company_whose_positions_moved_is_changed_and_the_order_of_rows_is_not():
    before = _positions(
        [(1, 10, 5, "M1607", "59", "0-9"), (2, 20, 7, "M1607", "59", "0-9"), (3, 30, 9, "A", "62", "10-49")]
    )
    # Same rows in another order for companies 1 and 3; company 2 gains two employees; 4 is new.
    after = _positions(
        [
            (3, 30, 9, "A", "62", "10-49"),
            (2, 20, 9, "M1607", "59", "0-9"),
            (1, 10, 5, "M1607", "59", "0-9"),
            (4, 40, 1, "A", "59", "0-9"),
        ]
    )
    assert sorted(differencing.changed_companies(before, after)) == [2, 4]
    # A company gone is a change too.
    assert sorted(differencing.changed_companies(after, before)) == [2, 4]
    # From no position at all, every company is a change.
    assert sorted(differencing.changed_companies(after.iloc[:0], after)) == [1, 2, 3, 4]


def _cell(**figures):
    cell = {"territory_level": "departement", "territory_code": "59", "sector_level": "all", "sector_code": ""}
    cell |= {"occupation_level": "fiche", "occupation_code": "M1607", "size_band": "all"}
    cell |= {"employees": 60, "companies": 3, "establishments": 3, "max_company_employees": 30}
    return cell | figures


def test_withheld_cells_on_a_built_case():
    """Four cells published before and not secret now:
    - 59 changed by one company (60 → 65 employees): withheld;
    - 62 changed by three companies: published;
    - 80 unchanged figures though one company is counted as changed (it moved elsewhere): published;
    - 02 was secret in the old edition: its difference is not exact, published."""
    cells = pd.DataFrame(
        [
            _cell(employees=65),
            _cell(territory_code="62", employees=90),
            _cell(territory_code="80"),
            _cell(territory_code="02", employees=70),
        ]
    )
    cells = primary_secrecy(cells)
    before = pd.DataFrame([_cell(), _cell(territory_code="62"), _cell(territory_code="80")])
    changed = pd.DataFrame(
        [_cell(), _cell(territory_code="62"), _cell(territory_code="80"), _cell(territory_code="02")]
    )
    changed["changed"] = [1, 3, 1, 1]
    withheld = differencing.withheld_cells(cells, before, changed[[*COORDINATES, "changed"]], min_companies=3)
    assert withheld.tolist() == [True, False, False, False]
    # With a minimum of 4 companies, three changed companies are too few as well.
    withheld = differencing.withheld_cells(cells, before, changed[[*COORDINATES, "changed"]], min_companies=4)
    assert withheld.tolist() == [True, True, False, False]


def test_a_cell_secret_by_its_own_rule_is_not_withheld_again():
    cells = primary_secrecy(pd.DataFrame([_cell(employees=65, companies=2)]))
    before = pd.DataFrame([_cell()])
    changed = pd.DataFrame([_cell()])
    changed["changed"] = 1
    assert differencing.withheld_cells(
        cells, before, changed[[*COORDINATES, "changed"]], min_companies=3
    ).tolist() == [False]
    assert cells["secret_reason"].tolist() == ["companies"]


def test_positions_are_stored_without_pickle_and_read_back_equal():
    frame = _positions([(1, 10, 5, "M1607", "59", "0-9"), (2, 20, 7, None, "62", "10-49")])
    for column in ("occupation", "departement", "size_band", "naf_division", "epci"):
        frame[column] = frame[column].astype("category")
    back = differencing.frame_from_bytes(differencing.frame_to_bytes(frame))
    pd.testing.assert_frame_equal(back[frame.columns], frame, check_categorical=False)
    assert back["occupation"].isna().tolist() == [False, True]


def test_an_empty_position_set_is_stored_too():
    frame = _positions([]).astype({"occupation": object, "epci": object})
    back = differencing.frame_from_bytes(differencing.frame_to_bytes(frame))
    assert len(back) == 0 and set(back.columns) == set(frame.columns)


def test_a_stored_pickle_is_refused():
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **{"values:company": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(ValueError, match="pickle"):
        differencing.frame_from_bytes(buffer.getvalue())


def _edition(lens=Lens.DEFAULT):
    return services.grid_run_compute(services.grid_run_create(lens=lens).pk)


def _published(run):
    return {
        tuple(cell[c] for c in COORDINATES): cell
        for cell in GridCell.objects.filter(run=run, secret=False).values(*COORDINATES, "employees", "companies")
    }


@pytest.mark.django_db
def test_two_editions_one_company_apart_reveal_nothing_by_subtraction(six_companies):
    first = _edition()
    assert first.is_current
    nord_cell = next(
        cell
        for key, cell in _published(first).items()
        if key[:2] == ("departement", "59") and key[4:] == ("fiche", "M1607", "all")
    )
    assert nord_cell["employees"] == 60 and nord_cell["companies"] == 3

    # One company of the Nord declares 5 more employees.
    position = JobPosition.objects.get(headcount=10)
    position.headcount = 15
    position.save()
    second = _edition()
    assert second.is_current and second.status == GridRun.Status.READY

    # The attack: every cell both editions publish, subtracted.
    before, after = _published(first), _published(second)
    differences = {key: after[key]["employees"] - before[key]["employees"] for key in before.keys() & after.keys()}
    assert {key: d for key, d in differences.items() if d} == {}
    # The Nord's cell was withheld for it, and the audit protected it like any secret.
    withheld = GridCell.objects.get(
        run=second,
        territory_level="departement",
        territory_code="59",
        sector_level="all",
        occupation_level="fiche",
        occupation_code="M1607",
        size_band="all",
    )
    assert withheld.secret and withheld.secret_reason == "edition" and withheld.employees == 65
    assert second.audit["passed"] and second.audit["editions"]["withheld"] >= 1
    assert second.audit["editions"]["compared_with"][0]["run"] == first.pk


@pytest.mark.django_db
def test_an_edition_stored_with_an_unknown_epci_named_inconnu_is_renamed_and_matched(six_companies):
    # An edition computed when the unknown EPCI of the région was stored as « inconnu ».
    first = _edition()
    assert GridCell.objects.filter(run=first, territory_code="inconnu-32").update(territory_code="inconnu") > 0
    epci = {"territory_level": "epci", "sector_level": "all", "occupation_level": "fiche", "size_band": "all"}
    old = GridCell.objects.get(run=first, territory_code="inconnu", occupation_code="M1607", **epci)
    assert not old.secret and old.employees == 78  # 10 + 20 + 30 + 5 + 6 + 7

    # The migration gives it the name a run gives it now.
    migration = importlib.import_module("observatory.migrations.0020_gridcell_name_stored_unknown_territories")
    migration.name_unknown_territories(django_apps, None)
    assert not GridCell.objects.filter(run=first, territory_code="inconnu").exists()
    old.refresh_from_db()
    assert old.territory_code == "inconnu-32"

    position = JobPosition.objects.get(headcount=10)
    position.headcount = 15
    position.save()
    second = _edition()

    # Compared under one name: one company moved the cell, so it is withheld.
    new = GridCell.objects.get(run=second, territory_code="inconnu-32", occupation_code="M1607", **epci)
    assert new.employees == 83
    assert new.secret and new.secret_reason == "edition"


@pytest.mark.django_db
def test_when_enough_companies_changed_the_cell_is_published_again(six_companies):
    first = _edition()
    # The three companies of the Nord each change: three contributors, the minimum.
    for position in JobPosition.objects.filter(establishment__commune__code="59350"):
        position.headcount += 1
        position.save()
    second = _edition()
    nord = GridCell.objects.get(
        run=second,
        territory_level="departement",
        territory_code="59",
        sector_level="all",
        occupation_level="fiche",
        occupation_code="M1607",
        size_band="all",
    )
    assert not nord.secret and nord.employees == 63
    assert second.audit["editions"]["compared_with"] == [{"run": first.pk, "withheld": 0}]


@pytest.mark.django_db
def test_every_lens_is_compared_the_employees_are_the_same_figures(six_companies):
    """An edition of another lens publishes the same employees: it is compared too."""
    first = _edition(Lens.GENAI)
    position = JobPosition.objects.get(headcount=10)
    position.headcount = 15
    position.save()
    second = _edition(Lens.DEFAULT)
    assert second.audit["editions"]["compared_with"][0]["run"] == first.pk
    assert second.audit["editions"]["withheld"] >= 1


@pytest.mark.django_db
def test_an_internal_run_older_than_an_edition_of_other_data_cannot_be_published(client, analyst, hand_worked):
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    assert internal.is_internal
    position = JobPosition.objects.get(headcount=10)
    position.headcount = 15
    position.save()
    newer = _edition(Lens.GENAI)
    assert newer.is_current
    client.force_login(analyst)
    response = client.post(reverse("observatory:run_publish", args=[internal.pk]), follow=True)
    internal.refresh_from_db()
    assert internal.published_at is None
    assert escape(editions.NOT_COMPARED) in response.content.decode()


@pytest.mark.django_db
def test_an_internal_run_of_the_same_data_as_a_later_edition_can_be_published(hand_worked):
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    _edition(Lens.GENAI)
    assert editions.publication_refusal(internal) == ""
    services.grid_run_publish(run=internal, user=None)
    internal.refresh_from_db()
    assert internal.is_current


@pytest.mark.django_db
def test_inputs_are_kept_for_editions_and_pruned_for_runs_that_can_no_longer_be_published(hand_worked):
    internal = services.grid_run_compute(services.grid_run_create(trigger="auto").pk)
    edition = _edition(Lens.GENAI)
    assert GridRunInput.objects.filter(run=internal).exists()
    assert editions.prune_inputs() == 1
    assert list(GridRunInput.objects.values_list("run", flat=True)) == [edition.pk]
    assert GridRunInput.objects.get(run=edition).companies == 4


@pytest.mark.django_db
def test_the_runs_page_says_what_the_comparison_withheld(client, analyst, six_companies):
    _edition()
    position = JobPosition.objects.get(headcount=10)
    position.headcount = 15
    position.save()
    second = _edition()
    client.force_login(analyst)
    page = client.get(reverse("observatory:runs")).content.decode()
    withheld = second.audit["editions"]["withheld"]
    assert f"Comparé à 1 édition publiée : {withheld} cellules retenues" in page
