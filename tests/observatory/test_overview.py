"""The overview: key figures of the current run, the most exposed occupations, class shares,
the lens switcher, secrecy, access and a bounded number of queries."""

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from companies.models import JobPosition, Territory
from observatory import services
from observatory.models import Lens

pytestmark = pytest.mark.django_db

URL = reverse("observatory:overview")


@pytest.fixture
def run(hand_worked):  # noqa: F811
    return services.grid_run_compute(services.grid_run_create().pk)


def _figure(response, script_id):
    match = re.search(
        rf'<script id="{script_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, f"no {script_id} in the page"
    return json.loads(json.loads(match.group(1)))


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_users_without_the_analyst_role_are_refused(client, plain_user, curator):
    for user in (plain_user, curator):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_analysts_and_superusers_see_the_overview(client, analyst, superuser, run):
    for user in (analyst, superuser):
        client.force_login(user)
        assert client.get(URL).status_code == 200


def test_key_figures_of_the_hand_worked_run(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL)
    total = response.context["total"]
    assert (total["companies"], total["establishments"], total["employees"]) == (4, 4, 65)
    assert total["exposure_mean"] == pytest.approx(5.6 / 9)
    assert total["training_need_share"] == pytest.approx(20 / 65)
    content = response.content.decode()
    # 100 % of the employees in high exposure (E = 0,62 ≥ 0,48, the default lens's threshold),
    # none in significant change, and a training need declared for 20 of the 65: 30,8 %.
    assert '<p class="figure">65</p>' in content
    assert '<p class="figure">4</p>' in content
    assert '<p class="figure">100,0\xa0%</p>' in content
    assert "et 0,0\xa0% dans un métier en changement significatif" in content
    assert '<p class="figure">30,8\xa0%</p>' in content
    assert "exposition moyenne 0,62 sur 1" in content
    # The run's date, method version and lens, and the link to the method.
    assert f"Calcul n° {run.pk}" in content and "méthode v2" in content and "« Par défaut »" in content
    assert f"{reverse('observatory:methodology')}?lens=default" in content


def test_the_most_exposed_occupations(client, analyst, run):
    client.force_login(analyst)
    response = client.get(URL)
    top = response.context["top"]
    assert [(row["occupation_code"], row["occupation_label"], row["employees"]) for row in top] == [
        ("M1607", "Secrétaire", 65)
    ]
    assert top[0]["exposure_mean"] == pytest.approx(5.6 / 9)
    bars = _figure(response, "top-data")["data"][0]
    assert bars["x"] == [65.0] and bars["y"] == ["M1607 · Secrétaire"]
    assert bars["marker"]["color"] == ["#b42318"]  # high exposure (E = 0.62 ≥ 0.48)
    assert "Exposition moyenne : 0,62" in bars["customdata"][0]

    shares = _figure(response, "shares-data")["data"]
    assert [trace["name"] for trace in shares] == ["Forte", "Changement significatif", "Faible"]
    assert [trace["x"] for trace in shares] == [[1.0], [0.0], [0.0]]


def test_top_ten_is_ranked_by_exposed_employees_among_published_fiches(client, analyst, many_cells):  # noqa: F811
    from observatory.models import GridCell

    client.force_login(analyst)
    top = client.get(URL).context["top"]
    fiches = GridCell.objects.filter(
        run=many_cells, territory_level="all", sector_level="all", size_band="all", occupation_level="fiche"
    )
    expected = sorted(
        (
            (cell.employees * ((cell.share_high or 0) + (cell.share_medium or 0)), cell.occupation_code)
            for cell in fiches
            if not cell.secret and (cell.share_high or cell.share_medium)
        ),
        reverse=True,
    )
    assert [row["occupation_code"] for row in top] == [code for _exposed, code in expected][:10]
    assert len(top) <= 10


def test_a_secret_total_shows_its_reason_and_no_figure(client, analyst, hand_worked):  # noqa: F811
    JobPosition.objects.filter(headcount__in=(10, 20)).delete()  # two companies left: 30 + 5
    services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    response = client.get(URL)
    content = response.content.decode()
    assert response.context["total"]["secret"]
    assert response.context["total"]["employees"] is None
    assert "soumis au secret statistique (moins de 3 entreprises)" in content
    assert '<p class="figure">35</p>' not in content and '<p class="figure">' not in content
    assert response.context["top"] == []  # the only fiche is secret too


def test_the_lens_switcher(client, analyst, run):
    client.force_login(analyst)
    content = client.get(URL).content.decode()
    for lens in Lens.values:
        assert f'href="?lens={lens}"' in content
    # No generative-AI run yet: the page says so and points to the runs page.
    response = client.get(URL, {"lens": "genai"})
    assert response.status_code == 200 and response.context["run"] is None
    assert "Aucune grille n'a encore été calculée" in response.content.decode()
    assert reverse("observatory:runs") in response.content.decode()

    services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)
    response = client.get(URL, {"lens": "genai"})
    assert response.context["run"].methodology.lens == Lens.GENAI
    assert response.context["total"]["exposure_mean"] == pytest.approx(5.92 / 9)
    assert 'href="?lens=genai" aria-current="page"' in response.content.decode()


def test_without_any_run_the_page_says_so(client, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Aucune grille n'a encore été calculée" in response.content.decode()


def test_the_page_runs_a_bounded_number_of_queries_and_caches_its_figures(
    client,
    analyst,
    many_cells,  # noqa: F811
    django_assert_max_num_queries,
):
    client.force_login(analyst)
    cache.clear()
    with django_assert_max_num_queries(12):
        first = client.get(URL)
    with django_assert_max_num_queries(5):  # session, user, groups, run: the figures are cached
        again = client.get(URL)
    assert again.context["top_figure"] == first.context["top_figure"]


def test_an_epci_under_a_totals_only_plan_is_announced_on_the_overview_and_the_ranking(client, analyst, hand_worked):  # noqa: F811
    metropole = Territory.objects.create(
        level=Territory.Level.EPCI, code="200093201", name="Métropole Européenne de Lille"
    )
    Territory.objects.filter(level=Territory.Level.COMMUNE, code="59350").update(epci=metropole)
    services.methodology_create_version(lens=Lens.DEFAULT, epci_detail="size")
    run = services.grid_run_compute(services.grid_run_create().pk)
    client.force_login(analyst)
    for url, hint in (
        (URL, "Les chiffres par secteur et par métier se lisent au niveau du département."),
        (reverse("observatory:ranking"), "Le classement des métiers se lit au niveau du département."),
    ):
        epci = client.get(url, {"run": run.pk, "territory": "epci:200093201"})
        assert epci.status_code == 200
        assert 'id="plan-epci"' in epci.content.decode() and hint in epci.content.decode()
        nord = client.get(url, {"run": run.pk, "territory": "departement:59"})
        assert nord.status_code == 200 and 'id="plan-epci"' not in nord.content.decode()
