"""The company's report as a PDF (/diagnostic/<id>/rapport.pdf), drawn server-side with fpdf2:
pure Python, no browser, no system library. It reads the same context as the HTML page
(`observatory.report.company_report`), so both show the same words, figures and secrecy, in the
same order: the next step of each job, each job's exposure, profile, chart, training and
transitions, the comparison, the maturity advice and whom to contact.

Pagination: every unit a reader takes in at once — a job's heading with its exposure and next
step, a table with its note, a chart, a list item, a maturity dimension, a contact — is drawn
inside `unbreakable()`, which moves it whole to the next page rather than cut it. The drawing
primitives are in document.py.
"""

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from companies.models import Diagnostic
from skills.text import web_url

from ..charts.common import format_number, format_percent
from . import jobs
from .document import ReportDocument


def _cell_text(cell: dict) -> str:
    if cell["state"] == "value":
        return f"{format_number(cell['exposure'], 2)} ({format_number(cell['companies'])} entreprises)"
    if cell["state"] == "secret":
        return f"non publié : {cell['reason']}"
    return "pas encore de donnée"


def _plural(count: int, word: str) -> str:
    return f"{format_number(count)} {word}{'s' if count > 1 else ''}"


def _contact_lines(contact) -> str:
    return " · ".join(part for part in (contact.email, contact.phone, web_url(contact.website)) if part)


def report_pdf(*, diagnostic: Diagnostic, report: dict, absolute_url: Callable[[str], str]) -> bytes:
    """The PDF of `report` (the context of `company_report(diagnostic)`); `absolute_url`
    turns a path into a full address for the links (`request.build_absolute_uri`)."""
    name = diagnostic.company_name or diagnostic.company.name
    pdf = ReportDocument(footer_text=f"Observatoire IA Hauts-de-France — rapport de {name}")
    pdf.set_title(f"Rapport de {name}")
    pdf.set_author("Observatoire IA Hauts-de-France")
    pdf.set_lang("fr")
    pdf.add_page()
    catalogue = absolute_url(reverse("trainings:catalogue"))

    _identity(pdf, diagnostic, report)
    if report["jobs"]:
        pdf.heading("En bref : une prochaine étape par métier")
        for item in report["jobs"]:
            facts = [_plural(item.job.headcount, "salarié")]
            if item.class_words:
                facts.append(item.class_words)
            if item.needs_training:
                facts.append("besoin de formation déclaré")
            with pdf.unbreakable() as doc:
                doc.bullet(f"{item.job.occupation.label} ({', '.join(facts)}) : {item.next_step.text}")
    _jobs(pdf, report, catalogue, absolute_url)
    _comparison(pdf, report)
    _maturity(pdf, report["maturity"])
    _contacts(pdf, report, catalogue)
    return bytes(pdf.output())


def _identity(pdf: ReportDocument, diagnostic: Diagnostic, report: dict) -> None:
    name = diagnostic.company_name or diagnostic.company.name
    pdf.paragraph("Observatoire IA Hauts-de-France", muted=True, size=9)
    pdf.heading(f"Rapport de {name}", level=1)
    identity = [f"Diagnostic {diagnostic.campaign}"]
    if diagnostic.sector:
        identity.append(f"NAF {diagnostic.sector.code} — {diagnostic.sector.label}")
    if diagnostic.commune:
        identity.append(f"{diagnostic.commune.name} ({diagnostic.commune.parent.name})")
    identity.append(f"{_plural(report['headcount'], 'salarié')} déclaré{'s' if report['headcount'] > 1 else ''}")
    pdf.paragraph(" · ".join(identity))
    established = f"Rapport établi le {date_format(timezone.localdate(), 'j F Y')}"
    if diagnostic.submitted_at:
        established += f" ; diagnostic envoyé le {date_format(timezone.localtime(diagnostic.submitted_at), 'j F Y')}"
    pdf.paragraph(established + ".", muted=True)
    if not diagnostic.is_submitted:
        pdf.paragraph(
            "Brouillon — ce diagnostic n'est pas encore envoyé : le rapport montre les réponses enregistrées "
            "jusqu'ici."
        )
    if not diagnostic.company.is_verified:
        pdf.paragraph(
            "Compte en cours de vérification — ce rapport montre bien vos réponses, mais elles ne comptent pas "
            "encore dans les chiffres régionaux de l'observatoire ni dans les moyennes des autres entreprises. "
            "Elles y compteront dès que l'observatoire aura vérifié votre compte."
        )
    run = report["run"]
    if run is None:
        pdf.paragraph(
            "Aucune grille n'a encore été calculée : l'exposition des métiers et la comparaison territoriale "
            "apparaîtront après le premier calcul."
        )
    else:
        finished = f" du {date_format(timezone.localtime(run.finished_at), 'j F Y')}" if run.finished_at else ""
        pdf.paragraph(f"Exposition lue dans le calcul n°{run.pk}{finished} (lecture par défaut).", muted=True)


