"""The curation services: every transition of the table in trainings/services.py, the refused
ones, bulk decisions, the history they write, the AI-flag override, and the signal that makes
the observatory recompute its training coverage."""

import pytest
from django.core.exceptions import ValidationError

from companies.signals import field_data_changed
from skills.models import SkillBlock
from tests.skills.factories import SkillBlockFactory
from tests.trainings.factories import ProviderFactory, TrainingOfferFactory
from trainings import services
from trainings.models import CurationEvent, CurationStatus, Provider, TrainingOffer
from trainings.tagging import tag_offers, tag_skill_blocks

S = CurationStatus
Action = CurationEvent.Action

pytestmark = pytest.mark.django_db


@pytest.fixture
def coverage_signals():
    """The field_data_changed signals sent during the test, as their keyword arguments."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append({"sender": sender, **{k: v for k, v in kwargs.items() if k != "signal"}})

    field_data_changed.connect(receiver, dispatch_uid="test_curation_signals")
    yield sent
    field_data_changed.disconnect(dispatch_uid="test_curation_signals")


def offer_in(status, **extra):
    return TrainingOfferFactory(status=status, **extra)


# --- Offers: the allowed transitions --------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "from_status", "to_status", "event", "reason"),
    [
        ("approve", S.SUBMITTED, S.PUBLISHED, Action.APPROVED, ""),
        ("approve", S.DRAFT, S.PUBLISHED, Action.APPROVED, "Corrigée par l'organisme"),
        ("reject", S.SUBMITTED, S.REJECTED, Action.REJECTED, "Hors champ : formation de loisirs"),
        ("reject", S.DRAFT, S.REJECTED, Action.REJECTED, "Pas de réponse de l'organisme"),
        ("request_changes", S.SUBMITTED, S.DRAFT, Action.CHANGES_REQUESTED, "Préciser la durée"),
        ("request_changes", S.PUBLISHED, S.DRAFT, Action.CHANGES_REQUESTED, "Le prix a changé"),
        ("request_changes", S.REJECTED, S.DRAFT, Action.CHANGES_REQUESTED, "Refus revu"),
        ("request_changes", S.ARCHIVED, S.DRAFT, Action.CHANGES_REQUESTED, "L'offre revient"),
        ("archive", S.SUBMITTED, S.ARCHIVED, Action.ARCHIVED, ""),
        ("archive", S.DRAFT, S.ARCHIVED, Action.ARCHIVED, ""),
        ("archive", S.PUBLISHED, S.ARCHIVED, Action.ARCHIVED, "Plus de session prévue"),
        ("archive", S.REJECTED, S.ARCHIVED, Action.ARCHIVED, ""),
    ],
)
def test_offer_decide_allowed_transition_writes_status_and_history(
    curator, action, from_status, to_status, event, reason
):
    offer = offer_in(from_status)

    result = services.offer_decide(offer=offer, user=curator, action=action, reason=reason)

    offer.refresh_from_db()
    assert result.status == offer.status == to_status
    history = list(
        CurationEvent.objects.filter(offer=offer).values_list("action", "from_status", "to_status", "reason", "user")
    )
    assert history == [(event, from_status, to_status, reason, curator.pk)]


@pytest.mark.parametrize(
    ("action", "from_status"),
    [
        ("approve", S.PUBLISHED),
        ("approve", S.REJECTED),
        ("approve", S.ARCHIVED),
        ("reject", S.PUBLISHED),
        ("reject", S.REJECTED),
        ("reject", S.ARCHIVED),
        ("request_changes", S.DRAFT),
        ("archive", S.ARCHIVED),
    ],
)
def test_offer_decide_refused_transition_changes_nothing(curator, action, from_status):
    offer = offer_in(from_status)

    with pytest.raises(ValidationError) as refused:
        services.offer_decide(offer=offer, user=curator, action=action, reason="Un motif")

    offer.refresh_from_db()
    assert offer.status == from_status
    assert not CurationEvent.objects.exists()
    message = refused.value.messages[0]
    assert f"« {offer.title} »" in message and "statut actuel" in message


def test_refusal_message_names_the_entry_its_status_and_the_rule(curator):
    offer = offer_in(S.ARCHIVED, title="Bureautique 2019")
    with pytest.raises(ValidationError) as refused:
        services.offer_decide(offer=offer, user=curator, action="archive")
    assert refused.value.messages == ["« Bureautique 2019 » (statut actuel : Archivée) : la fiche est déjà archivée."]


@pytest.mark.parametrize("action", ["reject", "request_changes"])
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_reason_is_mandatory_for_reject_and_request_changes(curator, action, reason):
    offer = offer_in(S.SUBMITTED)

    with pytest.raises(ValidationError, match="Indiquez le motif"):
        services.offer_decide(offer=offer, user=curator, action=action, reason=reason)

    offer.refresh_from_db()
    assert offer.status == S.SUBMITTED
    assert not CurationEvent.objects.exists()


def test_unknown_action_is_refused(curator):
    offer = offer_in(S.SUBMITTED)
    with pytest.raises(ValidationError, match="Décision inconnue"):
        services.offer_decide(offer=offer, user=curator, action="publish")
    offer.refresh_from_db()
    assert offer.status == S.SUBMITTED


def test_reason_is_stored_stripped(curator):
    offer = offer_in(S.SUBMITTED)
    services.offer_decide(offer=offer, user=curator, action="reject", reason="  Doublon de l'offre 12  \n")
    assert CurationEvent.objects.get(offer=offer).reason == "Doublon de l'offre 12"


def test_approving_an_offer_of_an_unpublished_provider_is_refused(curator):
    provider = ProviderFactory(status=S.SUBMITTED, name="Campus Nord Numérique")
    offer = offer_in(S.SUBMITTED, provider=provider, title="Analyste de données")

    with pytest.raises(ValidationError) as refused:
        services.offer_decide(offer=offer, user=curator, action="approve")

    assert refused.value.messages == [
        "« Analyste de données » : son organisme « Campus Nord Numérique » n'est pas publié (Soumise) ; "
        "approuvez-le d'abord."
    ]
    offer.refresh_from_db()
    assert offer.status == S.SUBMITTED
    # Rejecting it needs no published provider.
    services.offer_decide(offer=offer, user=curator, action="reject", reason="Organisme inconnu")
    offer.refresh_from_db()
    assert offer.status == S.REJECTED


def test_history_keeps_every_step_newest_first(curator, superuser):
    offer = offer_in(S.SUBMITTED)
    services.offer_decide(offer=offer, user=curator, action="request_changes", reason="Ajouter les sessions")
    services.offer_decide(offer=offer, user=superuser, action="approve")
    services.offer_decide(offer=offer, user=curator, action="archive", reason="Fin de l'offre")

    history = list(offer.curation_events.values_list("action", "from_status", "to_status", "user__username", "reason"))
    assert history == [
        (Action.ARCHIVED, S.PUBLISHED, S.ARCHIVED, "curateur", "Fin de l'offre"),
        (Action.APPROVED, S.DRAFT, S.PUBLISHED, "admin", ""),
        (Action.CHANGES_REQUESTED, S.SUBMITTED, S.DRAFT, "curateur", "Ajouter les sessions"),
    ]


# --- Coverage signal --------------------------------------------------------------------------


def test_publishing_and_unpublishing_send_the_coverage_signal_after_commit(
    curator, coverage_signals, django_capture_on_commit_callbacks
):
    offer = offer_in(S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_decide(offer=offer, user=curator, action="approve")
    assert coverage_signals == [{"sender": TrainingOffer, "source": "catalogue_curation", "positions": 0, "offers": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_decide(offer=offer, user=curator, action="archive")
    assert len(coverage_signals) == 2


def test_a_change_between_unpublished_statuses_sends_no_signal(
    curator, coverage_signals, django_capture_on_commit_callbacks
):
    offer = offer_in(S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.offer_decide(offer=offer, user=curator, action="request_changes", reason="Préciser le public")
        services.offer_decide(offer=offer, user=curator, action="reject", reason="Toujours imprécis")
    assert callbacks == [] and coverage_signals == []


def test_a_refused_decision_sends_no_signal(curator, coverage_signals, django_capture_on_commit_callbacks):
    offer = offer_in(S.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.offer_decide(offer=offer, user=curator, action="approve")
    assert coverage_signals == []


def test_the_signal_queues_one_debounced_grid_recomputation(
    curator, migration_data, settings, django_capture_on_commit_callbacks
):
    """The observatory's receiver answers: one pending automatic run, however many offers."""
    from observatory.models import GridRun

    settings.OBSERVATORY_AUTO_RECOMPUTE = True
    offers = [offer_in(S.SUBMITTED) for _ in range(3)]
    # Capture without executing the inner on_commit (the eager task itself is not under test).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.offers_decide_bulk(offer_ids=[o.pk for o in offers], user=curator, action="approve")
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False):
        callbacks[0]()
    assert GridRun.objects.filter(trigger="auto", status=GridRun.Status.PENDING).count() == 1


