"""The occupation ranking (/observatoire/metiers/classement/): the fiches of a territory, sector
and size band ranked on a hand-worked edition, secret fiches last and without values, the
downloads holding exactly the rows shown, access, bounded queries and hostile parameters.

The edition is the `edition` fixture of tests/observatory/conftest.py (its NORD_FICHES)."""

import csv
import io

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from companies.models import CompanyMembership
from observatory import services
from observatory.models import GridCell, Lens
from observatory.rankings import limit_ranking, occupation_ranking
from observatory.scope import Scope
from skills.models import Occupation
from tests.companies.factories import CompanyFactory

pytestmark = pytest.mark.django_db

URL = reverse("observatory:ranking")
CSV_URL = reverse("observatory:ranking_export_csv")
XLSX_URL = reverse("observatory:ranking_export_xlsx")
NORD = {"lens": "genai", "territory": "departement:59"}


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def _codes(response) -> list[str]:
    return [row["code"] for row in response.context["rows"]]


def test_the_nord_is_ranked_by_exposed_employees_with_secret_fiches_last(analyst_client, edition):
    response = analyst_client.get(URL, NORD)

    assert response.status_code == 200
    # Exposed employees: D1106 150, M1203 90, M1607 60, K2204 0; then the secret fiches in
    # code order, though their stored values (500, 1000) would come first.
    assert _codes(response) == ["D1106", "M1203", "M1607", "K2204", "M1805", "N1103"]
    rows = response.context["rows"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, None, None]
    assert rows[0]["exposed_employees"] == "150" and rows[0]["exposed_share"] == "100,0\xa0%"
    assert rows[3]["exposed_employees"] == "0"
    assert [row["secret"] for row in rows] == [False] * 4 + [True] * 2
    # The reasons are written in words in the row, not in a tooltip.
    assert rows[4]["secret_label"] == "moins de 3 entreprises"
    assert rows[5]["secret_label"] == "une entreprise dépasse 85 % des salariés"
    content = response.content.decode()
    assert "moins de 3 entreprises" in content and "une entreprise dépasse 85 % des salariés" in content
    # No value of a secret fiche anywhere on the page.
    assert "1\u202f000" not in content and ">500<" not in content and "0,90" not in content
    assert "Nord" in response.context["scope_title"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("exposure", ["M1607", "M1203", "D1106", "K2204", "M1805", "N1103"]),
        ("employees", ["K2204", "D1106", "M1203", "M1607", "M1805", "N1103"]),
    ],
)
def test_the_other_orders(analyst_client, edition, order, expected):
    response = analyst_client.get(URL, {**NORD, "order": order})

    assert _codes(response) == expected


def test_rows_link_to_the_occupation_page_of_the_same_lens(analyst_client, edition):
    response = analyst_client.get(URL, NORD)

    first = response.context["rows"][0]
    assert first["url"] == reverse("observatory:occupation", args=["D1106"]) + "?lens=genai"
    assert f'href="{first["url"]}"' in response.content.decode()


def test_the_selector_reads_one_cell_per_fiche_of_the_scope(edition):
    nord = Scope(territory_level="departement", territory_code="59")

    frame = occupation_ranking(edition, nord)

    assert list(frame["occupation_code"]) == ["D1106", "M1203", "M1607", "K2204", "M1805", "N1103"]
    secret = frame[frame["secret"]]
    assert secret[["employees", "exposure_mean", "exposed_employees"]].isna().all().all()
    # Narrowed to a domaine: the fiches it contains.
    m16 = occupation_ranking(edition, Scope("departement", "59", occupation_level="domaine", occupation_code="M16"))
    assert list(m16["occupation_code"]) == ["M1607"]
    # A sector and a size band are coordinates of their own.
    section_c = occupation_ranking(edition, Scope("departement", "59", sector_level="section", sector_code="C"))
    assert list(section_c["occupation_code"]) == ["K2204"]
    small = occupation_ranking(edition, Scope("departement", "59", size_band="10-49"))
    assert list(small["occupation_code"]) == ["M1607"]


def test_the_limit_cuts_the_list_and_says_how_to_see_every_fiche(analyst_client, edition):
    response = analyst_client.get(URL, {**NORD, "limit": "10"})
    assert len(response.context["rows"]) == 6

    frame = limit_ranking(occupation_ranking(edition, Scope("departement", "59")), 2)
    assert list(frame["occupation_code"]) == ["D1106", "M1203"]


def test_the_csv_holds_exactly_the_rows_shown(analyst_client, edition):
    page = analyst_client.get(URL, {**NORD, "order": "exposure"})
    response = analyst_client.get(page.context["csv_url"])

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["Code ROME"] for row in rows] == _codes(page)
    assert rows[0]["Rang"] == "1" and rows[0]["Exposition moyenne"] == "0.72"
    assert rows[-1]["Secret statistique"] == "oui" and rows[-1]["Salariés"] == ""
    assert rows[-1]["Motif du secret"] == "une entreprise dépasse 85 % des salariés"


