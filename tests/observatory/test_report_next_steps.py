"""The report a manager acts on, on a hand-built joinery company: « Menuiserie Lefebvre »
(NAF 43.32A, section F, Lille) declares Menuisier (H2206, 6 people, a training need) and
Secrétaire (M1607, 2 people) on the hand-worked grid of test_report.py.

Menuisier's imported reference profile RC .10, RM .50, NRA .10, NRI .05, NRM .25 gives, with
the default lens's α (RC .85, RM .55, NRA .45, NRI .20, NRM .10),
E = .085 + .275 + .045 + .010 + .025 = 0,44: « changement significatif », the default lens's
thresholds being 0,44 and 0,48 (migration 0007_methodology_rome_thresholds). Its largest
contribution is RM: .275 / .44 = 62,5 % of the exposure. Nobody else declares it: the profile
retained is the reference. The catalogue is empty; the directory holds the OPCO of section F
and a CCI serving everyone.
"""

import io
import json
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from companies.models import Diagnostic, DiagnosticJob, RegionalContact
from observatory import services
from observatory.charts.common import format_percent
from observatory.models import Lens
from observatory.report import company_report
from skills.models import Mobility, OccupationTaskProfile, SkillBlock
from tests.companies.factories import (
    CompanyFactory,
    all_answers,
    make_member,
)
from tests.skills.factories import OccupationFactory
from tests.trainings.factories import ProviderFactory, TrainingOfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_grid_recomputation(settings):
    settings.OBSERVATORY_AUTO_RECOMPUTE = False


def _page(client, joinery):
    client.force_login(joinery["owner"])
    response = client.get(reverse("diagnostic_report", args=[joinery["diagnostic"].pk]))
    assert response.status_code == 200
    return response


def _jobs(response):
    return {report.job.occupation_id: report for report in response.context["jobs"]}


