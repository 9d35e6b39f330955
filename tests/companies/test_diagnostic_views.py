"""The diagnostic's pages through the test client, with real users of each role: access,
each step (refused then corrected, answers kept), conflicts between two members, idempotent
submission, the read-only summary and the look-ups."""

import re

import pytest
from django.urls import reverse

from companies.diagnostic import services
from companies.models import CompanyMembership, Diagnostic, JobPosition, SizeBand
from skills.models import Appellation, Certification, SkillBlock
from tests.companies import test_diagnostic_services as service_tests
from tests.companies.factories import (
    CampaignFactory,
    CommuneFactory,
    CompanyFactory,
    SectionFactory,
    SousClasseFactory,
    all_answers,
    make_member,
)
from tests.companies.test_diagnostic_services import complete_diagnostic, job_data, siret_of
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.usefixtures("no_grid_recomputation")

# Fixtures shared with the services' tests.

STEP_NAMES = ("identity", "maturity", "jobs", "review")


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def reference(db):
    """A few real codes: communes of the Nord and the Pas-de-Calais, NAF sous-classes, ROME
    fiches with appellations, a certification with two skills blocks."""
    lille = CommuneFactory(code="59350", name="Lille", population=236_710)
    CommuneFactory(code="62041", name="Arras", population=41_555)
    CommuneFactory(code="62765", name="Saint-Omer", population=14_069)
    # Two homonyms (Aisne and Oise), told apart by their code.
    CommuneFactory(code="02389", name="Laversine", population=170)
    CommuneFactory(code="60356", name="Laversine", population=150)
    SousClasseFactory(code="62.01Z", label="Programmation informatique")
    SousClasseFactory(
        code="10.71C",
        label="Boulangerie et boulangerie-pâtisserie",
        parent=SectionFactory(code="C", label="Industrie"),
    )
    SousClasseFactory(code="10.71D", label="Pâtisserie", parent=SectionFactory(code="C", label="Industrie"))
    secretariat = OccupationFactory(code="M1607", label="Secrétariat")
    comptabilite = OccupationFactory(code="M1203", label="Comptabilité")
    OccupationFactory(code="M1608", label="Secrétariat comptable")
    Appellation.objects.create(code="38704", label="Secrétaire", occupation=secretariat)
    Appellation.objects.create(code="11347", label="Comptable", occupation=comptabilite)
    certification = Certification.objects.create(code="RNCP35503", register="RNCP", title="Assistant de direction")
    certification.occupations.add(secretariat)
    blocks = [
        SkillBlock.objects.create(code="RNCP35503BC01", label="Gérer l'information", certification=certification),
        SkillBlock.objects.create(code="RNCP35503BC02", label="Organiser l'activité", certification=certification),
    ]
    return {"lille": lille, "secretariat": secretariat, "comptabilite": comptabilite, "blocks": blocks}


@pytest.fixture
def company(db):
    return CompanyFactory(name="Menuiserie Delattre")


@pytest.fixture
def member(django_user_model, company):
    return make_member(company, "claire")


@pytest.fixture
def colleague(django_user_model, company):
    return make_member(company, "bruno")


@pytest.fixture
def outsider(django_user_model):
    """An active member of another company."""
    return make_member(CompanyFactory(name="Brasserie du Beffroi"), "intrus")


@pytest.fixture
def draft(company, campaign, member):
    return services.diagnostic_get_or_create_for(company=company, campaign=campaign, user=member)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def url(name, diagnostic, *args):
    return reverse(f"diagnostic:{name}", args=[diagnostic.pk, *args])


def identity_post(company, **overrides):
    data = {
        "version": 1,
        "action": "continue",
        "siret": siret_of(company),
        "company_name": "Menuiserie Delattre",
        "sector": "62.01Z",
        "commune": "Lille (59350)",
        "size_band": SizeBand.SMALL,
    }
    data.update(overrides)
    return data


def job_post(version, **overrides):
    data = {
        "version": version,
        "action": "add",
        "occupation": "Secrétaire (M1607)",
        "headcount": "4",
        "rc": "50",
        "rm": "5",
        "nra": "10",
        "nri": "20",
        "nrm": "15",
    }
    data.update(overrides)
    return data


