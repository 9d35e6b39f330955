import datetime
import io
from decimal import Decimal

import pytest
from defusedxml import ElementTree
from django.core.management import CommandError, call_command

from tests.companies.factories import CommuneFactory, DepartementFactory
from tests.skills.factories import CertificationFactory, OccupationFactory, SkillBlockFactory
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory
from trainings.exporters.lheo import export_lheo, validate_lheo
from trainings.importers.lheo import import_lheo
from trainings.models import CurationStatus, Provider, Session, TrainingOffer

pytestmark = pytest.mark.django_db

NS = {"l": "http://lheo.gouv.fr/2.3"}


@pytest.fixture
def xsd(shared_data):
    return shared_data / "lheo" / "lheo-2.3.xsd"


@pytest.fixture
def catalogue():
    """Offers of every shape the export must handle."""
    lille = CommuneFactory(code="59350", name="Lille")
    arras = CommuneFactory(code="62041", name="Arras", parent=DepartementFactory(code="62", name="Pas-de-Calais"))
    certification = CertificationFactory(code="RNCP37827", title="Data analyst")
    SkillBlockFactory(certification=certification, code="RNCP37827BC01")
    provider = ProviderFactory(
        siret="78901234500011",
        name="Institut numérique des Flandres",
        nda="32590123456",
        address="12 rue de la Donnée\n59000 Lille",
        commune=lille,
        website="https://inf-flandres.example",
        contact_name="Claire Durand",
        contact_email="contact@inf-flandres.example",
        contact_phone="03 20 00 00 01",
    )
    data = TrainingOfferFactory(
        title="Analyste de données",
        objectives="Préparer les données.\n- Nettoyer\n- Visualiser",
        content="Statistiques & SQL < 3 mois",
        provider=provider,
        lheo_number="HDF-2026-001",
        certification=certification,
        formacodes=["31025", "31094"],
        modality=TrainingOffer.Modality.BLENDED,
        duration_hours=399,
        price=Decimal("4950.00"),
        cpf_eligible=True,
        url="https://inf-flandres.example/analyste",
    )
    data.occupations.set([OccupationFactory(code="M1403"), OccupationFactory(code="M1805")])
    data.skill_blocks.set(certification.skill_blocks.all())
    SessionFactory(
        offer=data,
        lheo_number="S1",
        start=datetime.date(2026, 9, 14),
        end=datetime.date(2027, 3, 15),
        commune=lille,
        places_left=None,
    )
    SessionFactory(
        offer=data, lheo_number="S2", start=datetime.date(2026, 10, 5), end=None, commune=arras, places_left=None
    )
    SessionFactory(offer=data, lheo_number="", start=None, end=None, commune=None, places_left=8)

    # No LHEO number, no session, a provider without postcode in its address.
    bare_provider = ProviderFactory(
        siret="41205678900016", name="CF Aisne", nda="", address="Zone artisanale", commune=None
    )
    bare = TrainingOfferFactory(
        title="Bureautique", objectives="", provider=bare_provider, lheo_number="", price=Decimal("890.50")
    )
    draft = TrainingOfferFactory(title="Brouillon", provider=provider, lheo_number="HDF-DRAFT", status="draft")
    return {"data": data, "bare": bare, "draft": draft, "lille": lille, "arras": arras}


def _parse(xml):
    return ElementTree.fromstring(xml)