def _jobs(pdf: ReportDocument, report: dict, catalogue: str, absolute_url: Callable[[str], str]) -> None:
    pdf.heading("Vos métiers")
    pdf.paragraph(report["exposure_explained"])
    run = report["run"]
    for item in report["jobs"]:
        with pdf.unbreakable() as doc:
            doc.heading(f"{item.job.occupation.label} ({item.job.occupation_id})", level=3)
            facts = _plural(item.job.headcount, "salarié")
            if item.needs_training:
                facts += " · besoin de formation déclaré"
            doc.paragraph(facts)
            exposure = item.exposure_text
            if item.own_exposure is not None:
                exposure += f" Calculée sur vos seules réponses, elle serait de {format_number(item.own_exposure, 2)}."
            doc.paragraph(exposure)
            if item.drivers:
                doc.paragraph(item.drivers["summary"])
                if item.drivers["items"]:
                    quoted = " ; ".join(jobs.quoted(label) for label in item.drivers["items"])
                    doc.paragraph(
                        f"Dans la fiche métier {item.job.occupation_id} du ROME, les savoir-faire qui y contribuent "
                        f"le plus : {quoted}.",
                        muted=True,
                        size=9,
                    )
            step = item.next_step
            link = link_text = None
            if step.contact is not None:
                link_text = f"{step.contact.name} : {_contact_lines(step.contact)}"
                link = web_url(step.contact.website) or None
            elif step.url:
                link = absolute_url(step.url)
                link_text = link
            doc.step("Prochaine étape", step.text, detail=step.detail, link=link, link_text=link_text or "")
        _profile(pdf, item)
        if item.shows_training:
            _training(pdf, item, catalogue, absolute_url)
        if item.is_exposed:
            _transitions(pdf, item, run)
    if not report["jobs"]:
        pdf.paragraph("Aucun métier n'a été déclaré dans ce diagnostic.")


def _profile(pdf: ReportDocument, item) -> None:
    """The task table, its note and its chart: kept on one page."""
    headings = ["Répartition du temps de travail par type de tâche", "Vos réponses", "Référence du métier"]
    series = {"company": "Vos réponses", "reference": "Référence du métier"}
    if item.show_retained:
        headings.append("Profil retenu")
        series["blended"] = "Profil retenu"
    rows = [headings]
    for row in item.profile_rows:
        cells = [
            f"{row['label']} ({row['code']})",
            format_percent(row["company"], 0),
            format_percent(row["reference"], 0),
        ]
        if item.show_retained:
            cells.append(format_percent(row["blended"], 0))
        rows.append(cells)
    if item.show_retained:
        note = item.blend_text
    elif item.score and not item.show_blended:
        note = (
            "Le profil retenu par l'observatoire n'est pas affiché : il mélangeait les réponses de trop peu "
            "d'entreprises pour être publié sans les rendre reconnaissables."
        )
    elif item.score:
        note = (
            "Trop peu d'entreprises déclarent ce métier pour que leurs réponses comptent (secret statistique) : le "
            "profil retenu par l'observatoire est le profil de référence, qui donne l'exposition du métier."
        )
    else:
        note = ""
    widths = (90, 30, 30, 30) if item.show_retained else (100, 40, 40)
    with pdf.unbreakable() as doc:
        doc.grid(rows, widths)
        if note:
            doc.paragraph(note, muted=True, size=9)
    if item.score is not None:
        with pdf.unbreakable() as doc:
            doc.bar_chart(item.profile_rows, series)


