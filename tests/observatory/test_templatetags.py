from observatory.templatetags.observatory import exposure_class_label, number, percent


def test_french_number_formats():
    assert number(12345) == "12\u202f345"
    assert number(0.62222, 2) == "0,62"
    assert percent(0.234) == "23,4\u00a0%"
    assert percent(None) == "—" and number(None) == "—"
    assert exposure_class_label("high") == "Forte"
    assert number(-0.001, 2) == "0,00"


def test_a_secret_reason_reads_with_the_methodology_thresholds():
    from types import SimpleNamespace

    from observatory.charts.common import secret_reason_text

    stricter = SimpleNamespace(secrecy_min_companies=5, secrecy_dominance=0.8)
    assert secret_reason_text("companies", stricter) == "moins de 5 entreprises"
    assert secret_reason_text("dominance", stricter) == "une entreprise dépasse 80 % des salariés"
    assert secret_reason_text("companies") == "moins de 3 entreprises"
    assert secret_reason_text("secondary", stricter) == "secret secondaire"
    assert secret_reason_text("", default="cellule masquée") == "cellule masquée"
