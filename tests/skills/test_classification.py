"""The lexicon applied to ROME labels (skills/classification), without a database."""

import pandas as pd
import pytest

from skills.classification import classify_items, classify_label, describe_rule, normalise
from skills.classification.classify import classify_context
from skills.classification.lexicon import LIGHT_VERBS, VERBS


def test_normalise_folds_accents_ligatures_and_punctuation():
    assert normalise("Mettre en œuvre l'Évaluation, vérifier…") == "mettre en oeuvre l evaluation verifier"


def test_a_verb_alone_decides_its_categories():
    shares, rule = classify_label("Saisir des informations")
    assert rule == "verbe:saisir"
    assert shares == {"rc": 1.0, "rm": 0.0, "nra": 0.0, "nri": 0.0, "nrm": 0.0}


def test_a_mixed_item_is_partly_routine_cognitive_partly_manual():
    # Verb « contrôler » (RC 0.7, NRA 0.3) counts twice; cues « conformité » (RC 0.7, NRA 0.3)
    # and « produit » (RM 0.5, NRM 0.5) once each: RC (1.4 + 0.7) / 4, NRA (0.6 + 0.3) / 4,
    # RM 0.5 / 4, NRM 0.5 / 4.
    shares, rule = classify_label("Contrôler la conformité d'un produit")
    assert rule == "verbe:controler+objet:conformite+objet:produit_physique"
    assert shares == pytest.approx({"rc": 0.525, "rm": 0.125, "nra": 0.225, "nri": 0.0, "nrm": 0.125})


def test_a_light_verb_leaves_the_object_to_decide():
    assert "realiser" in LIGHT_VERBS and "realiser" not in VERBS
    shares, rule = classify_label("Réaliser des opérations comptables")
    assert rule == "objet:comptabilite"
    assert shares["rc"] == pytest.approx(1.0)


def test_a_light_verb_without_a_known_object_is_unmatched():
    assert classify_label("Réaliser des percussions corporelles") == (None, "")


def test_a_multi_word_verb_is_read_before_its_first_word():
    shares, rule = classify_label("Mettre à jour un registre")
    # « mettre à jour » (RC 0.9, NRA 0.1) twice, « registre » (RC 0.7, NRA 0.3) once.
    assert rule == "verbe:mettre_a_jour+objet:documents"
    assert shares["rc"] == pytest.approx((1.8 + 0.7) / 3)
    assert shares["nra"] == pytest.approx((0.2 + 0.3) / 3)


def test_rules_of_conduct_are_matched_but_are_no_task():
    assert classify_label("Respecter les règles d'hygiène") == (None, "hors_tache:respecter")
    assert classify_label("S'adapter aux évolutions") == (None, "hors_tache:adapter")
    assert classify_label("Faire preuve de rigueur") == (None, "hors_tache:faire_preuve")


def test_a_reflexive_verb_is_read_without_its_pronoun():
    shares, rule = classify_label("Se déplacer sur un chantier")
    assert rule == "verbe:deplacer+objet:chantier"
    assert shares["nrm"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("label", "rule"),
    [
        ("Travail répétitif ou cadence imposée", "repetitif"),
        ("Port et manipulation de charges lourdes ou encombrantes", "charges"),
        ("En contact avec du public", "public"),
        ("En extérieur", "exterieur"),
        ("Travail le samedi", ""),
        ("Salarié secteur privé (CDI, CDD)", ""),
    ],
)
def test_work_contexts_match_their_rule_or_none(label, rule):
    assert classify_context(label) == rule


