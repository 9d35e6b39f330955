import pytest

from companies.signals import field_data_changed


@pytest.fixture
def signals_sent():
    """The field_data_changed signals sent during the test, as their keyword arguments."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append({"sender": sender, **{k: v for k, v in kwargs.items() if k != "signal"}})

    field_data_changed.connect(receiver, dispatch_uid="test_diagnostic_signals")
    yield sent
    field_data_changed.disconnect(dispatch_uid="test_diagnostic_signals")
