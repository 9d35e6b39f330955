from companies.roles import is_analyst, is_curator


def roles(request):
    """What the navigation may offer; every view checks access again on its own."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_analyst": False, "is_curator": False}
    return {"is_analyst": is_analyst(user), "is_curator": is_curator(user)}
