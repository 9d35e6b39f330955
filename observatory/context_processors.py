from companies.models import CompanyMembership
from companies.roles import is_analyst, is_curator


def roles(request):
    """What the navigation may offer; every view checks access again on its own."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_analyst": False, "is_curator": False, "is_member": False}
    analyst, curator = is_analyst(user), is_curator(user)

    def is_member():
        # Evaluated by the template only where the navigation asks, and never for staff roles.
        if analyst or curator:
            return False
        return CompanyMembership.objects.filter(user=user, status=CompanyMembership.Status.ACTIVE).exists()

    return {"is_analyst": analyst, "is_curator": curator, "is_member": is_member}