def test_export_writes_published_offers_field_by_field(catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        xml = export_lheo()

    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<lheo xmlns=\"http://lheo.gouv.fr/2.3\">")
    root = _parse(xml)
    numbers = [f.get("numero") for f in root.findall("l:offres/l:formation", NS)]
    assert numbers == ["HDF-2026-001", f"OIAHDF-{catalogue['bare'].pk}"]  # the draft is left out

    formation = root.find("l:offres/l:formation", NS)
    text = lambda path, element=formation: element.findtext(path, namespaces=NS)  # noqa: E731
    assert [e.text for e in formation.findall("l:domaine-formation/l:code-FORMACODE", NS)] == ["31025", "31094"]
    assert [e.text for e in formation.findall("l:domaine-formation/l:code-ROME", NS)] == ["M1403", "M1805"]
    assert text("l:intitule-formation") == "Analyste de données"
    assert text("l:objectif-formation") == "Préparer les données.\n- Nettoyer\n- Visualiser"
    assert text("l:contenu-formation") == "Statistiques & SQL < 3 mois"
    assert b"Statistiques &amp; SQL &lt; 3 mois" in xml
    assert text("l:certifiante") == "1"
    assert text("l:certification/l:code-RNCP") == "RNCP37827"
    assert text("l:url-formation/l:urlweb") == "https://inf-flandres.example/analyste"
    # One action per commune of the sessions, in date order; the one without commune last.
    actions = formation.findall("l:action", NS)
    assert [text("l:lieu-de-formation/l:coordonnees/l:adresse/l:code-INSEE-commune", a) for a in actions] == [
        "59350",
        "62041",
        None,
    ]
    assert {text("l:modalites-enseignement", a) for a in actions} == {"1"}
    assert {text("l:prix-total-TTC", a) for a in actions} == {"4950"}
    assert {text("l:nombre-heures-total", a) for a in actions} == {"399"}
    sessions = [
        (
            s.get("numero"),
            text("l:periode/l:debut", s),
            text("l:periode/l:fin", s),
            text("l:recrutement/l:nb-places", s),
        )
        for a in actions
        for s in a.findall("l:session", NS)
    ]
    assert sessions == [
        ("S1", "20260914", "20270315", None),
        ("S2", "20261005", "00000000", None),
        (None, "00000000", "00000000", "8"),
    ]
    registration = actions[0].find("l:session/l:adresse-inscription/l:adresse", NS)
    assert [e.text for e in registration.findall("l:ligne", NS)] == ["12 rue de la Donnée"]
    assert (text("l:codepostal", registration), text("l:ville", registration)) == ("59000", "Lille")

    responsible = formation.find("l:organisme-formation-responsable", NS)
    assert text("l:numero-activite", responsible) == "32590123456"
    assert text("l:SIRET-organisme-formation/l:SIRET", responsible) == "78901234500011"
    assert text("l:raison-sociale", responsible) == "Institut numérique des Flandres"
    assert text("l:coordonnees-organisme/l:coordonnees/l:web/l:urlweb", responsible) == "https://inf-flandres.example"
    assert text("l:contact-organisme/l:coordonnees/l:nom", responsible) == "Claire Durand"
    assert text("l:contact-organisme/l:coordonnees/l:courriel", responsible) == "contact@inf-flandres.example"
    extra = formation.find("l:extras/l:extra", NS)
    assert (extra.get("info"), extra.text) == ("eligibilite-cpf", "1")

    bare = root.findall("l:offres/l:formation", NS)[1]
    assert text("l:objectif-formation", bare) == "-"
    assert text("l:certifiante", bare) == "0"
    assert text("l:action/l:prix-total-TTC", bare) == "890.50"
    # LHEO wants a session per action: an unknown period stands for « no dated session ».
    assert [text("l:periode/l:debut", s) for s in bare.findall("l:action/l:session", NS)] == ["00000000"]
    assert text("l:organisme-formation-responsable/l:numero-activite", bare) == "00000000000"
    lines = bare.findall("l:organisme-formation-responsable/l:coordonnees-organisme/l:coordonnees/l:ligne", NS)
    assert [e.text for e in lines] == ["Zone artisanale"]
    assert bare.find("l:extras", NS) is None


def test_export_of_a_chosen_queryset(catalogue):
    root = _parse(export_lheo(TrainingOffer.objects.filter(status="draft")))
    assert [f.get("numero") for f in root.findall("l:offres/l:formation", NS)] == ["HDF-DRAFT"]


def test_import_of_the_export_changes_nothing(catalogue):
    before = (
        TrainingOffer.objects.count(),
        Session.objects.count(),
        Provider.objects.count(),
        list(Session.objects.order_by("pk").values_list("pk", flat=True)),
    )
    offers_report, providers_report = import_lheo(io.BytesIO(export_lheo()))

    assert (offers_report.created, offers_report.updated, offers_report.unchanged) == (0, 0, 2)
    assert (providers_report.created, providers_report.updated, providers_report.unchanged) == (0, 0, 2)
    after = (
        TrainingOffer.objects.count(),
        Session.objects.count(),
        Provider.objects.count(),
        list(Session.objects.order_by("pk").values_list("pk", flat=True)),
    )
    assert after == before
    assert TrainingOffer.objects.get(pk=catalogue["bare"].pk).lheo_number == ""
    assert set(TrainingOffer.objects.values_list("status", flat=True)) == {"published", "draft"}


