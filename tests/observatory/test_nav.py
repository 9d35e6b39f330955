"""The header and the navigation: links reversed once per process (observatory's `roles`
context processor), offered by role, with aria-current on the page being shown."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from observatory import context_processors

pytestmark = pytest.mark.django_db


def _nav(response) -> str:
    return re.search(r'<nav class="site-nav".*?</nav>', response.content.decode(), re.S).group(0)


def _current(response) -> list[str]:
    return re.findall(r'<a href="([^"]*)" aria-current="page">', _nav(response))


def test_an_analyst_sees_the_observatory_with_the_grid_current(client, analyst):
    client.force_login(analyst)
    response = client.get("/observatoire/grille/")  # no run yet: the page says so
    nav = _nav(response)
    for url in ("/", "/formations/", "/observatoire/", "/observatoire/grille/", "/observatoire/carte/"):
        assert f'<a href="{url}"' in nav
    assert _current(response) == ["/observatoire/grille/"]
    assert "Curation" not in nav and "Diagnostic" not in nav and "Administration" not in nav
    html = response.content.decode()
    assert f'<a class="account-name" href="{reverse("accounts:account")}"' in html
    assert f'<form method="post" action="{reverse("logout")}"' in html


def test_the_links_are_those_reverse_gives(client, analyst):
    client.force_login(analyst)
    nav = _nav(client.get(reverse("observatory:runs")))
    for name in ("observatory:overview", "observatory:occupations", "observatory:runs", "observatory:methodology"):
        assert f'<a href="{reverse(name)}"' in nav


def test_a_curator_sees_curation_and_no_observatory(client, curator):
    client.force_login(curator)
    response = client.get(reverse("accounts:curation_companies"))
    nav = _nav(response)
    assert f'<a href="{reverse("accounts:curation_companies")}" aria-current="page">Curation</a>' in nav
    assert "/observatoire/" not in nav


def test_an_anonymous_visitor_on_the_home_page(client):
    response = client.get("/")
    assert _current(response) == ["/"]
    html = response.content.decode()
    assert f'<a href="{reverse("accounts:signup")}">Créer un compte</a>' in html
    assert f'<a href="{reverse("login")}">Se connecter</a>' in html
    assert "/observatoire/" not in _nav(response)


def test_a_staff_user_sees_the_administration(client, django_user_model):
    staff = django_user_model.objects.create_user(username="staff", password="motdepasse-test-2026", is_staff=True)
    client.force_login(staff)
    assert f'<a href="{reverse("admin:index")}">Administration</a>' in _nav(client.get("/"))


def test_the_links_are_reversed_once_per_process(client, analyst):
    context_processors.nav_urls.cache_clear()
    client.force_login(analyst)
    client.get("/")
    client.get("/formations/")
    info = context_processors.nav_urls.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_a_new_urlconf_reverses_them_again():
    context_processors.nav_urls("/")
    with override_settings(ROOT_URLCONF="observatory.urls"):
        assert context_processors.nav_urls.cache_info().currsize == 0
    assert context_processors.nav_urls.cache_info().currsize == 0