def plain(text: str) -> str:
    """`text` with its no-break spaces as plain ones, as `_words` reads the page."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _words(html: str) -> str:
    """The page's visible text, whitespace collapsed, entities as characters."""
    import html as html_module

    body = html.split("<main", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


# --- Words --------------------------------------------------------------------------------------


def test_the_menuisier_is_read_in_the_questionnaires_words(client, joinery):
    response = _page(client, joinery)
    page = response.content.decode()
    text = _words(page)
    carpenter = _jobs(response)["H2206"]
    # The categories as the questionnaire names them; their codes only in small print.
    for words in (
        "Tâches répétitives sur de l'information",
        "Tâches répétitives manuelles",
        "Travail manuel non répétitif",
    ):
        assert words in text
    assert "Routinier" not in text and "routinier" not in text
    assert '<span class="report-code">RM</span>' in page
    ticks = json.loads(carpenter.figure)["data"][0]["y"]
    assert ticks[1] == "Tâches répétitives<br>manuelles" and "NRM" not in ticks
    # The exposure in one sentence with its class and the class's bounds.
    assert carpenter.score.exposure == pytest.approx(0.44)
    assert carpenter.score.exposure_class == "medium"
    assert (
        "Exposition 0,44 sur une échelle de 0 à 1 — changement significatif (de 0,44 à 0,48) : une partie "
        "importante des tâches va évoluer." in text
    )
    # With the company's own answers: .085 + .33 + .045 + 0 + .02 = 0,48.
    assert carpenter.own_exposure == pytest.approx(0.48)
    assert "Calculée sur vos seules réponses, elle serait de 0,48." in text
    # What exposes it most: RM, .275 / .44 = 62,5 % of the exposure; the two core RM items.
    assert carpenter.drivers["code"] == "RM"
    assert carpenter.drivers["contribution"] == pytest.approx(0.275 / 0.44)
    assert carpenter.drivers["items"] == [
        "Débiter des pièces de bois en série",
        "Usiner des pièces sur machine à commande numérique",
    ]
    share = format_percent(0.275 / 0.44, 0).replace("\xa0", " ")
    assert (
        f"Ce qui expose le plus ce métier : « Tâches répétitives manuelles » ({share} de son exposition). Vous y "
        "consacrez 60 % du temps, la référence du métier 50 %." in text
    )
    assert "« Débiter des pièces de bois en série » ; « Usiner des pièces sur machine à commande numérique »" in text
    # Nobody else declares Menuisier: no « profil retenu » column, and the reason in words.
    assert not carpenter.show_retained
    assert "le profil retenu par l'observatoire est le profil de référence" in text


def test_the_retained_profile_says_how_it_is_weighed(client, joinery):
    response = _page(client, joinery)
    secretary = _jobs(response)["M1607"]
    # Three companies report Secrétaire, none dominant: n = 3 beside m = 5.
    assert secretary.show_retained
    text = _words(response.content.decode())
    assert "Profil retenu" in text and "Retenu<" not in response.content.decode()
    assert "combinée au profil de référence, qui compte autant que 5 entreprises" in text
    assert "Ici, 3 entreprises : leurs réponses comptent pour 38 %, la référence pour 62 %." in text


# --- Next steps --------------------------------------------------------------------------------


def test_a_training_need_with_an_empty_catalogue_gets_a_contact(client, joinery):
    response = _page(client, joinery)
    carpenter = _jobs(response)["H2206"]
    assert carpenter.needs_training and not carpenter.offers
    step = carpenter.next_step
    assert step.kind == "contact" and step.contact == joinery["opco"]  # the OPCO of section F first
    assert plain(step.text) == (
        "Demander à Constructys une formation adaptée au métier « Menuisier » : le catalogue n'en propose pas "
        "encore près de chez vous."
    )
    text = _words(response.content.decode())
    assert plain(step.text) in text and "hauts-de-france@constructys.example.fr" in text
    # The directory: the OPCO of section F and the CCI serving everyone, in that order.
    assert response.context["contacts"] == [joinery["opco"], joinery["cci"]]
    assert response.context["contact_needed"]
    assert "ces interlocuteurs peuvent vous orienter ou financer une formation" in text


def test_every_job_gets_exactly_one_next_step(client, joinery):
    response = _page(client, joinery)
    steps = {code: report.next_step for code, report in _jobs(response).items()}
    assert all(step is not None and step.text for step in steps.values())
    # Secrétaire (exposed, no need, a skills block, no offer): ask the OPCO for that block.
    assert steps["M1607"].kind == "contact"
    assert "bloc de compétences « Gérer l'information » (RNCP35503BC01)" in plain(steps["M1607"].text)
    summary = _words(response.content.decode()).split("En bref", 1)[1].split("Vos métiers", 1)[0]
    assert plain(steps["H2206"].text) in summary and plain(steps["M1607"].text) in summary


def test_a_training_need_with_an_offer_nearby_is_sent_to_it(client, joinery):
    block = SkillBlock.objects.create(
        code="RNCP36000BC02",
        label="Usiner des pièces de menuiserie",
        certification=SkillBlock.objects.first().certification,
    )
    block.occupations.add(joinery["carpenter"])
    joinery["carpenters"].wished_skill_blocks.add(block)
    offer = TrainingOfferFactory(
        title="Commande numérique en menuiserie", provider=ProviderFactory(name="AFPA Lille", commune=joinery["lille"])
    )
    offer.skill_blocks.add(block)
    carpenter = _jobs(_page(client, joinery))["H2206"]
    assert carpenter.skill_blocks[0].block == block and carpenter.skill_blocks[0].wished
    step = carpenter.next_step
    assert step.kind == "offer" and step.url == reverse("trainings:offer", args=[offer.pk])
    assert plain(step.text) == (
        "Inscrire les personnes concernées à la formation « Commande numérique en menuiserie » (AFPA Lille, Lille)."
    )


def test_without_any_contact_the_need_still_gets_a_step(client, joinery):
    RegionalContact.objects.all().delete()
    response = _page(client, joinery)
    step = _jobs(response)["H2206"].next_step
    assert step.kind == "catalogue" and step.url == reverse("trainings:catalogue")
    assert "Aucun interlocuteur n'est encore référencé" in _words(response.content.decode())


def test_a_low_exposure_job_without_need_is_told_nothing_is_urgent(client, joinery):
    joinery["carpenters"].training_need = False
    joinery["carpenters"].save()
    carer = DiagnosticJob.objects.create(
        diagnostic=joinery["diagnostic"],
        occupation_id="J1501",
        headcount=1,
        rc=5,
        rm=10,
        nra=5,
        nri=40,
        nrm=40,
    )
    step = _jobs(_page(client, joinery))[carer.occupation_id].next_step
    assert step.kind == "watch"
    assert step.text.startswith("Pas d'action urgente : présenter à l'équipe les outils d'IA utiles à ce métier")


def test_transitions_need_the_methodologys_margin(client, joinery):
    """With a strong exposure from 0,62, Secrétaire (0,625) and a target at 0,60 sit in two
    classes, but 0,025 apart: less than the margin of 0,05. The occupation page's ranking keeps
    it (a lower class); the report, which asks people to change jobs, does not."""
    services.methodology_create_version(lens=Lens.DEFAULT, high_threshold=0.62, medium_threshold=0.44)
    assistant = OccupationFactory(code="M1604", label="Assistant de direction", parent__code="M16")
    share = (0.60 - 0.2) / 0.65  # E = .85·x + .20·(1 − x) = 0,60
    OccupationTaskProfile.objects.create(occupation=assistant, rc=share, rm=0, nra=0, nri=1 - share, nrm=0)
    Mobility.objects.create(source=joinery["secretary"], target=assistant, rank=3)
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.DEFAULT).pk)
    from observatory import selectors

    ranked = selectors.transitions_frame(run, ["M1607"])
    assert "M1604" in set(ranked["target"])
    secretary = _jobs(_page(client, joinery))["M1607"]
    assert [m["target"].code for m in secretary.mobilities] == ["J1501"]


