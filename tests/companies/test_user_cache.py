"""The signed-in user read from the shared cache (companies/accounts/backends.py): no query
for the user on a cached request, and every change of the account seen at the next request."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.accounts.backends import user_key

pytestmark = pytest.mark.django_db

ACCOUNT = reverse("accounts:account")


@pytest.fixture(autouse=True)
def _shared_cache(settings):
    settings.USER_CACHE = True


def _user_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"]]


def test_the_user_is_read_once_then_from_the_cache(client, plain_user):
    client.force_login(plain_user)
    response, first = _user_queries(client, ACCOUNT)
    assert response.status_code == 200 and len(first) == 1
    assert cache.get(user_key(plain_user.pk)).pk == plain_user.pk

    response, again = _user_queries(client, ACCOUNT)
    assert response.status_code == 200
    assert again == []


def test_a_deactivated_account_is_signed_out_at_the_next_request(client, plain_user):
    client.force_login(plain_user)
    assert client.get(ACCOUNT).status_code == 200
    plain_user.is_active = False
    plain_user.save()

    assert cache.get(user_key(plain_user.pk)) is None
    response = client.get(ACCOUNT)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_password_changed_elsewhere_ends_the_session(client, plain_user):
    client.force_login(plain_user)
    assert client.get(ACCOUNT).status_code == 200
    plain_user.set_password("un-autre-mot-de-passe-2026")
    plain_user.save()

    response = client.get(ACCOUNT)
    assert response.status_code == 302


def test_a_login_alone_keeps_the_cached_entry(client, plain_user):
    client.force_login(plain_user)
    client.get(ACCOUNT)
    plain_user.save(update_fields=["last_login"])
    assert cache.get(user_key(plain_user.pk)) is not None


def test_without_a_shared_cache_the_user_is_read_every_time(client, plain_user, settings):
    settings.USER_CACHE = False
    client.force_login(plain_user)
    client.get(ACCOUNT)
    response, again = _user_queries(client, ACCOUNT)
    assert response.status_code == 200 and len(again) == 1
    assert cache.get(user_key(plain_user.pk)) is None
