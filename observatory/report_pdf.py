"""The company's report as a PDF (/diagnostic/<id>/rapport.pdf), drawn server-side with fpdf2:
pure Python, no browser, no system library. It reads the same context as the HTML page
(`observatory.report.company_report`), so both show the same figures and the same secrecy.

The PDF uses the standard Helvetica font, which every PDF reader has and which the file then
need not embed. Its glyphs are those of Windows-1252 (WinAnsiEncoding): French accents, « »,
€, the typographic apostrophe and œ are all there. The few characters outside that set that
our texts carry (the narrow no-break space of French numbers, ≤, …) are replaced by their
nearest equivalent before drawing, so a label in another script can never break the download.
"""

import unicodedata
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from companies.models import Diagnostic

from .charts.common import format_number, format_percent

FONT = "helvetica"
BRAND = (29, 79, 145)  # #1d4f91, the site's brand colour
MUTED = (90, 100, 114)  # --muted of static/css/site.css
AI_COLOUR = (91, 61, 153)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(232, 240, 251))
LINE = 5  # mm, body text line height
# Characters our texts use that Windows-1252 lacks, and what to draw instead.
REPLACEMENTS = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space (thousands, before %) → no-break space
        "\u2009": " ",
        "\u2007": "\u00a0",
        "\u2011": "-",
        "\u2212": "-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2192": "->",
        "\u2190": "<-",
    }
)


def pdf_text(text: str) -> str:
    """`text` drawable with the standard fonts: characters outside Windows-1252 become their
    closest equivalent (accents dropped when only the base letter exists), else « ? »."""
    text = str(text).translate(REPLACEMENTS)
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    drawable = []
    for char in text:
        try:
            char.encode("cp1252")
            drawable.append(char)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if c.encode("cp1252", "ignore"))
            drawable.append(base or "?")
    return "".join(drawable)


