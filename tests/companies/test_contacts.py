"""The directory of regional contacts: the model's checks, `contacts_for` (territory and NAF
section), the curators' pages (list, create, edit, delete; nobody else), and the demo entries."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from companies.contacts import contacts_for
from companies.demo import DEMO_CONTACTS, seed_contacts
from companies.models import RegionalContact, Territory
from tests.companies.factories import CommuneFactory, CompanyFactory, DepartementFactory, SectionFactory, make_member

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:curation_contacts")
CREATE = reverse("accounts:curation_contact_create")


def contact(name, kind=RegionalContact.Kind.OTHER, *, territories=(), sections=(), **fields):
    fields.setdefault("website", "https://www.example.fr/")
    item = RegionalContact.objects.create(name=name, kind=kind, role="Accompagne les entreprises.", **fields)
    item.territories.set(territories)
    item.sections.set(sections)
    return item


@pytest.fixture
def places():
    lille = CommuneFactory(code="59350", name="Lille")
    nord = lille.parent
    region = nord.parent
    epci = Territory.objects.create(level=Territory.Level.EPCI, code="200093201", name="Métropole Européenne de Lille")
    lille.epci = epci
    lille.save()
    amiens = CommuneFactory(code="80021", name="Amiens", parent=DepartementFactory(code="80", name="Somme"))
    return {"lille": lille, "nord": nord, "region": region, "epci": epci, "amiens": amiens}


# --- The model ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://example.fr/"}, "website"),
        ({"website": "https://exa mple.fr/"}, "website"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "03 20"}, "phone"),
        ({"phone": "appelez-nous"}, "phone"),
    ],
)
def test_a_contact_refuses_unsafe_addresses_and_wrong_numbers(fields, field):
    item = RegionalContact(name="Acteur", kind=RegionalContact.Kind.CCI, role="Conseille.", **fields)
    with pytest.raises(ValidationError) as error:
        item.full_clean()
    assert field in error.value.message_dict


def test_a_contact_needs_one_way_to_reach_it():
    item = RegionalContact(name="Acteur", kind=RegionalContact.Kind.CCI, role="Conseille.")
    with pytest.raises(ValidationError, match="au moins un moyen de contact"):
        item.full_clean()
    item.phone = "+33 3 20 12 34 56"
    item.full_clean()


# --- contacts_for ------------------------------------------------------------------------------


def test_contacts_for_a_commune_include_its_departement_region_and_epci(places, django_assert_num_queries):
    industry = SectionFactory(code="C", label="Industrie manufacturière")
    construction = SectionFactory(code="F", label="Construction")
    everywhere = contact("France Travail", RegionalContact.Kind.FRANCE_TRAVAIL)
    contact("Région Hauts-de-France", RegionalContact.Kind.REGION, territories=[places["region"]])
    contact("CCI Grand Lille", RegionalContact.Kind.CCI, territories=[places["nord"]])
    contact("Maison de l'emploi MEL", territories=[places["epci"]])
    contact("CCI Amiens-Picardie", RegionalContact.Kind.CCI, territories=[places["amiens"].parent])
    contact("OPCO 2i", RegionalContact.Kind.OPCO, sections=[industry])
    contact("Constructys", RegionalContact.Kind.OPCO, sections=[construction])
    contact("Ancien partenaire", active=False)

    with django_assert_num_queries(1):
        found = [c.name for c in contacts_for("59350", "C")]
    # The OPCO first, then the Région, France Travail, the CCI, the others; by name within.
    assert found == [
        "OPCO 2i",
        "Région Hauts-de-France",
        "France Travail",
        "CCI Grand Lille",
        "Maison de l'emploi MEL",
    ]
    assert [c.name for c in contacts_for("80021", "F")] == [
        "Constructys",
        "Région Hauts-de-France",
        "France Travail",
        "CCI Amiens-Picardie",
    ]
    assert [c.name for c in contacts_for("59", "")] == ["Région Hauts-de-France", "France Travail", "CCI Grand Lille"]
    # Without a commune nor a section: only the contacts of the whole région and every sector.
    assert list(contacts_for(None, None)) == [everywhere]


# --- The demo ----------------------------------------------------------------------------------


def test_the_demo_seeds_the_regional_actors_once(places):
    SectionFactory(code="F", label="Construction")
    seed_contacts()
    seed_contacts()
    assert RegionalContact.objects.count() == len(DEMO_CONTACTS)
    kinds = set(RegionalContact.objects.values_list("kind", flat=True))
    assert {"opco", "region", "cci", "france_travail"} <= kinds
    for item in RegionalContact.objects.all():
        item.full_clean()
    assert RegionalContact.objects.get(name="Constructys").sections.get().code == "F"
    assert [c.kind for c in contacts_for("59350", "F")][:1] == ["opco"]


# --- The curators' pages -----------------------------------------------------------------------


def test_a_curator_lists_creates_edits_and_deletes_a_contact(client, curator, places):
    industry = SectionFactory(code="C", label="Industrie manufacturière")
    client.force_login(curator)
    assert client.get(LIST).status_code == 200
    page = client.get(CREATE).content.decode()
    assert "Métropole Européenne de Lille" in page and "Lille</option>" not in page  # no commune list
    data = {
        "name": "OPCO 2i",
        "kind": "opco",
        "role": "Finance la formation des salariés des entreprises industrielles adhérentes.",
        "email": "contact@opco2i.example.fr",
        "phone": "03 20 12 34 56",
        "website": "https://www.opco2i.fr/",
        "territories": [places["nord"].pk],
        "sections": [industry.pk],
        "active": "on",
    }
    response = client.post(CREATE, data)
    assert response.status_code == 302 and response.url == LIST
    created = RegionalContact.objects.get()
    assert list(created.territories.all()) == [places["nord"]] and list(created.sections.all()) == [industry]
    listing = client.get(LIST).content.decode()
    assert "OPCO 2i" in listing and "contact@opco2i.example.fr" in listing and "Nord" in listing

    edit = reverse("accounts:curation_contact_edit", args=[created.pk])
    response = client.post(edit, {**data, "website": "javascript:alert(1)"})
    assert response.status_code == 200
    assert "commençant par http:// ou https://" in response.content.decode()
    response = client.post(edit, {**data, "name": "OPCO 2i Hauts-de-France", "territories": []})
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.name == "OPCO 2i Hauts-de-France" and not created.territories.exists()

    delete = reverse("accounts:curation_contact_delete", args=[created.pk])
    assert "Supprimer « OPCO 2i Hauts-de-France »" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not RegionalContact.objects.exists()


def test_the_curation_tabs_link_to_the_contacts(client, curator):
    client.force_login(curator)
    page = client.get(reverse("accounts:curation_companies")).content.decode()
    assert f'href="{LIST}"' in page and "Contacts régionaux" in page


@pytest.mark.parametrize("who", ["analyst", "member", "plain_user"])
def test_only_curators_reach_the_contacts_pages(client, request, who, django_user_model):
    item = contact("CCI Grand Lille", RegionalContact.Kind.CCI)
    user = make_member(CompanyFactory(), "membre") if who == "member" else request.getfixturevalue(who)
    client.force_login(user)
    urls = [
        LIST,
        CREATE,
        reverse("accounts:curation_contact_edit", args=[item.pk]),
        reverse("accounts:curation_contact_delete", args=[item.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403
    assert (
        client.post(CREATE, {"name": "Intrus", "kind": "other", "role": "x", "phone": "0320123456"}).status_code == 403
    )
    assert client.post(urls[3]).status_code == 403
    assert list(RegionalContact.objects.values_list("name", flat=True)) == ["CCI Grand Lille"]


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    item = contact("CCI Grand Lille", RegionalContact.Kind.CCI)
    for url in (LIST, CREATE, reverse("accounts:curation_contact_delete", args=[item.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url
    assert client.post(reverse("accounts:curation_contact_delete", args=[item.pk])).status_code == 302
    assert RegionalContact.objects.exists()


def test_a_refused_address_is_not_also_reported_as_missing(client, curator):
    client.force_login(curator)
    data = {"name": "CCI Grand Lille", "kind": "cci", "role": "Ateliers IA.", "website": "javascript:alert(1)"}
    page = client.post(CREATE, data).content.decode()
    assert "commençant par http:// ou https://" in page
    assert "au moins un moyen de contact" not in page
    page = client.post(CREATE, {**data, "website": ""}).content.decode()
    assert "Indiquez au moins un moyen de contact" in page
    assert not RegionalContact.objects.exists()
