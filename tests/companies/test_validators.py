import pytest
from django.core.exceptions import ValidationError

from companies.validators import is_valid_siren, is_valid_siret, luhn_complete, validate_siret


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000074",  # INSEE's documentation example
        "35600000000010",  # La Poste: digit sum a multiple of 5, not Luhn
    ],
)
def test_valid_sirets_pass(siret):
    assert is_valid_siret(siret)


@pytest.mark.parametrize("siret", ["73282932000075", "7328293200007", "7328293200007A", ""])
def test_invalid_sirets_are_refused(siret):
    assert not is_valid_siret(siret)
    with pytest.raises(ValidationError):
        validate_siret(siret)


def test_siren_luhn():
    assert is_valid_siren("732829320")
    assert not is_valid_siren("732829321")


def test_luhn_complete_appends_the_check_digit():
    assert luhn_complete("73282932") == "732829320"
    assert is_valid_siret(luhn_complete("7328293200007"))
