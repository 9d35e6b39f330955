from observatory.templatetags.observatory import exposure_class_label, number, percent


def test_french_number_formats():
    assert number(12345) == "12\u202f345"
    assert number(0.62222, 2) == "0,62"
    assert percent(0.234) == "23,4\u00a0%"
    assert percent(None) == "—" and number(None) == "—"
    assert exposure_class_label("high") == "Forte"
    assert number(-0.001, 2) == "0,00"