def test_classify_items_returns_one_row_per_item_and_classifies_only_skills_and_contexts():
    items = pd.DataFrame(
        {
            "code": ["1", "2", "3", "4", "5"],
            "kind": ["savoir_faire", "savoir_faire", "savoir", "contexte", "savoir_etre"],
            "label": [
                "Conseiller un client",
                "Zzz inconnu",
                "Techniques de vente",
                "Travail répétitif ou cadence imposée",
                "Sens de la communication",
            ],
        }
    )
    result = classify_items(items).set_index("code")
    assert list(result.index) == ["1", "2", "3", "4", "5"]
    assert result.loc["1", "rule"] == "verbe:conseiller+objet:client"
    assert result.loc["1", ["rc", "rm", "nra", "nri", "nrm"]].sum() == pytest.approx(1.0)
    # (NRI 0.7, NRA 0.3) twice and « client » (NRI 0.8, RC 0.2) once.
    assert result.loc["1", "nri"] == pytest.approx((1.4 + 0.8) / 3)
    assert result.loc["2", "rule"] == "" and result.loc["2"].drop("rule").isna().all()
    assert result.loc["3", "rule"] == "" and pd.isna(result.loc["3", "rc"])
    assert result.loc["4", "rule"] == "repetitif" and pd.isna(result.loc["4", "rc"])
    assert result.loc["5", "rule"] == ""


def test_every_rule_of_the_lexicon_sums_to_one():
    from skills.classification.contexts import CONTEXT_RULES
    from skills.classification.lexicon import OBJECT_CUES, VERB_PHRASES

    for name, (weights, _why) in {**VERBS, **VERB_PHRASES}.items():
        assert sum(weights.values()) == pytest.approx(1.0), name
    for name, (_pattern, weights, _why) in {**OBJECT_CUES, **CONTEXT_RULES}.items():
        assert sum(weights.values()) == pytest.approx(1.0), name


def test_rules_read_in_plain_french():
    assert describe_rule("verbe:saisir+objet:dossier", "Saisir des dossiers") == "verbe « saisir » + objet « dossier »"
    # The verb as ROME writes it, accents included; objects from the lexicon's folded keys.
    assert describe_rule("verbe:verifier+objet:conformite", "Vérifier la conformité") == (
        "verbe « vérifier » + objet « conformité »"
    )
    assert describe_rule("verbe:mettre_a_jour", "Mettre à jour un fichier") == "verbe « mettre à jour »"
    assert describe_rule("verbe:informer", "S'informer des nouveautés") == "verbe « informer »"
    assert describe_rule("objet:produit_physique", "Réaliser des pièces") == "objet « produit physique »"
    assert describe_rule("hors_tache:respecter", "Respecter les règles") == "hors tâche (« respecter »)"
    assert describe_rule("", "Piloter un drone") == "non classé"
    # A verb the label does not open with (a label edited since): the rule's own key.
    assert describe_rule("verbe:saisir", "Enregistrer") == "verbe « saisir »"


# --- Rules added from the category definitions (lexicon docstring), each with its worked shares.


def test_a_switchboard_is_mostly_routine_cognitive_but_a_tender_is_no_phone_call():
    # Cue « téléphone » (RC 0.7, NRI 0.3) alone after the light verb « assurer ».
    shares, rule = classify_label("Assurer un accueil téléphonique")
    assert rule == "objet:telephone"
    assert shares == pytest.approx({"rc": 0.7, "rm": 0.0, "nra": 0.0, "nri": 0.3, "nrm": 0.0})
    assert "telephone" not in classify_label("Analyser les appels d'offres")[1]


def test_a_cahier_des_charges_is_no_heavy_load():
    # « rédiger » (NRA 0.6, RC 0.4) twice, « cahier des charges » as design (NRA 0.8, RC 0.2) once;
    # « techniques » (adjective) no longer reads as teaching: RC (0.8 + 0.2) / 3, NRA (1.2 + 0.8) / 3.
    shares, rule = classify_label("Rédiger un cahier des charges, des spécifications techniques")
    assert rule == "verbe:rediger+objet:conception"
    assert shares == pytest.approx({"rc": 1 / 3, "rm": 0.0, "nra": 2 / 3, "nri": 0.0, "nrm": 0.0})


