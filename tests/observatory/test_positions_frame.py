"""The positions a run reads (`positions_frame`): each position with the codes of its four
dimensions, looked up from the ids of its fiche, sector and commune."""

import pytest

from companies.models import Territory
from observatory.selectors import positions_frame
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
