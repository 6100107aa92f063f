"""The quote as an A4 PDF, in the quote's language, with its amounts exactly as stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from renewquote.delivery.formatting import day_text, money_text, percent_text
from renewquote.delivery.words import WORDS
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import LineKind
from renewquote.domain.quotes import QuoteLine
from renewquote.services.documents import PrintableQuote

# Lato, shipped unmodified in the fontpkg-lato wheel: fpdf2's core fonts are latin-1 only and
# Babel's French amounts need U+202F and U+00A0, which Lato has; a package means no machine
# depends on fonts installed by hand.
_FONT = "Lato"
_FONT_FILES = {"": "Lato-Regular.ttf", "B": "Lato-Bold.ttf"}


Color = tuple[int, int, int]
_INK: Color = (31, 41, 55)
_MUTED: Color = (107, 114, 128)
_ACCENT: Color = (30, 58, 95)
_RULE: Color = (220, 225, 232)
_HEAD_FILL: Color = (238, 242, 247)
_PROMO: Color = (21, 118, 61)
_WHITE: Color = (255, 255, 255)
_STATUS_COLOR: Mapping[QuoteStatus, Color] = {
    QuoteStatus.DRAFT: (180, 83, 9),
    QuoteStatus.ORDERED: (21, 118, 61),
    QuoteStatus.EXPIRED: (185, 28, 28),
    QuoteStatus.CANCELLED: (185, 28, 28),
    QuoteStatus.SUPERSEDED: (185, 28, 28),
}
# A quote in these states cannot be ordered as it stands: every page says so across its face.
_WATERMARKED = frozenset(
    {QuoteStatus.DRAFT, QuoteStatus.EXPIRED, QuoteStatus.CANCELLED, QuoteStatus.SUPERSEDED}
)

_MARGIN = 15.0
_BOTTOM = 22.0  # room for the footer under the last row of each page
_PAGE_WIDTH = 210.0
_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_LEFT = _MARGIN
_RIGHT = _PAGE_WIDTH - _MARGIN
_CELL_PAD = 1.8  # above and below the text of a table row


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    width: float
    align: str


_COLUMNS = (
    _Column("offering", 44, "L"),
    _Column("subscription", 24, "L"),
    _Column("seats", 11, "R"),
    _Column("term", 17, "L"),
    _Column("period", 26, "L"),
    _Column("unit_price", 19, "R"),
    _Column("discount", 18, "R"),
    _Column("amount", 21, "R"),
)


def _line_height(size: float) -> float:
    """Return the height in mm of one line of text set at `size` points."""
    return size * 0.44


def render_quote_pdf(printable: PrintableQuote) -> bytes:
    """Render a quote as an A4 PDF in its own language and return the file's bytes."""
    with ExitStack() as stack:
        fonts = {
            style: stack.enter_context(as_file(files("fontpkg_lato") / "files" / name))
            for style, name in _FONT_FILES.items()
        }
        document = _QuoteDocument(printable, fonts=fonts)
        document.compose()
        # The fonts are read again at output, to embed the glyphs used: still inside `as_file`.
        return bytes(document.output())


