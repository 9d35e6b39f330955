"""The read-only API (/api/v1/): values of the hand-worked case, filters, secrecy, runs,
authentication by session and token, access on every route, the schema and its docs page."""

import json
import re

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token

from companies.models import JobPosition
from observatory import services
from observatory.models import GridCell, GridRun, Lens, OccupationScore
from skills.models import OccupationItem, RomeItem
from tests.companies.factories import JobPositionFactory
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

TOTAL = {"territory_level": "all", "sector_level": "all", "occupation_level": "all", "size_band": "all"}
FIGURES = (
    "companies",
    "establishments",
    "employees",
    "exposure_mean",
    "share_high",
    "share_medium",
    "share_low",
    "rti_mean",
    "training_need_share",
    "training_coverage",
    "diagnostics",
)


def _compute(lens=Lens.DEFAULT):
    run = services.grid_run_create(lens=lens)
    return services.grid_run_compute(run.pk)


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return _compute()


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def _results(response):
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


# --- Access ---------------------------------------------------------------------------------

ROUTES = [
    "/api/v1/",
    "/api/v1/grid-cells/",
    "/api/v1/occupations/",
    "/api/v1/occupations/M1607/",
    "/api/v1/runs/",
    "/api/v1/runs/{run}/",
    "/api/v1/schema/",
    "/api/v1/docs/",
]


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitors_are_refused_on_every_route(client, run, route):
    response = client.get(route.format(run=run.pk))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ["plain_user", "curator"])
