"""The roles of the observatory, as Django groups. Company members are not a group: they are
`CompanyMembership` rows, scoped to one company."""

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
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return group_name in cached


def is_analyst(user) -> bool:
    return has_role(user, ANALYST)


def is_curator(user) -> bool:
    return has_role(user, CURATOR)
