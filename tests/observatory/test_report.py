"""The company's report /diagnostic/<id>/rapport/: who may open it, and the hand-computed
figures it shows beside the current default-lens grid.

The grid (the grid fixture, tests/conftest.py) is the hand-worked case: three companies of division 62 in Lille
(Nord) and one in Arras report Secrétaire (M1607): exposure 0.625 = 0,622 (high), blended
RC 5/9. Two companies in Amiens report Comptable (M1203, reference RC .8): its blended profile
is not shown (fewer than 3 companies). Aide-soignant (J1501), reported by nobody, keeps its
reference profile: E = .85·.05 + .55·.10 + .45·.05 + .20·.40 + .10·.40 = 0,24 (low).
"""

import pytest
from django.urls import reverse

from companies.models import CompanyMembership, Diagnostic, SizeBand
from observatory import services
from observatory.charts.common import format_number
from observatory.models import GridCell, Lens
from skills.models import Mobility, OccupationTaskProfile
from tests.companies.factories import (
    PASSWORD,
    CompanyFactory,
    SectionFactory,
    SousClasseFactory,
    all_answers,
    make_member,
)
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db


def report_url(pk):
    return reverse("diagnostic_report", args=[pk])


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def _diagnostic(campaign, company, *, commune, level=4, status=Diagnostic.Status.SUBMITTED, sector=None):
    return Diagnostic.objects.create(
        campaign=campaign,
        company=company,
        status=status,
        siret="",
        company_name=company.name,
        sector=sector or SousClasseFactory(),
        commune=commune,
        size_band=SizeBand.SMALL,
        maturity=all_answers(level),
    )


def _peers(case, levels):
    """Other verified companies of section J with a submitted diagnostic in the same campaign
    (only verified companies count: test_report_peers.py)."""
    for level in levels:
        _diagnostic(case["campaign"], CompanyFactory(verified=True), commune=case["lille"], level=level)


# --- Access -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, case):
    response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_member_of_another_company_gets_a_404_for_existing_and_sequential_ids(client, case, django_user_model):
    other_company = CompanyFactory(name="Concurrent")
    other = make_member(other_company, "autre")
    own = _diagnostic(case["campaign"], other_company, commune=case["lille"])
    client.force_login(other)
    assert client.get(report_url(own.pk)).status_code == 200
    assert client.get(report_url(case["diagnostic"].pk)).status_code == 404
    assert client.get(report_url(own.pk + 1)).status_code == 404
    assert client.get(report_url(999_999)).status_code == 404


def test_a_pending_member_of_the_company_is_refused(client, case, django_user_model):
    pending = make_member(case["company"], "en-attente", status=CompanyMembership.Status.PENDING)
    client.force_login(pending)
    assert client.get(report_url(case["diagnostic"].pk)).status_code == 403