def test_imported_file_round_trips(fixtures_dir):
    CommuneFactory(code="59350", name="Lille")
    CommuneFactory(code="59606", name="Valenciennes")
    import_lheo(fixtures_dir / "lheo" / "offres-hdf.xml")
    TrainingOffer.objects.update(status=CurationStatus.PUBLISHED)

    offers_report, providers_report = import_lheo(io.BytesIO(export_lheo()))

    assert (offers_report.created, offers_report.updated, offers_report.unchanged) == (0, 0, 3)
    assert (providers_report.updated, providers_report.unchanged) == (0, 2)
    assert set(TrainingOffer.objects.values_list("status", flat=True)) == {CurationStatus.PUBLISHED}


@pytest.mark.realdata
def test_export_is_valid_against_the_real_xsd(catalogue, xsd, fixtures_dir):
    assert validate_lheo(export_lheo(), xsd) == []
    assert validate_lheo(export_lheo(TrainingOffer.objects.all()), xsd) == []


@pytest.mark.realdata
def test_fixture_file_is_valid_lheo(xsd, fixtures_dir):
    assert validate_lheo((fixtures_dir / "lheo" / "offres-hdf.xml").read_bytes(), xsd) == []


@pytest.mark.realdata
def test_validation_names_the_problem(catalogue, xsd):
    xml = export_lheo().replace(b"<intitule-formation>Analyste de donn\xc3\xa9es</intitule-formation>", b"", 1)
    problems = validate_lheo(xml, xsd)
    assert len(problems) == 1
    assert problems[0].startswith("/lheo/offres/formation[1] : ")
    assert "intitule-formation" in problems[0]


@pytest.mark.realdata
def test_real_onisep_offer_exports_valid_and_round_trips(shared_data, xsd):
    import_lheo(shared_data / "lheo" / "exemple-bts-onisep-lheo2.2.xml")
    TrainingOffer.objects.update(status=CurationStatus.PUBLISHED)
    xml = export_lheo()
    assert validate_lheo(xml, xsd) == []
    offers_report, _ = import_lheo(io.BytesIO(xml))
    assert (offers_report.created, offers_report.updated, offers_report.unchanged) == (0, 0, 1)


# The command.


@pytest.mark.realdata
def test_command_writes_a_validated_file(catalogue, xsd, tmp_path):
    out = io.StringIO()
    target = tmp_path / "export.xml"
    call_command("export_lheo", str(target), "--xsd", str(xsd), stdout=out)
    assert out.getvalue().strip() == f"{target} : 2 offre(s) exportée(s) (validé contre le schéma XSD)"
    assert target.read_bytes() == export_lheo()


def test_command_all_statuses(catalogue, tmp_path, monkeypatch):
    monkeypatch.delenv("LHEO_XSD", raising=False)
    target = tmp_path / "export.xml"
    call_command("export_lheo", str(target), "--all-statuses", stdout=io.StringIO())
    assert len(_parse(target.read_bytes()).findall("l:offres/l:formation", NS)) == 3


@pytest.mark.realdata
def test_command_refuses_an_invalid_export(xsd, tmp_path, settings):
    # A provider without name cannot give LHEO its mandatory <nom-organisme>.
    TrainingOfferFactory(provider=ProviderFactory(name=""), lheo_number="SANS-NOM")
    settings.LHEO_XSD = str(xsd)
    target = tmp_path / "export.xml"
    with pytest.raises(CommandError, match="(?s)Export LHEO non valide .*nom-organisme"):
        call_command("export_lheo", str(target), stdout=io.StringIO())
    assert not target.exists()


def test_command_refuses_an_empty_export(tmp_path):
    with pytest.raises(CommandError, match="Aucune offre à exporter"):
        call_command("export_lheo", str(tmp_path / "vide.xml"), stdout=io.StringIO())
