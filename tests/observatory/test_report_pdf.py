"""The company's report as a PDF (/diagnostic/<id>/rapport.pdf): the same access rule as the
page, a real PDF whose text (read back with pypdf) carries the report's figures, and French
characters that survive the standard fonts."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from companies.models import CompanyMembership, Diagnostic
from observatory.charts.common import format_number
from observatory.report.document import pdf_text
from skills.models import SkillBlock
from tests.companies.factories import CompanyFactory, make_member
from tests.trainings.factories import ProviderFactory, SessionFactory, TrainingOfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def pdf_url(pk):
    return reverse("diagnostic_report_pdf", args=[pk])


def pdf_text_of(response) -> str:
    """The text of every page, with no-break spaces as plain spaces and lines joined."""
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


# --- Access: exactly the HTML report's rule --------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, case):
    response = client.get(pdf_url(case["diagnostic"].pk))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_member_of_another_company_gets_a_404(client, case, django_user_model):
    other = make_member(CompanyFactory(name="Concurrent"), "autre")
    client.force_login(other)
    response = client.get(pdf_url(case["diagnostic"].pk))
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")
    assert client.get(pdf_url(999_999)).status_code == 404


@pytest.mark.parametrize("role", ["analyst", "curator"])
def test_analysts_and_curators_are_refused(client, request, case, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(pdf_url(case["diagnostic"].pk))
    assert response.status_code == 403
    assert "Atelier Dupont" not in response.content.decode()


def test_a_pending_member_of_the_company_is_refused(client, case, django_user_model):
    pending = make_member(case["company"], "en-attente", status=CompanyMembership.Status.PENDING)
    client.force_login(pending)
    assert client.get(pdf_url(case["diagnostic"].pk)).status_code == 403


def test_the_pdf_is_only_read(client, case):
    client.force_login(case["owner"])
    assert client.post(pdf_url(case["diagnostic"].pk)).status_code == 405


# --- Content -------------------------------------------------------------------------------


def test_the_owner_downloads_a_pdf_with_the_report(client, case, django_assert_max_num_queries):
    client.force_login(case["owner"])
    # The page's queries but the figures' and the navigation's (test_report.py), plus the
    # wished blocks, the fiches' secrecy, the ROME items' corrections and the contacts.
    with django_assert_max_num_queries(20):
        response = client.get(pdf_url(case["diagnostic"].pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="rapport-atelier-dupont-2026.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text_of(response)
    assert "Rapport de Atelier Dupont" in text
    assert "Diagnostic Campagne 2026" in text
    assert "Lille (Nord)" in text
    assert "11 salariés déclarés" in text
    today = timezone.localdate()
    assert f"Rapport établi le {today.day} " in text and str(today.year) in text
    # Each job, its exposure and class; the task profile (Secrétaire: 70 % declared, 60 % reference).
    assert "Secrétaire (M1607)" in text and "Comptable (M1203)" in text
    assert f"Exposition {format_number(0.625, 2)} sur une échelle de 0 à 1 — exposition forte" in text
    assert "Tâches répétitives sur de l'information (RC) 70 % 60 % 56 %" in text
    assert "Routinier" not in text
    assert "Trop peu d'entreprises déclarent ce métier pour que leurs réponses comptent" in text
    # The comparison: Nord × division 62 holds three companies at 0,625.
    assert f"Division NAF 62 dans le département Nord {format_number(0.625, 2)} (3 entreprises)" in text
    # Maturity, the skills block and the mobilité of the hand-worked case.
    assert "Score global : 4,0 / 4 — Maîtrise" in text
    assert "Gérer l’information (RNCP35503BC01)" in text or "Gérer l'information (RNCP35503BC01)" in text
    # The PDF's standard font draws the minus sign as a hyphen. The drop, 0,24 − 0,625 =
    # −0,385, lies on the rounding boundary: the last bit of the float computed decides.
    drop = r"Aide-soignant \(J1501\) : exposition 0,24 \(-0,3[89] par rapport à ce métier\) ; aucune compétence"
    assert re.search(drop, text)
    assert "Aucune offre de formation publiée ne mène encore à ces compétences" in text
    assert "http://testserver/formations/" in text


def test_a_secret_cell_says_secret_and_no_value(client, case):
    diagnostic = case["diagnostic"]
    diagnostic.commune = case["amiens"]
    diagnostic.save()
    client.force_login(case["owner"])
    text = pdf_text_of(client.get(pdf_url(diagnostic.pk)))
    assert (
        "Division NAF 62 dans le département Somme non publié : moins de 3 entreprises : leurs chiffres seraient "
        "reconnaissables" in text
    )
    assert "secret secondaire" not in text and "L'observatoire ne publie aucun chiffre qui permettrait" in text


def test_french_characters_euro_and_apostrophes_survive(client, case):
    diagnostic = case["diagnostic"]
    diagnostic.company_name = "L’Œuvre d’Émile & Cie"
    diagnostic.status = Diagnostic.Status.DRAFT
    diagnostic.save()
    linked = SkillBlock.objects.get(code="RNCP35503BC01")
    provider = ProviderFactory(name="Lycée Gambetta", commune=case["lille"])
    offer = TrainingOfferFactory(title="Secrétariat « numérique »", provider=provider, price=1250, ai_related=True)
    offer.skill_blocks.add(linked)
    SessionFactory(offer=offer, commune=case["lille"], start=timezone.localdate() + datetime.timedelta(days=3))
    client.force_login(case["owner"])
    response = client.get(pdf_url(diagnostic.pk))
    assert response["Content-Disposition"] == 'attachment; filename="rapport-loeuvre-demile-cie-2026.pdf"'
    text = pdf_text_of(response)
    assert "Rapport de L’Œuvre d’Émile & Cie" in text
    assert "Brouillon — ce diagnostic n'est pas encore envoyé" in text
    assert "Secrétariat « numérique »" in text
    assert "IA & données" in text
    assert "Lycée Gambetta · Lille (votre commune) · Présentiel · 35 h · 1 250,00 €" in text
    assert "prépare au bloc RNCP35503BC01" in text
    # The offer's title links to its public page.
    assert f"http://testserver/formations/offres/{offer.pk}/".encode() in response.content


def test_characters_outside_windows_1252_are_replaced_not_fatal():
    assert pdf_text("12\u202f345\u00a0%") == "12\u00a0345\u00a0%"
    assert pdf_text("E ≥ 0,7") == "E >= 0,7"
    assert pdf_text("L’été « œuvre » 5 €") == "L’été « œuvre » 5 €"
    assert pdf_text("Łódź") == "?ódz"  # ź has a base letter, Ł has none
    assert pdf_text("ﬁche") == "fiche"
    assert pdf_text("数据") == "??"


def test_the_pdf_says_whether_the_answers_count_yet(client, case):
    client.force_login(case["owner"])
    company = case["company"]
    type(company).objects.filter(pk=company.pk).update(verified_at=timezone.now())
    assert "Compte en cours de vérification" not in pdf_text_of(client.get(pdf_url(case["diagnostic"].pk)))
    type(company).objects.filter(pk=company.pk).update(verified_at=None)
    text = pdf_text_of(client.get(pdf_url(case["diagnostic"].pk)))
    assert "Compte en cours de vérification" in text
    assert "ne comptent pas encore dans les chiffres régionaux" in text
