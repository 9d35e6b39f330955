"""`make run`'s bootstrap on the built-in reference set, with a small demo."""

import io

import pytest
from django.contrib.auth import get_user_model

from companies.models import Campaign, Company, CompanyMembership
from observatory.demo import bootstrap
from observatory.models import GridRun, Lens

pytestmark = pytest.mark.django_db


def test_bootstrap_sets_up_everything_once():
    out = io.StringIO()
    bootstrap(companies=60, seed=7, stdout=out)
    assert Company.objects.count() == 60
    assert all(GridRun.objects.current(lens) is not None for lens in Lens.values)
    assert Campaign.objects.get(is_current=True).name.startswith("Campagne ")
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert users.get(username="analyste").groups.filter(name="analyst").exists()
    assert users.get(username="curateur").groups.filter(name="curator").exists()
    membership = CompanyMembership.objects.get(user__username="entreprise")
    assert membership.status == "active" and membership.role == "owner"
    assert "analyste-demo-2026" in out.getvalue()

    # A second run adds nothing.
    runs = GridRun.objects.count()
    bootstrap(companies=60, seed=7, stdout=io.StringIO())
    assert Company.objects.count() == 60 and GridRun.objects.count() == runs
    assert CompanyMembership.objects.count() == 1

    # A grid audited against a reader who did not know the COG (an audit stored before it
    # was modelled) is computed again; the others are kept.
    stale = GridRun.objects.current(Lens.DEFAULT)
    others = {lens: GridRun.objects.current(lens).pk for lens in Lens.values if lens != Lens.DEFAULT}
    assert stale.audit["model"] == 2 and stale.audit["passed"]
    GridRun.objects.filter(pk=stale.pk).update(audit={k: v for k, v in stale.audit.items() if k != "model"})
    bootstrap(companies=60, seed=7, stdout=io.StringIO())
    assert GridRun.objects.count() == runs + 1
    fresh = GridRun.objects.current(Lens.DEFAULT)
    assert fresh.pk != stale.pk and fresh.audit["model"] == 2
    assert {lens: GridRun.objects.current(lens).pk for lens in others} == others
