"""The positions a run reads (`positions_frame`): each position with the codes of its four
dimensions, looked up from the ids of its fiche, sector and commune."""

import pyarrow as pa
import pytest
from django.db import connection

from companies.models import JobPosition, Territory
from observatory.selectors import inputs, positions_frame
from skills.models import Occupation
from tests.companies.factories import (
    CommuneFactory,
    DepartementFactory,
    EstablishmentFactory,
    JobPositionFactory,
    RegionFactory,
    SectionFactory,
    SousClasseFactory,
)
from tests.skills.factories import OccupationFactory


@pytest.mark.django_db
def test_each_position_gets_the_codes_of_its_nodes():
    nord = DepartementFactory(code="59", name="Nord", parent=RegionFactory(code="32"))
    bretagne = RegionFactory(code="53", name="Bretagne")
    finistere = DepartementFactory(code="29", name="Finistère", parent=bretagne)
    metropole = Territory.objects.create(level=Territory.Level.EPCI, code="200093201", name="Métropole")
    lille = CommuneFactory(code="59350", name="Lille", parent=nord, epci=metropole)
    brest = CommuneFactory(code="29019", name="Brest", parent=finistere)  # in no EPCI
    software = SousClasseFactory(code="62.01Z", parent=SectionFactory(code="J"))
    bakery = SousClasseFactory(code="10.71C", parent=SectionFactory(code="C"))
    secretary = OccupationFactory(code="M1607")
    loose = Occupation.objects.create(code="Z9999", level=Occupation.Level.FICHE, label="Sans domaine")
    in_lille = EstablishmentFactory(commune=lille, sector=software, size_band="10-49")
    in_brest = EstablishmentFactory(commune=brest, sector=bakery, size_band="0-9")
    first = JobPositionFactory(establishment=in_lille, occupation=secretary, headcount=7)
    second = JobPositionFactory(establishment=in_brest, occupation=loose, headcount=3, training_need=True)

    frame = positions_frame().set_index("position").sort_index()

    codes = ["occupation", "domaine", "grand_domaine", "naf_section", "naf_division", "commune", "departement"]
    codes += ["region", "epci", "size_band"]
    assert frame[codes].astype(str).values.tolist() == [
        ["M1607", "M16", "M", "J", "62", "59350", "59", "32", "200093201", "10-49"],
        # A fiche outside any domaine takes its letter as grand domaine; no EPCI is "".
        ["Z9999", "", "Z", "C", "10", "29019", "29", "53", "", "0-9"],
    ]
    assert frame.index.tolist() == [first.pk, second.pk]
    assert frame["headcount"].tolist() == [7, 3]
    assert frame["training_need"].tolist() == [first.training_need, True]
    assert frame["company"].tolist() == [in_lille.company_id, in_brest.company_id]
    assert frame["establishment"].tolist() == [in_lille.pk, in_brest.pk]
    assert not frame["diagnostic"].any()
    assert all(frame[column].dtype == "category" for column in codes)


@pytest.mark.django_db
def test_no_position_gives_an_empty_frame_of_the_same_columns():
    OccupationFactory(code="M1607")

    frame = positions_frame()

    assert frame.empty
    assert list(frame.columns) == [
        *["position", "company", "establishment", "headcount", "training_need"],
        *["rc", "rm", "nra", "nri", "nrm", "occupation", "size_band", "domaine", "grand_domaine"],
        *["naf_division", "naf_section", "commune", "departement", "region", "epci", "diagnostic"],
    ]
    assert frame["headcount"].dtype == "int32" and frame["training_need"].dtype == bool


def _many_positions(count: int) -> None:
    """`count` positions in one establishment, written in one statement."""
    establishment = EstablishmentFactory()
    occupation = OccupationFactory(code="M1607")
    JobPosition.objects.bulk_create(
        JobPositionFactory.build(establishment=establishment, occupation=occupation, headcount=1 + i % 50)
        for i in range(count)
    )


@pytest.mark.django_db
def test_positions_streamed_in_many_blocks_are_all_read():
    _many_positions(30_000)  # about 1.5 MB of CSV: several blocks of the pipe and of Arrow

    frame = positions_frame()

    assert len(frame) == 30_000
    assert frame["headcount"].sum() == sum(1 + i % 50 for i in range(30_000))
    assert frame["position"].is_unique


@pytest.mark.django_db
def test_a_parse_that_fails_midway_is_raised_and_leaves_the_connection_usable(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): only PostgreSQL streams the positions")
    _many_positions(30_000)
    # The « t »/« f » of training_need read as integers: Arrow stops at the first block.
    monkeypatch.setitem(inputs._POSITION_TYPES, "training_need", pa.int8())

    with pytest.raises(pa.ArrowInvalid, match="invalid value 'f'"):
        positions_frame()

    assert JobPosition.objects.count() == 30_000  # the stream was ended, not left half read