# --- Bulk --------------------------------------------------------------------------------------


def test_bulk_decides_what_it_can_and_says_why_it_skipped_the_rest(
    curator, coverage_signals, django_capture_on_commit_callbacks
):
    waiting = offer_in(S.SUBMITTED, title="Data analyst")
    back = offer_in(S.DRAFT, title="Excel avancé")
    already = offer_in(S.PUBLISHED, title="Python pour la data")
    orphan = offer_in(S.SUBMITTED, title="IA au bureau", provider=ProviderFactory(status=S.DRAFT, name="Nouvel OF"))
    missing_pk = max(o.pk for o in (waiting, back, already, orphan)) + 100

    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.offers_decide_bulk(
            offer_ids=[str(waiting.pk), back.pk, already.pk, orphan.pk, missing_pk, waiting.pk],
            user=curator,
            action="approve",
        )

    assert sorted(outcome.done) == sorted([waiting.pk, back.pk])
    assert outcome.done_count == 2 and outcome.skipped_count == 3
    skipped = {s.offer_id: s.why for s in outcome.skipped}
    assert "statut actuel : Publiée" in skipped[already.pk]
    assert "« Nouvel OF » n'est pas publié" in skipped[orphan.pk]
    assert skipped[missing_pk] == "cette offre n'existe plus"
    statuses = dict(TrainingOffer.objects.values_list("title", "status"))
    assert statuses == {
        "Data analyst": S.PUBLISHED,
        "Excel avancé": S.PUBLISHED,
        "Python pour la data": S.PUBLISHED,
        "IA au bureau": S.SUBMITTED,
    }
    assert CurationEvent.objects.count() == 2
    # One signal for the whole lot, counting the two newly published offers.
    assert coverage_signals == [{"sender": TrainingOffer, "source": "catalogue_curation", "positions": 0, "offers": 2}]


