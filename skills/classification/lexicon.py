"""The French lexicon that classifies ROME 4.0 savoir-faire into the five task categories.
from ..categories import CATEGORIES

Categories (Autor, Levy & Murnane 2003; Acemoglu & Autor 2011), as DESIGN.md defines them:

- RC  routine cognitive: recording, checking against set rules, calculating by procedure,
      processing transactions and files (« Saisir des documents », « Procéder à
      l'encaissement »);
- RM  routine manual: repeated, paced physical operations, feeding and watching machines,
      packing, loading, sorting (« Conditionner des produits »);
- NRA non-routine analytical: analysing, designing, deciding, diagnosing, researching,
      writing and creating (« Concevoir et gérer un projet »);
- NRI non-routine interpersonal: advising, selling, teaching, caring for, negotiating
      with and managing people (« Conseiller un client »);
- NRM non-routine manual: handling in changing surroundings, building sites, driving,
      repairing, cleaning, bedside care (« Conduire un engin »).

Every savoir-faire of ROME 4.0 opens with a verb in the infinitive. The verb says what kind
of work the item is; its object often says more (« Réaliser des opérations comptables »:
the verb says nothing, the object says routine cognitive). Hence three tables:

- `VERB_PHRASES` and `VERBS`: the leading verb (accents folded, lower case) → shares. A
  verb whose meaning depends on its object (« réaliser », « assurer », « effectuer »…) is
  in `LIGHT_VERBS` and carries no vector: the object cues decide alone.
- `OBJECT_CUES`: patterns searched in the rest of the label → shares.

Weights are judgements from the definitions above, written per verb or cue with the reason,
never per occupation: no fiche is named here, and no published occupation score was looked
up to set them. An item matched by nothing stays unmatched and is listed by
`manage.py rome_unmatched`, most frequent first, so that the lexicon grows where it matters.
"""

# A verb weighs as much as this many object cues: the verb names the act, a cue its matter.
VERB_WEIGHT = 2.0


def _(rc=0.0, rm=0.0, nra=0.0, nri=0.0, nrm=0.0) -> dict[str, float]:
    return {"rc": rc, "rm": rm, "nra": nra, "nri": nri, "nrm": nrm}


RC, RM, NRA, NRI, NRM = _(rc=1), _(rm=1), _(nra=1), _(nri=1), _(nrm=1)

# Verbs that name no kind of work by themselves: the object decides (« Réaliser un
# diagnostic » is analytical, « Réaliser des soudures » manual).
LIGHT_VERBS = (
    "realiser",
    "effectuer",
    "assurer",
    "proceder",
    "faire",
    "executer",
    "accomplir",
    "mettre",
    "mener",
    "apporter",
    "fournir",
    "prendre",
    "tenir",
    "rendre",
    "donner",
    "porter",
    "maitriser",
    "pratiquer",
    "preparer",
    "utiliser",
    "gerer",
    "conduire",
    "piloter",
    "lancer",
    "intervenir",
    "travailler",
    "exploiter",
    "disposer",
    "garantir",
    "veiller",
    "traiter",
    "mobiliser",
    "contribuer",
    "participer",
    "integrer",
)

# Verbs that open a rule of conduct or an attitude rather than a task (« Respecter les règles
# QHSSE », « Faire preuve de rigueur », « S'adapter aux changements »): such an item is matched
# (rule `hors_tache:<verbe>`) but carries no shares and weighs nothing in a profile. ROME lists
# them on hundreds of fiches of every kind, so as tasks they would only blur every profile.
NON_TASK_VERBS = [
    "respecter",
    "adapter",
    "faire_preuve",
    "etre",
    "avoir",
    "savoir",
    "connaitre",
    # « Appliquer » followed by rules, norms or principles says « comply with », as « respecter »
    # does (« Appliquer les règles de sécurité », « Appliquer les principes d'écoconduite »);
    # « Appliquer un traitement » or « un cadre juridique » stays a task (verb `appliquer`).
    "appliquer_les_regles",
    "appliquer_les_normes",
    "appliquer_les_principes",
    "appliquer_les_protocoles",
    "appliquer_les_eco_gestes",
    "appliquer_les_ecogestes",
    "appliquer_une_consigne",
    "appliquer_les_consignes",
    "appliquer_la_legislation",
    "appliquer_la_reglementation",
    "appliquer_les_reglementations",
    "appliquer_les_recommandations",
    "appliquer_les_procedures_de_securite",
]

# Multi-word verbs, tried before the first word (accents folded, lower case).
VERB_PHRASES: dict[str, tuple[dict[str, float], str]] = {
    "mettre a jour": (_(rc=0.9, nra=0.1), "updating records is clerical by definition"),
    "rendre compte": (_(rc=0.6, nri=0.4), "reporting on one's activity: a set report, told to someone"),
    "faire respecter": (_(nri=0.6, rc=0.4), "enforcing rules on people is interpersonal"),
    "prendre en charge": (_(nri=0.5, nrm=0.3, nra=0.2), "taking charge of a person or a request"),
    "prendre des decisions": (NRA, "deciding is analytical"),
    "tenir a jour": (_(rc=0.9, nra=0.1), "keeping records up to date"),
    "maintenir a jour": (_(rc=0.9, nra=0.1), "keeping records up to date, as « tenir à jour »"),
    "tenir une caisse": (RC, "cash handling by procedure"),
    # Passing on know-how is teaching (NRI), not relaying a message as « transmettre » alone.
    "transmettre une technique": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre des techniques": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre des connaissances": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre des bases": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre une methodologie": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre des bonnes pratiques": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    "transmettre son savoir": (_(nri=0.8, nra=0.2), "passing on know-how is teaching"),
    # Keeping one's own knowledge current is learning (analytical), not updating a record.
    "actualiser ses connaissances": (NRA, "learning: keeping one's knowledge current"),
    "actualiser regulierement ses connaissances": (NRA, "learning: keeping one's knowledge current"),
}

