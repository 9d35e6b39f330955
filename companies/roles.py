"""The roles of the observatory, as Django groups. Company members are not a group: they are
`CompanyMembership` rows, scoped to one company.

A user's role names are asked on every page of a signed-in user (the navigation, the access
checks), so they are kept in the shared cache, one entry per user, and forgotten by the
receivers below (connected by `CompaniesConfig.ready`, so in every process: web, worker,
shell) whenever a group membership, a group or the user changes: a role taken away applies
at the next request. Superusers hold every role."""

import logging
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

ANALYST = "analyst"
CURATOR = "curator"

# One entry per user; the version changes whenever what is stored changes shape.
ROLE_NAMES_KEY = "companies:role-names:v1:{user_id}"
# An upper bound on what a change the receivers cannot see (a raw UPDATE of auth_user_groups)
# may leave behind; every change made through the ORM forgets the entry at once.
ROLE_NAMES_TIMEOUT = 300


def has_role(user, group_name: str) -> bool:
    """Superusers hold every role. The group names are kept on the user for the request."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = role_names(user)
        user._role_names = cached
    return group_name in cached


def role_names(user) -> frozenset[str]:
    """The names of the user's groups: from the shared cache, else from the database (and then
    stored). A cache that does not answer only costs the query. Without a shared cache
    (`ROLE_NAMES_CACHE` off: each process's own memory) they are read on every request: a
    receiver in one process could not make another forget them."""
    if not settings.ROLE_NAMES_CACHE:
        return frozenset(_group_names(user))
    key = role_names_key(user.pk)
    try:
        names = cache.get(key)
    except Exception:
        logger.warning("could not read the role names from the cache", exc_info=True)
        return frozenset(_group_names(user))
    if names is None:
        names = frozenset(_group_names(user))
        try:
            cache.set(key, names, ROLE_NAMES_TIMEOUT)
        except Exception:
            logger.warning("could not store the role names in the cache", exc_info=True)
    return names


def role_names_key(user_id: int) -> str:
    return ROLE_NAMES_KEY.format(user_id=user_id)


def forget_role_names(user_ids) -> None:
    """Drop the cached role names of these users (the next request reads them again)."""
    keys = [role_names_key(user_id) for user_id in set(user_ids)]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:  # a change of roles must never fail on the cache; the entries expire
        logger.warning("could not forget the role names of users %s", sorted(set(user_ids)), exc_info=True)


def _group_names(user) -> set[str]:
    """The names of the user's groups, from the database, in one query."""
    return set(user.groups.values_list("name", flat=True))


# --- Receivers: what changes a user's roles forgets their cached names ----------------------------
#
# Each forgets at once and again when the transaction commits: a request that read the groups
# between the change and its commit may have stored the old names in between.


def _forget_now_and_on_commit(user_ids) -> None:
    user_ids = set(user_ids)
    if not user_ids:
        return
    forget_role_names(user_ids)
    transaction.on_commit(partial(forget_role_names, user_ids))


def user_groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """`m2m_changed` of User.groups: `user.groups.add(...)` (instance is the user) or
    `group.user_set.add(...)` (reverse: instance is the group, pk_set the users)."""
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            _forget_now_and_on_commit([instance.pk])
    elif action in ("post_add", "post_remove"):
        _forget_now_and_on_commit(pk_set or ())
    elif action == "pre_clear":  # the members are still there to be named
        _forget_now_and_on_commit(_member_ids(instance))


def group_saved(sender, instance, created, **kwargs) -> None:
    """A renamed group renames its members' role."""
    if not created:
        _forget_now_and_on_commit(_member_ids(instance))


def group_deleting(sender, instance, **kwargs) -> None:
    """`pre_delete`: by `post_delete` the group's memberships are gone, with who held them;
    `group_deleted` forgets their names once the group is gone."""
    instance._role_member_ids = _member_ids(instance)


def group_deleted(sender, instance, **kwargs) -> None:
    _forget_now_and_on_commit(getattr(instance, "_role_member_ids", ()))


def user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """Any save but a login's (`last_login` alone) forgets the user's names: an account
    deactivated or whose superuser flag changed starts again from the database."""
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    forget_role_names([instance.pk])


def user_deleted(sender, instance, **kwargs) -> None:
    forget_role_names([instance.pk])


def _member_ids(group) -> list[int]:
    if group.pk is None:
        return []
    return list(group.user_set.values_list("pk", flat=True))


def connect_receivers() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    user_model = get_user_model()
    m2m_changed.connect(
        user_groups_changed, sender=user_model.groups.through, dispatch_uid="companies_role_names_groups"
    )
    post_save.connect(group_saved, sender=Group, dispatch_uid="companies_role_names_group_saved")
    pre_delete.connect(group_deleting, sender=Group, dispatch_uid="companies_role_names_group_deleting")
    post_delete.connect(group_deleted, sender=Group, dispatch_uid="companies_role_names_group_deleted")
    post_save.connect(user_saved, sender=user_model, dispatch_uid="companies_role_names_user_saved")
    post_delete.connect(user_deleted, sender=user_model, dispatch_uid="companies_role_names_user_deleted")


def is_analyst(user) -> bool:
    return has_role(user, ANALYST)


def is_curator(user) -> bool:
    return has_role(user, CURATOR)