def test_bulk_reject_without_reason_refuses_the_whole_lot(curator):
    offers = [offer_in(S.SUBMITTED) for _ in range(2)]
    with pytest.raises(ValidationError, match="Indiquez le motif"):
        services.offers_decide_bulk(offer_ids=[o.pk for o in offers], user=curator, action="reject")
    assert set(TrainingOffer.objects.values_list("status", flat=True)) == {S.SUBMITTED}
    assert not CurationEvent.objects.exists()


def test_bulk_request_changes_writes_one_history_row_per_offer_with_the_reason(curator):
    offers = [offer_in(S.SUBMITTED) for _ in range(3)]
    outcome = services.offers_decide_bulk(
        offer_ids=[o.pk for o in offers], user=curator, action="request_changes", reason="Ajouter le code RNCP"
    )
    assert outcome.done_count == 3 and outcome.skipped == []
    rows = set(CurationEvent.objects.values_list("offer", "action", "reason", "user"))
    assert rows == {(o.pk, Action.CHANGES_REQUESTED, "Ajouter le code RNCP", curator.pk) for o in offers}


# --- Providers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "from_status", "to_status", "reason"),
    [
        ("approve", S.SUBMITTED, S.PUBLISHED, ""),
        ("approve", S.DRAFT, S.PUBLISHED, ""),
        ("reject", S.SUBMITTED, S.REJECTED, "SIRET fermé"),
        ("request_changes", S.SUBMITTED, S.DRAFT, "NDA manquant"),
        ("archive", S.REJECTED, S.ARCHIVED, ""),
    ],
)
def test_provider_decide_allowed_transition(curator, action, from_status, to_status, reason):
    provider = ProviderFactory(status=from_status)
    services.provider_decide(provider=provider, user=curator, action=action, reason=reason)
    provider.refresh_from_db()
    assert provider.status == to_status
    assert list(provider.curation_events.values_list("action", "from_status", "to_status", "reason", "user")) == [
        (services.TRANSITIONS[services.Decision(action)].event, from_status, to_status, reason, curator.pk)
    ]


@pytest.mark.parametrize(("action", "from_status"), [("approve", S.PUBLISHED), ("reject", S.PUBLISHED)])
def test_provider_decide_refused_transition(curator, action, from_status):
    provider = ProviderFactory(status=from_status)
    with pytest.raises(ValidationError, match="statut actuel"):
        services.provider_decide(provider=provider, user=curator, action=action, reason="motif")
    provider.refresh_from_db()
    assert provider.status == from_status
    assert not CurationEvent.objects.exists()


def test_provider_reject_needs_a_reason(curator):
    provider = ProviderFactory(status=S.SUBMITTED)
    with pytest.raises(ValidationError, match="Indiquez le motif"):
        services.provider_decide(provider=provider, user=curator, action="reject")
    assert Provider.objects.get(pk=provider.pk).status == S.SUBMITTED


