"""Provenance on every page: the demonstration banner, the footer's reference data (only
what is loaded) and the provenance block of the pages that show an edition."""

import pytest
from django.urls import reverse

from companies.demo import DEMO_SIREN_PREFIX
from companies.validators import luhn_complete
from observatory import services
from observatory.models import Lens
from observatory.provenance import rome_version, site_data
from tests.companies.factories import (
    CampaignFactory,
    CommuneFactory,
    CompanyFactory,
    DiagnosticFactory,
    SousClasseFactory,
)
from tests.skills.factories import CertificationFactory, OccupationFactory

pytestmark = pytest.mark.django_db

HOME = reverse("home")
BANNER = "Données de démonstration</strong>"


def _footer(client) -> str:
    text = client.get(HOME).content.decode()
    return text[text.index('<footer class="site-footer">') :]


def test_the_rome_version_is_read_from_the_export_file_name():
    assert rome_version("unix_referentiel_code_rome_v460_utf8.csv") == "4.60"
    assert rome_version() == "4.60"  # the file the importer reads
    assert rome_version("fiches.csv") == ""


def test_the_demo_banner_shows_only_with_demo_companies(client):
    CompanyFactory()
    assert BANNER not in client.get(HOME).content.decode()


def test_the_demo_banner_shows_with_a_demo_company(client):
    CompanyFactory(siren=luhn_complete(f"{DEMO_SIREN_PREFIX}00001"))
    assert BANNER in client.get(HOME).content.decode()


def test_the_demo_check_is_cached(client, django_assert_num_queries):
    CompanyFactory(siren=luhn_complete(f"{DEMO_SIREN_PREFIX}00001"))
    client.get(HOME)  # fills the cache
    with django_assert_num_queries(0):
        from observatory.provenance import demo_data_loaded, reference_sources

        assert demo_data_loaded() is True
        reference_sources()


def test_the_footer_cites_nothing_that_is_not_loaded(client):
    footer = _footer(client)
    assert "aucune nomenclature chargée" in footer
    for name in ("ROME", "NAF", "COG", "RNCP"):
        assert name not in footer


def test_the_footer_cites_the_versions_loaded(client):
    OccupationFactory(code="M1607")
    SousClasseFactory()
    CommuneFactory()
    footer = _footer(client)
    assert "INSEE (COG, NAF rév. 2)" in footer
    assert "France Travail (ROME 4.60)" in footer
    # No certification imported: France Compétences is not cited.
    assert "RNCP" not in footer and "France Compétences" not in footer


def test_the_footer_cites_the_rncp_once_certifications_are_imported(client):
    CertificationFactory()
    assert "France Compétences (RNCP)" in _footer(client)


def test_the_site_data_costs_one_query_per_cache_period(django_assert_num_queries):
    """The banner, the footer and the block's counts and editions: one query when the cache
    is cold, none while it holds them."""
    CompanyFactory(siren=luhn_complete(f"{DEMO_SIREN_PREFIX}00001"))
    OccupationFactory(code="M1607")
    with django_assert_num_queries(1):
        data = site_data()
    assert data["demo"] and data["reference"][0]["publisher"] == "France Travail"
    with django_assert_num_queries(0):
        assert site_data() == data


@pytest.mark.parametrize(
    "page", ["observatory:overview", "observatory:grid", "observatory:map", "observatory:ranking"]
)
def test_the_provenance_block_shows_the_edition_the_campaign_and_the_counts(
    client, analyst, hand_worked, page, django_assert_max_num_queries
):
    CampaignFactory(year=2026, name="Campagne 2026")
    DiagnosticFactory(company=CompanyFactory(verified=True))
    DiagnosticFactory(company=CompanyFactory())  # not verified: not counted
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    client.force_login(analyst)
    url = reverse(page)

    client.get(url, {"lens": Lens.DEFAULT})  # fills the caches
    with django_assert_max_num_queries(10):
        text = client.get(url, {"lens": Lens.DEFAULT}).content.decode()

    block = text[text.index("Provenance des chiffres") :]
    assert f"Édition n° {run.pk}" in block and "publiée le" in block
    assert "campagne « Campagne 2026 » : 1 diagnostic pris en compte (entreprises vérifiées)" in block
    assert "4 postes importés (enquête)" in block
    assert "4 postes comptés" in block
    assert "ROME 4.60" in block