def test_the_workbook_holds_exactly_the_rows_shown(analyst_client, edition):
    page = analyst_client.get(URL, NORD)
    response = analyst_client.get(page.context["xlsx_url"])

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["classement"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Rang", "Code ROME", "Métier")
    assert [row[1] for row in values[1:]] == _codes(page)
    assert values[1][5] == 150 and values[-1][4] is None


def test_exported_labels_cannot_start_a_formula(analyst_client, edition):
    Occupation.objects.filter(code="M1607").update(label="=HYPERLINK(1)")

    response = analyst_client.get(CSV_URL, {**NORD, "run": edition.pk})

    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text


def test_queries_are_bounded(analyst_client, edition, django_assert_max_num_queries):
    analyst_client.get(URL, NORD)  # warms the reference cache
    with django_assert_max_num_queries(8):
        response = analyst_client.get(URL, NORD)
    assert response.status_code == 200
    with django_assert_max_num_queries(8):
        analyst_client.get(CSV_URL, {**NORD, "run": edition.pk})


def test_access_is_for_analysts_only(client, edition, curator, plain_user, superuser):
    member = plain_user
    CompanyMembership.objects.create(user=member, company=CompanyFactory())

    assert client.get(URL, NORD).status_code == 302
    assert client.get(CSV_URL, NORD).status_code == 302
    for user in (member, curator):
        client.force_login(user)
        assert client.get(URL, NORD).status_code == 403
        assert client.get(CSV_URL, NORD).status_code == 403
        assert client.get(XLSX_URL, NORD).status_code == 403
    client.force_login(superuser)
    assert client.get(URL, NORD).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"territory": "departement:59' OR 1=1 --"},
        {"territory": "departement:99"},
        {"sector": "section:<script>"},
        {"occupation": "fiche:M1607"},
        {"size_band": "9999"},
        {"order": "employees; DROP TABLE"},
        {"limit": "-1"},
        {"limit": "100000"},
        {"lens": "../../etc"},
    ],
)
def test_hostile_values_are_refused(analyst_client, edition, params):
    response = analyst_client.get(URL, {**NORD, **params})

    assert response.status_code == 400
    assert "rows" not in response.context
    assert analyst_client.get(CSV_URL, {**NORD, **params}).status_code == 400
    assert analyst_client.get(XLSX_URL, {**NORD, **params}).status_code == 400


def test_a_computed_edition_lists_its_secret_fiche(analyst_client, hand_worked):  # noqa: F811
    """On the computed hand-worked grid the Nord's M1607 is a secondary secret (it would
    give the Pas-de-Calais away): the ranking lists it, secret, without any figure."""
    run = services.grid_run_compute(services.grid_run_create(lens=Lens.GENAI).pk)
    run.published_at = run.published_at or timezone.now()
    run.save(update_fields=["published_at"])
    nord = GridCell.objects.get(
        run=run,
        territory_level="departement",
        territory_code="59",
        sector_level="all",
        occupation_level="fiche",
        occupation_code="M1607",
        size_band="all",
    )

    response = analyst_client.get(URL, {"run": run.pk, "territory": "departement:59"})

    rows = response.context["rows"]
    assert [row["code"] for row in rows] == ["M1607"]
    assert rows[0]["secret"] == nord.secret
    if nord.secret:
        assert rows[0]["rank"] is None and rows[0]["employees"] == ""


def test_the_ranking_and_the_api_publish_the_same_figures(analyst_client, edition):
    """The question as the API answers it, and as the ranking does: the same fiches, the same
    figures, the same secrets."""
    api = analyst_client.get(
        "/api/v1/grid-cells/",
        {
            "lens": "genai",
            "territory_level": "departement",
            "territory_code": "59",
            "sector_level": "all",
            "size_band": "all",
            "occupation_level": "fiche",
            "page_size": 100,
        },
    ).json()["results"]
    frame = occupation_ranking(edition, Scope("departement", "59")).set_index("occupation_code")

    published = {cell["occupation_code"]: cell for cell in api if cell["occupation_code"] != "inconnu"}
    assert set(published) == set(frame.index)
    for code, cell in published.items():
        row = frame.loc[code]
        assert cell["secret"] == bool(row["secret"])
        if cell["secret"]:
            assert cell["employees"] is None and pd.isna(row["employees"])
        else:
            assert cell["employees"] == row["employees"]
            assert cell["exposure_mean"] == pytest.approx(row["exposure_mean"])