@pytest.mark.parametrize(
    ("action", "offers_to", "event"),
    [("archive", S.ARCHIVED, Action.ARCHIVED), ("request_changes", S.DRAFT, Action.CHANGES_REQUESTED)],
)
def test_published_offers_follow_their_provider_out_of_publication(
    curator, coverage_signals, django_capture_on_commit_callbacks, action, offers_to, event
):
    provider = ProviderFactory(status=S.PUBLISHED, name="Lycée Baggio")
    published = [offer_in(S.PUBLISHED, provider=provider) for _ in range(2)]
    waiting = offer_in(S.SUBMITTED, provider=provider)
    elsewhere = offer_in(S.PUBLISHED)

    with django_capture_on_commit_callbacks(execute=True):
        services.provider_decide(provider=provider, user=curator, action=action, reason="Qualiopi retirée")

    assert {o.pk: o.status for o in TrainingOffer.objects.all()} == {
        published[0].pk: offers_to,
        published[1].pk: offers_to,
        waiting.pk: S.SUBMITTED,
        elsewhere.pk: S.PUBLISHED,
    }
    rows = set(
        CurationEvent.objects.filter(offer__isnull=False).values_list("offer", "action", "from_status", "reason")
    )
    why = "Suit la décision sur l'organisme « Lycée Baggio » : Qualiopi retirée"
    assert rows == {(o.pk, event, S.PUBLISHED, why) for o in published}
    assert coverage_signals == [{"sender": TrainingOffer, "source": "catalogue_curation", "positions": 0, "offers": 2}]


def test_publishing_a_provider_publishes_none_of_its_offers(curator):
    provider = ProviderFactory(status=S.SUBMITTED)
    offer = offer_in(S.SUBMITTED, provider=provider)
    services.provider_decide(provider=provider, user=curator, action="approve")
    offer.refresh_from_db()
    assert offer.status == S.SUBMITTED
    # …but its offers may now be approved.
    services.offer_decide(offer=offer, user=curator, action="approve")
    offer.refresh_from_db()
    assert offer.status == S.PUBLISHED


# --- The AI flag ---------------------------------------------------------------------------------


def test_offer_ai_override_survives_re_tagging(curator):
    offer = offer_in(S.SUBMITTED, title="Initiation au machine learning", objectives="", content="")
    tag_offers(TrainingOffer.objects.all())
    offer.refresh_from_db()
    assert offer.ai_related is True and offer.ai_related_by_curator is False

    services.offer_set_ai_flag(offer=offer, user=curator, ai_related=False)
    tag_offers(TrainingOffer.objects.all())

    offer.refresh_from_db()
    assert offer.ai_related is False and offer.ai_related_by_curator is True
    event = CurationEvent.objects.get(offer=offer)
    assert (event.action, event.from_status, event.to_status, event.user) == (
        Action.AI_FLAG,
        S.SUBMITTED,
        S.SUBMITTED,
        curator,
    )
    assert event.reason == "Lien avec l'IA retiré (la règle relevait « machine learning »)."


@pytest.mark.parametrize(
    ("title", "flag", "reason"),
    [
        ("Chatbots et relation client", True, "Lien avec l'IA confirmé (la règle relevait « chatbots »)."),
        ("Soudure TIG", True, "Lien avec l'IA ajouté (la règle ne relevait aucune expression)."),
        ("Soudure TIG", False, "Absence de lien avec l'IA confirmée."),
    ],
)
def test_offer_ai_flag_history_says_what_the_rule_said(curator, title, flag, reason):
    offer = offer_in(S.PUBLISHED, title=title, objectives="", content="")
    services.offer_set_ai_flag(offer=offer, user=curator, ai_related=flag)
    offer.refresh_from_db()
    assert (offer.ai_related, offer.ai_related_by_curator) == (flag, True)
    assert CurationEvent.objects.get(offer=offer).reason == reason


def test_skill_block_ai_override_survives_re_tagging(curator):
    block = SkillBlockFactory(label="Concevoir un modèle de deep learning")
    other = SkillBlockFactory(label="Mettre en œuvre l'apprentissage automatique")
    tag_skill_blocks(SkillBlock.objects.all())
    block.refresh_from_db()
    assert block.ai_related is True

    services.skill_block_set_ai_flag(skill_block=block, user=curator, ai_related=False)
    tag_skill_blocks(SkillBlock.objects.all())

    assert dict(SkillBlock.objects.values_list("pk", "ai_related")) == {block.pk: False, other.pk: True}
    assert SkillBlock.objects.get(pk=block.pk).ai_related_by_curator is True
    assert SkillBlock.objects.get(pk=other.pk).ai_related_by_curator is False