def version_in(response) -> int:
    return int(re.search(r'name="version" value="(\d+)"', response.content.decode()).group(1))


# --- Access -------------------------------------------------------------------------------------


def diagnostic_routes(diagnostic, job_id):
    """Every route that names a diagnostic, with its method."""
    return [
        ("get", url("detail", diagnostic)),
        ("get", url("identity", diagnostic)),
        ("post", url("identity", diagnostic)),
        ("get", url("maturity", diagnostic)),
        ("post", url("maturity", diagnostic)),
        ("get", url("jobs", diagnostic)),
        ("post", url("jobs", diagnostic)),
        ("get", url("job_edit", diagnostic, job_id)),
        ("post", url("job_edit", diagnostic, job_id)),
        ("post", url("job_remove", diagnostic, job_id)),
        ("get", url("review", diagnostic)),
        ("post", url("submit", diagnostic)),
    ]


OTHER_ROUTES = [
    ("get", "diagnostic:home"),
    ("post", "diagnostic:start"),
    ("get", "diagnostic:occupations"),
    ("get", "diagnostic:communes"),
    ("get", "diagnostic:sectors"),
]


@pytest.fixture
def diagnostic_with_job(draft, member, reference):
    job = services.diagnostic_job_add(
        diagnostic=draft, data=job_data(reference["secretariat"]), expected_version=draft.version, user=member
    )
    return draft, job


def test_anonymous_visitors_are_sent_to_the_login_page(client, diagnostic_with_job):
    diagnostic, job = diagnostic_with_job
    routes = diagnostic_routes(diagnostic, job.pk) + [(method, reverse(name)) for method, name in OTHER_ROUTES]
    for method, path in routes:
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("login") + "?next="), path


@pytest.mark.parametrize("role", ["analyst", "curator", "plain_user"])
def test_people_without_a_company_are_refused(client, diagnostic_with_job, role, request):
    user = request.getfixturevalue(role)
    client.force_login(user)
    diagnostic, job = diagnostic_with_job
    routes = diagnostic_routes(diagnostic, job.pk) + [(method, reverse(name)) for method, name in OTHER_ROUTES]
    for method, path in routes:
        response = getattr(client, method)(path, {"q": "secr"} if method == "get" else {"version": 1})
        assert response.status_code == 403, path
        assert "Menuiserie" not in response.content.decode(), path
        assert "réservé aux membres d'une entreprise" in response.content.decode()
    assert Diagnostic.objects.get(pk=diagnostic.pk).version == diagnostic.version


def test_a_pending_member_is_told_to_wait(client, django_user_model, company, diagnostic_with_job):
    pending = make_member(company, "nouveau", status=CompanyMembership.Status.PENDING)
    client.force_login(pending)
    diagnostic, _job = diagnostic_with_job
    for path in (reverse("diagnostic:home"), url("identity", diagnostic)):
        response = client.get(path)
        assert response.status_code == 403
        assert "en attente de validation" in response.content.decode()


def test_a_member_of_another_company_gets_404_for_existing_and_guessed_ids(client, outsider, diagnostic_with_job):
    diagnostic, job = diagnostic_with_job
    client.force_login(outsider)
    missing = Diagnostic.objects.order_by("-pk").first().pk + 1  # the next sequential id
    for method, path in diagnostic_routes(diagnostic, job.pk):
        existing = getattr(client, method)(path, {"version": diagnostic.version})
        guessed_path = path.replace(f"/{diagnostic.pk}/", f"/{missing}/", 1)
        guessed = getattr(client, method)(guessed_path, {"version": diagnostic.version})
        assert existing.status_code == guessed.status_code == 404, path
    response = client.post(reverse("diagnostic:start"), {"company": diagnostic.company_id})
    assert response.status_code == 404
    stored = Diagnostic.objects.get(pk=diagnostic.pk)
    assert stored.version == diagnostic.version and stored.jobs.count() == 1 and not stored.is_submitted


