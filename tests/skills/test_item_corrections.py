"""People's corrections of the lexicon's classification of ROME savoir-faire: who may open the
pages, the list with its search, filter and order, an item's page and its form, and what a
correction changes in the shares the profiles read (`item_links_frame`)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from companies.models import CompanyMembership
from skills.models import ItemOverride, OccupationItem, RomeItem
from skills.selectors import item_links_frame, skill_items
from skills.services import item_override_create
from tests.companies.factories import CompanyFactory
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("observatory:items")
ENTRY = "124075"  # « Saisir des documents »
ENTRY_URL = reverse("observatory:item", args=[ENTRY])
CORRECTION = {
    "rc": "70",
    "rm": "0",
    "nra": "30",
    "nri": "0",
    "nrm": "0",
    "reason": "Saisie et contrôle",
    "action": "override",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    return unescape(response.content.decode())


def shares_in_force(code: str) -> dict[str, float]:
    links = item_links_frame()
    row = links[links["item"] == code].iloc[0]
    return {c: row[c] for c in ("rc", "rm", "nra", "nri", "nrm")}


@pytest.fixture
def company_member(db):
    user = get_user_model().objects.create_user(username="membre@atelier.example", password="Beffroi-Arras-2026")
    CompanyMembership.objects.create(
        user=user, company=CompanyFactory(), role=CompanyMembership.Role.OWNER, status=CompanyMembership.Status.ACTIVE
    )
    return user


@pytest.fixture
def items(db):
    """Four savoir-faire, one of each status once `corrected` is overridden, and a work context
    (never listed): « Saisir » on three fiches, « Conseiller » on two, the others on one."""
    fiches = [OccupationFactory(code=code) for code in ("M1601", "M1602", "M1607")]
    entry = RomeItem.objects.create(
        code=ENTRY,
        kind=RomeItem.Kind.SKILL,
        label="Saisir des documents",
        rule="verbe:saisir",
        rc=1,
        rm=0,
        nra=0,
        nri=0,
        nrm=0,
    )
    advise = RomeItem.objects.create(
        code="100002",
        kind=RomeItem.Kind.SKILL,
        label="Conseiller un client",
        rule="verbe:conseiller",
        rc=0,
        rm=0,
        nra=0,
        nri=1,
        nrm=0,
    )
    conduct = RomeItem.objects.create(
        code="100003", kind=RomeItem.Kind.SKILL, label="Respecter les règles d'hygiène", rule="hors_tache:respecter"
    )
    corrected = RomeItem.objects.create(code="100004", kind=RomeItem.Kind.SKILL, label="Élaborer un plan de formation")
    unmatched = RomeItem.objects.create(code="100005", kind=RomeItem.Kind.SKILL, label="Orchestrer des sessions")
    context = RomeItem.objects.create(
        code="200001", kind=RomeItem.Kind.CONTEXT, label="Travail répétitif ou cadence imposée", rule="repetitif"
    )
    links = [(fiche, entry) for fiche in fiches] + [(fiches[0], advise), (fiches[1], advise)]
    links += [(fiches[0], conduct), (fiches[0], corrected), (fiches[2], unmatched), (fiches[0], context)]
    OccupationItem.objects.bulk_create(OccupationItem(occupation=fiche, item=item) for fiche, item in links)
    return {"entry": entry, "advise": advise, "conduct": conduct, "corrected": corrected, "unmatched": unmatched}


@pytest.fixture
def corrected(items, analyst):
    item_override_create(
        item=items["corrected"],
        shares={"rc": 0, "rm": 0, "nra": 1, "nri": 0, "nrm": 0},
        user=analyst,
        reason="Concevoir un plan : analytique",
    )
    return items["corrected"]


# --- Access -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, items):
    for url in (LIST, ENTRY_URL):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    response = client.post(ENTRY_URL, CORRECTION)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not ItemOverride.objects.exists()


def test_company_members_and_people_without_a_role_are_refused(items, company_member, plain_user):
    for user in (company_member, plain_user):
        client = logged_in(user)
        assert client.get(LIST).status_code == 403
        assert client.get(ENTRY_URL).status_code == 403
        assert client.post(ENTRY_URL, CORRECTION).status_code == 403
    assert not ItemOverride.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "curator", "superuser"])
def test_analysts_curators_and_superusers_correct_an_item(request, items, role):
    user = request.getfixturevalue(role)
    client = logged_in(user)
    assert client.get(LIST).status_code == 200
    assert client.get(ENTRY_URL).status_code == 200
    response = client.post(ENTRY_URL, CORRECTION)
    assert response.status_code == 302 and response["Location"] == ENTRY_URL
    override = ItemOverride.objects.get()
    assert override.created_by == user and override.item_id == ENTRY


def test_curators_see_the_curation_tabs_and_analysts_do_not(items, analyst, curator):
    assert "Classement ROME" in page_text(logged_in(curator).get(LIST))
    assert "Entreprises et diagnostics" not in page_text(logged_in(analyst).get(LIST))


def test_a_context_or_an_unknown_code_has_no_page(items, analyst):
    client = logged_in(analyst)
    assert client.get(reverse("observatory:item", args=["200001"])).status_code == 404
    assert client.get(reverse("observatory:item", args=["999999"])).status_code == 404


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_savoir_faire_most_linked_first_with_their_fiches(items, corrected, analyst):
    response = logged_in(analyst).get(LIST)
    listed = list(response.context["page"])
    assert [item.code for item in listed][:2] == [ENTRY, "100002"]
    assert [item.links for item in listed][:2] == [3, 2]
    assert "200001" not in {item.code for item in listed}  # contexts are not savoir-faire
    # Each rule in plain French.
    assert "hors tâche (« respecter »)" in response.content.decode()
    statuses = {item.code: item.status for item in listed}
    assert statuses == {
        ENTRY: "classe",
        "100002": "classe",
        "100003": "hors_tache",
        "100004": "corrige",
        "100005": "non_classe",
    }
    text = page_text(response)
    assert "Saisir des documents" in text and "Corrigé par une personne" in text and "Hors tâche" in text


def test_the_search_ignores_accents_and_case(items, analyst):
    client = logged_in(analyst)
    for query in ("elaborer", "ÉLABORER", "plan de formation"):
        listed = list(client.get(LIST, {"q": query}).context["page"])
        assert [item.code for item in listed] == ["100004"], query
    assert list(client.get(LIST, {"q": "regles d hygiene"}).context["page"])[0].code == "100003"


@pytest.mark.parametrize(
    "status, codes",
    [("classe", [ENTRY, "100002"]), ("corrige", ["100004"]), ("hors_tache", ["100003"]), ("non_classe", ["100005"])],
)
def test_the_list_filters_by_status(items, corrected, analyst, status, codes):
    listed = list(logged_in(analyst).get(LIST, {"statut": status}).context["page"])
    assert [item.code for item in listed] == codes


def test_an_item_handed_back_is_read_from_its_rule_again(items, corrected, analyst):
    item_override_create(item=corrected, shares=None, user=analyst, reason="Retour au lexique")
    assert {item.code for item in skill_items(status="non_classe")} == {"100004", "100005"}
    assert not skill_items(status="corrige").exists()


def test_the_list_is_paginated(items, analyst):
    RomeItem.objects.bulk_create(
        RomeItem(code=f"3{n:05d}", kind=RomeItem.Kind.SKILL, label=f"Savoir-faire {n:02d}") for n in range(60)
    )
    client = logged_in(analyst)
    first = client.get(LIST)
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 65
    assert "page=2" in page_text(first)
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"]) == 15


# --- An item's page and its form ------------------------------------------------------------------


def test_the_item_page_shows_the_lexicon_and_the_history(items, corrected, analyst, curator):
    item_override_create(
        item=corrected,
        shares={"rc": 0, "rm": 0, "nra": 0.5, "nri": 0.5, "nrm": 0},
        user=curator,
        reason="Un plan de formation se discute",
    )
    response = logged_in(analyst).get(reverse("observatory:item", args=["100004"]))
    text = page_text(response)
    assert "Élaborer un plan de formation" in text
    assert "Aucune règle du lexique ne reconnaît ce libellé" in text
    # Newest first, with who, the shares and the reason.
    assert text.index("Un plan de formation se discute") < text.index("Concevoir un plan : analytique")
    assert "curateur" in text and "analyste" in text
    assert "NRA 50,0\u00a0%" in text and "NRA 100,0\u00a0%" in text
    # The form starts from the shares in force.
    form = response.context["form"]
    assert form["nra"].value() == "50" and form["nri"].value() == "50"
    assert "Rendre au lexique" in text


def test_the_item_page_shows_the_lexicon_shares_and_rule(items, analyst):
    text = page_text(logged_in(analyst).get(ENTRY_URL))
    assert "verbe « saisir »" in text and "verbe:saisir" in text and "100,0\u00a0%" in text
    assert "Personne n'a encore corrigé cet élément" in text
    assert "Rendre au lexique" not in text


def test_a_correction_is_recorded_with_who_and_when_and_applies_to_the_links(items, analyst):
    before = timezone.now()
    assert shares_in_force(ENTRY)["rc"] == 1.0
    response = logged_in(analyst).post(ENTRY_URL, CORRECTION | {"rc": "70,5", "nra": "29.5"}, follow=True)
    assert "Correction enregistrée" in page_text(response)
    override = ItemOverride.objects.get()
    assert override.created_by == analyst and override.reason == "Saisie et contrôle"
    assert before - timedelta(seconds=1) <= override.created_at <= timezone.now()
    assert (override.rc, override.nra) == pytest.approx((0.705, 0.295))
    links = item_links_frame()
    rows = links[links["item"] == ENTRY]
    assert len(rows) == 3 and rows["overridden"].all()
    assert rows["rc"].tolist() == pytest.approx([0.705] * 3)
    assert rows["nra"].tolist() == pytest.approx([0.295] * 3)
    # The lexicon's own shares are untouched.
    items["entry"].refresh_from_db()
    assert (items["entry"].rc, items["entry"].rule) == (1.0, "verbe:saisir")


def test_handing_an_item_back_restores_the_lexicon(items, analyst, curator):
    logged_in(analyst).post(ENTRY_URL, CORRECTION)
    assert shares_in_force(ENTRY)["rc"] == pytest.approx(0.7)
    response = logged_in(curator).post(ENTRY_URL, {"reason": "Le lexique avait raison", "action": "clear"})
    assert response.status_code == 302
    newest = ItemOverride.objects.first()
    assert newest.clears and newest.created_by == curator
    assert ItemOverride.objects.count() == 2  # nothing is erased
    assert shares_in_force(ENTRY) == {"rc": 1.0, "rm": 0.0, "nra": 0.0, "nri": 0.0, "nrm": 0.0}
    assert not item_links_frame()["overridden"].any()


def test_handing_back_an_item_that_follows_the_lexicon_is_refused(items, analyst):
    response = logged_in(analyst).post(ENTRY_URL, {"reason": "Par erreur", "action": "clear"})
    assert response.status_code == 400
    assert "suit déjà le lexique" in page_text(response)
    assert not ItemOverride.objects.exists()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"rc": "60"}, None, "Les cinq parts font 90 % : elles doivent faire 100 %."),
        ({"rc": "80", "nri": "-10"}, "nri", "Une part ne peut pas être négative."),
        ({"rc": "soixante-dix"}, "rc", "Un nombre entre 0 et 100, sans le signe %."),
        ({"reason": ""}, "reason", "Indiquez le motif de la décision"),
    ],
)
def test_bad_input_comes_back_with_the_values_intact(items, analyst, changes, field, message):
    data = CORRECTION | {"reason": "Mon motif à garder"} | changes
    response = logged_in(analyst).post(ENTRY_URL, data)
    assert response.status_code == 400
    form = response.context["form"]
    errors = form.non_field_errors() if field is None else form.errors[field]
    assert any(message in error for error in errors)
    text = page_text(response)
    assert message in text
    for name in ("rc", "rm", "nra", "nri", "nrm"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(data[name])}"', text), name
    if data["reason"]:
        assert "Mon motif à garder" in text
    assert not ItemOverride.objects.exists()
    assert shares_in_force(ENTRY)["rc"] == 1.0


# --- Admin ------------------------------------------------------------------------------------


def test_the_admin_lists_items_by_status_and_the_history_read_only(items, corrected, superuser):
    client = logged_in(superuser)
    response = client.get(reverse("admin:skills_romeitem_changelist"), {"statut": "corrige"})
    assert response.status_code == 200
    assert [item.code for item in response.context["cl"].result_list] == ["100004"]
    assert client.get(reverse("admin:skills_romeitem_changelist"), {"q": "saisir"}).status_code == 200
    assert client.get(reverse("admin:skills_romeitem_change", args=[ENTRY])).status_code == 200
    history = client.get(reverse("admin:skills_itemoverride_changelist"))
    assert history.status_code == 200 and "Élaborer un plan de formation" in page_text(history)
    assert client.get(reverse("admin:skills_itemoverride_add")).status_code == 403
    override = ItemOverride.objects.get()
    assert (
        client.post(reverse("admin:skills_itemoverride_delete", args=[override.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ItemOverride.objects.count() == 1
