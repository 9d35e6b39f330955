"""LHEO XML (« Langage Harmonisé d'Échange d'informations sur l'Offre de formation », the French
standard for exchanging training offers) → Provider, TrainingOffer and Session.

Accepted: LHEO 2.3 (namespace http://lheo.gouv.fr/2.3) and 2.2 (http://www.lheo.org/2.2, e.g. the
ONISEP flows). A file is `<lheo><offres><formation numero=…>…` and each <formation> becomes one
offer, keyed by its `numero`:

- texts (intitule-, objectif-, contenu-formation) are stored as plain text; the escaped HTML some
  flows put in them is turned into lines (one per paragraph, list item or <br>); a lone « - »,
  the « nothing to say » of several flows, is stored as empty;
- domaine-formation: code-FORMACODE → `formacodes`, code-ROME → `occupations` (fiches the
  database holds; the others are counted and left out);
- certification: code-RNCP (« 474 » or « RNCP474 ») or code-RS → `certification` when the
  database holds it (else left empty and counted); its skills blocks → `skill_blocks` for a new
  offer, when the certification changes or while the offer has none (a curator may have kept
  only some blocks: a re-import leaves them);
- cpf_eligible: LHEO 2.3 has no eligibility flag; a `code-CPF` (certification or
  code-type-formation: « code d'une certification éligible au CPF ») says yes, as does the
  `<extra info="eligibilite-cpf">1</extra>` our export writes; otherwise False;
- modality, duration (nombre-heures-total, else centre + entreprise hours) and price
  (prix-total-TTC) come from the formation's first <action>: the model has one value per offer;
- sessions: every <session> of every <action>; the commune is the one of the action's first
  <lieu-de-formation> (where the training takes place; <adresse-inscription> is where one
  registers), found by its code-INSEE-commune or else by postcode and city; places from
  `recrutement/nb-places`. A session whose period is wholly unknown (00000000–00000000) and
  gives no places is no dated session and is not stored (LHEO requires one per action);
- provider (organisme-formation-responsable), keyed by SIRET (Luhn-checked): name from
  raison-sociale, else nom-organisme; the NDA (numero-activite; 00000000000 and 99999999999
  mean unknown); the address lines of coordonnees-organisme with « postcode city » as last
  line; website, e-mail, phone and contact name. The first block of a SIRET in the file wins
  and only non-empty values overwrite what the database holds.

read_lheo(source) -> records; clean_lheo(records) -> (offers, errors); load_lheo(offers, …) ->
[offers report, providers report] in one transaction; import_lheo does the three. The parser is
defusedxml's: entity declarations, external references and a DTD fetched from outside are
refused, as are a wrong namespace, a truncated or mis-encoded file and offers lacking a number,
a title or a valid provider — all with the line and the offer's number, nothing written.
"""

from collections.abc import Callable

from skills.importers.base import ImportFailed, ImportReport

from .clean import clean_lheo, html_to_text
from .load import load_lheo
from .read import _source_name, read_lheo
from .records import CPF_EXTRA, MODALITIES, NAMESPACES, NS_22, NS_23, UNKNOWN_DATE, UNKNOWN_POSTCODE, LheoReport

__all__ = [
    "CPF_EXTRA",
    "MODALITIES",
    "NAMESPACES",
    "NS_22",
    "NS_23",
    "UNKNOWN_DATE",
    "UNKNOWN_POSTCODE",
    "LheoReport",
    "clean_lheo",
    "html_to_text",
    "import_lheo",
    "load_lheo",
    "read_lheo",
]


def import_lheo(source, *, user=None, progress: Callable[[float], None] | None = None) -> list[ImportReport]:
    """Import the LHEO file `source` (a path or a binary file object): the offers' report, then
    the providers'. Raises ImportFailed, having written nothing, when the file is hostile,
    malformed or any offer is wrong."""
    report_progress = progress or (lambda fraction: None)
    records = read_lheo(source)
    report_progress(0.2)
    offers, errors = clean_lheo(records)
    name = _source_name(source)
    if errors:
        raise ImportFailed(errors, name)
    report_progress(0.3)
    reports = load_lheo(
        offers, user=user, source=name, progress=lambda fraction: report_progress(0.3 + 0.7 * fraction)
    )
    report_progress(1.0)
    return reports
