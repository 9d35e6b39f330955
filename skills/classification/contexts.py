"""Work contexts of ROME 4.0 that shift a fiche's task profile.

A fiche's contexts (« Travail répétitif ou cadence imposée », « Port de charges lourdes »,
« En contact avec du public »…) say how the job is done, not which tasks it holds, so they
do not count as items: each matching rule moves the fiche's shares towards its categories
by the methodology's `context_shift` (skills/profiles.py), then the shares are renormalised.

Each rule: a regular expression on the normalised label (lower case, accents folded), the
categories it pushes towards (weights summing to 1), and why. Contexts about status,
schedules, employers or places that say nothing of the tasks (« Salarié secteur privé »,
« Travail le samedi », « Zone nationale ») have no rule, on purpose.
"""

CONTEXT_RULES: dict[str, tuple[str, dict[str, float], str]] = {
    "repetitif": (
        r"travail repetitif|cadence imposee|flux tendu",
        {"rm": 0.7, "rc": 0.3},
        "repeated operations at an imposed pace: the definition of routine work",
    ),
    "ligne_production": (
        r"ligne ou ilot de production|travail poste|milieu industriel|en atelier|salle blanche",
        {"rm": 1.0},
        "production lines and shift work: machine-paced operations",
    ),
    "charges": (
        r"charges lourdes|station debout prolongee|manipulation d un engin|produits a risques",
        {"nrm": 0.6, "rm": 0.4},
        "physical handling of loads, tools and hazardous products",
    ),
    "exterieur": (
        r"en exterieur|sur chantier|grande hauteur|en altitude|climatique difficile|environnements? hostiles?|"
        r"milieu aquatique|zone portuaire|milieu exigu|risques de chutes|hautes temperatures|basses temperatures",
        {"nrm": 1.0},
        "outdoor and site work in changing surroundings",
    ),
    "conduite": (
        r"deplacements professionnels",
        {"nrm": 0.5, "nri": 0.5},
        "work on the move: driving, visits to customers or sites",
    ),
    "public": (
        r"contact avec du public|domicile d un particulier|patients|personnes agees|enfants|familles|"
        r"personnes en situation de handicap|personnes vulnerables|public scolaire|adolescents|"
        r"clientele de particuliers|etablissement social|bloc operatoire|salle d accouchement",
        {"nri": 0.7, "nrm": 0.3},
        "face-to-face work with the public, patients or children: interpersonal, often bodily care",
    ),
    "bureau": (
        r"station assise prolongee|possibilite de teletravail|centres d appels",
        {"rc": 0.6, "nra": 0.4},
        "desk work in front of a screen",
    ),
    "etudes": (
        r"bureau d etudes|en laboratoire|mode projet|laboratoire de recherche",
        {"nra": 1.0},
        "design offices, laboratories and projects: analytical work",
    ),
    "animaux": (
        r"travail avec des animaux",
        {"nrm": 1.0},
        "handling living animals",
    ),
}