def _training(pdf: ReportDocument, item, catalogue: str, absolute_url: Callable[[str], str]) -> None:
    pdf.heading("Blocs de compétences", level=4)
    for block in item.skill_blocks:
        note = ""
        if block.certification is not None:
            note = f"Bloc de la certification {block.certification.code} « {block.certification.title} »"
        badges = [word for word, on in (("souhaité", block.wished), ("IA & données", block.ai_related)) if on]
        with pdf.unbreakable() as doc:
            doc.bullet(f"{block.label} ({block.code})", badge=" · ".join(badges), note=note)
    if not item.skill_blocks:
        pdf.paragraph("Aucun bloc de compétences n'est encore relié à ce métier dans l'observatoire.")
    pdf.heading("Formations près de chez vous", level=4)
    for nearby in item.offers:
        with pdf.unbreakable() as doc:
            doc.bullet(
                nearby.offer.title,
                link=absolute_url(nearby.url),
                badge="IA & données" if nearby.offer.ai_related else "",
                note=_offer_note(nearby),
            )
    if item.offers:
        if item.offers_total > len(item.offers):
            pdf.paragraph(
                f"Les {len(item.offers)} offres les plus proches sur {item.offers_total} ; toutes dans le "
                f"catalogue des formations : {catalogue}",
                muted=True,
                size=9,
                link=catalogue,
            )
    else:
        pdf.paragraph(
            "Aucune offre de formation publiée ne mène encore à ces compétences. Consultez le catalogue des "
            f"formations : {catalogue}",
            link=catalogue,
        )


def _transitions(pdf: ReportDocument, item, run) -> None:
    pdf.heading("Vers des métiers moins exposés", level=4)
    if item.mobilities:
        pdf.paragraph(
            "Les métiers vers lesquels le ROME indique une mobilité et dont l'exposition est plus basse d'au moins "
            f"{format_number(run.methodology.transition_margin, 2)}, ceux qui partagent le plus de compétences avec "
            "celui-ci d'abord.",
            muted=True,
            size=9,
        )
    for mobility in item.mobilities:
        notes = []
        if mobility["held_text"]:
            notes.append(f"Compétences clés déjà acquises : {mobility['held_text']}")
        if mobility["to_acquire_text"]:
            notes.append(f"Compétences clés à acquérir : {mobility['to_acquire_text']}")
        blocks = " ; ".join(f"{block.label} ({block.code})" for block in mobility.get("skill_blocks", []))
        if blocks:
            notes.append(f"Pour s'y préparer : {blocks}")
        with pdf.unbreakable() as doc:
            doc.bullet(
                f"{mobility['target'].label} ({mobility['target'].code}) : {mobility['summary']}",
                note="\n".join(notes),
            )
    if not item.mobilities:
        pdf.paragraph("Aucune mobilité du ROME depuis ce métier ne mène à un métier nettement moins exposé.")


def _comparison(pdf: ReportDocument, report: dict) -> None:
    pdf.heading("Votre entreprise dans son secteur et son département")
    comparison = report["comparison"]
    if not comparison:
        pdf.paragraph("La comparaison demande une grille calculée, le secteur NAF et la commune de l'entreprise.")
        return
    departement = comparison["departement"].name
    rows = [["Ensemble comparé", "Exposition moyenne"]]
    if report["company_exposure"] is not None:
        rows.append(["Vos métiers, pondérés par leurs effectifs", format_number(report["company_exposure"], 2)])
    rows.append(
        [f"Division NAF {comparison['division']} dans le département {departement}", _cell_text(comparison["sector"])]
    )
    rows.append([f"Tous secteurs dans le département {departement}", _cell_text(comparison["all"])])
    with pdf.unbreakable() as doc:
        doc.grid(rows, (100, 80))
        if comparison["any_secret"]:
            doc.paragraph(comparison["secrecy"], muted=True, size=9)


