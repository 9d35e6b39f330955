import pytest
from django.urls import reverse

from observatory.models import Methodology

pytestmark = pytest.mark.django_db

URL = reverse("observatory:methodology")

VALID = {
    "alpha_rc": "0.8",
    "alpha_rm": "0.5",
    "alpha_nra": "0.45",
    "alpha_nri": "0.2",
    "alpha_nrm": "0.1",
    "high_threshold": "0.7",
    "medium_threshold": "0.5",
    "prior_strength": "8",
    "secrecy_min_companies": "3",
    "secrecy_dominance": "0.85",
    "core_item_weight": "3",
    "emerging_item_weight": "1.5",
    "other_item_weight": "1",
    "profile_shrinkage": "8",
    "context_shift": "0.04",
    "transition_margin": "0.05",
    "epci_detail": "full",
    "notes": "RC revu d'après l'indice OIT 2025",
}


def test_the_method_page_shows_the_current_parameters(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Par défaut v{Methodology.objects.current('default').version}" in body
    assert "0,85" in body and "0,55" in body  # French decimals
    assert "hypothèse" in body
    response = client.get(URL, {"lens": "genai"})
    assert f"IA générative v{Methodology.objects.current('genai').version}" in response.content.decode()


def test_an_analyst_creates_a_new_version(client, analyst):
    client.force_login(analyst)
    previous = Methodology.objects.current("default")
    response = client.post(URL, VALID)
    assert response.status_code == 302
    newest = Methodology.objects.current("default")
    assert newest.version == previous.version + 1 and newest.created_by == analyst
    assert (newest.alpha_rc, newest.prior_strength) == (0.8, 8.0)
    # The profile's parameters are part of a version too.
    assert newest.profile_params() == {
        "core_weight": 3.0,
        "emerging_weight": 1.5,
        "other_weight": 1.0,
        "shrinkage": 8.0,
        "context_shift": 0.04,
    }
    assert newest.notes == VALID["notes"]
    # The previous versions are untouched.
    assert Methodology.objects.get(lens="default", version=1).alpha_rc == 0.85
    previous_values = Methodology.objects.get(pk=previous.pk)
    assert (previous_values.alpha_rc, previous_values.notes) == (previous.alpha_rc, previous.notes)


def test_invalid_parameters_come_back_with_the_answers_intact(client, analyst):
    versions = Methodology.objects.filter(lens="default").count()
    client.force_login(analyst)
    data = VALID | {
        "alpha_rc": "1.5",
        "medium_threshold": "0.9",
        "secrecy_min_companies": "2",
        "core_item_weight": "-1",
        "context_shift": "0.9",
    }
    response = client.post(URL, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "alpha_rc" in form.errors and "secrecy_min_companies" in form.errors
    assert "medium_threshold" in form.errors  # above the high threshold
    assert "core_item_weight" in form.errors and "context_shift" in form.errors
    body = response.content.decode()
    assert 'value="1.5"' in body and "RC revu d&#x27;après l&#x27;indice OIT 2025" in body
    assert Methodology.objects.filter(lens="default").count() == versions


def test_a_version_chooses_the_publication_plan_of_the_epci(client, analyst):
    client.force_login(analyst)
    assert Methodology.objects.current("default").epci_detail == "full"
    response = client.post(URL, VALID | {"epci_detail": "size"})
    assert response.status_code == 302
    newest = Methodology.objects.current("default")
    assert newest.epci_detail == "size" and newest.as_params()["epci_detail"] == "size"
    # An unknown plan is refused, the other answers kept.
    versions = Methodology.objects.filter(lens="default").count()
    response = client.post(URL, VALID | {"epci_detail": "commune", "alpha_rc": "0.75"})
    assert response.status_code == 200 and "epci_detail" in response.context["form"].errors
    assert 'value="0.75"' in response.content.decode()
    assert Methodology.objects.filter(lens="default").count() == versions


def test_only_analysts_reach_the_method_page(client, plain_user, curator):
    versions = Methodology.objects.filter(lens="default").count()
    assert client.get(URL).status_code == 302
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, VALID).status_code == 403
    assert Methodology.objects.filter(lens="default").count() == versions


def test_a_refused_user_gets_a_french_page(client, plain_user):
    client.force_login(plain_user)
    response = client.get(URL)
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_the_three_lenses_ship_the_documented_susceptibilities():
    expected = {
        "default": (0.85, 0.55, 0.45, 0.20, 0.10),
        "genai": (0.90, 0.10, 0.60, 0.25, 0.05),
        "automation": (0.80, 0.90, 0.10, 0.05, 0.20),
    }
    for lens, alphas in expected.items():
        methodology = Methodology.objects.current(lens)
        assert tuple(methodology.susceptibility.values()) == alphas