class ReportDocument(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        # Windows-1252 rather than fpdf2's default Latin-1: € and ’ are in it.
        self.core_fonts_encoding = "windows-1252"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(pdf_text(text))

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text} — page {self.page_no()}/{{nb}}", align="C")

    # --- Building blocks -------------------------------------------------------------------

    def heading(self, text: str, *, level: int = 2):
        size = {1: 17, 2: 13, 3: 11, 4: 10}[level]
        if level <= 2 and self.get_y() > self.h - 60:
            self.add_page()
        self.ln({1: 0, 2: 4, 3: 3, 4: 1}[level])
        self.set_font(FONT, style="B", size=size)
        self.set_text_color(*(BRAND if level <= 2 else (27, 36, 48)))
        self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(27, 36, 48)
        self.set_font(FONT, size=10)
        self.ln(1)

    def paragraph(self, text: str, *, muted: bool = False, size: float = 10, link: str | None = None):
        self.set_font(FONT, size=size)
        self.set_text_color(*(MUTED if muted else (27, 36, 48)))
        self.multi_cell(0, LINE, text, link=link, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(27, 36, 48)

    def bullet(self, text: str, *, badge: str = "", link: str | None = None, note: str = ""):
        """One item of a list: a bullet, the text (a link when `link`), a coloured badge, and a
        muted note on the lines below."""
        self.set_font(FONT, size=10)
        self.set_x(self.l_margin + 3)
        self.cell(4, LINE, "•")
        width = self.w - self.r_margin - self.get_x()
        if link:
            self.set_text_color(*BRAND)
            self.set_font(FONT, style="U", size=10)
        self.multi_cell(width, LINE, text, link=link, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(27, 36, 48)
        self.set_font(FONT, size=10)
        indent = self.l_margin + 7
        if badge:
            self.set_x(indent)
            self.set_font(FONT, style="B", size=8)
            self.set_text_color(*AI_COLOUR)
            self.cell(0, 4, badge, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if note:
            self.set_x(indent)
            self.set_font(FONT, size=9)
            self.set_text_color(*MUTED)
            self.multi_cell(self.w - self.r_margin - indent, 4.5, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(27, 36, 48)
        self.set_font(FONT, size=10)
        self.ln(1)

    def grid(self, rows: list[list[str]], widths: tuple[float, ...]):
        """A table whose first row holds the headings; numbers aligned right."""
        self.set_font(FONT, size=9)
        with self.table(
            col_widths=widths,
            width=sum(widths),
            align="LEFT",
            text_align=("LEFT", *("RIGHT",) * (len(widths) - 1)),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=HEADINGS,
            line_height=5,
        ) as table:
            for cells in rows:
                table.row(cells)
        self.set_font(FONT, size=10)
        self.ln(2)


def _cell_text(cell: dict) -> str:
    if cell["state"] == "value":
        return f"{format_number(cell['exposure'], 2)} ({format_number(cell['companies'])} entreprises)"
    if cell["state"] == "secret":
        return f"secret ({cell['reason']})"
    return "pas de donnée"


def _plural(count: int, word: str) -> str:
    return f"{format_number(count)} {word}{'s' if count > 1 else ''}"


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

    pdf.heading("Vos métiers")
    for item in report["jobs"]:
        pdf.heading(f"{item.job.occupation.label} ({item.job.occupation_id})", level=3)
        if item.score is not None and item.score.exposure is not None:
            exposure = f"exposition {format_number(item.score.exposure, 2)} — {item.class_label}"
        else:
            exposure = "exposition non calculée"
        pdf.paragraph(f"{_plural(item.job.headcount, 'salarié')} · {exposure}")
        headings = ["Profil de tâches (part du temps)", "Votre entreprise", "Référence"]
        if item.show_blended:
            headings.append("Retenu")
        rows = [headings]
        for row in item.profile_rows:
            cells = [f"{row['label']} ({row['code']})", format_percent(row["company"], 0)]
            cells.append(format_percent(row["reference"], 0))
            if item.show_blended:
                cells.append(format_percent(row["blended"], 0))
            rows.append(cells)
        pdf.grid(rows, (75, 35, 35, 35)[: len(headings)])
        if item.score and not item.show_blended:
            note = (
                "Le profil retenu par l'observatoire n'est pas affiché : ce calcul mélangeait les réponses de "
                "trop peu d'entreprises pour les publier (secret statistique)."
            )
        elif item.score and not item.field_counted:
            note = (
                "Trop peu d'entreprises déclarent ce métier pour que leurs réponses comptent (secret "
                "statistique) : le profil retenu par l'observatoire est le profil de référence."
            )
        else:
            note = ""
        if note:
            pdf.paragraph(note, muted=True, size=9)
    if not report["jobs"]:
        pdf.paragraph("Aucun métier n'a été déclaré dans ce diagnostic.")

    pdf.heading("Votre entreprise dans son secteur et son département")
    comparison = report["comparison"]
    if comparison:
        departement = comparison["departement"].name
        pdf.grid(
            [
                ["Ensemble comparé", "Exposition moyenne"],
                [f"Division NAF {comparison['division']} dans le département {departement}"]
                + [_cell_text(comparison["sector"])],
                [f"Tous secteurs dans le département {departement}", _cell_text(comparison["all"])],
            ],
            (115, 65),
        )
    else:
        pdf.paragraph("La comparaison demande une grille calculée, le secteur NAF et la commune de l'entreprise.")

    pdf.heading("Maturité IA")
    maturity = report["maturity"]
    overall = ""
    if maturity["overall"] is not None:
        overall = f" ; score global : {format_number(maturity['overall'], 1)} / 4"
    pdf.paragraph(f"Score sur 4 par dimension{overall}.")
    headings = ["Dimension", "Votre entreprise"]
    if maturity["shown"]:
        headings.append(f"Moyenne de la section {maturity['section'].code}")
    rows = [headings]
    for row in maturity["rows"]:
        cells = [str(row["label"]), format_number(row["score"], 1)]
        if maturity["shown"]:
            cells.append(format_number(row["average"], 1))
        rows.append(cells)
    pdf.grid(rows, (100, 40, 40)[: len(headings)])
    if maturity["shown"]:
        pdf.paragraph(
            f"Moyenne des {maturity['peers']} autres entreprises vérifiées de la section NAF "
            f"{maturity['section'].code} "
            f"({maturity['section'].label}) ayant envoyé leur diagnostic pour la même campagne.",
            muted=True,
            size=9,
        )
    else:
        pdf.paragraph(
            "Il n'y a pas encore assez d'entreprises de votre secteur pour comparer votre maturité à la leur : la "
            f"moyenne n'est affichée qu'à partir de {maturity['min_peers']} autres entreprises vérifiées de votre "
            "section NAF ayant envoyé leur diagnostic pour cette campagne (secret statistique).",
            muted=True,
            size=9,
        )

    pdf.heading("Prochaines étapes recommandées")
    if not report["exposed"]:
        pdf.paragraph(
            "Aucun de vos métiers n'a une exposition forte ou un changement significatif dans le calcul en vigueur."
        )
    for item in report["exposed"]:
        pdf.heading(f"{item.job.occupation.label} — {item.class_label}", level=3)
        pdf.heading("Blocs de compétences", level=4)
        for block in item.skill_blocks:
            note = ""
            if block.certification is not None:
                note = f"Bloc de la certification {block.certification.code} « {block.certification.title} »"
            pdf.bullet(f"{block.label} ({block.code})", badge="IA & données" if block.ai_related else "", note=note)
        if not item.skill_blocks:
            pdf.paragraph("Aucun bloc de compétences n'est encore relié à ce métier dans l'observatoire.")
        pdf.heading("Formations près de chez vous", level=4)
        for nearby in item.offers:
            pdf.bullet(
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
        pdf.heading("Mobilités vers des métiers moins exposés", level=4)
        for mobility in item.mobilities:
            blocks = " ; ".join(f"{block.label} ({block.code})" for block in mobility.get("skill_blocks", []))
            notes = []
            if mobility["to_acquire_text"]:
                notes.append(f"Compétences clés à acquérir : {mobility['to_acquire_text']}")
            if blocks:
                notes.append(f"Pour s'y préparer : {blocks}")
            pdf.bullet(
                f"{mobility['target'].label} ({mobility['target'].code}) : {mobility['summary']}",
                note="\n".join(notes),
            )
        if not item.mobilities:
            pdf.paragraph("Aucune mobilité du ROME depuis ce métier ne mène à un métier nettement moins exposé.")
    return bytes(pdf.output())


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
