"""Text from outside is cleaned once (observatory.middleware): NUL and other control
characters in any query parameter or form field are refused with HTTP 400, before a view or
PostgreSQL (which refuses NUL in text) sees them."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HOSTILE = ["\x00", "a\x00b", "\x1b[31m", "\x7f", "x\x0b"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/observatoire/metiers/", "q"),
        ("/api/v1/occupations/", "q"),
        ("/api/v1/grid-cells/", "territory_code"),
        ("/observatoire/grille/", "territory_code"),
        ("/observatoire/grille/export.xlsx", "sort"),
        ("/diagnostic/metiers/", "code"),
        ("/formations/", "q"),
    ],
)
def test_a_control_character_in_a_query_parameter_is_refused(client, analyst, url, param, value):
    client.force_login(analyst)
    response = client.get(url, {param: value})
    assert response.status_code == 400
    assert "caractère de contrôle" in response.content.decode()


def test_the_api_refuses_in_json_as_its_schema_documents(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/occupations/", {"q": "\x00"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "caractère de contrôle" in response.json()["detail"]


def test_an_api_address_that_matches_no_route_answers_404_in_json(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/occupations/Import%20inconnu./")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Adresse inconnue de l'API."}
    # Elsewhere, the site's own page.
    page = client.get("/observatoire/nulle-part/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_control_character_in_a_parameter_name_is_refused(client):
    assert client.get("/formations/?q\x00=1").status_code == 400


def test_a_control_character_in_a_form_field_is_refused_and_nothing_is_done(client, django_user_model):
    form = {"email": "a\x00@example.org", "password1": "x", "password2": "x"}
    response = client.post(reverse("accounts:signup"), form)
    assert response.status_code == 400
    assert not django_user_model.objects.filter(email__startswith="a").exists()


def test_tabs_and_line_breaks_stay_allowed_in_form_fields_and_plain_text_passes(client):
    response = client.post(reverse("login"), {"username": "quel\tqu'un", "password": "ligne\r\nsuivante"})
    assert response.status_code == 200  # the login form answers (wrong credentials), not a 400
    assert client.get("/formations/", {"q": "développeur « web »"}).status_code == 200
