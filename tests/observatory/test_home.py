"""The home page's company figures come from the current edition, not from live counts: a
live total would move by exactly one company's headcount at each submission."""

import pytest
from django.urls import reverse

from observatory import services
from tests.companies.factories import JobPositionFactory

pytestmark = pytest.mark.django_db


def test_before_any_edition_the_home_page_says_so(client):
    html = client.get(reverse("home")).content.decode()
    assert "aucune édition de la grille n'est encore publiée" in html


def test_the_home_page_reads_the_edition_and_not_the_live_data(client, hand_worked):  # noqa: F811
    services.grid_run_compute(services.grid_run_create().pk)
    html = client.get(reverse("home")).content.decode()
    # The hand-worked grid: 4 companies, 65 employees, 4 positions.
    assert '<p class="figure">4</p>' in html and "4 postes, 65 salariés" in html
    # One more position arrives: until an edition is published, the page does not move.
    JobPositionFactory(occupation=hand_worked, headcount=7)
    html = client.get(reverse("home")).content.decode()
    assert "4 postes, 65 salariés" in html
    # The next edition differs from it by that one company: its totals are withheld.
    services.grid_run_compute(services.grid_run_create().pk)
    html = client.get(reverse("home")).content.decode()
    assert "72 salariés" not in html and "65 salariés" not in html
    # Two more companies: three changed since the first edition, the totals are published.
    JobPositionFactory(occupation=hand_worked, headcount=8)
    JobPositionFactory(occupation=hand_worked, headcount=9)
    services.grid_run_compute(services.grid_run_create().pk)
    html = client.get(reverse("home")).content.decode()
    assert "7 postes, 89 salariés" in html