def _maturity(pdf: ReportDocument, maturity: dict) -> None:
    pdf.heading("Maturité IA : où vous en êtes, et la suite")
    intro = "Pour chaque dimension : votre niveau, ce que disent vos réponses et l'étape suivante conseillée."
    if maturity["overall"] is not None:
        intro = f"Score global : {format_number(maturity['overall'], 1)} / 4 — {maturity['stage']}. " + intro
    pdf.paragraph(intro)
    if maturity["shown"]:
        pdf.paragraph(
            f"Moyenne des {maturity['peers']} autres entreprises vérifiées de la section NAF "
            f"{maturity['section'].code} ({maturity['section'].label}) ayant envoyé leur diagnostic pour la même "
            "campagne.",
            muted=True,
            size=9,
        )
    else:
        pdf.paragraph(
            "Il n'y a pas encore assez d'entreprises de votre secteur pour comparer votre maturité à la leur : la "
            f"comparaison n'apparaît qu'à partir de {maturity['min_peers']} autres entreprises vérifiées de votre "
            "section NAF ayant envoyé leur diagnostic pour cette campagne, pour que personne ne puisse en déduire "
            "les réponses d'une entreprise.",
            muted=True,
            size=9,
        )
    for row in maturity["rows"]:
        level = f"{row['level']} · {format_number(row['score'], 1)} / 4" if row["level"] else "sans réponse"
        with pdf.unbreakable() as doc:
            doc.heading(f"{row['label']} — {level}", level=4)
            if row["answers"]:
                doc.paragraph(f"Vos réponses : {' ; '.join(row['answers'])}.", muted=True, size=9)
            if row["versus"]:
                doc.paragraph(f"Vous êtes {row['versus']}.")
            doc.paragraph(f"Étape suivante : {row['advice']}")


def _contacts(pdf: ReportDocument, report: dict, catalogue: str) -> None:
    pdf.heading("À qui vous adresser")
    if not report["contacts"]:
        pdf.paragraph(
            "Aucun interlocuteur n'est encore référencé pour votre territoire et votre secteur. Consultez le "
            f"catalogue des formations : {catalogue}",
            link=catalogue,
        )
        return
    intro = "Les acteurs régionaux qui accompagnent les entreprises de votre territoire et de votre secteur :"
    if report["contact_needed"]:
        intro = (
            "Pour les métiers dont la formation n'est pas encore au catalogue, ces interlocuteurs peuvent vous "
            "orienter ou financer une formation. " + intro
        )
    pdf.paragraph(intro)
    for contact in report["contacts"]:
        with pdf.unbreakable() as doc:
            doc.bullet(
                f"{contact.name} ({contact.get_kind_display()})",
                link=web_url(contact.website) or None,
                note=f"{contact.role}\n{_contact_lines(contact)}",
            )


def _offer_note(nearby) -> str:
    offer = nearby.offer
    parts = [offer.provider.name]
    if nearby.commune is not None:
        where = nearby.commune.name
        if nearby.same_commune:
            where += " (votre commune)"
        elif nearby.distance_km is not None:
            where += f" (à {format_number(nearby.distance_km)} km)"
        elif nearby.same_departement:
            where += " (votre département)"
        parts.append(where)
    parts.append(offer.get_modality_display())
    if offer.duration_hours:
        parts.append(f"{format_number(offer.duration_hours)} h")
    if offer.price is not None:
        parts.append(f"{format_number(float(offer.price), 2)}\u00a0€")
    if nearby.next_session:
        parts.append(f"prochaine session le {date_format(nearby.next_session, 'j F Y')}")
    else:
        parts.append("pas de date de session annoncée")
    parts.append(nearby.reason)
    return " · ".join(str(part) for part in parts)