def test_a_member_cannot_reach_another_diagnostics_job_through_their_own(
    member_client, draft, outsider, campaign, reference
):
    other = services.diagnostic_get_or_create_for(
        company=outsider.memberships.get().company, campaign=campaign, user=outsider
    )
    job = services.diagnostic_job_add(
        diagnostic=other, data=job_data(reference["comptabilite"]), expected_version=1, user=outsider
    )
    assert member_client.get(url("job_edit", draft, job.pk)).status_code == 404
    assert member_client.post(url("job_remove", draft, job.pk), {"version": draft.version}).status_code == 404
    assert other.jobs.count() == 1


def test_the_overview_lists_only_the_members_companies(member_client, draft, outsider, campaign):
    services.diagnostic_get_or_create_for(company=outsider.memberships.get().company, campaign=campaign, user=outsider)
    page = member_client.get(reverse("diagnostic:home")).content.decode()
    assert "Menuiserie Delattre" in page
    assert "Brasserie du Beffroi" not in page
    assert "Reprendre le diagnostic" in page


# --- Overview and start ---------------------------------------------------------------------------


def test_without_a_current_campaign_the_page_says_so(member_client, company):
    CampaignFactory(year=2025, is_current=False)
    response = member_client.get(reverse("diagnostic:home"))
    assert response.status_code == 200
    assert "Aucune campagne de diagnostic n'est ouverte" in response.content.decode()
    response = member_client.post(reverse("diagnostic:start"), {"company": company.pk}, follow=True)
    assert "Aucune campagne de diagnostic n&#x27;est ouverte pour le moment." in response.content.decode()
    assert not Diagnostic.objects.exists()


def test_starting_twice_makes_one_diagnostic_and_opens_the_identity_step(member_client, company, campaign):
    page = member_client.get(reverse("diagnostic:home")).content.decode()
    assert "Commencer le diagnostic" in page
    first = member_client.post(reverse("diagnostic:start"), {"company": company.pk})
    second = member_client.post(reverse("diagnostic:start"), {"company": company.pk})
    diagnostic = Diagnostic.objects.get()
    assert first["Location"] == second["Location"] == url("identity", diagnostic)
    assert diagnostic.campaign == campaign


def test_start_from_the_previous_campaign(member_client, company, member, reference):
    previous = services.diagnostic_get_or_create_for(
        company=company, campaign=CampaignFactory(year=2025, is_current=False), user=member
    )
    complete_diagnostic(previous, member, [reference["secretariat"]])
    services.diagnostic_submit(diagnostic=previous, user=member, expected_version=previous.version)
    campaign = CampaignFactory(year=2026)
    page = member_client.get(reverse("diagnostic:home")).content.decode()
    assert "Partir de mes réponses de 2025" in page
    assert "Commencer un diagnostic vierge" in page
    response = member_client.post(
        reverse("diagnostic:start"), {"company": company.pk, "from": "previous"}, follow=True
    )
    copy = Diagnostic.objects.get(campaign=campaign)
    assert copy.copied_from == previous
    assert copy.jobs.get().occupation == reference["secretariat"]
    assert response.redirect_chain[-1][0] == url("identity", copy)
    assert "reprend vos réponses de la Campagne 2025" in response.content.decode()


# --- Identity -------------------------------------------------------------------------------------


def test_identity_is_prefilled(member_client, draft):
    draft.company_name = "Menuiserie Delattre"
    page = member_client.get(url("identity", draft)).content.decode()
    assert "Étape 1 sur 4" in page
    assert 'value="Menuiserie Delattre"' in page
    assert 'name="version" value="1"' in page
    assert "Enregistrer et continuer" in page and "Enregistrer le brouillon" in page


