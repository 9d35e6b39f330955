"""The drawing primitives of the company report's PDF (observatory/report/pdf.py), with fpdf2:
headings, paragraphs, list items, tables, the task profile's bar chart and the « next step »
box, in the standard Helvetica font.

The standard font needs no embedding and every PDF reader has it. Its glyphs are those of
Windows-1252 (WinAnsiEncoding): French accents, « », €, the typographic apostrophe and œ are
all there. The few characters outside that set that our texts carry (the narrow no-break space
of French numbers, ≤, …) are replaced by their nearest equivalent before drawing
(`pdf_text`), so a label in another script can never break the download.

Inside `unbreakable()` blocks fpdf2 refuses `get_x()` / `get_y()`: the methods here read the
`x` and `y` attributes instead, so that each can be drawn in such a block.
"""

import unicodedata

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from ..charts.common import format_percent

FONT = "helvetica"
BRAND = (29, 79, 145)  # #1d4f91, the site's brand colour
MUTED = (90, 100, 114)  # --muted of static/css/site.css
AI_COLOUR = (91, 61, 153)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(232, 240, 251))
STEP_FILL = (245, 248, 252)
# The page chart's colours (observatory/report/jobs.py SERIES).
SERIES_COLOURS = {"company": (29, 79, 145), "reference": (169, 180, 194), "blended": (111, 155, 209)}
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
        if level <= 2 and self.y > self.h - 60:
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
        width = self.w - self.r_margin - self.x
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

    def bar_chart(self, rows: list[dict], series: dict[str, str]):
        """Horizontal grouped bars, one group per task category (its label on the left), one
        bar per series (`series`: key of the rows → legend), the value after each bar."""
        label_width, bar_room, bar_height = 62, 95, 3.2
        x0 = self.l_margin
        self.set_font(FONT, size=8)
        # Legend.
        x = x0 + label_width
        for key, name in series.items():
            self.set_fill_color(*SERIES_COLOURS[key])
            self.rect(x, self.y + 1, 3, 3, style="F")
            self.set_xy(x + 4, self.y)
            self.set_text_color(27, 36, 48)
            self.cell(self.get_string_width(name) + 2, 5, name)
            x = self.x + 3
        self.ln(6)
        for row in rows:
            top = self.y
            values = [(key, row[key]) for key in series]
            group_height = bar_height * len(values) + 2.5
            self.set_xy(x0, top)
            self.set_text_color(27, 36, 48)
            self.multi_cell(label_width - 3, 3.6, row["label"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            label_bottom = self.y
            for index, (key, value) in enumerate(values):
                y = top + index * bar_height
                width = bar_room * (value or 0)
                self.set_fill_color(*SERIES_COLOURS[key])
                if width > 0:
                    self.rect(x0 + label_width, y, width, bar_height - 0.6, style="F")
                self.set_xy(x0 + label_width + width + 1, y - 0.5)
                self.set_text_color(*MUTED)
                self.cell(14, bar_height, format_percent(value, 0))
            self.set_y(max(label_bottom, top + group_height))
        self.set_text_color(27, 36, 48)
        self.set_fill_color(255, 255, 255)  # tables drawn later fill with the current colour
        self.set_font(FONT, size=10)
        self.ln(2)

    def step(self, title: str, text: str, *, detail: str = "", link: str | None = None, link_text: str = ""):
        """A boxed « next step »: a bold title, the step, a muted detail and a link."""
        self.set_fill_color(*STEP_FILL)
        self.set_draw_color(*BRAND)
        top = self.y
        self.set_x(self.l_margin + 3)
        self.set_font(FONT, style="B", size=10)
        width = self.w - self.r_margin - self.l_margin - 3
        self.multi_cell(width, LINE, title, fill=True, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_x(self.l_margin + 3)
        self.set_font(FONT, size=10)
        self.multi_cell(width, LINE, text, fill=True, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line, style, colour, target in ((detail, "", MUTED, None), (link_text, "U", BRAND, link)):
            if line:
                self.set_x(self.l_margin + 3)
                self.set_font(FONT, style=style, size=9)
                self.set_text_color(*colour)
                self.multi_cell(
                    width, 4.5, line, fill=True, link=target, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
        self.set_text_color(27, 36, 48)
        self.set_font(FONT, size=10)
        self.set_line_width(1)
        self.line(self.l_margin + 0.5, top, self.l_margin + 0.5, self.y)
        self.set_line_width(0.2)
        self.set_draw_color(0, 0, 0)
        self.set_fill_color(255, 255, 255)
        self.ln(2)

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
