"""SIREN / SIRET checks (INSEE): nine or fourteen digits passing the Luhn check."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# La Poste's establishments share one SIREN and use a sum-of-digits rule instead of Luhn.
LA_POSTE_SIREN = "356000000"


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """Append the check digit that makes `prefix` + digit pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return prefix + digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def is_valid_siren(value: str) -> bool:
    return len(value) == 9 and value.isdigit() and luhn_valid(value)


def is_valid_siret(value: str) -> bool:
    if len(value) != 14 or not value.isdigit():
        return False
    if value.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in value) % 5 == 0
    return luhn_valid(value)


def validate_siren(value: str) -> None:
    if not is_valid_siren(value):
        raise ValidationError(
            _("« %(value)s » n'est pas un SIREN valide (9 chiffres, clé de Luhn)."),
            code="invalid_siren",
            params={"value": value},
        )


def validate_siret(value: str) -> None:
    if not is_valid_siret(value):
        raise ValidationError(
            _("« %(value)s » n'est pas un SIRET valide (14 chiffres, clé de Luhn)."),
            code="invalid_siret",
            params={"value": value},
        )
