from io import StringIO

import pytest
from django.core.management import call_command

from skills.classification import classify_label
from skills.models import ItemOverride, OccupationItem, RomeItem
from tests.skills.factories import OccupationFactory

pytestmark = pytest.mark.django_db

Kind = RomeItem.Kind

# Labels no rule of the lexicon matches (the `items` fixture checks it, as the lexicon grows).
UNKNOWN = {
    "900001": "Zzz inconnu un",
    "900002": "Zzz inconnu deux",
    "900003": "Zzz inconnu trois",
    "900004": "Zzz inconnu quatre",
}


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def link(item: RomeItem, *fiches: str) -> None:
    for code in fiches:
        OccupationItem.objects.create(occupation=OccupationFactory(code=code), item=item)


@pytest.fixture
def items():
    """Four unmatched savoir-faire cited by 1, 3, 0 and 2 fiches, and items the listing
    leaves out: one a rule matched, one a person classified, a savoir."""
    one, three, none, two = (
        RomeItem.objects.create(code=code, kind=Kind.SKILL, label=label) for code, label in UNKNOWN.items()
    )
    link(one, "M1607")
    link(three, "M1607", "M1602", "M1855")
    link(two, "M1602", "M1855")
    matched = RomeItem.objects.create(code="900010", kind=Kind.SKILL, label="Zzz classé", rule="verbe:zzz", rc=1)
    corrected = RomeItem.objects.create(code="900011", kind=Kind.SKILL, label="Zzz corrigé")
    handed_back = RomeItem.objects.create(code="900012", kind=Kind.SKILL, label="Zzz rendu au lexique")
    knowledge = RomeItem.objects.create(code="900013", kind=Kind.KNOWLEDGE, label="Zzz savoir")
    for item in (matched, corrected, handed_back, knowledge):
        link(item, "M1607", "M1602", "M1855", "M1811")
    ItemOverride.objects.create(item=corrected, rc=0, rm=0, nra=1, nri=0, nrm=0)
    # The newest decision applies: this one hands the item back to the lexicon.
    ItemOverride.objects.create(item=handed_back, rc=0, rm=0, nra=1, nri=0, nrm=0)
    ItemOverride.objects.create(item=handed_back)
    for item in RomeItem.objects.filter(kind=Kind.SKILL):
        assert classify_label(item.label) == (None, ""), item.label


def test_rome_unmatched_lists_the_savoir_faire_no_rule_matched_most_cited_first(items):
    lines = run("rome_unmatched")

    assert lines == [
        "    4  900012  Zzz rendu au lexique",
        "    3  900002  Zzz inconnu deux",
        "    2  900004  Zzz inconnu quatre",
        "    1  900001  Zzz inconnu un",
        "    0  900003  Zzz inconnu trois",
        "Total : 5 savoir-faire sans règle, cités 10 fois dans les fiches",
    ]


def test_rome_unmatched_shows_at_most_limit_lines_and_the_whole_total(items):
    lines = run("rome_unmatched", "--limit", "2")

    assert lines == [
        "    4  900012  Zzz rendu au lexique",
        "    3  900002  Zzz inconnu deux",
        "Total : 5 savoir-faire sans règle, cités 10 fois dans les fiches",
    ]


def test_classify_rome_writes_what_changed_then_nothing(items):
    RomeItem.objects.filter(code="900001").update(rule="ancienne_règle", rc=1, rm=0, nra=0, nri=0, nrm=0)
    overrides = list(ItemOverride.objects.values())

    [first] = run("classify_rome")

    assert first.startswith("Classement des éléments du ROME : ")
    # 900001 and 900010 lose the rule no lexicon rule gives them.
    assert not first.endswith(" 0 modifié(s)")
    assert RomeItem.objects.get(code="900001").rule == ""
    assert RomeItem.objects.get(code="900001").rc is None
    assert list(ItemOverride.objects.values()) == overrides

    [second] = run("classify_rome")

    assert second.endswith(", 0 modifié(s)")
    assert run("rome_unmatched")[-1] == "Total : 6 savoir-faire sans règle, cités 14 fois dans les fiches"


def test_a_long_rule_is_stored_whole_and_a_second_pass_changes_nothing(db):
    """A label that holds many object cues gets a rule longer than any fixed column: stored
    whole (a truncated rule would differ from the lexicon's at every pass)."""
    from skills.services import classify_rome_items

    label = (
        "Surveiller le fonctionnement de la machine ou de la ligne de conditionnement et des appareils "
        "de contrôle et ajuster en cas d'écarts"
    )
    RomeItem.objects.create(code="106395", kind=RomeItem.Kind.SKILL, label=label)
    classify_rome_items()
    rule = RomeItem.objects.get(code="106395").rule
    assert len(rule) > 80 and rule.startswith("verbe:surveiller+objet:machine")
    assert classify_rome_items().changed == 0