VERBS: dict[str, tuple[dict[str, float], str]] = {
    # --- Routine cognitive: recording, filing, checking, calculating by set rules.
    "saisir": (RC, "data entry"),
    "enregistrer": (RC, "recording"),
    "classer": (RC, "filing"),
    "archiver": (RC, "filing"),
    "numeriser": (_(rc=0.8, rm=0.2), "scanning documents"),
    "renseigner": (_(rc=0.6, nri=0.4), "filling in records; informing someone"),
    "actualiser": (_(rc=0.8, nra=0.2), "updating records (or one's knowledge: analytical part)"),
    "verifier": (_(rc=0.8, nra=0.2), "checking against a norm or a document"),
    "controler": (_(rc=0.7, nra=0.3), "checking conformity against set criteria"),
    "facturer": (RC, "billing"),
    "encaisser": (RC, "cash handling"),
    "comptabiliser": (RC, "bookkeeping"),
    "calculer": (_(rc=0.7, nra=0.3), "calculating, mostly by formula"),
    "chiffrer": (_(rc=0.5, nra=0.5), "costing: part rules, part judgement"),
    "estimer": (_(nra=0.6, rc=0.4), "estimating: judgement on figures"),
    "etablir": (_(rc=0.6, nra=0.4), "drawing up a document (quote, schedule, report)"),
    "remplir": (RC, "filling in forms"),
    "recenser": (RC, "listing, counting"),
    "inventorier": (RC, "stock-taking"),
    "referencer": (RC, "cataloguing"),
    "indexer": (RC, "cataloguing by a set index"),
    "editer": (_(rc=0.7, nra=0.3), "issuing documents"),
    "relever": (_(rc=0.7, nrm=0.3), "taking readings or records"),
    "reporter": (RC, "transferring figures"),
    "transcrire": (RC, "transcribing"),
    "declarer": (RC, "administrative declarations"),
    "immatriculer": (RC, "registration"),
    "codifier": (RC, "coding by a nomenclature"),
    "appliquer": (_(rc=0.6, rm=0.4), "applying set procedures or rules"),
    "suivre": (_(rc=0.6, nra=0.4), "following up files and figures"),
    "surveiller": (_(rc=0.4, rm=0.3, nra=0.3), "monitoring, by routine rounds or readings"),
    "mesurer": (_(rc=0.5, nrm=0.3, nra=0.2), "taking measurements"),
    "documenter": (_(rc=0.6, nra=0.4), "documenting"),
    "consulter": (_(rc=0.6, nra=0.4), "looking things up"),
    "valider": (_(rc=0.6, nra=0.4), "approving against criteria"),
    "instruire": (_(rc=0.6, nra=0.4), "processing a file by procedure"),
    "administrer": (_(rc=0.5, nra=0.5), "administering systems or files"),
    "commander": (_(rc=0.8, nri=0.2), "placing orders"),
    "reserver": (RC, "bookings"),
    "planifier": (_(rc=0.4, nra=0.6), "scheduling: set slots, some judgement"),
    "ordonnancer": (_(rc=0.5, nra=0.5), "sequencing production"),
    "programmer": (_(nra=0.6, rc=0.4), "programming a machine or a schedule"),
    "parametrer": (_(rc=0.5, nra=0.5), "setting parameters"),
    "configurer": (_(rc=0.4, nra=0.6), "configuring systems"),
    "collecter": (_(rc=0.7, nra=0.3), "collecting data or items"),
    "recueillir": (_(rc=0.5, nri=0.5), "gathering information from people"),
    "transmettre": (_(rc=0.5, nri=0.5), "passing information on"),
    "relayer": (_(rc=0.5, nri=0.5), "relaying information"),
    "signaler": (_(rc=0.6, nri=0.4), "reporting incidents"),
    "rapporter": (_(rc=0.6, nri=0.4), "reporting incidents, as « signaler »"),
    "notifier": (_(rc=0.6, nri=0.4), "notifying a finding by a set form"),
    "consigner": (RC, "writing down in a register or a log"),
    "signer": (_(rc=0.8, nri=0.2), "signing delivery or receipt documents"),
    "verbaliser": (_(rc=0.6, nri=0.4), "writing up an offence by a set procedure, facing the offender"),
    "diffuser": (_(rc=0.5, nri=0.5), "distributing information or documents, as « relayer »"),
    "alerter": (_(rc=0.5, nri=0.5), "raising an alert by procedure"),
    "tracer": (_(rc=0.6, nrm=0.4), "recording traceability, or marking out"),
    "clore": (RC, "closing accounts or files"),
    "cloturer": (RC, "closing accounts or files"),
    "rapprocher": (RC, "reconciling accounts"),
    "delivrer": (_(rc=0.6, nri=0.4), "issuing documents or products to people"),
    "attribuer": (_(rc=0.6, nra=0.4), "allocating by rules"),
    "affecter": (_(rc=0.6, nra=0.4), "allocating by rules"),
    "repartir": (_(rc=0.5, nra=0.5), "dividing up work or resources"),
    "allouer": (_(rc=0.5, nra=0.5), "allocating resources"),
    "regler": (_(rm=0.5, nrm=0.3, rc=0.2), "adjusting settings (of machines, mostly)"),
    # --- Routine manual: repeated physical operations, machines, goods.
    "conditionner": (RM, "packing"),
    "emballer": (RM, "packing"),
    "etiqueter": (_(rm=0.8, rc=0.2), "labelling"),
    "charger": (_(rm=0.7, nrm=0.3), "loading"),
    "decharger": (_(rm=0.7, nrm=0.3), "unloading"),
    "manutentionner": (_(rm=0.6, nrm=0.4), "handling goods"),
    "approvisionner": (_(rm=0.6, rc=0.4), "supplying machines or shelves"),
    "alimenter": (_(rm=0.8, nrm=0.2), "feeding machines"),
    "trier": (_(rm=0.7, rc=0.3), "sorting"),
    "assembler": (_(rm=0.7, nrm=0.3), "assembling parts"),
    "monter": (_(rm=0.5, nrm=0.5), "mounting, assembling"),
    "fabriquer": (_(rm=0.6, nrm=0.4), "making products"),
    "produire": (_(rm=0.6, nrm=0.2, nra=0.2), "producing"),
    "usiner": (_(rm=0.7, nrm=0.2, nra=0.1), "machining"),
    "decouper": (_(rm=0.6, nrm=0.4), "cutting"),
    "couper": (_(rm=0.6, nrm=0.4), "cutting"),
    "debiter": (_(rm=0.6, nrm=0.4), "cutting up"),
    "confectionner": (_(rm=0.5, nrm=0.5), "making up garments or dishes"),
    "faconner": (_(nrm=0.6, rm=0.4), "shaping by hand"),
    "ajuster": (_(rm=0.5, nrm=0.5), "fitting, adjusting"),
    "calibrer": (_(rm=0.5, rc=0.5), "calibrating"),
    "demarrer": (RM, "starting machines"),
    "arreter": (_(rm=0.7, rc=0.3), "stopping machines"),
    "doser": (_(rm=0.7, rc=0.3), "measuring out ingredients"),
    "peser": (_(rm=0.6, rc=0.4), "weighing"),
    "melanger": (RM, "mixing"),
    "polir": (_(rm=0.5, nrm=0.5), "polishing"),
    "poncer": (_(rm=0.5, nrm=0.5), "sanding"),
    "laver": (_(rm=0.5, nrm=0.5), "washing"),
    "repasser": (_(rm=0.7, nrm=0.3), "ironing"),
    "cuire": (_(rm=0.5, nrm=0.5), "cooking by recipe"),
    "stocker": (_(rm=0.7, rc=0.3), "storing goods"),
    "entreposer": (_(rm=0.7, rc=0.3), "storing goods"),
    "ranger": (_(rm=0.6, nrm=0.4), "putting away"),
    "receptionner": (_(rm=0.6, rc=0.4), "receiving goods"),
    "expedier": (_(rm=0.6, rc=0.4), "shipping goods"),
    "distribuer": (_(rm=0.5, nrm=0.3, nri=0.2), "distributing"),
    "marquer": (RM, "marking"),
    "imprimer": (RM, "printing"),
    "souder": (_(rm=0.6, nrm=0.4), "welding"),
    "traire": (RM, "milking"),
    "mouler": (RM, "moulding"),
    "injecter": (RM, "injection moulding"),
    "empiler": (RM, "stacking"),
    "plier": (RM, "folding"),
    "coudre": (_(rm=0.6, nrm=0.4), "sewing"),
    "piquer": (_(rm=0.6, nrm=0.4), "machine sewing"),
    "remplacer": (_(nrm=0.6, rm=0.4), "replacing parts"),
    # --- Non-routine analytical: analysing, designing, deciding, researching, writing.
    "analyser": (NRA, "analysing"),
    "concevoir": (NRA, "designing"),
    "definir": (NRA, "defining"),
    "elaborer": (NRA, "working out"),
    "etudier": (NRA, "studying"),
    "evaluer": (_(nra=0.8, nri=0.2), "assessing"),
    "identifier": (_(nra=0.7, rc=0.3), "identifying"),
    "determiner": (NRA, "determining"),
    "diagnostiquer": (NRA, "diagnosing"),
    "rechercher": (_(nra=0.7, rc=0.3), "searching, researching"),
    "interpreter": (NRA, "interpreting"),
    "modeliser": (NRA, "modelling"),
    "optimiser": (NRA, "optimising"),
    "developper": (_(nra=0.6, nri=0.4), "developing (products, activities, relations)"),
    "innover": (NRA, "innovating"),
    "creer": (_(nra=0.8, nrm=0.2), "creating"),
    "imaginer": (NRA, "imagining"),
    "dessiner": (_(nra=0.6, nrm=0.4), "drawing"),
    "anticiper": (NRA, "anticipating"),
    "prevoir": (NRA, "forecasting"),
    "arbitrer": (_(nra=0.7, nri=0.3), "arbitrating"),
    "decider": (NRA, "deciding"),
    "choisir": (NRA, "choosing"),
    "selectionner": (_(nra=0.7, rc=0.3), "selecting"),
    "structurer": (_(nra=0.7, rc=0.3), "structuring"),
    "synthetiser": (_(nra=0.8, rc=0.2), "summarising"),
    "formaliser": (_(nra=0.6, rc=0.4), "formalising"),
    "cartographier": (NRA, "mapping"),
    "dimensionner": (NRA, "sizing"),
    "prescrire": (_(nra=0.6, nri=0.4), "prescribing"),
    "preconiser": (_(nra=0.6, nri=0.4), "recommending"),
    "proposer": (_(nra=0.6, nri=0.4), "proposing"),
    "resoudre": (_(nra=0.8, nri=0.2), "solving"),
    "ameliorer": (NRA, "improving"),
    # Organising work and people is interactive as much as analytical (Spitz-Oener 2006).
    "organiser": (_(nri=0.4, nra=0.4, rc=0.2), "organising"),
    "tester": (_(nra=0.6, rc=0.4), "testing"),
    "experimenter": (NRA, "experimenting"),
    "expertiser": (NRA, "appraising"),
    "auditer": (_(nra=0.7, rc=0.3), "auditing"),
    "inspecter": (_(nra=0.5, rc=0.3, nrm=0.2), "inspecting"),
    "examiner": (_(nra=0.8, nrm=0.2), "examining"),
    "observer": (_(nra=0.6, rc=0.2, nrm=0.2), "observing"),
    "detecter": (_(nra=0.6, rc=0.4), "detecting"),
    "reperer": (_(nra=0.6, rc=0.2, nrm=0.2), "spotting"),
    "comprendre": (NRA, "understanding"),
    "apprehender": (NRA, "grasping"),
    "lire": (_(nra=0.5, rc=0.5), "reading plans or documents"),
    "implementer": (_(nra=0.7, rc=0.3), "implementing systems"),
    "deployer": (_(nra=0.7, nri=0.3), "rolling out"),
    "coder": (_(nra=0.6, rc=0.4), "coding software"),
    "rediger": (_(nra=0.6, rc=0.4), "writing documents"),
    "ecrire": (_(nra=0.8, rc=0.2), "writing"),
    "traduire": (_(nra=0.7, nri=0.3), "translating"),
    "composer": (_(nra=0.8, nrm=0.2), "composing"),
    "modifier": (_(nra=0.6, rc=0.4), "modifying"),
    "corriger": (_(nra=0.5, rc=0.5), "correcting"),
    "reduire": (NRA, "reducing (costs, impacts): a decision"),
    "renforcer": (_(nra=0.6, nri=0.4), "strengthening"),
    "prioriser": (NRA, "setting priorities"),
    "budgeter": (_(nra=0.6, rc=0.4), "budgeting"),
    "expliciter": (_(nri=0.6, nra=0.4), "explaining"),
    "formuler": (NRA, "formulating"),
    "modeler": (_(nra=0.5, nrm=0.5), "modelling by hand"),
    "investiguer": (NRA, "investigating"),
    "enqueter": (_(nra=0.6, nri=0.4), "investigating"),
    "superviser": (_(nri=0.5, nra=0.5), "supervising work and people"),
    "coordonner": (_(nri=0.5, nra=0.5), "coordinating"),
    "diriger": (_(nri=0.5, nra=0.5), "directing"),
    "manager": (_(nri=0.7, nra=0.3), "managing people"),
    "encadrer": (_(nri=0.7, nra=0.3), "supervising people"),
    "deleguer": (_(nri=0.6, nra=0.4), "delegating"),
    "securiser": (_(nrm=0.4, nra=0.3, rc=0.3), "making safe"),
    "prevenir": (_(nra=0.5, nri=0.5), "preventing risks, warning people"),
    "maintenir": (_(nrm=0.5, nra=0.3, rc=0.2), "maintaining"),
    # --- Non-routine interpersonal: advising, selling, teaching, caring, managing people.
    "animer": (_(nri=0.8, nra=0.2), "leading groups"),
    "accompagner": (_(nri=0.8, nrm=0.2), "supporting people"),
    "conseiller": (_(nri=0.7, nra=0.3), "advising"),
    "informer": (_(nri=0.6, rc=0.4), "informing"),
    "communiquer": (_(nri=0.8, nra=0.2), "communicating"),
    "negocier": (_(nri=0.8, nra=0.2), "negotiating"),
    "vendre": (_(nri=0.9, rc=0.1), "selling"),
    "commercialiser": (_(nri=0.8, nra=0.2), "selling"),
    "prospecter": (_(nri=0.8, nra=0.2), "prospecting"),
    "convaincre": (NRI, "persuading"),
    "argumenter": (_(nri=0.8, nra=0.2), "arguing a case"),
    "promouvoir": (_(nri=0.7, nra=0.3), "promoting"),
    "representer": (NRI, "representing"),
    "accueillir": (_(nri=0.8, rc=0.2), "welcoming"),
    "orienter": (_(nri=0.7, nra=0.3), "guiding people"),
    "former": (_(nri=0.8, nra=0.2), "training people"),
    "enseigner": (_(nri=0.8, nra=0.2), "teaching"),
    "eduquer": (NRI, "educating"),
    "sensibiliser": (_(nri=0.8, nra=0.2), "raising awareness"),
    "motiver": (NRI, "motivating"),
    "federer": (NRI, "rallying"),
    "encourager": (NRI, "encouraging"),
    "soutenir": (NRI, "supporting"),
    "aider": (_(nri=0.7, nrm=0.3), "helping"),
    "assister": (_(nri=0.6, rc=0.2, nrm=0.2), "assisting"),
    "ecouter": (NRI, "listening"),
    "dialoguer": (NRI, "dialogue"),
    "interagir": (NRI, "interacting"),
    "echanger": (NRI, "exchanging"),
    "collaborer": (_(nri=0.8, nra=0.2), "working with others"),
    "cooperer": (_(nri=0.8, nra=0.2), "working with others"),
    "recruter": (_(nri=0.6, nra=0.4), "recruiting"),
    "coacher": (NRI, "coaching"),
    "tutorer": (NRI, "tutoring"),
    "guider": (NRI, "guiding"),
    "presenter": (_(nri=0.7, nra=0.3), "presenting"),
    "expliquer": (_(nri=0.8, nra=0.2), "explaining"),
    "faciliter": (_(nri=0.7, nra=0.3), "facilitating"),
    "favoriser": (_(nri=0.6, nra=0.4), "fostering"),
    "fideliser": (NRI, "retaining customers"),
    "repondre": (_(nri=0.7, rc=0.3), "answering"),
    "parler": (NRI, "speaking"),
    "exprimer": (NRI, "expressing oneself"),
    "valoriser": (_(nri=0.6, nra=0.4), "showcasing"),
    "defendre": (_(nri=0.7, nra=0.3), "defending"),
    "mediatiser": (NRI, "publicising"),
    "concerter": (NRI, "consulting people"),
    "auditionner": (_(nri=0.7, nra=0.3), "hearing witnesses or parties"),
    "impliquer": (NRI, "involving people"),
    "conclure": (_(nri=0.7, nra=0.3), "closing a deal"),
    "contractualiser": (_(rc=0.5, nri=0.5), "contracting"),
    "recevoir": (_(nri=0.7, rc=0.3), "receiving people"),
    "soigner": (_(nri=0.5, nrm=0.5), "caring for"),
    "prodiguer": (_(nrm=0.5, nri=0.5), "giving care"),
    "stimuler": (NRI, "stimulating"),
    "divertir": (NRI, "entertaining"),
    "jouer": (_(nri=0.6, nrm=0.4), "performing"),
    "chanter": (_(nri=0.6, nrm=0.4), "performing"),
    "danser": (_(nrm=0.6, nri=0.4), "performing"),
    "servir": (_(nri=0.5, nrm=0.5), "serving guests"),
    # --- Non-routine manual: changing surroundings, building, repairing, driving, care.
    "installer": (_(nrm=0.8, nra=0.2), "installing"),
    "poser": (NRM, "fitting, laying"),
    "raccorder": (_(nrm=0.8, rm=0.2), "connecting"),
    "cabler": (_(nrm=0.7, rm=0.3), "wiring"),
    "connecter": (_(nrm=0.6, nra=0.4), "connecting"),
    "reparer": (_(nrm=0.7, nra=0.3), "repairing"),
    "depanner": (_(nrm=0.7, nra=0.3), "fixing breakdowns"),
    "entretenir": (_(nrm=0.8, rm=0.2), "maintaining, upkeep"),
    "demonter": (_(nrm=0.7, rm=0.3), "dismantling"),
    "nettoyer": (_(nrm=0.8, rm=0.2), "cleaning: handling in changing surroundings"),
    "desinfecter": (_(nrm=0.5, rm=0.5), "disinfecting"),
    "manoeuvrer": (_(nrm=0.8, rm=0.2), "manoeuvring"),
    "transporter": (_(nrm=0.7, rm=0.3), "carrying"),
    "deplacer": (NRM, "moving"),
    "lever": (NRM, "lifting"),
    "hisser": (NRM, "hoisting"),
    "tailler": (_(nrm=0.8, rm=0.2), "pruning, cutting stone"),
    "planter": (_(nrm=0.8, rm=0.2), "planting"),
    "semer": (_(nrm=0.7, rm=0.3), "sowing"),
    "recolter": (_(nrm=0.6, rm=0.4), "harvesting"),
    "abattre": (NRM, "felling"),
    "elaguer": (NRM, "pruning"),
    "debroussailler": (NRM, "clearing undergrowth"),
    "amenager": (_(nrm=0.6, nra=0.4), "fitting out spaces"),
    "construire": (_(nrm=0.7, nra=0.3), "building"),
    "batir": (NRM, "building"),
    "maconner": (NRM, "masonry"),
    "coffrer": (NRM, "formwork"),
    "peindre": (_(nrm=0.7, rm=0.3), "painting"),
    "decorer": (_(nrm=0.5, nra=0.5), "decorating"),
    "restaurer": (_(nrm=0.6, nra=0.4), "restoring"),
    "renover": (_(nrm=0.7, nra=0.3), "renovating"),
    "cuisiner": (_(nrm=0.5, rm=0.5), "cooking"),
    "manipuler": (_(nrm=0.6, rm=0.4), "handling"),
    "evacuer": (_(nrm=0.6, rm=0.4), "removing waste, evacuating people"),
    "proteger": (_(nrm=0.5, nri=0.3, nra=0.2), "protecting"),
    "secourir": (_(nrm=0.6, nri=0.4), "rescuing"),
    "naviguer": (NRM, "sailing, steering"),
    "convoyer": (NRM, "conveying"),
    "livrer": (_(nrm=0.6, rm=0.2, nri=0.2), "delivering"),
    "acheminer": (_(nrm=0.6, rm=0.4), "routing goods"),
    "debarrasser": (_(nrm=0.6, rm=0.4), "clearing away"),
    "retoucher": (_(nrm=0.6, nra=0.4), "retouching"),
    "affuter": (_(nrm=0.6, rm=0.4), "sharpening"),
    "enlever": (_(nrm=0.6, rm=0.4), "removing"),
    "retirer": (_(nrm=0.6, rm=0.4), "removing"),
    "remonter": (_(nrm=0.6, rm=0.4), "reassembling"),
    "recouvrir": (NRM, "covering"),
    "isoler": (NRM, "insulating"),
    "equiper": (_(nrm=0.6, rm=0.4), "equipping"),
    "immerger": (NRM, "diving"),
    "prelever": (_(nrm=0.5, rc=0.3, nra=0.2), "taking samples"),
    "sculpter": (_(nrm=0.6, nra=0.4), "sculpting"),
    "dresser": (_(nrm=0.7, nri=0.3), "training animals, setting tables"),
    "nourrir": (_(nrm=0.6, rm=0.4), "feeding animals or people"),
    "abreuver": (_(nrm=0.6, rm=0.4), "watering animals"),
    "garder": (_(nri=0.5, nrm=0.5), "minding children or places"),
}