def test_identity_refused_keeps_every_answer_and_says_what_is_wrong_next_to_each_field(
    member_client, draft, company, reference
):
    bad_siret = siret_of(company)[:-1] + str((int(siret_of(company)[-1]) + 1) % 10)
    response = member_client.post(
        url("identity", draft),
        identity_post(company, siret=bad_siret, sector="zzz introuvable", commune="59000", size_band=""),
    )
    assert response.status_code == 200
    page = response.content.decode()
    # Every answer is still there, as typed.
    for typed in (bad_siret, "Menuiserie Delattre", "zzz introuvable", "59000"):
        assert f'value="{typed}"' in page
    # A message next to each wrong field, linked to it.
    for field, message in (
        ("siret", "sa clé de contrôle ne correspond pas"),
        ("sector", "Aucune activité ne correspond à « zzz introuvable »"),
        ("commune", "un code postal ne convient pas"),
        ("size_band", "Cette réponse est nécessaire pour continuer."),
    ):
        error = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
        assert error and message in error.group(1), field
    assert re.search(r'aria-describedby="id_siret_helptext id_siret_error"', page)
    assert 'aria-invalid="true"' in page
    assert "4 réponses à corriger" in page
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.version == 1 and stored.siret == ""


def test_identity_accepts_what_people_type(member_client, draft, company, reference):
    response = member_client.post(
        url("identity", draft),
        identity_post(
            company,
            siret=" ".join(siret_of(company)[i : i + 3] for i in range(0, 14, 3)),
            sector="boulangerie",
            commune="saint omer",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == url("maturity", draft)
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.siret == siret_of(company)
    assert stored.sector.code == "10.71C"  # the only label containing « boulangerie »
    assert stored.commune.code == "62765"
    assert (stored.size_band, stored.version, stored.last_step) == (SizeBand.SMALL, 2, "identite")


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("siret", "123", "Un SIRET compte 14 chiffres ; vous en avez saisi 3."),
        ("sector", "10.71", "Plusieurs activités correspondent"),
        ("commune", "Laversine", "Laversine (02389) ; Laversine (60356)"),
        ("commune", "Paris", "Aucune commune des Hauts-de-France ne s&#x27;appelle « Paris »"),
    ],
)
def test_identity_explains_each_refusal(member_client, draft, company, reference, field, typed, message):
    response = member_client.post(url("identity", draft), identity_post(company, **{field: typed}))
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_siret_of_another_company_is_refused(member_client, draft, company, reference):
    other_siret = siret_of(CompanyFactory())
    response = member_client.post(url("identity", draft), identity_post(company, siret=other_siret))
    assert "il doit commencer par son SIREN, " + company.siren in response.content.decode()