class _QuoteDocument(FPDF):
    """One quote laid out on A4 pages: heading, parties, lines, totals; header and footer."""

    def __init__(self, printable: PrintableQuote, *, fonts: Mapping[str, Path]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        quote = printable.quote
        self.printable = printable
        self.quote = quote
        self.language = quote.language if quote.language in WORDS else "en"
        self.words = WORDS[self.language]
        self.customer_name = printable.customer.name
        self.partner_name = printable.partner_name
        self.vendor = printable.vendor
        self.vendor_name = printable.vendor.name if printable.vendor else "renewquote"
        customer_name = self.customer_name
        vendor_name = self.vendor_name
        for style, path in fonts.items():
            self.add_font(_FONT, style, path)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.c_margin = 1.2
        title = f"{self.words['title']} {quote.number}"
        self.set_title(title)
        self.set_subject(f"{title} · {customer_name}")
        self.set_author(vendor_name)
        self.set_creator("renewquote")
        self.set_lang(self.language)
        created = quote.created_at
        # The same quote gives the same file: its date is the quote's, not the rendering's.
        self.set_creation_date(created if created.tzinfo else created.replace(tzinfo=UTC))

    # Formatting -------------------------------------------------------------------------

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.quote.currency, self.language)

    def day(self, value: date) -> str:
        return day_text(value, self.language)

    def country(self, code: str) -> str:
        name: str = Locale.parse(self.language).territories.get(code.upper(), code)
        return name

    # Drawing helpers ----------------------------------------------------------------------

    def use(self, size: float, style: str = "", color: Color = _INK) -> None:
        self.set_font(_FONT, style, size)
        self.set_text_color(*color)

    def height_of(self, width: float, text: str, size: float, style: str = "") -> float:
        """Return how tall `text` stands when wrapped into `width` at `size` points."""
        self.set_font(_FONT, style, size)
        if self._fits(width, text):
            return _line_height(size)
        lines = self.multi_cell(
            width, _line_height(size), text, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(lines, list)
        return len(lines) * _line_height(size)

    def write_at(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        *,
        size: float,
        style: str = "",
        color: Color = _INK,
        align: str = "L",
    ) -> float:
        """Write `text` wrapped into `width` from (x, y); return the y under it."""
        self.use(size, style, color)
        self.set_xy(x, y)
        if self._fits(width, text):
            # Most cells hold one short line: measured once, not broken into lines.
            self.cell(
                width, _line_height(size), text, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT
            )
        else:
            self.multi_cell(
                width, _line_height(size), text, align=align, new_x=XPos.LEFT, new_y=YPos.NEXT
            )
        return self.get_y()

    def _fits(self, width: float, text: str) -> bool:
        """Tell whether `text` stands on one line of `width` in the current font."""
        return "\n" not in text and self.get_string_width(text) <= width - 2 * self.c_margin

    def rule(self, y: float, color: Color = _RULE, width: float = 0.2) -> None:
        self.set_draw_color(*color)
        self.set_line_width(width)
        self.line(_LEFT, y, _RIGHT, y)

    def caption(self, x: float, y: float, width: float, text: str) -> float:
        """Write a small upper-case heading over a block; return the y under it."""
        self.set_char_spacing(0.3)
        bottom = self.write_at(x, y, width, text.upper(), size=7, style="B", color=_MUTED)
        self.set_char_spacing(0)
        return bottom + 1

    # Page furniture -------------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() == 1:
            return
        top = self.t_margin
        self.use(9, "B", _ACCENT)
        self.set_xy(_LEFT, top)
        self.cell(_WIDTH / 2, 5, self.vendor_name)
        self.use(8.5, "", _MUTED)
        self.set_xy(_LEFT + _WIDTH / 2, top)
        self.cell(
            _WIDTH / 2,
            5,
            f"{self.words['title']} {self.quote.number} · {self.customer_name}",
            align="R",
        )
        self.rule(top + 7)
        self.set_y(top + 10)

    def footer(self) -> None:
        self.watermark()
        top = self.h - 16
        self.rule(top)
        text = self.words["footer"].format(date=self.day(self.quote.expires_at))
        self.write_at(_LEFT, top + 2, _WIDTH - 32, text, size=7.5, color=_MUTED)
        self.use(7.5, "", _MUTED)
        self.set_xy(_RIGHT - 32, top + 2)
        page = self.words["page"].format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(32, _line_height(7.5), page, align="R")

    def watermark(self) -> None:
        status = self.quote.status
        if status not in _WATERMARKED:
            return
        text = self.words[f"status.{status.value}"].upper()
        self.set_font(_FONT, "B", 100)
        # Fit the word across the page's diagonal, whatever the language makes of it.
        size = min(100.0, 100.0 * 190 / self.get_string_width(text))
        with self.local_context(fill_opacity=0.07, text_color=_STATUS_COLOR[status]):
            self.set_font(_FONT, "B", size)
            width = self.get_string_width(text)
            cx, cy = _PAGE_WIDTH / 2, self.h / 2
            with self.rotation(35, x=cx, y=cy):
                self.text(cx - width / 2, cy + size * 0.3528 / 3, text)

    # The document ---------------------------------------------------------------------------

    def compose(self) -> None:
        self.add_page()
        self.heading()
        self.parties()
        self.lines_table()
        self.totals()

    def heading(self) -> None:
        q, w = self.quote, self.words
        top = self.t_margin
        y = self.write_at(
            _LEFT, top, _WIDTH / 2, self.vendor_name, size=17, style="B", color=_ACCENT
        )
        for text in self.vendor_lines():
            y = self.write_at(_LEFT, y + 0.2, _WIDTH / 2, text, size=7.5, color=_MUTED)
        subtitle = w.get(f"type.{q.type}", w["title"])
        y = self.write_at(_LEFT, y + 1.5, _WIDTH / 2, subtitle, size=9.5, color=_MUTED)
        half = _LEFT + _WIDTH / 2
        self.write_at(half, top - 1.5, _WIDTH / 2, w["title"], size=24, style="B", align="R")
        number = w["number"].format(number=q.number)
        self.write_at(
            half, top + 10, _WIDTH / 2, number, size=11, style="B", color=_ACCENT, align="R"
        )
        if q.status is not QuoteStatus.SENT:
            self.badge(top + 17, w[f"status.{q.status.value}"].upper(), _STATUS_COLOR[q.status])
        bottom = max(y + 2, top + 26)
        self.rule(bottom, _ACCENT, 0.6)
        self.set_y(bottom + 5)

    def vendor_lines(self) -> list[str]:
        """The seller's address, tax number and support address, under its name."""
        v = self.vendor
        if v is None:
            return []
        place = " ".join(p for p in (v.postal_code, v.city) if p)
        street = ", ".join(p for p in (v.address_line1, v.address_line2) if p)
        return [
            f"{street}, {place}, {self.country(v.country)}",
            self.words["tax_id"].format(tax_id=v.tax_id),
            self.words["support"].format(email=v.support_email),
        ]

    def badge(self, y: float, text: str, color: Color) -> None:
        self.use(8, "B", _WHITE)
        self.set_char_spacing(0.6)
        width = self.get_string_width(text) + 7
        self.set_fill_color(*color)
        self.rect(_RIGHT - width, y, width, 6, style="F", round_corners=True, corner_radius=1.2)
        self.set_xy(_RIGHT - width, y)
        self.cell(width, 6, text, align="C")
        self.set_char_spacing(0)

    def parties(self) -> None:
        q, w = self.quote, self.words
        top = self.get_y()
        column, gap = 56.0, 6.0
        xs = (_LEFT, _LEFT + column + gap, _LEFT + 2 * (column + gap))

        y = self.caption(xs[0], top, column, w["customer"])
        y = self.write_at(xs[0], y, column, self.customer_name, size=10.5, style="B")
        y = self.write_at(xs[0], y + 0.5, column, w["csn"].format(csn=q.customer_csn), size=8.5)
        tax_id = self.printable.customer.tax_id
        if tax_id:
            y = self.write_at(xs[0], y + 0.3, column, w["tax_id"].format(tax_id=tax_id), size=8.5)
        for text in self.address_lines():
            y = self.write_at(xs[0], y + 0.3, column, text, size=8.5, color=_MUTED)
        buyer = self.printable.buyer_name or self.printable.buyer_email
        if buyer:
            y = self.write_at(xs[0], y + 1, column, w["buyer"].format(name=buyer), size=8.5)
        bottoms = [y]

        if q.partner_csn or self.partner_name:
            y = self.caption(xs[1], top, column, w["partner"])
            if self.partner_name:
                y = self.write_at(xs[1], y, column, self.partner_name, size=10.5, style="B")
            if q.partner_csn:
                text = w["partner_csn"].format(csn=q.partner_csn)
                y = self.write_at(xs[1], y + 0.5, column, text, size=8.5)
        else:
            y = self.caption(xs[1], top, column, w["direct"])
            direct = w["direct_from"].format(vendor=self.vendor_name)
            y = self.write_at(xs[1], y, column, direct, size=10.5, style="B")
            y = self.write_at(xs[1], y + 0.5, column, w["direct_note"], size=8.5, color=_MUTED)
        bottoms.append(y)

        facts = [(w["created"], self.day(q.created_at.date()), "")]
        if q.sent_at is not None:
            facts.append((w["sent"], self.day(q.sent_at.date()), ""))
        facts.append((w["valid_until"], self.day(q.expires_at), "B"))
        facts.append((w["currency"], q.currency, ""))
        if q.replaces:
            facts.append((w["replaces"], q.replaces, ""))
        y = top
        for label, value, style in facts:
            self.write_at(xs[2], y, column * 0.5, label, size=8.5, color=_MUTED)
            y = self.write_at(
                xs[2] + column * 0.5, y, column * 0.5, value, size=8.5, style=style, align="R"
            )
            y += 1.2
        bottoms.append(y)

        y = max(bottoms) + 5
        if q.recipients:
            y = self.caption(_LEFT, y, _WIDTH, w["recipients"])
            listed = ", ".join(f"{r.name} ({r.email})" if r.name else r.email for r in q.recipients)
            y = self.write_at(_LEFT, y, _WIDTH, listed, size=8.5) + 5
        self.set_y(y)

    def address_lines(self) -> list[str]:
        address = self.quote.address
        place = " ".join(p for p in (address.postal_code, address.city) if p)
        country = address.country
        lines = [address.line1, address.line2, place]
        lines.append(self.country(country) if country else None)
        return [line for line in lines if line]

    # The table of lines ---------------------------------------------------------------------

    def table_header(self) -> None:
        y = self.get_y()
        labels = [self.words[f"col.{c.key}"] for c in _COLUMNS]
        height = (
            max(self.height_of(c.width, t, 7, "B") for c, t in zip(_COLUMNS, labels, strict=True))
            + 2 * _CELL_PAD
        )
        self.set_fill_color(*_HEAD_FILL)
        self.rect(_LEFT, y, _WIDTH, height, style="F")
        x = _LEFT
        for column, label in zip(_COLUMNS, labels, strict=True):
            self.write_at(
                x,
                y + _CELL_PAD,
                column.width,
                label,
                size=7,
                style="B",
                color=_ACCENT,
                align=column.align,
            )
            x += column.width
        self.set_y(y + height)

    def cells(self, line: QuoteLine) -> dict[str, tuple[str, str, Color]]:
        """Return each column's text, font style and colour for `line`."""
        w = self.words
        if line.kind is LineKind.NEW:
            subscription = w["kind.new"]
        elif line.kind is LineKind.CO_TERM:
            subscription = w["kind.co-term"]
            if line.align_to_subscription_id:
                aligned = w["aligned_to"].format(subscription=line.align_to_subscription_id)
                subscription = f"{subscription}\n{aligned}"
        else:
            subscription = line.subscription_id or "–"
        discount = (self.money(-line.discount), "", _PROMO) if line.discount else ("–", "", _MUTED)
        return {
            "offering": (line.offering_name, "B", _INK),
            "subscription": (subscription, "", _INK),
            "seats": (format_decimal(line.quantity, locale=self.language), "", _INK),
            "term": (w.get(f"term.{line.term}", line.term), "", _INK),
            "period": (f"{self.day(line.start_date)} –\n{self.day(line.end_date)}", "", _INK),
            "unit_price": (self.money(line.unit_price), "", _INK),
            "discount": discount,
            "amount": (self.money(line.amount), "B", _INK),
        }

    def promotion_text(self, line: QuoteLine) -> str | None:
        if not line.promotion_name:
            return None
        text = self.words["promotion"].format(name=line.promotion_name)
        # The reason is written in English by the pricing rules; a French quote gives the name.
        if self.language == "en" and line.promotion_why:
            text = f"{text} ({line.promotion_why})"
        return text

    def lines_table(self) -> None:
        size = 8.5
        promo_width = sum(c.width for c in _COLUMNS[:-1])
        self.table_header()
        for line in self.quote.lines:
            cells = self.cells(line)
            content = max(
                self.height_of(c.width, cells[c.key][0], size, cells[c.key][1]) for c in _COLUMNS
            )
            promotion = self.promotion_text(line)
            promo_height = self.height_of(promo_width, promotion, 7.5) if promotion else 0
            height = content + promo_height + 2 * _CELL_PAD + (0.8 if promotion else 0)
            if self.get_y() + height > self.page_break_trigger:
                # A line and its promotion stay together, under the column headings again.
                self.add_page()
                self.table_header()
            y = self.get_y()
            x = _LEFT
            for column in _COLUMNS:
                text, style, color = cells[column.key]
                self.write_at(
                    x,
                    y + _CELL_PAD,
                    column.width,
                    text,
                    size=size,
                    style=style,
                    color=color,
                    align=column.align,
                )
                x += column.width
            if promotion:
                self.write_at(
                    _LEFT,
                    y + _CELL_PAD + content + 0.8,
                    promo_width,
                    promotion,
                    size=7.5,
                    style="",
                    color=_PROMO,
                )
            self.rule(y + height)
            self.set_y(y + height)

    # Totals ---------------------------------------------------------------------------------

    def totals(self) -> None:
        q, w = self.quote, self.words
        rate = percent_text(q.tax_rate, self.language)
        rows: Sequence[tuple[str, str, Color]] = (
            (w["subtotal"], self.money(q.subtotal), _INK),
            (w["discounts"], self.money(-q.discount_total), _PROMO if q.discount_total else _INK),
            (w["tax"].format(rate=rate), self.money(q.tax), _INK),
        )
        row_height, total_height = 6.0, 10.0
        needed = 6 + len(rows) * row_height + 2 + total_height
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()
        top = self.get_y() + 6
        width = 82.0
        x = _RIGHT - width
        note = w["amounts_note"].format(currency=q.currency)
        self.write_at(_LEFT, top, _WIDTH - width - 12, note, size=8, color=_MUTED)
        y = top
        for label, value, color in rows:
            self.use(9, "", _MUTED)
            self.set_xy(x, y)
            self.cell(width / 2 + 6, row_height, label)
            self.use(9, "", color)
            self.set_xy(x + width / 2 + 6, y)
            self.cell(width / 2 - 6, row_height, value, align="R")
            y += row_height
        y += 2
        self.set_fill_color(*_ACCENT)
        self.rect(x, y, width, total_height, style="F", round_corners=True, corner_radius=1.2)
        self.use(11, "B", _WHITE)
        self.set_xy(x + 1, y)
        self.cell(width / 2 - 1, total_height, w["total"])
        self.set_xy(x + width / 2, y)
        self.cell(width / 2 - 1, total_height, self.money(q.total), align="R")
        self.set_y(y + total_height)