def test_company_members_and_curators_are_refused_on_every_route(client, run, route, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(route.format(run=run.pk)).status_code == 403


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ["analyst", "superuser"])
def test_analysts_and_superusers_reach_every_route(client, run, route, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(route.format(run=run.pk)).status_code == 200


def test_an_analyst_token_authenticates(client, run, analyst):
    token = Token.objects.create(user=analyst)
    response = client.get("/api/v1/grid-cells/", TOTAL, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _results(response)[0]["employees"] == 65


def test_a_plain_user_token_is_refused(client, run, plain_user):
    token = Token.objects.create(user=plain_user)
    response = client.get("/api/v1/grid-cells/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403


def test_an_unknown_token_is_refused(client, run):
    response = client.get("/api/v1/runs/", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert response.status_code == 401


def test_tokens_are_managed_in_the_admin(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 200


# --- Grid cells -----------------------------------------------------------------------------


def test_the_total_cell_carries_the_hand_worked_values(analyst_client, run):
    [total] = _results(analyst_client.get("/api/v1/grid-cells/", TOTAL))
    assert total["run"] == run.pk
    assert (total["companies"], total["establishments"], total["employees"]) == (4, 4, 65)
    assert total["exposure_mean"] == pytest.approx(5.6 / 9)
    assert (total["share_high"], total["share_medium"], total["share_low"]) == pytest.approx((1, 0, 0))
    assert total["training_need_share"] == pytest.approx(20 / 65)
    assert total["secret"] is False and total["secret_reason"] == "" and total["secret_label"] is None


def test_secret_cells_keep_their_coordinates_and_no_figure(analyst_client, run):
    params = TOTAL | {"territory_level": "departement"}
    cells = {c["territory_code"]: c for c in _results(analyst_client.get("/api/v1/grid-cells/", params))}
    assert set(cells) == {"59", "62"}
    pas_de_calais, nord = cells["62"], cells["59"]
    assert pas_de_calais["territory_name"] == "Pas-de-Calais" and nord["territory_name"] == "Nord"
    assert pas_de_calais["secret"] is True and pas_de_calais["secret_reason"] == "companies"
    assert pas_de_calais["secret_label"] == "moins de 3 entreprises"
    assert nord["secret_reason"] == "secondary" and nord["secret_label"] == "secret secondaire"
    for cell in (pas_de_calais, nord):
        assert all(cell[name] is None for name in FIGURES), cell
    # The values are stored (audit trail) but never served.
    stored = GridCell.objects.get(run=run, **(TOTAL | {"territory_level": "departement", "territory_code": "62"}))
    assert stored.employees == 5


def test_the_dominance_reason_is_worded_with_the_method_threshold(analyst_client, hand_worked):  # noqa: F811
    JobPosition.objects.filter(headcount=30).update(headcount=400)
    _compute()
    params = TOTAL | {"territory_level": "departement", "territory_code": "59"}
    [nord] = _results(analyst_client.get("/api/v1/grid-cells/", params))
    assert nord["secret_label"] == "une entreprise dépasse 85 % des salariés" and nord["employees"] is None


def test_the_territory_filter_returns_only_departement_cells(analyst_client, run):
    response = analyst_client.get("/api/v1/grid-cells/", {"territory_level": "departement", "page_size": 1000})
    cells = _results(response)
    assert cells and {c["territory_level"] for c in cells} == {"departement"}
    assert response.json()["count"] == GridCell.objects.filter(run=run, territory_level="departement").count()


def test_filters_combine_on_every_dimension(analyst_client, run):
    params = {
        "territory_level": "region",
        "territory_code": "32",
        "sector_level": "division",
        "sector_code": "62",
        "occupation_level": "fiche",
        "occupation_code": "M1607",
        "size_band": "all",
    }
    [cell] = _results(analyst_client.get("/api/v1/grid-cells/", params))
    assert cell["territory_name"] == "Hauts-de-France" and cell["occupation_label"] == "Secrétaire"
    assert cell["employees"] == 65


def test_an_invalid_filter_value_is_a_bad_request(analyst_client, run):
    assert analyst_client.get("/api/v1/grid-cells/", {"territory_level": "canton"}).status_code == 400


def test_another_run_is_read_with_the_run_parameter(analyst_client, run):
    genai = _compute(Lens.GENAI)
    [by_lens] = _results(analyst_client.get("/api/v1/grid-cells/", TOTAL | {"lens": "genai"}))
    assert by_lens["run"] == genai.pk
    # Generative-AI α: (.90·5 + .10·.5 + .60·1.7 + .25·1.3 + .05·.5) / 9 = 5.92 / 9.
    assert by_lens["exposure_mean"] == pytest.approx(5.92 / 9)
    [by_id] = _results(analyst_client.get("/api/v1/grid-cells/", TOTAL | {"run": run.pk}))
    assert by_id["run"] == run.pk and by_id["exposure_mean"] == pytest.approx(5.6 / 9)


def test_an_unknown_or_unfinished_run_is_not_found(analyst_client, run):
    failed = GridRun.objects.create(methodology=run.methodology, status=GridRun.Status.FAILED)
    for value in (failed.pk, 999_999):
        assert analyst_client.get("/api/v1/grid-cells/", {"run": value}).status_code == 404
    # Not a number at all: a bad request, said as such.
    assert analyst_client.get("/api/v1/grid-cells/", {"run": "abc"}).status_code == 400


def test_no_computed_grid_is_not_found(analyst_client, hand_worked):  # noqa: F811
    assert analyst_client.get("/api/v1/grid-cells/").status_code == 404


def test_the_cell_list_runs_a_bounded_number_of_queries(analyst_client, run, django_assert_max_num_queries):
    template = GridCell.objects.filter(run=run).first()
    GridCell.objects.bulk_create(
        GridCell(
            run=run,
            territory_level="epci",
            territory_code=f"2{i:08d}",
            sector_level="division",
            sector_code=f"{i % 90:02d}",
            occupation_level="fiche",
            occupation_code=f"Z{i:04d}",
            size_band="all",
            companies=template.companies,
            establishments=template.establishments,
            employees=template.employees,
            secret=i % 3 == 0,
            secret_reason="companies" if i % 3 == 0 else "",
        )
        for i in range(600)
    )
    with django_assert_max_num_queries(10):
        cells = _results(analyst_client.get("/api/v1/grid-cells/", {"page_size": 1000}))
    assert len(cells) == GridCell.objects.filter(run=run).count() > 600


# --- Occupations ----------------------------------------------------------------------------


def test_an_occupation_carries_its_scores_in_the_current_run(analyst_client, run):
    [secretary] = _results(analyst_client.get("/api/v1/occupations/", {"q": "secré"}))
    assert secretary["code"] == "M1607" and secretary["label"] == "Secrétaire"
    assert secretary["domaine"] == {"code": "M16", "label": "Secrétariat et assistance"}
    assert secretary["grand_domaine"]["code"] == "M"
    score = secretary["score"]
    assert score["run"] == run.pk
    assert (score["n_companies"], score["employees"]) == (4, 65)
    assert score["exposure"] == pytest.approx(5.6 / 9)
    assert score["exposure_class"] == "high" and score["exposure_class_label"] == "Forte"
    assert score["secret"] is False
    blended, reference, field = (score["profile"][k] for k in ("blended", "reference", "field"))
    assert blended == pytest.approx({"rc": 5 / 9, "rm": 0.5 / 9, "nra": 1.7 / 9, "nri": 1.3 / 9, "nrm": 0.5 / 9})
    assert reference == pytest.approx({"rc": 0.6, "rm": 0.1, "nra": 0.1, "nri": 0.1, "nrm": 0.1})
    assert field == pytest.approx({"rc": 0.5, "rm": 0, "nra": 0.3, "nri": 0.2, "nrm": 0})


def test_an_occupation_carries_the_sources_of_its_reference_profile(analyst_client, hand_worked):  # noqa: F811
    """M1607 has an imported profile; M1608 is profiled from its two classified savoir-faire
    (its « hors tâche » item is no evidence)."""
    assistant = OccupationFactory(code="M1608", label="Assistant de direction")
    entry = RomeItem.objects.create(
        code="100001",
        kind=RomeItem.Kind.SKILL,
        label="Saisir des documents",
        rule="verbe:saisir",
        rc=1,
        rm=0,
        nra=0,
        nri=0,
        nrm=0,
    )
    advice = RomeItem.objects.create(
        code="100002",
        kind=RomeItem.Kind.SKILL,
        label="Conseiller un client",
        rule="verbe:conseiller",
        rc=0,
        rm=0,
        nra=0,
        nri=1,
        nrm=0,
    )
    rules = RomeItem.objects.create(
        code="100003", kind=RomeItem.Kind.SKILL, label="Respecter les règles", rule="hors_tache:respecter"
    )
    for item, core in ((entry, "principale"), (advice, ""), (rules, "")):
        OccupationItem.objects.create(occupation=assistant, item=item, core=core)
    run = _compute()
    assert run.profile_source.startswith("rome_items:v1+1 importés:")
    secretary = analyst_client.get("/api/v1/occupations/M1607/").json()["score"]
    assert secretary["profile_source"] == run.profile_source
    assert secretary["reference_source"] == "imported" and secretary["reference_source_label"] == "profil importé"
    score = analyst_client.get("/api/v1/occupations/M1608/").json()["score"]
    assert score["profile_source"] == run.profile_source
    assert (score["reference_source"], score["reference_items"]) == ("rome_items", 2)
    assert score["reference_source_label"] == "compétences de la fiche ROME 4.0"
    [served] = _results(analyst_client.get("/api/v1/runs/"))
    assert served["profile_source"] == run.profile_source


def test_a_run_computed_before_the_sources_were_recorded_has_none_per_fiche(analyst_client, run):
    OccupationScore.objects.filter(run=run).update(ref_source="", ref_items=None)
    GridRun.objects.filter(pk=run.pk).update(profile_source="domain_defaults:v0")
    score = analyst_client.get("/api/v1/occupations/M1607/").json()["score"]
    assert score["profile_source"] == "domain_defaults:v0"
    assert score["reference_source"] == "" and score["reference_source_label"] is None
    assert score["reference_items"] is None


def test_an_occupation_has_its_own_route(analyst_client, run):
    response = analyst_client.get("/api/v1/occupations/M1607/")
    assert response.status_code == 200 and response.json()["score"]["employees"] == 65
    assert analyst_client.get("/api/v1/occupations/M16/").status_code == 404  # a domaine, not a fiche
    assert analyst_client.get("/api/v1/occupations/Z9999/").status_code == 404


def test_a_fiche_reported_by_fewer_than_three_companies_hides_its_field_data(analyst_client, hand_worked):  # noqa: F811
    rare = OccupationFactory(code="M1608", label="Assistant de direction")
    JobPositionFactory(occupation=rare, headcount=7)
    _compute()
    score = analyst_client.get("/api/v1/occupations/M1608/").json()["score"]
    # A secret fiche gives neither its employees nor its count of reporting companies.
    assert score["n_companies"] is None
    assert score["secret"] is True and score["secret_reason"] == "companies"
    assert score["employees"] is None and score["profile"]["field"] is None
    # One company's answers do not move the blend: it is the reference, and shown as such.
    assert score["profile"]["blended"] == score["profile"]["reference"] is not None


def test_occupations_are_searched_and_filtered(analyst_client, run):
    OccupationFactory(code="K2111", label="Formation professionnelle")

    def codes(params):
        return [o["code"] for o in _results(analyst_client.get("/api/v1/occupations/", params))]

    assert codes({"q": "M16"}) == ["M1607"]
    assert codes({"q": "nothing like it"}) == []
    assert codes({"grand_domaine": "K"}) == ["K2111"]
    assert codes({"domaine": "M16"}) == ["M1607"]
    assert codes({"exposure_class": "high"}) == ["M1607"]
    assert codes({"exposure_class": "medium"}) == []


def test_occupations_are_listed_without_score_before_any_run(analyst_client, hand_worked):  # noqa: F811
    [secretary] = _results(analyst_client.get("/api/v1/occupations/"))
    assert secretary["code"] == "M1607" and secretary["score"] is None
    assert analyst_client.get("/api/v1/occupations/", {"run": 999}).status_code == 404


def test_the_occupation_list_runs_a_bounded_number_of_queries(analyst_client, run, django_assert_max_num_queries):
    template = OccupationScore.objects.get(run=run)
    for i in range(150):
        fiche = OccupationFactory(code=f"M16{i % 100:02d}" if i < 100 else f"K21{i % 100:02d}")
        if fiche.code != "M1607":
            template.pk = None
            template.occupation = fiche
            template.save()
    with django_assert_max_num_queries(10):
        occupations = _results(analyst_client.get("/api/v1/occupations/", {"page_size": 1000}))
    assert len(occupations) == 150 and all(o["score"] for o in occupations)


# --- Runs -----------------------------------------------------------------------------------


def test_runs_show_status_method_and_timings(analyst_client, run):
    [served] = _results(analyst_client.get("/api/v1/runs/"))
    assert served["id"] == run.pk and served["status"] == "ready" and served["is_current"] is True
    assert served["lens"] == "default" and served["methodology_version"] == run.methodology.version
    assert served["parameters"]["susceptibility"]["rc"] == pytest.approx(0.85)
    assert served["exposure_source"] == "Tâches (méthode de l'observatoire)" and served["index"] is None
    assert served["progress"] == 100 and served["finished_at"]
    assert set(served["timings"]) >= {"load", "cube", "secrecy", "write"}
    assert served["stats"]["cells"] == GridCell.objects.filter(run=run).count()
    assert analyst_client.get(f"/api/v1/runs/{run.pk}/").json()["id"] == run.pk


def test_a_failed_run_shows_its_message_without_the_traceback(analyst_client, run):
    failed = GridRun.objects.create(
        methodology=run.methodology,
        status=GridRun.Status.FAILED,
        error='RuntimeError: disque plein\nTraceback (most recent call last):\n  File "services.py"',
    )
    served = analyst_client.get(f"/api/v1/runs/{failed.pk}/").json()
    assert served["error"] == "RuntimeError: disque plein"
    statuses = [r["status"] for r in _results(analyst_client.get("/api/v1/runs/", {"status": "failed"}))]
    assert statuses == ["failed"]


def test_the_run_list_runs_a_bounded_number_of_queries(analyst_client, run, django_assert_max_num_queries):
    GridRun.objects.bulk_create(GridRun(methodology=run.methodology) for _ in range(50))
    with django_assert_max_num_queries(6):
        assert len(_results(analyst_client.get("/api/v1/runs/"))) == 51


# --- Schema and documentation ---------------------------------------------------------------


def test_the_schema_is_valid_openapi_3(analyst_client, run):
    response = analyst_client.get("/api/v1/schema/", {"format": "json"})
    schema = json.loads(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/grid-cells/",
        "/api/v1/occupations/",
        "/api/v1/occupations/{code}/",
        "/api/v1/runs/",
        "/api/v1/runs/{id}/",
    } <= set(schema["paths"])
    # The sources of the reference profiles are documented as the other fields are.
    score = schema["components"]["schemas"]["OccupationScore"]["properties"]
    for name in ("profile_source", "reference_source", "reference_items"):
        assert score[name]["description"], name
    assert "rome_items" in score["reference_source"]["description"]
    assert schema["components"]["schemas"]["Run"]["properties"]["profile_source"]["description"]
    # The secrecy rule and the shared filters are documented.
    operation = schema["paths"]["/api/v1/grid-cells/"]["get"]
    assert "secret" in operation["description"].lower()
    parameters = {p["name"] for p in operation["parameters"]}
    assert {"territory_level", "sector_code", "size_band", "run", "lens"} <= parameters


def test_the_docs_page_loads_nothing_from_a_cdn(analyst_client, run):
    response = analyst_client.get("/api/v1/docs/")
    html = response.content.decode()
    assert response.status_code == 200 and "swagger-ui" in html
    for marker in ("cdn", "jsdelivr", "unpkg"):
        assert marker not in html.lower()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_the_sidecar_assets_are_served_as_static_files():
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# --- The API says what it does: invalid values answer 400 -------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/grid-cells/", {"lens": "<script>"}, "lens"),
        ("/api/v1/occupations/", {"lens": "generative"}, "lens"),
        ("/api/v1/occupations/M1607/", {"lens": "x"}, "lens"),
        ("/api/v1/grid-cells/", {"run": "1 OR 1=1"}, "run"),
        ("/api/v1/runs/", {"is_current": "3"}, "is_current"),
        ("/api/v1/runs/", {"status": "finished"}, "status"),
        ("/api/v1/grid-cells/", {"size_band": "huge"}, "size_band"),
    ],
)
def test_invalid_values_answer_400_with_a_message(analyst_client, run, url, params, field):
    response = analyst_client.get(url, params)
    assert response.status_code == 400
    assert field in response.json()


def test_is_current_filters_on_true_and_false(analyst_client, run):
    assert [r["id"] for r in analyst_client.get("/api/v1/runs/", {"is_current": "true"}).json()["results"]] == [run.pk]
    assert analyst_client.get("/api/v1/runs/", {"is_current": "false"}).json()["results"] == []


def test_every_operation_documents_the_errors_it_gives(analyst_client, run):
    schema = analyst_client.get("/api/v1/schema/", {"format": "json"}).json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 5
    for operation in operations:
        assert {"200", "400", "401", "403", "404"} <= set(operation["responses"]), operation["operationId"]
    # And the codes it documents are the ones it gives: a refused parameter is a 400 with a body.
    response = analyst_client.get("/api/v1/occupations/", {"lens": "x"})
    assert response.status_code == 400 and response.json()["lens"]
