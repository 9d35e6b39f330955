"""Role names kept in the shared cache, one entry per user, and forgotten by the receivers the
companies app connects whenever a membership of a group, a group or the user changes: a role
taken away applies at the next request."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies import roles

pytestmark = pytest.mark.django_db

GRID = reverse("observatory:grid")
CURATION = reverse("accounts:curation_companies")


@pytest.fixture(autouse=True)
def _shared_cache(settings):
    """As in production with Redis; the tests' cache is the process's memory, which alone
    keeps no role names (test_without_a_shared_cache_the_names_are_read_every_time)."""
    settings.ROLE_NAMES_CACHE = True


def _fresh(user):
    """The user as the next request loads it: nothing kept on the instance."""
    return type(user).objects.get(pk=user.pk)


def _group(name):
    return Group.objects.get(name=name)


def test_the_names_are_read_once_then_come_from_the_cache(analyst):
    with CaptureQueriesContext(connection) as first:
        assert roles.is_analyst(_fresh(analyst)) is True
    assert [q["sql"] for q in first.captured_queries if "auth_group" in q["sql"]] != []
    assert cache.get(roles.role_names_key(analyst.pk)) == frozenset({"analyst"})
    user = _fresh(analyst)
    with CaptureQueriesContext(connection) as again:
        assert roles.is_analyst(user) is True
        assert roles.is_curator(user) is False
    assert again.captured_queries == []


def test_an_analyst_removed_from_the_group_is_refused_at_once(client, analyst):
    client.force_login(analyst)
    assert client.get(GRID).status_code in (200, 404)  # 404 only says no grid was computed yet
    assert cache.get(roles.role_names_key(analyst.pk)) == frozenset({"analyst"})
    analyst.groups.remove(_group(roles.ANALYST))
    assert cache.get(roles.role_names_key(analyst.pk)) is None
    assert client.get(GRID).status_code == 403


@pytest.mark.parametrize(
    "take_away",
    [
        lambda user: _group(roles.ANALYST).user_set.remove(user),
        lambda user: _group(roles.ANALYST).user_set.clear(),
        lambda user: user.groups.clear(),
        lambda user: user.groups.set([_group(roles.CURATOR)]),
        lambda user: _group(roles.ANALYST).delete(),
    ],
    ids=["group-side remove", "group-side clear", "user-side clear", "set", "group deleted"],
)
def test_every_way_of_taking_the_role_away_forgets_it(client, analyst, take_away):
    client.force_login(analyst)
    assert roles.is_analyst(_fresh(analyst)) is True  # cached
    take_away(analyst)
    assert roles.is_analyst(_fresh(analyst)) is False
    assert client.get(GRID).status_code == 403


def test_a_role_given_applies_at_once(client, plain_user):
    client.force_login(plain_user)
    assert client.get(CURATION).status_code == 403
    assert roles.role_names(_fresh(plain_user)) == frozenset()  # cached: no group
    _group(roles.CURATOR).user_set.add(plain_user)
    assert client.get(CURATION).status_code == 200
    assert roles.role_names(_fresh(plain_user)) == frozenset({"curator"})


def test_a_renamed_group_forgets_its_members_names(analyst, curator):
    assert roles.is_analyst(_fresh(analyst)) and roles.is_curator(_fresh(curator))
    group = _group(roles.ANALYST)
    group.name = "analyst-old"
    group.save()
    assert cache.get(roles.role_names_key(analyst.pk)) is None
    assert roles.is_analyst(_fresh(analyst)) is False
    # Another group's members keep their entry.
    assert cache.get(roles.role_names_key(curator.pk)) == frozenset({"curator"})


def test_saving_the_user_forgets_but_a_login_does_not(client, analyst):
    key = roles.role_names_key(analyst.pk)
    roles.role_names(analyst)
    client.force_login(analyst)  # saves last_login alone
    assert cache.get(key) == frozenset({"analyst"})
    analyst.is_active = False
    analyst.save()
    assert cache.get(key) is None
    roles.role_names(analyst)
    analyst_pk = analyst.pk
    analyst.delete()
    assert cache.get(roles.role_names_key(analyst_pk)) is None


def test_a_forgotten_entry_is_forgotten_again_when_the_transaction_commits(
    analyst, django_capture_on_commit_callbacks
):
    """A request that read the groups between the change and its commit stored the old names:
    the commit forgets them once more."""
    key = roles.role_names_key(analyst.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analyst.groups.remove(_group(roles.ANALYST))
        cache.set(key, frozenset({"analyst"}))  # what a concurrent request could store meanwhile
    assert len(callbacks) == 1
    callbacks[0]()
    assert cache.get(key) is None


def test_superusers_hold_every_role_without_a_query(superuser):
    user = _fresh(superuser)
    with CaptureQueriesContext(connection) as queries:
        assert roles.is_analyst(user) and roles.is_curator(user)
    assert queries.captured_queries == []


def test_anonymous_visitors_hold_no_role(client):
    from django.contrib.auth.models import AnonymousUser

    assert roles.is_analyst(AnonymousUser()) is False
    assert client.get(GRID).status_code == 302


def test_a_cache_that_does_not_answer_falls_back_to_the_database(analyst, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(roles.cache, "get", broken)
    monkeypatch.setattr(roles.cache, "delete_many", broken)
    assert roles.is_analyst(_fresh(analyst)) is True
    analyst.groups.remove(_group(roles.ANALYST))  # the receivers log, never fail the change
    assert roles.is_analyst(_fresh(analyst)) is False


def test_without_a_shared_cache_the_names_are_read_every_time(analyst, settings):
    settings.ROLE_NAMES_CACHE = False
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert roles.is_analyst(_fresh(analyst)) is True
        assert len([q for q in queries.captured_queries if "auth_group" in q["sql"]]) == 1
    assert cache.get(roles.role_names_key(analyst.pk)) is None
