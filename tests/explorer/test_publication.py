"""The explorer publishes what the other consumers publish for the same edition: the same
exposure and profile of a fiche as the API and the analysts' occupation page, and nothing of
the companies those hide (tests/observatory/test_publication_consistency.py tells the
hand-worked case: under a minimum of 5 companies, M1607's four reporting companies are
secret and the profile is the reference, E = 0,64)."""

import pandas as pd
import pytest
from django.urls import reverse

from explorer import selectors
from observatory import services
from observatory.models import Lens

pytestmark = pytest.mark.django_db
REFERENCE = {"rc": 0.6, "rm": 0.1, "nra": 0.1, "nri": 0.1, "nrm": 0.1}
EXPOSURE = 0.85 * 0.6 + (0.55 + 0.45 + 0.20 + 0.10) * 0.1


@pytest.mark.parametrize("min_companies", [3, 5])
def test_the_explorer_publishes_what_the_api_publishes(client, analyst, hand_worked, min_companies):  # noqa: F811
    services.methodology_create_version(lens=Lens.DEFAULT, user=analyst, secrecy_min_companies=min_companies)
    run = services.grid_run_compute(services.grid_run_create().pk)

    row = selectors.published_scores({Lens.DEFAULT: run}, ["M1607"]).iloc[0]
    client.force_login(analyst)
    api = client.get("/api/v1/occupations/M1607/").json()["score"]

    assert row["exposure"] == pytest.approx(api["exposure"])
    assert {c: row[c] for c in REFERENCE} == pytest.approx(api["profile"]["blended"])
    assert bool(row["field_shown"]) == (api["profile"]["field"] is not None)
    assert (None if pd.isna(row["n_companies"]) else int(row["n_companies"])) == api["n_companies"]
    if min_companies == 5:
        assert row["exposure"] == pytest.approx(EXPOSURE)
        assert {c: row[c] for c in REFERENCE} == pytest.approx(REFERENCE)
        assert not row["field_shown"] and bool(row["secret"])
    page = client.get(reverse("observatory:occupation", args=["M1607"])).context
    assert page["score"].exposure == pytest.approx(row["exposure"])