# --- Maturity --------------------------------------------------------------------------------


def test_each_maturity_dimension_gets_its_level_in_words_and_advice(client, joinery):
    from companies.maturity_advice import ADVICE

    response = _page(client, joinery)
    maturity = response.context["maturity"]
    rows = {row["key"]: row for row in maturity["rows"]}
    assert (rows["awareness"]["score"], rows["awareness"]["level"]) == (0.5, "Découverte")
    assert rows["awareness"]["advice"] == str(ADVICE["awareness"][0])
    assert (rows["data"]["score"], rows["data"]["level"]) == (2.5, "Structuration")
    assert rows["data"]["advice"] == str(ADVICE["data"][2])
    assert rows["governance"]["level"] == "Premiers pas" and rows["governance"]["advice"] == str(
        ADVICE["governance"][1]
    )
    text = _words(response.content.decode())
    assert "Vos réponses : Le sujet n'a jamais été abordé ; Quelques personnes s'y intéressent d'elles-mêmes." in text
    assert f"Étape suivante : {ADVICE['data'][2]}" in text


def test_a_small_section_gets_the_plain_sentence(client, joinery):
    response = _page(client, joinery)
    maturity = response.context["maturity"]
    assert not maturity["shown"] and maturity["peers"] == 0
    assert all(row["average"] is None and row["versus"] == "" for row in maturity["rows"])
    text = _words(response.content.decode())
    assert "Il n'y a pas encore assez d'entreprises de votre secteur pour comparer votre maturité à la leur" in text
    assert "au-dessus de la moyenne" not in text and "secret" not in text.lower().replace("secret statistique", "")


def test_a_section_with_enough_verified_peers_compares_each_dimension(client, joinery):
    for level in (3, 3, 3):
        Diagnostic.objects.create(
            campaign=joinery["campaign"],
            company=CompanyFactory(verified=True),
            status=Diagnostic.Status.SUBMITTED,
            sector=joinery["diagnostic"].sector,
            commune=joinery["lille"],
            maturity=all_answers(level),
        )
    rows = {row["key"]: row for row in _page(client, joinery).context["maturity"]["rows"]}
    assert rows["awareness"]["versus"] == "en dessous de la moyenne de votre secteur (3,0 / 4)"


# --- Paper, queries and access -----------------------------------------------------------------


def test_the_pdf_carries_the_pages_key_content(client, joinery):
    client.force_login(joinery["owner"])
    response = client.get(reverse("diagnostic_report_pdf", args=[joinery["diagnostic"].pk]))
    reader = PdfReader(io.BytesIO(response.content))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " "))
    # Text the PDF's standard font draws alike (a hyphen for the minus sign, ' for ’).
    context = company_report(Diagnostic.objects.select_related("campaign").get(pk=joinery["diagnostic"].pk))
    for report in context["jobs"]:
        for sentence in (report.next_step.text, report.exposure_text, report.drivers["summary"]):
            assert plain(sentence) in text
        for row in report.profile_rows:
            assert f"{row['label']} ({row['code']})" in text
    for row in context["maturity"]["rows"]:
        assert f"Étape suivante : {row['advice']}" in text
    assert "Constructys (OPCO (financement de la formation des salariés))" in text
    assert "Il n'y a pas encore assez d'entreprises de votre secteur" in text
    assert "Routinier" not in text and "secret secondaire" not in text
    assert len(reader.pages) >= 3


def test_the_report_runs_a_bounded_number_of_queries(client, joinery, django_assert_max_num_queries):
    client.force_login(joinery["owner"])
    url = reverse("diagnostic_report", args=[joinery["diagnostic"].pk])
    client.get(url)
    # test_report_training.REPORT_QUERIES, whatever the number of jobs.
    with django_assert_max_num_queries(26):
        client.get(url)
    with django_assert_max_num_queries(24):
        client.get(reverse("diagnostic_report_pdf", args=[joinery["diagnostic"].pk]))


def test_a_member_of_another_company_is_refused(client, joinery, django_user_model):
    stranger = make_member(CompanyFactory(name="Ébénisterie Voisine"), "voisin")
    client.force_login(stranger)
    for name in ("diagnostic_report", "diagnostic_report_pdf"):
        response = client.get(reverse(name, args=[joinery["diagnostic"].pk]))
        assert response.status_code == 404
        assert "Menuiserie Lefebvre" not in response.content.decode(errors="replace")
