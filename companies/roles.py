"""The roles of the observatory, as Django groups. Company members are not a group: they are
`CompanyMembership` rows, scoped to one company."""

import functools

from django.db import connections, router

ANALYST = "analyst"
CURATOR = "curator"


def has_role(user, group_name: str) -> bool:
    """Superusers hold every role. The group names are cached on the user for the request."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = _group_names(user)
        user._role_names = cached
    return group_name in cached


def _group_names(user) -> set[str]:
    """The names of the user's groups, read again on every request (a role taken away
    applies at once), in one query. The ORM builds its SQL once per process and database:
    building it costs several times more than running it, on every page of a signed-in user."""
    from django.contrib.auth.models import Group

    alias = router.db_for_read(Group)
    sql = _group_names_sql(alias)
    if sql is None:
        return set(user.groups.values_list("name", flat=True))
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [user.pk])
        return {name for (name,) in cursor.fetchall()}


_NO_USER = -1  # stands for the user's id while the SQL is built


@functools.cache
def _group_names_sql(alias: str) -> str | None:
    """The SQL of `user.groups.values_list("name")` with the user's id as its one parameter,
    or None when the ORM builds it otherwise (the caller then asks the ORM each time)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    relation = get_user_model()._meta.get_field("groups").related_query_name()
    queryset = Group.objects.filter(**{f"{relation}__pk": _NO_USER}).values_list("name")
    sql, params = queryset.query.get_compiler(using=alias).as_sql()
    return sql if list(params) == [_NO_USER] else None


def is_analyst(user) -> bool:
    return has_role(user, ANALYST)


def is_curator(user) -> bool:
    return has_role(user, CURATOR)
