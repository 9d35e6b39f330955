import pytest
from django.test import Client


@pytest.fixture
def client_of(curator):
    client = Client()
    client.force_login(curator)
    return client
