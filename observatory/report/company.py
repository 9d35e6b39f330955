"""The company-wide parts of the report: its sector and département beside the grid, and its AI
maturity with the next step of each dimension beside the verified companies of its NAF section.

Secrecy is put in a manager's words here, never in the statisticians' (« secret primaire »,
« secret secondaire »): what is not published, and why.
"""

from django.db.models import Q

from companies import maturity, maturity_advice
from companies.models import Diagnostic, Sector

from .. import published
from ..analysis.secrecy import DOMINANCE, MIN_COMPANIES
from ..charts.common import format_number
from ..models import GridCell, GridRun, Lens, Methodology

# A dimension within this distance of its section's mean (0–4 scale) is « dans la moyenne ».
PEER_SAME_BAND = 0.25

SECRECY_EXPLAINED = (
    "L'observatoire ne publie aucun chiffre qui permettrait de reconnaître une entreprise : c'est la règle du "
    "secret statistique, la même que celle de l'Insee."
)


def secret_words(reason: str, methodology: Methodology | None) -> str:
    """Why a figure is not published, for a company manager (GridCell.secret_reason)."""
    # A database without any methodology yet: the French rule (observatory.forms refuses less).
    min_companies = methodology.secrecy_min_companies if methodology else MIN_COMPANIES
    dominance = round((methodology.secrecy_dominance if methodology else DOMINANCE) * 100)
    words = {
        "companies": f"moins de {min_companies} entreprises : leurs chiffres seraient reconnaissables",
        "dominance": f"une entreprise y emploie plus de {dominance} % des salariés : ses chiffres seraient "
        "reconnaissables",
        "secondary": "ce chiffre permettrait de retrouver, par soustraction, celui d'un groupe trop petit pour être "
        "publié",
    }
    return words.get(reason, "pour protéger la confidentialité des entreprises")


def section_of(sector: Sector | None) -> Sector | None:
    """The NAF section above a sous-classe, in one query (at most four levels up)."""
    if sector is None:
        return None
    node = Sector.objects.select_related("parent__parent__parent__parent").filter(pk=sector.pk).first()
    while node is not None and node.level != Sector.Level.SECTION:
        node = node.parent
    return node


def _under(section: Sector) -> Q:
    """Diagnostics whose sous-classe lies anywhere under `section`."""
    path = "sector__parent"
    condition = Q()
    for _ in range(4):
        condition |= Q(**{path: section})
        path += "__parent"
    return condition


def _cell_view(cell: GridCell | None, methodology: Methodology | None) -> dict:
    if cell is None:
        return {"state": "empty"}
    if cell.secret:
        return {"state": "secret", "reason": secret_words(cell.secret_reason, methodology)}
    figures = published.cell_figures(cell)
    return {
        "state": "value",
        "exposure": figures["exposure_mean"],
        "companies": figures["companies"],
        "employees": figures["employees"],
    }


def comparison(run: GridRun | None, diagnostic: Diagnostic) -> dict | None:
    """The mean exposure of the company's division and of all sectors in its département,
    read from the run's stored cells with their secrecy flags."""
    if run is None or diagnostic.commune is None or diagnostic.sector is None:
        return None
    departement = diagnostic.commune.parent
    division = diagnostic.sector.code[:2]
    common = {
        "territory_level": "departement",
        "territory_code": departement.code,
        "occupation_level": "all",
        "size_band": "all",
    }
    cells = {
        (cell.sector_level, cell.sector_code): cell
        for cell in GridCell.objects.filter(run=run, **common).filter(
            Q(sector_level="division", sector_code=division) | Q(sector_level="all")
        )
    }
    views = {
        "sector": _cell_view(cells.get(("division", division)), run.methodology),
        "all": _cell_view(cells.get(("all", "")), run.methodology),
    }
    return {
        "departement": departement,
        "division": division,
        **views,
        "any_secret": any(view["state"] == "secret" for view in views.values()),
        "secrecy": SECRECY_EXPLAINED,
    }


def _peer_min_companies() -> int:
    """How many other companies a peer average needs: the secrecy minimum of the current
    default-lens methodology (the one analysts set for what is published next)."""
    methodology = Methodology.objects.current(Lens.DEFAULT)
    return methodology.secrecy_min_companies if methodology is not None else MIN_COMPANIES


def _versus(score: float | None, average: float | None) -> str:
    if score is None or average is None:
        return ""
    if score > average + PEER_SAME_BAND:
        position = "au-dessus de"
    elif score < average - PEER_SAME_BAND:
        position = "en dessous de"
    else:
        position = "dans"
    return f"{position} la moyenne de votre secteur ({format_number(average, 1)} / 4)"


def maturity_report(diagnostic: Diagnostic, section: Sector | None) -> dict:
    """Each dimension's level in words and its next step (companies.maturity_advice), beside
    the mean of the other companies of the NAF `section` whose diagnostic of the same campaign
    counts in the statistics (submitted, by a verified company), when at least the secrecy
    minimum of them do; a dimension that fewer of them answered gets no mean either. Made-up
    companies cannot give a real one's answers back: they never count."""
    min_peers = _peer_min_companies()
    peers = []
    if section is not None:
        peers = list(
            Diagnostic.objects.counted_in_statistics()
            .filter(_under(section), campaign=diagnostic.campaign)
            .exclude(company=diagnostic.company_id)
            .values_list("maturity", flat=True)
        )
    shown = len(peers) >= min_peers
    peer_scores = [maturity.dimension_scores(answers) for answers in peers] if shown else []
    rows = []
    for advice in maturity_advice.advice_for(diagnostic.maturity):
        average = None
        if shown:
            scores = [scores[advice.key] for scores in peer_scores if scores[advice.key] is not None]
            average = sum(scores) / len(scores) if len(scores) >= min_peers else None
        rows.append(
            {
                "key": advice.key,
                "label": advice.label,
                "score": advice.score,
                "level": advice.level,
                "answers": advice.answers,
                "advice": advice.advice,
                "average": average,
                "versus": _versus(advice.score, average),
            }
        )
    overall = maturity.overall_score(diagnostic.maturity)
    return {
        "rows": rows,
        "overall": overall,
        "stage": maturity.stage(overall),
        "section": section,
        "peers": len(peers),
        "shown": shown,
        "min_peers": min_peers,
    }