def test_identity_draft_may_be_partial_and_returns_to_the_overview(member_client, draft, company):
    response = member_client.post(
        url("identity", draft), {"version": 1, "action": "draft", "company_name": "Delattre", "siret": ""}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("diagnostic:home")
    assert "Brouillon enregistré" in response.content.decode()
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.company_name == "Delattre" and stored.version == 2


def test_two_members_never_silently_overwrite_each_other(client, draft, company, member, colleague, reference):
    client.force_login(member)
    claire_page = client.get(url("identity", draft))
    assert version_in(claire_page) == 1
    # Bruno saves first, from his own session.
    client.force_login(colleague)
    client.post(url("identity", draft), identity_post(company, commune="Arras", size_band=SizeBand.MICRO))
    # Claire saves from the page she opened before.
    client.force_login(member)
    response = client.post(
        url("identity", draft), identity_post(company, commune="Lille", company_name="Delattre SAS")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Un autre membre de votre entreprise a enregistré ce diagnostic" in page
    assert "n&#x27;ont pas été enregistrées" in page
    # Her input is kept in the form…
    assert 'value="Lille"' in page and 'value="Delattre SAS"' in page
    assert 'value="10-49"' in page and re.search(r'value="10-49"[^>]*checked', page)
    # …Bruno's answers are shown where they differ…
    assert "Arras (62041)" in page and "0 à 9 salariés" in page
    # …and nothing of hers was written.
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert (stored.commune.code, stored.company_name, stored.version) == ("62041", "Menuiserie Delattre", 2)
    # Saving again, now knowingly, from the refreshed version.
    assert version_in(response) == 2
    again = client.post(
        url("identity", draft), identity_post(company, version=2, commune="Lille", company_name="Delattre SAS")
    )
    assert again.status_code == 302
    assert Diagnostic.objects.get(pk=draft.pk).commune.code == "59350"


# --- Maturity -------------------------------------------------------------------------------------


def test_maturity_refused_keeps_the_answers_and_flags_each_missing_question(member_client, draft):
    answers = all_answers(3)
    del answers["uses_processes"], answers["governance_dialogue"]
    response = member_client.post(url("maturity", draft), {"version": 1, "action": "continue", **answers})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Étape 2 sur 4" in page
    for key in answers:
        assert re.search(rf'name="{key}" value="3"[^>]*checked', page), key
    for key in ("uses_processes", "governance_dialogue"):
        assert re.search(rf'id="id_{key}_error"><li>Choisissez la réponse la plus proche', page), key
    assert page.count('class="errorlist"') == 2
    assert Diagnostic.objects.get(pk=draft.pk).maturity == {}


def test_maturity_saved_and_draft_may_be_partial(member_client, draft):
    response = member_client.post(url("maturity", draft), {"version": 1, "action": "draft", "data_digital": "2"})
    assert response.status_code == 302
    assert Diagnostic.objects.get(pk=draft.pk).maturity == {"data_digital": 2}
    response = member_client.post(url("maturity", draft), {"version": 2, "action": "continue", **all_answers(4)})
    assert response["Location"] == url("jobs", draft)
    assert Diagnostic.objects.get(pk=draft.pk).maturity == all_answers(4)


def test_maturity_conflict_shows_the_colleagues_answers(client, draft, member, colleague):
    client.force_login(colleague)
    client.post(url("maturity", draft), {"version": 1, "action": "draft", "data_digital": "4"})
    client.force_login(member)
    response = client.post(url("maturity", draft), {"version": 1, "action": "continue", **all_answers(1)})
    page = response.content.decode()
    assert "Un collègue a enregistré ce diagnostic en même temps que vous" in page
    assert "4 — Dans un système unique, à jour et documenté" in page
    assert re.search(r'name="data_quality" value="1"[^>]*checked', page)
    assert Diagnostic.objects.get(pk=draft.pk).maturity == {"data_digital": 4}


# --- Jobs -------------------------------------------------------------------------------------------


def test_jobs_shares_must_sum_to_100_with_the_error_next_to_them(member_client, draft, reference):
    response = member_client.post(url("jobs", draft), job_post(1, nrm=""))
    assert response.status_code == 200
    page = response.content.decode()
    fieldset = re.search(r'<fieldset class="diag-field diag-shares has-error".*?</fieldset>', page, re.S).group(0)
    assert "Les cinq parts font 85 % : il reste 15 % à répartir pour arriver à 100 %." in fieldset
    assert 'id="job-shares-error"' in fieldset and 'aria-describedby="job-shares-help job-shares-error"' in fieldset
    assert "il reste <strong>15 %</strong> à répartir" in fieldset  # the counter, without script
    for name, value in (("occupation", "Secrétaire (M1607)"), ("headcount", "4"), ("rc", "50"), ("nri", "20")):
        assert re.search(rf'name="{name}" value="{re.escape(value)}"', page), name
    assert not draft.jobs.exists()

    response = member_client.post(url("jobs", draft), job_post(1, rc="70"))
    assert "Les cinq parts font 120 % : retirez 20 % pour arriver à 100 %." in response.content.decode()


def test_jobs_add_edit_remove(member_client, draft, reference):
    response = member_client.post(
        url("jobs", draft), job_post(1, training_need="on", wished_skill_blocks=[reference["blocks"][1].pk])
    )
    assert response.status_code == 302
    job = draft.jobs.get()
    assert (job.occupation_id, job.headcount, job.rc, job.rm, job.nra, job.nri, job.nrm, job.training_need) == (
        "M1607",
        4,
        50,
        5,
        10,
        20,
        15,
        True,
    )
    assert list(job.wished_skill_blocks.all()) == [reference["blocks"][1]]

    page = member_client.get(url("jobs", draft)).content.decode()
    assert "Étape 3 sur 4" in page
    assert (
        "Secrétariat" in page and url("job_edit", draft, job.pk) in page and url("job_remove", draft, job.pk) in page
    )
    # The same fiche again is refused.
    response = member_client.post(url("jobs", draft), job_post(2, occupation="M1607"))
    assert "est déjà décrit dans ce diagnostic" in response.content.decode()

    edit_page = member_client.get(url("job_edit", draft, job.pk)).content.decode()
    assert 'value="Secrétariat (M1607)"' in edit_page
    assert "RNCP35503BC01 — Gérer l&#x27;information" in edit_page  # the fiche's blocks are offered
    assert re.search(rf'value="{reference["blocks"][1].pk}"[^>]*checked', edit_page)
    response = member_client.post(
        url("job_edit", draft, job.pk),
        job_post(
            2,
            action="save",
            occupation="Secrétariat (M1607)",
            headcount="6",
            rc="100",
            rm="0",
            nra="0",
            nri="0",
            nrm="0",
        ),
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.headcount, job.rc, job.training_need) == (6, 100, False)

    response = member_client.post(url("job_remove", draft, job.pk), {"version": 3}, follow=True)
    assert "est retiré du diagnostic" in response.content.decode()
    assert not draft.jobs.exists()


def test_the_job_edit_form_keeps_input_on_error(member_client, draft, reference):
    member_client.post(url("jobs", draft), job_post(1))
    job = draft.jobs.get()
    response = member_client.post(url("job_edit", draft, job.pk), job_post(2, action="save", headcount="0"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_headcount_error"><li>Au moins une personne.' in page
    assert 'name="headcount" value="0"' in page
    job.refresh_from_db()
    assert job.headcount == 4


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("secrétaire", "M1607"), ("COMPTABLE", "M1203"), ("m1203", "M1203"), ("Comptabilité", "M1203")],
)
def test_jobs_find_the_fiche_by_label_appellation_or_code(member_client, draft, reference, typed, expected):
    response = member_client.post(url("jobs", draft), job_post(1, occupation=typed))
    assert response.status_code == 302, response.content.decode()
    assert draft.jobs.get().occupation_id == expected


def test_an_ambiguous_job_lists_the_candidates(member_client, draft, reference):
    response = member_client.post(url("jobs", draft), job_post(1, occupation="secr"))
    page = response.content.decode()
    assert "Plusieurs métiers correspondent à « secr »" in page
    assert "Secrétariat (M1607)" in page and "Secrétariat comptable (M1608)" in page


def test_continue_adds_what_is_typed_or_simply_moves_on(member_client, draft, reference):
    response = member_client.post(url("jobs", draft), job_post(1, action="continue"))
    assert response["Location"] == url("review", draft)
    assert draft.jobs.count() == 1
    blank = {
        "version": 2,
        "action": "continue",
        "occupation": "",
        "headcount": "",
        "rc": "",
        "rm": "",
        "nra": "",
        "nri": "",
        "nrm": "",
    }
    response = member_client.post(url("jobs", draft), blank)
    assert response["Location"] == url("review", draft)
    assert draft.jobs.count() == 1
    response = member_client.post(url("jobs", draft), {**blank, "action": "draft"})
    assert response["Location"] == reverse("diagnostic:home")


def test_a_job_added_while_a_colleague_saved_is_kept_in_the_form(client, draft, member, colleague, reference):
    client.force_login(colleague)
    client.post(url("jobs", draft), job_post(1, occupation="Comptable"))
    client.force_login(member)
    response = client.post(url("jobs", draft), job_post(1, headcount="7"))
    page = response.content.decode()
    assert "Un autre membre de votre entreprise a enregistré ce diagnostic" in page
    assert 'name="headcount" value="7"' in page
    assert "Comptabilité" in page  # the colleague's job is listed
    assert version_in(response) == 2
    assert list(draft.jobs.values_list("occupation_id", flat=True)) == ["M1203"]


# --- Review and submission ----------------------------------------------------------------------------


def test_review_lists_what_is_missing_with_links(member_client, draft):
    page = member_client.get(url("review", draft)).content.decode()
    assert "Étape 4 sur 4" in page
    assert "Avant d'envoyer, il reste à compléter" in page
    assert url("identity", draft) in page and url("maturity", draft) in page and url("jobs", draft) in page
    assert "Envoyer le diagnostic" not in page
    response = member_client.post(url("submit", draft), {"version": draft.version}, follow=True)
    assert "Décrivez au moins un métier de l&#x27;entreprise." in response.content.decode()
    assert not Diagnostic.objects.get(pk=draft.pk).is_submitted


def test_review_summarises_every_step(member_client, draft, member, reference):
    complete_diagnostic(draft, member, [reference["secretariat"], reference["comptabilite"]])
    page = member_client.get(url("review", draft)).content.decode()
    for text in (
        "Menuiserie Delattre",
        draft.siret,
        "Programmation informatique",
        "Lille",
        "10 à 49 salariés",
        "2,0<small> / 4</small>",
        "Structuration",
        "Secrétariat",
        "Comptabilité",
        "Envoyer le diagnostic",
        f'name="version" value="{draft.version}"',
    ):
        assert text in page, text
    for name in ("identity", "maturity", "jobs"):
        assert url(name, draft) in page


def test_double_submission_makes_one_submission_and_one_set_of_positions(
    client, draft, member, colleague, reference, signals_sent, django_capture_on_commit_callbacks
):
    service_tests.verify(draft.company)  # an unverified company's submission signals nothing
    complete_diagnostic(draft, member, [reference["secretariat"], reference["comptabilite"]])
    version = draft.version
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url("submit", draft), {"version": version}, follow=True)
        double_click = client.post(url("submit", draft), {"version": version}, follow=True)
    # A second tab (a colleague's, on the review page opened before) submits too.
    client.force_login(colleague)
    with django_capture_on_commit_callbacks(execute=True):
        other_tab = client.post(url("submit", draft), {"version": version}, follow=True)
    assert "Merci ! Votre diagnostic est envoyé." in first.content.decode()
    for response in (double_click, other_tab):
        assert response.redirect_chain[-1][0] == url("detail", draft)
        assert "Ce diagnostic a déjà été envoyé le" in response.content.decode()
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert stored.is_submitted and stored.submitted_by == member
    assert JobPosition.objects.filter(diagnostic=draft).count() == 2
    assert JobPosition.objects.count() == 2
    assert signals_sent == [{"sender": Diagnostic, "source": "diagnostic", "positions": 2}]


def test_after_submission_the_summary_is_read_only_and_links_to_the_report(member_client, draft, member, reference):
    complete_diagnostic(draft, member, [reference["secretariat"]])
    member_client.post(url("submit", draft), {"version": draft.version})
    page = member_client.get(url("detail", draft)).content.decode()
    assert f'href="/diagnostic/{draft.pk}/rapport/"' in page
    assert "Ce récapitulatif n'est plus modifiable" in page
    assert url("identity", draft) not in page and "Envoyer le diagnostic" not in page
    assert "Secrétariat" in page
    home = member_client.get(reverse("diagnostic:home")).content.decode()
    assert f"/diagnostic/{draft.pk}/rapport/" in home


def test_a_submitted_diagnostic_refuses_every_change(member_client, draft, member, reference):
    complete_diagnostic(draft, member, [reference["secretariat"]])
    member_client.post(url("submit", draft), {"version": draft.version})
    submitted = Diagnostic.objects.get(pk=draft.pk)
    job = submitted.jobs.get()
    posts = [
        (url("identity", draft), identity_post(draft.company, version=submitted.version, company_name="Autre")),
        (url("maturity", draft), {"version": submitted.version, **all_answers(0)}),
        (url("jobs", draft), job_post(submitted.version, occupation="M1203")),
        (url("job_edit", draft, job.pk), job_post(submitted.version, action="save", headcount="99")),
        (url("job_remove", draft, job.pk), {"version": submitted.version}),
    ]
    for path, data in posts:
        response = member_client.post(path, data, follow=True)
        assert response.redirect_chain[-1][0] == url("detail", draft), path
        assert "il ne peut plus être modifié" in response.content.decode(), path
    # The back button to a step shows the summary as well.
    for name in STEP_NAMES:
        response = member_client.get(url(name, draft))
        assert response.status_code == 302 and response["Location"] == url("detail", draft)
    stored = Diagnostic.objects.get(pk=draft.pk)
    assert (stored.company_name, stored.maturity, stored.version) == (
        submitted.company_name,
        submitted.maturity,
        submitted.version,
    )
    assert list(stored.jobs.values_list("occupation_id", "headcount")) == [("M1607", 12)]
    assert JobPosition.objects.count() == 1


def test_a_draft_of_a_closed_campaign_is_read_only(member_client, company, member):
    old = services.diagnostic_get_or_create_for(
        company=company, campaign=CampaignFactory(year=2024, is_current=False), user=member
    )
    response = member_client.get(url("identity", old), follow=True)
    assert "La Campagne 2024 est close" in response.content.decode()
    assert response.redirect_chain[-1][0] == url("detail", old)
    assert "rapport" not in response.content.decode()


# --- Query counts ---------------------------------------------------------------------------------------


def test_pages_run_a_bounded_number_of_queries(member_client, draft, member, reference, django_assert_max_num_queries):
    extra = [OccupationFactory(code=f"H22{n:02d}", label=f"Métier {n}") for n in range(8)]
    complete_diagnostic(draft, member, [reference["secretariat"], reference["comptabilite"], *extra])
    job = draft.jobs.first()
    for path in (
        reverse("diagnostic:home"),
        url("identity", draft),
        url("maturity", draft),
        url("jobs", draft),
        url("job_edit", draft, job.pk),
        url("review", draft),
    ):
        with django_assert_max_num_queries(10):
            assert member_client.get(path).status_code == 200, path
    member_client.post(url("submit", draft), {"version": draft.version})
    with django_assert_max_num_queries(10):
        assert member_client.get(url("detail", draft)).status_code == 200


# --- Look-ups ------------------------------------------------------------------------------------------


def test_occupation_lookup_by_label_appellation_and_code(member_client, reference):
    path = reverse("diagnostic:occupations")
    assert member_client.get(path, {"q": "s"}).json() == []
    found = member_client.get(path, {"q": "secr"}).json()
    assert [(item["code"], item["appellation"]) for item in found] == [
        ("M1607", None),
        ("M1608", None),
        ("M1607", "Secrétaire"),
    ]
    assert found[0]["value"] == "Secrétariat (M1607)"
    assert found[2]["value"] == "Secrétaire (M1607)"
    # Accents and case do not matter; an appellation finds its fiche.
    assert [item["code"] for item in member_client.get(path, {"q": "SECRETAIRE"}).json()] == ["M1607"]
    comptable = member_client.get(path, {"q": "comptable"}).json()
    assert {
        "code": "M1203",
        "label": "Comptabilité",
        "appellation": "Comptable",
        "value": "Comptable (M1203)",
    } in comptable
    assert member_client.get(path, {"q": "M12"}).json()[0]["code"] == "M1203"
    fiche = member_client.get(path, {"code": "m1607"}).json()
    assert fiche["label"] == "Secrétariat"
    assert [block["code"] for block in fiche["skill_blocks"]] == ["RNCP35503BC01", "RNCP35503BC02"]
    assert member_client.get(path, {"code": "Z9999"}).status_code == 404


def test_commune_and_sector_lookups(member_client, reference):
    communes = member_client.get(reverse("diagnostic:communes"), {"q": "saint-om"}).json()
    assert [(c["code"], c["label"], c["value"]) for c in communes] == [("62765", "Saint-Omer", "Saint-Omer (62765)")]
    assert communes[0]["detail"].endswith("(62)")
    assert member_client.get(reverse("diagnostic:communes"), {"q": "593"}).json()[0]["code"] == "59350"
    sectors = member_client.get(reverse("diagnostic:sectors"), {"q": "1071"}).json()
    assert [s["code"] for s in sectors] == ["10.71C", "10.71D"]
    assert member_client.get(reverse("diagnostic:sectors"), {"q": "patisserie"}).json()[0]["code"] in (
        "10.71C",
        "10.71D",
    )