def test_passing_on_know_how_is_teaching_and_keeping_one_s_knowledge_is_learning():
    # « transmettre une technique » (NRI 0.8, NRA 0.2) twice, « savoir-faire » (NRI 0.5, NRA 0.5)
    # once: NRI (1.6 + 0.5) / 3 = 0.7, NRA (0.4 + 0.5) / 3 = 0.3.
    shares, rule = classify_label("Transmettre une technique, un savoir-faire")
    assert rule == "verbe:transmettre_une_technique+objet:pedagogie"
    assert shares == pytest.approx({"rc": 0.0, "rm": 0.0, "nra": 0.3, "nri": 0.7, "nrm": 0.0})
    shares, rule = classify_label("Actualiser régulièrement ses connaissances")
    assert rule == "verbe:actualiser_regulierement_ses_connaissances"
    assert shares == pytest.approx({"rc": 0.0, "rm": 0.0, "nra": 1.0, "nri": 0.0, "nrm": 0.0})


def test_applying_rules_is_a_rule_of_conduct_but_applying_a_treatment_a_task():
    label = "Appliquer les règles de sécurité dans les pratiques et les tâches"
    assert classify_label(label) == (None, "hors_tache:appliquer_les_regles")
    assert classify_label("Appliquer un traitement, un produit")[1] == "verbe:appliquer+objet:produit_physique"


def test_the_press_the_media_is_no_machine():
    assert classify_label("Rédiger un article de presse")[1] == "verbe:rediger+objet:creation"
    shares, rule = classify_label("Utiliser une presse hydraulique")
    assert rule == "objet:machine"
    assert shares == pytest.approx({"rc": 0.0, "rm": 0.7, "nra": 0.0, "nri": 0.0, "nrm": 0.3})


def test_receipts_of_a_firm_are_bookkeeping_not_recipes():
    # « enregistrer » (RC) twice and « recettes d'une entreprise » (billing, RC) once.
    shares, rule = classify_label("Enregistrer les recettes d'une entreprise")
    assert rule == "verbe:enregistrer+objet:facturation"
    assert shares["rc"] == pytest.approx(1.0)
    assert classify_label("Elaborer des recettes")[1] == "verbe:elaborer+objet:dosage"


def test_shelf_filling_and_order_picking_are_routine_manual():
    shares, rule = classify_label("Réaliser la mise en rayon")
    assert rule == "objet:preparation_commandes"
    assert shares == pytest.approx({"rc": 0.2, "rm": 0.8, "nra": 0.0, "nri": 0.0, "nrm": 0.0})


def test_data_entry_and_mail_handling_are_routine_cognitive():
    # « contrôler » (RC 0.7, NRA 0.3) twice, « saisie » (RC) once: RC 2.4 / 3, NRA 0.6 / 3.
    shares, rule = classify_label("Contrôler la saisie d'informations")
    assert rule == "verbe:controler+objet:saisie"
    assert shares == pytest.approx({"rc": 0.8, "rm": 0.0, "nra": 0.2, "nri": 0.0, "nrm": 0.0})
    # Light verb: four cues once each, « affranchissement » (RC), « courrier » (RC 0.8, NRA 0.2),
    # « enregistrement » (RC), « tri » (RM 0.6, RC 0.4) — sorting, no longer waste:
    # RC (1 + 0.8 + 1 + 0.4) / 4, RM 0.6 / 4, NRA 0.2 / 4.
    shares, rule = classify_label("Procéder à l'enregistrement, au tri, à l'affranchissement du courrier")
    assert rule == "objet:secretariat+objet:dossier+objet:tracabilite+objet:tri"
    assert shares == pytest.approx({"rc": 0.8, "rm": 0.15, "nra": 0.05, "nri": 0.0, "nrm": 0.0})


def test_the_unforeseen_is_non_routine():
    shares, rule = classify_label("Gérer les incidents et les problèmes techniques")
    assert rule == "objet:imprevus"
    assert shares == pytest.approx({"rc": 0.0, "rm": 0.0, "nra": 0.7, "nri": 0.0, "nrm": 0.3})


def test_a_bilan_is_bookkeeping_only_when_it_is_an_account():
    assert classify_label("Réaliser un bilan comptable")[1] == "objet:comptabilite"
    assert classify_label("Réaliser un bilan de compétences")[1] == "objet:pedagogie"


def test_new_cues_read_in_plain_french():
    assert describe_rule("objet:secretariat+objet:imprevus") == "objet « secrétariat » + objet « imprévus »"
    assert describe_rule("objet:preparation_commandes") == "objet « préparation de commandes »"