@pytest.mark.parametrize("role", ["analyst", "curator"])
def test_analysts_and_curators_without_membership_are_refused(client, request, case, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 403
    assert "Atelier Dupont" not in response.content.decode()
    assert client.get(report_url(case["diagnostic"].pk + 1)).status_code == 403


def test_the_owner_logs_in_with_a_password_and_opens_the_report(client, case):
    response = client.post(reverse("login"), {"username": "proprietaire", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(report_url(case["diagnostic"].pk)).status_code == 200


def test_the_summary_page_links_to_the_report(client, case):
    client.force_login(case["owner"])
    summary = client.get(reverse("diagnostic:detail", args=[case["diagnostic"].pk]))
    assert f'href="{report_url(case["diagnostic"].pk)}"' in summary.content.decode()


# --- Content -------------------------------------------------------------------------------


def test_the_owner_sees_the_hand_computed_figures(client, case, django_assert_max_num_queries):
    _peers(case, [1, 2, 3])
    client.force_login(case["owner"])
    # Sixteen before the training recommendations (one reads the methodology's secrecy
    # minimum for the peers); the certifications' blocks add two queries and the offers one
    # (four when some are found: test_report_training.py); the wished blocks, the fiches'
    # secrecy, the corrections of the ROME items and the regional contacts one each.
    with django_assert_max_num_queries(23):
        response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 200
    page = response.content.decode()
    context = response.context
    secretary, accountant = context["jobs"]
    # Secrétaire: E = 0.625, high (≥ 0.48); 4 companies report it, so the blended profile shows.
    assert secretary.score.exposure == pytest.approx(0.625)
    assert secretary.score.exposure_class == "high"
    assert f"Exposition {format_number(secretary.score.exposure, 2)} sur une échelle de 0 à 1" in page
    assert secretary.show_blended
    rc = secretary.profile_rows[0]
    assert rc["company"] == pytest.approx(0.70)
    assert rc["reference"] == pytest.approx(0.6)
    assert rc["blended"] == pytest.approx(4.5 / 8)
    assert "70\u00a0%" in page and "56\u00a0%" in page
    # Comptable: two reporting companies, whose answers do not count: the profile retained is
    # the reference, and the report says why.
    assert accountant.show_blended and not accountant.field_counted
    assert all(row["blended"] == pytest.approx(row["reference"]) for row in accountant.profile_rows)
    assert "Trop peu d'entreprises déclarent ce métier pour que leurs réponses comptent" in page
    assert context["headcount"] == 11
    # Nord × division 62: the three Lille companies, every one on M1607.
    comparison = context["comparison"]
    assert comparison["departement"].code == "59" and comparison["division"] == "62"
    assert comparison["sector"]["state"] == "value"
    assert comparison["sector"]["exposure"] == pytest.approx(0.625)
    assert comparison["sector"]["companies"] == 3
    assert comparison["all"]["exposure"] == pytest.approx(0.625)
    # Maturity: 4 everywhere against the mean of 1, 2 and 3.
    assert context["maturity"]["shown"] and context["maturity"]["peers"] == 3
    assert all(row["score"] == 4 and row["average"] == pytest.approx(2.0) for row in context["maturity"]["rows"])
    assert "Moyenne des 3 autres entreprises vérifiées de la section NAF J" in page
    # Next steps: both jobs are exposed (medium); the skills block of M1607 and one mobilité
    # (to Aide-soignant, 0,24 − 0,625 = −0,385; Comptable is more exposed).
    assert [item.job.occupation_id for item in context["exposed"]] == ["M1607", "M1203"]
    assert [block.code for block in secretary.skill_blocks] == ["RNCP35503BC01"]
    assert len(secretary.mobilities) == 1
    mobility = secretary.mobilities[0]
    assert mobility["target"].code == "J1501"
    assert mobility["exposure"] == pytest.approx(0.24)
    assert mobility["difference"] == pytest.approx(0.24 - 0.625)
    drop = format_number(mobility["difference"], 2).replace("-", "−")
    assert f"({drop} par rapport à ce métier) ; aucune compétence en commun" in page
    assert "Aucun bloc de compétences n'est encore relié à ce métier" in page  # Comptable
    assert "data-print>Imprimer<" in page and "js/print.js" in page
    pdf_url = reverse("diagnostic_report_pdf", args=[case["diagnostic"].pk])
    assert pdf_url == f"/diagnostic/{case['diagnostic'].pk}/rapport.pdf"
    assert f'href="{pdf_url}" download>Télécharger en PDF</a>' in page
    assert 'data-figure="report-figure-' in page and "plotly.min.js" in page
    assert "brouillon" not in page.lower()


def test_transitions_are_ranked_by_the_competences_they_share(client, case):
    """Secrétaire lists three savoir-faire. Assistant de direction (M1604, imported profile,
    E = .85·.3 + .45·.4 + .2·.3 = 0,495) shares two of them, and has three core ones of which
    it holds one; Aide-soignant (J1501, 0,24) shares none. Both drop by more than 0,05:
    Assistant de direction comes first although Aide-soignant drops further."""
    from skills.models import OccupationItem, RomeItem

    def item(code, label, fiches):
        rome_item = RomeItem.objects.create(code=code, kind=RomeItem.Kind.SKILL, label=label)
        for fiche, core in fiches:
            OccupationItem.objects.create(occupation_id=fiche, item=rome_item, core=core)

    assistant = OccupationFactory(code="M1604", label="Assistant de direction", parent__code="M16")
    OccupationTaskProfile.objects.create(occupation=assistant, rc=0.3, rm=0.0, nra=0.4, nri=0.3, nrm=0.0)
    Mobility.objects.create(source=case["secretary"], target=assistant, rank=3)
    item("1", "Saisir des documents", [("M1607", "principale"), ("M1604", "principale")])
    item("2", "Classer des dossiers", [("M1607", ""), ("M1604", "")])
    item("3", "Accueillir du public", [("M1607", "")])
    item("4", "Organiser des réunions", [("M1604", "principale")])
    item("5", "Rédiger des comptes rendus", [("M1604", "principale")])
    services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    client.force_login(case["owner"])
    response = client.get(report_url(case["diagnostic"].pk))
    secretary = response.context["exposed"][0]
    assert [m["target"].code for m in secretary.mobilities] == ["M1604", "J1501"]
    assistant_move, carer_move = secretary.mobilities
    assert (assistant_move["shared"], assistant_move["target_core"]) == (2, 3)
    assert assistant_move["core_share"] == pytest.approx(1 / 3)
    assert assistant_move["to_acquire"] == ["Organiser des réunions", "Rédiger des comptes rendus"]
    assert carer_move["shared"] == 0 and carer_move["core_share"] is None
    page = response.content.decode()
    assert "2 compétences en commun ; 33\u00a0% des compétences clés de ce métier déjà acquises" in page
    assert "Compétences clés à acquérir : Organiser des réunions ; Rédiger des comptes rendus" in page
    assert assistant_move["held"] == ["Saisir des documents"]
    assert "Compétences clés déjà acquises : Saisir des documents" in page
    assert page.index("Assistant de direction") < page.index("Aide-soignant")


def test_the_sector_average_needs_three_other_companies(client, case):
    # Two peers of section J, plus a draft and a company of another section: not enough.
    _peers(case, [1, 3])
    _diagnostic(case["campaign"], CompanyFactory(), commune=case["lille"], status=Diagnostic.Status.DRAFT)
    other_section = SousClasseFactory(code="10.71C", label="Boulangerie", parent=SectionFactory(code="C", label="Ind"))
    _diagnostic(case["campaign"], CompanyFactory(), commune=case["lille"], sector=other_section)
    client.force_login(case["owner"])
    response = client.get(report_url(case["diagnostic"].pk))
    maturity = response.context["maturity"]
    assert not maturity["shown"] and maturity["peers"] == 2
    assert all(row["average"] is None for row in maturity["rows"])
    assert "Il n'y a pas encore assez d'entreprises de votre secteur pour comparer" in response.content.decode()


def test_a_secret_cell_says_so_with_its_reason_and_no_value(client, case):
    # The company sits in Amiens: the Somme × division 62 cell holds two companies.
    diagnostic = case["diagnostic"]
    diagnostic.commune = case["amiens"]
    diagnostic.save()
    cell = GridCell.objects.get(
        run=case["run"],
        territory_level="departement",
        territory_code="80",
        sector_level="division",
        sector_code="62",
        occupation_level="all",
        size_band="all",
    )
    assert cell.secret and cell.secret_reason == "companies"
    client.force_login(case["owner"])
    response = client.get(report_url(diagnostic.pk))
    comparison = response.context["comparison"]
    reason = "moins de 3 entreprises : leurs chiffres seraient reconnaissables"
    assert comparison["sector"] == {"state": "secret", "reason": reason}
    page = response.content.decode()
    assert f'non publié</span> <span class="report-note">{reason}</span>' in page
    assert "secret secondaire" not in page and "secret primaire" not in page
    assert (
        f"{cell.exposure_mean:.2f}".replace(".", ",")
        not in page.split("territory-title")[1].split("maturity-title")[0]
    )


def test_a_draft_report_is_shown_with_a_banner(client, case):
    diagnostic = case["diagnostic"]
    diagnostic.status = Diagnostic.Status.DRAFT
    diagnostic.save()
    client.force_login(case["owner"])
    response = client.get(report_url(diagnostic.pk))
    assert response.status_code == 200
    assert "<strong>Brouillon</strong>" in response.content.decode()


def test_without_a_grid_the_report_says_so(client, case):
    case["run"].delete()
    client.force_login(case["owner"])
    response = client.get(report_url(case["diagnostic"].pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aucune grille n'a encore été calculée" in page
    assert response.context["exposed"] == []
    assert "Exposition non calculée" in page
