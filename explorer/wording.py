"""What the explorer says to a job seeker or an employee, in plain French: the five task
categories, the three lenses and the exposure classes, without the observatory's jargon
(the analysts' pages keep the codes RC…NRM and the word « lecture »)."""

from observatory.models import Lens

# The task categories (skills.models.TaskCategory) as a person recognises them in their job:
# a title, and what AI is likely to do to that part of the work.
CATEGORIES = {
    "rc": {
        "title": "Traiter des informations selon des règles",
        "examples": "saisir, vérifier, classer, calculer, remplir des documents",
        "change": (
            "Les logiciels et l'IA savent déjà saisir, trier, contrôler et rédiger des documents "
            "courants : cette part du travail devrait se réduire ou changer de forme, vers le "
            "contrôle de ce que l'outil produit et le traitement des cas particuliers."
        ),
    },
    "rm": {
        "title": "Gestes répétitifs",
        "examples": "alimenter une machine, trier, conditionner, assembler en série",
        "change": (
            "Les gestes répétés à une cadence régulière sont ceux que les machines et les robots "
            "reprennent le plus facilement : cette part du travail devrait se réduire, au profit "
            "de la surveillance et du réglage des équipements."
        ),
    },
    "nra": {
        "title": "Analyser, concevoir, décider",
        "examples": "diagnostiquer, organiser, résoudre un problème, préparer une décision",
        "change": (
            "L'IA générative aide déjà à chercher, analyser et rédiger : elle change la façon de "
            "faire ce travail, plus rarement le besoin de quelqu'un qui juge et qui décide."
        ),
    },
    "nri": {
        "title": "Relations avec les personnes",
        "examples": "accueillir, conseiller, vendre, soigner, encadrer, négocier",
        "change": (
            "Conseiller, soigner, encadrer ou convaincre reposent sur la relation : l'IA y touche "
            "peu, cette part du métier devrait rester."
        ),
    },
    "nrm": {
        "title": "Travail manuel dans des situations variées",
        "examples": "intervenir sur un chantier, conduire, réparer, aider une personne",
        "change": (
            "Agir de ses mains dans des situations toujours différentes reste difficile à "
            "automatiser : cette part du métier devrait rester."
        ),
    },
}

# The three lenses of exposure (observatory.models.Lens), as the pages name and explain them.
LENSES = {
    Lens.GENAI: {
        "title": "Face à l'IA générative",
        "short": "IA générative",
        "as": "face à l'IA générative",
        "about": (
            "Les outils qui rédigent, résument, traduisent et analysent des documents "
            "(assistants conversationnels, générateurs de textes et d'images)."
        ),
    },
    Lens.AUTOMATION: {
        "title": "Face à l'automatisation",
        "short": "Automatisation",
        "as": "face à l'automatisation",
        "about": (
            "Les machines, les robots et les logiciels qui exécutent des tâches répétitives à la place des personnes."
        ),
    },
    Lens.DEFAULT: {
        "title": "Vue d'ensemble",
        "short": "Vue d'ensemble",
        "as": "dans la vue d'ensemble",
        "about": "Une lecture qui tient compte des deux à la fois, à mi-chemin entre elles.",
    },
}

# Exposure classes (observatory.analysis.exposure: high, medium, low) for a person.
CLASSES = {
    "high": "Fortement exposé",
    "medium": "Changements importants attendus",
    "low": "Peu exposé",
}
CLASS_MEANINGS = {
    "high": "Une grande partie des tâches de ce métier peut être reprise ou transformée par ces outils.",
    "medium": "Une partie notable des tâches va changer : le métier évolue plus qu'il ne disparaît.",
    "low": "L'essentiel des tâches de ce métier reste hors de portée de ces outils.",
}