# A light verb never carries a vector, even where a table above names it by mistake.
for _light in LIGHT_VERBS:
    VERBS.pop(_light, None)

# Object cues: a regular expression on the normalised label (after the verb) → shares.
OBJECT_CUES: dict[str, tuple[str, dict[str, float], str]] = {
    # Routine cognitive matter: accounts, files, records, transactions.
    # « écriture », « bilan » only in their bookkeeping sense: a « bilan de compétences » or
    # « de santé » is an assessment, « l'écriture d'un scénario » writing.
    "comptabilite": (
        r"\b(comptab\w*|ecritures? comptables?|bilans? (comptables?|financiers?|annuels?)|liasses?|"
        r"rapprochements?|clotures? (mensuelles?|annuelles?|comptables?|des comptes)|"
        r"operations de cloture)\b",
        RC,
        "bookkeeping",
    ),
    # Not a « caisse de retraite » (a fund), nor a « règlement intérieur » (rules); public
    # « recettes » are receipts, expense claims are transactions too.
    "facturation": (
        r"\b(factur\w*|encaissements?|caisses?(?! (de retraite|primaires?|d assurance|de mise bas))|"
        r"paiements?|reglements?(?! interieurs?)|devis|notes? de frais|remboursements?|"
        r"recettes? (fiscales|publiques|d une entreprise)|depenses et (les )?recettes)\b",
        RC,
        "billing, till",
    ),
    "paie": (r"\b(paie|salaires?|bulletins? de (paie|salaire)|cotisations?)\b", RC, "payroll"),
    # Keying in, filing and registering: clerical by definition (a « saisie » of the data
    # cue below was worth only 0.6 RC).
    "saisie": (
        r"\b(saisies?|classements? (des |de |d )|archivage|(?<!par )pointages?|immatriculations?)",
        RC,
        "data entry, filing",
    ),
    # Office routine: copying, mailing, supporting documents checked against a list.
    "secretariat": (
        r"\b(reprographie|photocopi\w*|affranchissement|publipostage|mise sous pli|editique|"
        r"(mise|mettre) en forme (d un |d une |des |du |un |une |le |la |les )?(documents?|courriers?|"
        r"textes?|rapports?)|pieces? justificatives?|justificatifs?)\b",
        RC,
        "office routine, supporting documents",
    ),
    # Nouns of the verbs above, after a light verb (« Effectuer une transmission d'information »,
    # « Réaliser des calculs », « Réaliser une télésurveillance »): the verb's own vector.
    "transmission": (r"\btransmissions? (d |des )?informations?\b", _(rc=0.5, nri=0.5), "passing information on"),
    "calculs": (r"\bcalculs?\b", _(rc=0.7, nra=0.3), "calculating, mostly by formula"),
    "surveillance": (
        r"\b((tele|video)?surveillance|rondes?)\b",
        _(rc=0.4, rm=0.3, nra=0.3),
        "monitoring, by routine rounds or screens",
    ),
    "administratif": (r"\badministrati\w*\b", _(rc=0.8, nra=0.2), "administration by procedure"),
    "dossier": (r"\b(dossiers?|formalites|declarations?|courriers?|formulaires?)\b", _(rc=0.8, nra=0.2), "files"),
    "donnees": (r"\b(donnees|bases? de donnees|fichiers?)\b", _(rc=0.6, nra=0.4), "data records"),
    "documents": (
        r"\b(documents?|documentation|documentaires?|archives?|registres?)\b",
        _(rc=0.7, nra=0.3),
        "documents",
    ),
    "planning": (r"\b(plannings?|agendas?|rendez vous|emplois du temps|reservations?)\b", RC, "scheduling"),
    "stocks": (r"\b(stocks?|inventaires?|approvisionnements?)\b", _(rc=0.6, rm=0.4), "stock keeping"),
    # Not the controls of a machine (« à commande numérique »), nor order picking (below).
    "commandes": (
        r"(?<!preparer les )(?<!preparer des )(?<!preparation des )(?<!preparation de )"
        r"\bcommandes?\b(?! numeriques?)",
        _(rc=0.6, rm=0.2, nri=0.2),
        "orders",
    ),
    "reporting": (r"\breporting\b", _(rc=0.6, nra=0.4), "set reports compiled for the hierarchy"),
    "tracabilite": (r"\b(tracabilite|enregistrements?|releves?)\b", RC, "traceability records"),
    "conformite": (
        r"\b(conformite|normes?|procedures?|consignes?|protocoles?|reglementation|modes? operatoires?)\b",
        _(rc=0.7, nra=0.3),
        "checking against set rules",
    ),
    "indicateurs": (r"\b(indicateurs?|tableaux? de bord|statistiques?)\b", _(rc=0.5, nra=0.5), "figures"),
    "couts": (r"\b(couts?|budgets?|depenses?|tarifs?|prix)\b", _(rc=0.5, nra=0.5), "costs"),
    "contrats": (r"\b(contrats?|conventions?)\b", _(rc=0.5, nra=0.3, nri=0.2), "contracts"),
    # Design and modelling software is a tool of design (cue `conception`), not of office routine.
    "numerique": (
        r"\b(outils numeriques|logiciels?(?! de (conception|modelisation|simulation|cao|dao))|informatique|"
        r"progiciels?|tableurs?)\b",
        _(rc=0.6, nra=0.4),
        "office software",
    ),
    # Taking and routing calls by script is clerical (a switchboard); not a « standard » of
    # quality, nor an « appel d'offres » (a tender).
    "telephone": (
        r"\b(telephon\w*|appels?(?! (d offres?|a projets?|a candidatures?|a cotisations?|de fonds))|"
        r"standard telephonique|standardiste)\b",
        _(rc=0.7, nri=0.3),
        "switchboard",
    ),
    "etiquetage": (r"\betiquet\w*\b", _(rm=0.7, rc=0.3), "labelling"),
    # Routine manual matter: machines, lines, packing, goods.
    # A press the machine, not the press the media (« conférence de presse », « presse écrite »).
    "machine": (
        r"\b(machines?|automates?|(?<!de )(?<!et )(?<!supports )(?<!relations )"
        r"presses?(?! (ecrite|radio|television|tv|magazine|quotidienne|regionale|nationale))|robots?)\b",
        _(rm=0.7, nrm=0.3),
        "machines",
    ),
    # A production or assembly line, not a « chaîne » of value, transport or cold.
    "ligne_production": (
        r"\b(lignes? de production|chaines? (de production|de fabrication|de montage|"
        r"d assemblage|de conditionnement|d embouteillage)|travail a la chaine|fabrication|"
        r"en serie|cadences?)\b",
        RM,
        "production lines",
    ),
    # Order picking and shelf filling: repeated handling of goods (RM by definition).
    "preparation_commandes": (
        r"\b(prepar\w* (les |des |de )?commandes?|picking|mise en rayon|"
        r"reassort\w*|rayonnages?|palettisation|depalettisation)\b",
        _(rm=0.8, rc=0.2),
        "order picking, shelf filling",
    ),
    "production": (r"\bproduction\b", _(rm=0.5, nra=0.5), "production"),
    "conditionnement": (
        r"\b(conditionnements?|emballages?|colis|palettes?|manutention|ensachage|embouteillage|"
        r"mise en (boite|barquette|bouteille|sachet|carton)|barquettes?)\b",
        RM,
        "packing",
    ),
    "matieres": (r"\b(matieres? premieres?|pieces?|composants?|bobines?)\b", _(rm=0.6, nrm=0.4), "parts"),
    # « injection » of plastics only: a diesel injection system is repaired, an injection given.
    # Assembling as a noun after a light verb (« Réaliser les travaux de montage, d'assemblage »).
    "assemblage": (r"\b(assemblages?|(travaux|operations?) de montage)\b", _(rm=0.7, nrm=0.3), "assembling parts"),
    "finition": (r"\b(poncage|polissage|lissage|ebavurage)\b", _(rm=0.5, nrm=0.5), "sanding, polishing"),
    "usinage": (
        r"\b(usinage|tournage|fraisage|decoupe|soudures?|soudage|moulage|injection plastique|"
        r"presses? a injecter)\b",
        _(rm=0.6, nrm=0.4),
        "machining, welding",
    ),
    # Recipes, not public receipts nor the acceptance tests (« recette ») of software.
    "dosage": (
        r"\b(dosages?|pesees?|melanges?|(?<!depenses et les )(?<!depenses et )"
        r"recettes?(?! (fiscales|publiques|d une entreprise|des applications)))\b",
        _(rm=0.7, rc=0.3),
        "dosing",
    ),
    "produit_physique": (
        r"\bproduits?\b(?! (ou un service|financiers?|bancaires?|d assurance|touristiques?|d epargne))",
        _(nrm=0.5, rm=0.5),
        "a physical product, handled",
    ),
    "dechets": (r"\b(dechets?|tri selectif)\b", _(rm=0.5, nrm=0.5), "waste"),
    # Sorting mail, parcels or goods by codes: repeated handling by set rules.
    "tri": (r"\b(tri|triage)\b(?! selectif)", _(rm=0.6, rc=0.4), "sorting"),
    "marchandises": (r"\b(marchandises?|produits? finis|livraisons?|expeditions?)\b", _(rm=0.6, rc=0.4), "goods"),
    # Non-routine manual matter: sites, vehicles, equipment, living things, bodies.
    "chantier": (r"\b(chantiers?|ouvrages?|batiments?|maconnerie|charpente|toitures?|facades?)\b", NRM, "sites"),
    "vehicule": (
        r"\b(vehicules?|engins?|camions?|poids lourds?|bus|cars?|trains?|navires?|bateaux?|aeronefs?)\b",
        _(nrm=0.8, rm=0.2),
        "driving",
    ),
    "equipement": (
        r"\b(equipements?|installations?|materiels?|outillages?|outils(?! numeriques)|appareils?|"
        r"reseaux?(?! (sociaux|professionnels?|de partenaires|d acteurs)))\b",
        _(nrm=0.6, rm=0.2, nra=0.2),
        "equipment",
    ),
    "maintenance": (
        r"\b(maintenance|depannages?|reparations?|pannes?|dysfonctionnements?)\b",
        _(nrm=0.7, nra=0.3),
        "repair",
    ),
    "nettoyage": (
        r"\b(nettoyage|proprete|locaux|surfaces?|hygiene des locaux|linge)\b",
        _(nrm=0.8, rm=0.2),
        "cleaning",
    ),
    # Crops, not a « culture d'entreprise » nor « technologique ».
    "vivant": (
        r"\b(animaux|animal|betail|chevaux|plantes?|vegetaux|arbres?|"
        r"cultures?(?! (d entreprise|d amelioration|technologique|scientifique|generale|numerique))|"
        r"sols?|espaces? verts?)\b",
        _(nrm=0.8, rm=0.2),
        "living things",
    ),
    "cuisine": (
        r"\b(repas|plats?|cuisine|aliments?|denrees?|patisseries?|viandes?|pains?)\b",
        _(nrm=0.5, rm=0.5),
        "food preparation",
    ),
    "soins": (
        r"\b(soins?|toilette|patients?|malades?|blesses?|corps(?! (de metiers?|d etat|etrangers?)))\b",
        _(nrm=0.5, nri=0.5),
        "bedside care",
    ),
    # Heavy loads only: not a « cahier des charges », a « prise en charge » or a workload.
    "charges": (
        r"\b(charges? (lourdes?|encombrantes?)|colis lourds?|port de charges?|"
        r"(levage|deplacement|manutention|transport) (de |des )?charges?)\b",
        _(nrm=0.6, rm=0.4),
        "carrying loads",
    ),
    "precision": (r"\b(precision|minutie|dexterite|gestes?)\b", _(rm=0.5, nrm=0.5), "hand precision"),
    "intervention": (r"\bintervention\w*\b", _(nrm=0.6, nra=0.4), "interventions on site"),
    # Non-routine analytical matter: studies, designs, strategies, projects.
    "strategie": (r"\b(strateg\w*|politiques?|orientations?)\b", _(nra=0.8, nri=0.2), "strategy"),
    "projet": (r"\bprojets?\b", _(nra=0.7, nri=0.3), "projects"),
    "etude": (r"\b(etudes?|recherches?|analyses?|expertises?|audits?|enquetes?)\b", NRA, "studies"),
    "diagnostic": (r"\bdiagnostics?\b", _(nra=0.8, nrm=0.2), "diagnosis"),
    "conception": (
        r"\b(conception|plans?|cahiers? des charges|specifications?|prototypes?|maquettes?|"
        r"modelisation|simulations?|cao|dao)\b",
        _(nra=0.8, rc=0.2),
        "design",
    ),
    "solutions": (r"\b(solutions?|innovations?|ameliorations?|optimisation|performances?)\b", NRA, "improvements"),
    "risques": (r"\b(risques?|securite|prevention)\b", _(nra=0.6, rc=0.4), "risk assessment"),
    "veille": (r"\bveille\b", _(nra=0.7, rc=0.3), "monitoring a field"),
    # Markets, not a machine's « état de marche ».
    "marche": (
        r"\b((?<!etat de )(?<!ordre de )(?<!en )marches?|marketing|concurrence|concurrentielle|tendances?)\b",
        _(nra=0.7, nri=0.3),
        "markets",
    ),
    "finance": (r"\b(financ\w*|investiss\w*|tresorerie|fiscal\w*)\b", _(nra=0.6, rc=0.4), "finance"),
    "informatique_dev": (
        r"\b(applications?|programmes? informatiques?|codes? source|algorithmes?|"
        r"systemes? d information|architectures?|cybersecurite)\b",
        _(nra=0.8, rc=0.2),
        "software",
    ),
    "juridique": (r"\b(juridiques?|droit|contentieux|litiges?|legal\w*|reglementaires?)\b", _(nra=0.6, rc=0.4), "law"),
    "creation": (
        r"\b(creations?|artistiques?|graphiques?|visuels?|contenus? (editoriaux|numeriques|pedagogiques)|"
        r"textes?|articles? de presse|scenarios?)\b",
        _(nra=0.8, nrm=0.2),
        "creative work",
    ),
    "besoins": (r"\bbesoins?\b", _(nra=0.6, nri=0.4), "needs analysis"),
    # The unforeseen is non-routine by definition: diagnosing it and acting on the spot.
    "imprevus": (
        r"\b(incidents?|imprevus?|aleas|accidents?|problemes? techniques?)\b",
        _(nra=0.7, nrm=0.3),
        "responding to the unforeseen",
    ),
    "essais": (r"\b(tests?|essais?|experimentations?)\b", _(nra=0.6, rc=0.4), "testing, as the verb « tester »"),
    "correctives": (r"\b(mesures? correctives?|actions? correctives?|ecarts?)\b", NRA, "corrective action"),
    "decision": (r"\b(decisions?|arbitrages?)\b", _(nra=0.7, nri=0.3), "decisions"),
    # Non-routine interpersonal matter: customers, teams, the public, teaching, conflicts.
    "client": (r"\b(clients?|clientele|prospects?|acheteurs?)\b", _(nri=0.8, rc=0.2), "customers"),
    "equipe": (r"\b(equipes?|collaborateurs?|personnel|salaries?|effectifs?)\b", _(nri=0.8, nra=0.2), "teams"),
    "public": (
        r"\b(public|publics|usagers?|beneficiaires?|personnes?|familles?|enfants?|eleves?|apprenants?|"
        r"stagiaires?|jeunes|residents?|visiteurs?|voyageurs?|passagers?|convives?)\b",
        _(nri=0.8, nrm=0.2),
        "people served",
    ),
    "relation": (
        r"\b(relations?|partenaires?|partenariats?|reseau professionnel|interlocuteurs?|"
        r"fournisseurs?|prestataires?|sous traitants?)\b",
        NRI,
        "relations",
    ),
    "reunion": (r"\b(reunions?|ateliers?|groupes?|seances?|animations?)\b", _(nri=0.8, nra=0.2), "meetings"),
    # Not the adjective « technique(s) » (« documents techniques », « assistance technique »):
    # a technical document is not teaching.
    "pedagogie": (
        r"\b(formations?|pedagog\w*|competences?|connaissances|savoir faire)\b",
        _(nri=0.5, nra=0.5),
        "teaching and know-how",
    ),
    # Interviewing people (not the « entretien » of equipment or premises).
    "entretien_personne": (
        r"\b(interviews?|auditions? (de |des )?(temoins?|parties?)|"
        r"(mener|conduire) (un |une |des |l )?entretiens?)\b",
        _(nri=0.7, nra=0.3),
        "interviews",
    ),
    "conflit": (r"\b(conflits?|conflictuelles?|mediations?|reclamations?|incivilites?)\b", NRI, "conflicts"),
    "vente": (r"\b(ventes?|commerciale?s?|promotion\w*|offres?|negociations?)\b", _(nri=0.8, nra=0.2), "selling"),
    "conseil": (r"\b(conseils?|accompagnement|orientation|ecoute)\b", _(nri=0.8, nra=0.2), "advice"),
    "langues": (r"\b(langues? etrangeres?|anglais|oral|orale)\b", _(nri=0.7, nra=0.3), "languages"),
    "communication": (
        r"\b(communication|medias|(relations|conferences?|communiques?|revues?|supports?) (de )?presse|"
        r"presse (ecrite|radio)|evenements?|manifestations?)\b",
        _(nri=0.7, nra=0.3),
        "communication",
    ),
    "rh": (
        r"\b(ressources humaines|recrutements?|carrieres?|"
        r"entretiens? (d embauche|individuels?|annuels?|professionnels?))\b",
        _(nri=0.6, nra=0.2, rc=0.2),
        "human resources",
    ),
    "urgence": (r"\b(urgences?|crises?|secours|sinistres?)\b", _(nra=0.4, nri=0.3, nrm=0.3), "emergencies"),
}
