"""The API does what its schema says: schemathesis generates requests from the live OpenAPI
schema (valid and invalid parameters alike) against the application in process, with an
analyst's token, and fails on any 5xx, any status code the schema does not document, and any
response that does not match its documented shape."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from observatory import services
from observatory.models import Lens

# Bounded: a hundred requests per operation keep the suite's time reasonable.
# Every check but « a schema-valid request is accepted »: a filter's value is a string in
# the schema (it cannot list the 13,000 codes of the nomenclatures), and an unknown code gets
# a documented 400, which the other checks verify.
EXAMPLES = 100


@pytest.fixture
def in_test_transaction():
    """The WSGI handler closes the database connection after each request (as Django's test
    client prevents): inside a test's transaction that would close it for good (PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, analyst, hand_worked, in_test_transaction):
    # An edition of each lens, so that the operations answer with real figures.
    for lens in Lens.values:
        services.grid_run_compute(services.grid_run_create(lens=lens).pk)
    return Token.objects.create(user=analyst).key


def test_every_operation_answers_as_its_schema_says(token):
    headers = {"Authorization": f"Token {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5  # cells; occupations and runs, each listed and one by one
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            # The same cases at every run: CI is reproducible; a wider search is a matter of
            # raising EXAMPLES or dropping this locally.
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        answers_as_documented()
