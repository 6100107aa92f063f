"""The quote as an A4 PDF, in the quote's language, with its amounts exactly as stored.

Laid out in two passes: the layout measures every text and breaks the lines table into pages,
recording what to draw; the drawing then knows the page count ("page 1 of 3") and paints each
page with ReportLab's canvas. ReportLab keeps the parsed fonts for the process and subsets them
per document from memory, which is what makes a PDF per quote affordable in the mail worker.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal
from importlib.resources import as_file, files
from io import BytesIO
from multiprocessing import get_context
from threading import Lock, Thread

from babel import Locale
from babel.numbers import format_decimal
from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from renewquote.delivery.formatting import day_text, money_text, percent_text
from renewquote.delivery.words import LANGUAGES, words_for
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import LineKind
from renewquote.domain.quotes import QuoteLine
from renewquote.services.documents import PrintableQuote

# Lato, shipped unmodified in the fontpkg-lato wheel: the PDF core fonts are latin-1 only and
# Babel's French amounts need U+202F and U+00A0, which Lato has; a package means no machine
# depends on fonts installed by hand.
_REGULAR, _BOLD = "renewquote-Lato", "renewquote-Lato-Bold"
_FONT_FILES = {_REGULAR: "Lato-Regular.ttf", _BOLD: "Lato-Bold.ttf"}


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

# Lengths in millimetres from the page's top-left corner, as a designer measures them.
_PAGE_WIDTH, _PAGE_HEIGHT = 210.0, 297.0
_MARGIN = 15.0
_BOTTOM = 22.0  # room for the footer under the last row of each page
_PAGE_END = _PAGE_HEIGHT - _BOTTOM
_TOP_AFTER_HEADER = _MARGIN + 10  # where the content starts on the pages after the first
_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_LEFT = _MARGIN
_RIGHT = _PAGE_WIDTH - _MARGIN
_CELL_PAD = 1.8  # above and below the text of a table row
_HEADER_AND_A_LINE = 25.0  # the column headings and one two-line row under them
_INSET = 1.2  # between a cell's edge and its text
_PT = 25.4 / 72  # one point in millimetres


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    width: float
    align: str


# The amounts' columns hold a seven-figure amount (1 234 567,00 €); a wider one is set smaller,
# never broken.
_AMOUNTS = frozenset({"unit_price", "discount", "amount"})
_COLUMNS = (
    _Column("offering", 38, "L"),
    _Column("subscription", 22, "L"),
    _Column("seats", 11, "R"),
    _Column("term", 16, "L"),
    _Column("period", 25, "L"),
    _Column("unit_price", 21, "R"),
    _Column("discount", 21, "R"),
    _Column("amount", 26, "R"),
)


def _line_height(size: float) -> float:
    """Return the height in mm of one line of text set at `size` points."""
    return size * 0.44


def _baseline(top: float, height: float, size: float) -> float:
    """Return where the baseline of text at `size` points sits in a box `height` mm tall."""
    return top + height / 2 + 0.3 * size * _PT


_FONTS_LOCK = Lock()
_fonts_ready = False


def _register_fonts() -> None:
    """Read the two Lato faces once per process; each document embeds the glyphs it uses.
    Under a lock: the API renders PDFs in several threads, and the first ones must not each
    register (and replace) the fonts another is drawing with."""
    global _fonts_ready
    if _fonts_ready:
        return
    with _FONTS_LOCK:
        if not _fonts_ready:
            _read_fonts()
            _fonts_ready = True


def _read_fonts() -> None:
    # Streams compressed only, not also written as ASCII: a third smaller and quicker to make.
    rl_config.useA85 = 0
    with ExitStack() as stack:
        for name, file in _FONT_FILES.items():
            path = stack.enter_context(as_file(files("fontpkg_lato") / "files" / file))
            registerFont(TTFont(name, str(path)))


def render_quote_pdf(printable: PrintableQuote) -> bytes:
    """Render a quote as an A4 PDF in its own language and return the file's bytes."""
    _register_fonts()
    layout = _QuoteLayout(printable)
    layout.compose()
    return layout.paint()


class PdfRenderer:
    """Renders quotes' PDFs in a process of its own: a worker writes and sends mail while the
    PDFs of the quotes it mails next are drawn on the other core (bench/delivery.py: a
    quarter of a worker's time a mail went to PDFs drawn in line).

    The process is started at the first PDF asked for, and again after it died.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PdfRenderer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self, printable: PrintableQuote) -> Future[bytes]:
        """Start rendering a quote's PDF; the future gives its bytes, or its error."""
        for _ in range(2):
            starting = self._pool is None
            if self._pool is None:
                # Spawned, not forked: the worker holds database connections and threads.
                self._pool = ProcessPoolExecutor(
                    1, mp_context=get_context("spawn"), initializer=_leave_signals_to_the_worker
                )
            # The process starts with the first PDF: Ctrl-C and SIGTERM are held back while
            # it does (a signal mask outlives exec), so they never reach it half-started.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS) if starting else None
            try:
                return self._pool.submit(render_quote_pdf, printable)
            except BrokenProcessPool:
                self.close()  # the process died: the next PDF starts another
            finally:
                if held is not None:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise BrokenProcessPool("the PDF process cannot be started")

    def process_ids(self) -> list[int]:
        """Return the ids of the rendering processes running now (to measure them)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        """Stop the process."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_STOPS = {signal.SIGINT, signal.SIGTERM}


def _leave_signals_to_the_worker() -> None:
    # Ctrl-C reaches the whole process group, and a service manager's SIGTERM may too: the
    # worker stops this process itself once its round is over, rather than this one dying
    # (with a traceback) in the middle of a PDF.
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    # A worker killed outright (kill -9) cannot stop this process: it ends itself once its
    # worker is gone (it is then given another parent).
    Thread(target=_end_with, args=(os.getppid(),), daemon=True).start()


def _end_with(worker: int) -> None:
    while os.getppid() == worker:
        time.sleep(1)
    os._exit(0)


# What a page holds, measured and placed: painted once the number of pages is known. -------


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    top: float
    width: float
    lines: Sequence[str]
    font: str
    size: float
    color: Color
    align: str = "L"
    spacing: float = 0.0  # between letters, in points


@dataclass(frozen=True, slots=True)
class _Rule:
    y: float
    color: Color
    width: float


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    top: float
    width: float
    height: float
    color: Color
    radius: float = 0.0


_Mark = _Text | _Rule | _Box


@dataclass(slots=True)
class _Page:
    marks: list[_Mark] = field(default_factory=list)


class _QuoteLayout:
    """One quote laid out on A4 pages: heading, parties, lines, totals; header and footer."""

    def __init__(self, printable: PrintableQuote) -> None:
        quote = printable.quote
        self.printable = printable
        self.quote = quote
        self.language = quote.language if quote.language in LANGUAGES else "en"
        self.words = words_for(self.language)
        self.customer_name = printable.customer.name
        self.partner_name = printable.partner_name
        self.vendor = printable.vendor
        self.vendor_name = printable.vendor.name if printable.vendor else "renewquote"
        self.pages: list[_Page] = [_Page()]
        self.y = _MARGIN
        self._wrapped: dict[tuple[str, str, float, float], list[str]] = {}

    # Formatting -------------------------------------------------------------------------

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.quote.currency, self.language)

    def day(self, value: date) -> str:
        return day_text(value, self.language)

    def country(self, code: str) -> str:
        name: str = Locale.parse(self.language).territories.get(code.upper(), code)
        return name

    # Measuring and placing ------------------------------------------------------------------

    def wrap(self, width: float, text: str, size: float, font: str) -> list[str]:
        """Return `text` broken into the lines that fit `width` mm inside a cell's insets."""
        key = (text, font, size, width)
        lines = self._wrapped.get(key)
        if lines is None:
            lines = _wrap(text, font, size, (width - 2 * _INSET) * mm)
            self._wrapped[key] = lines
        return lines

    def height_of(
        self, width: float, text: str, size: float, style: str = "", *, whole: bool = False
    ) -> float:
        """Return how tall `text` stands when wrapped into `width` at `size` points."""
        if whole:
            return _line_height(size)
        return len(self.wrap(width, text, size, _font(style))) * _line_height(size)

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
        spacing: float = 0.0,
        whole: bool = False,
    ) -> float:
        """Place `text` wrapped into `width` from (x, y) on this page; return the y under it.

        `whole`: an amount, never broken; set smaller when it is wider than its cell."""
        font = _font(style)
        height = _line_height(size)
        if whole:
            lines = [text]
            room = (width - 2 * _INSET) * mm
            needed = stringWidth(text, font, size)
            if needed > room:
                size = size * room / needed
        else:
            lines = self.wrap(width, text, size, font)
        self.pages[-1].marks.append(_Text(x, y, width, lines, font, size, color, align, spacing))
        return y + len(lines) * height

    def rule(self, y: float, color: Color = _RULE, width: float = 0.2) -> None:
        self.pages[-1].marks.append(_Rule(y, color, width))

    def box(
        self, x: float, y: float, width: float, height: float, color: Color, radius: float = 0.0
    ) -> None:
        self.pages[-1].marks.append(_Box(x, y, width, height, color, radius))

    def caption(self, x: float, y: float, width: float, text: str) -> float:
        """Write a small upper-case heading over a block; return the y under it."""
        bottom = self.write_at(
            x, y, width, text.upper(), size=7, style="B", color=_MUTED, spacing=0.4
        )
        return bottom + 1

    def new_page(self) -> None:
        self.pages.append(_Page())
        self.y = _TOP_AFTER_HEADER

    # The document ---------------------------------------------------------------------------

    def compose(self) -> None:
        self.heading()
        self.parties()
        self.lines_table()
        self.totals()

    def heading(self) -> None:
        q, w = self.quote, self.words
        top = _MARGIN
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
        self.y = bottom + 5

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
        spacing = 0.8
        width = _text_width(text, _BOLD, 8, spacing) + 7
        self.box(_RIGHT - width, y, width, 6, color, radius=1.2)
        self.pages[-1].marks.append(
            _Text(
                _RIGHT - width,
                y + 3 - _line_height(8) / 2,
                width,
                [text],
                _BOLD,
                8,
                _WHITE,
                "C",
                spacing,
            )
        )

    def parties(self) -> None:
        q, w = self.quote, self.words
        top = self.y
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
        self.y = y

    def address_lines(self) -> list[str]:
        address = self.quote.address
        place = " ".join(p for p in (address.postal_code, address.city) if p)
        country = address.country
        lines = [address.line1, address.line2, place]
        lines.append(self.country(country) if country else None)
        return [line for line in lines if line]

    # The table of lines ---------------------------------------------------------------------

    def table_header(self) -> None:
        y = self.y
        labels = [self.words[f"col.{c.key}"] for c in _COLUMNS]
        height = (
            max(self.height_of(c.width, t, 7, "B") for c, t in zip(_COLUMNS, labels, strict=True))
            + 2 * _CELL_PAD
        )
        self.box(_LEFT, y, _WIDTH, height, _HEAD_FILL)
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
        self.y = y + height

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
        if self.y + _HEADER_AND_A_LINE > _PAGE_END:
            self.new_page()  # the headings never stand alone at the foot of a page
        self.table_header()
        for line in self.quote.lines:
            cells = self.cells(line)
            content = max(
                self.height_of(
                    c.width, cells[c.key][0], size, cells[c.key][1], whole=c.key in _AMOUNTS
                )
                for c in _COLUMNS
            )
            promotion = self.promotion_text(line)
            promo_height = self.height_of(promo_width, promotion, 7.5) if promotion else 0
            height = content + promo_height + 2 * _CELL_PAD + (0.8 if promotion else 0)
            if self.y + height > _PAGE_END:
                # A line and its promotion stay together, under the column headings again.
                self.new_page()
                self.table_header()
            y = self.y
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
                    whole=column.key in _AMOUNTS,
                )
                x += column.width
            if promotion:
                self.write_at(
                    _LEFT,
                    y + _CELL_PAD + content + 0.8,
                    promo_width,
                    promotion,
                    size=7.5,
                    color=_PROMO,
                )
            self.rule(y + height)
            self.y = y + height

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
        if self.y + needed > _PAGE_END:
            self.new_page()
        top = self.y + 6
        width = 82.0
        x = _RIGHT - width
        note = w["amounts_note"].format(currency=q.currency)
        self.write_at(_LEFT, top, _WIDTH - width - 12, note, size=8, color=_MUTED)
        y = top
        for label, value, color in rows:
            middle = _centred(y, row_height, 9)
            self.write_at(x, middle, width / 2 + 6, label, size=9, color=_MUTED)
            self.write_at(
                x + width / 2 + 6,
                middle,
                width / 2 - 6,
                value,
                size=9,
                color=color,
                align="R",
                whole=True,
            )
            y += row_height
        y += 2
        self.box(x, y, width, total_height, _ACCENT, radius=1.2)
        middle = _centred(y, total_height, 11)
        self.write_at(x + 1, middle, width / 2 - 1, w["total"], size=11, style="B", color=_WHITE)
        self.write_at(
            x + width / 2,
            middle,
            width / 2 - 1,
            self.money(q.total),
            size=11,
            style="B",
            color=_WHITE,
            align="R",
            whole=True,
        )
        self.y = y + total_height

    # Page furniture, once the number of pages is known --------------------------------------

    def furniture(self, number: int, count: int) -> list[_Mark]:
        """The header (from page two), the footer and the page number of page `number`."""
        w = self.words
        marks: list[_Mark] = []
        if number > 1:
            top = _MARGIN
            marks.append(_Text(_LEFT, top, _WIDTH / 2, [self.vendor_name], _BOLD, 9, _ACCENT))
            title = f"{w['title']} {self.quote.number} · {self.customer_name}"
            marks.append(
                _Text(_LEFT + _WIDTH / 2, top, _WIDTH / 2, [title], _REGULAR, 8.5, _MUTED, "R")
            )
            marks.append(_Rule(top + 7, _RULE, 0.2))
        top = _PAGE_HEIGHT - 16
        marks.append(_Rule(top, _RULE, 0.2))
        text = w["footer"].format(date=self.day(self.quote.expires_at))
        lines = self.wrap(_WIDTH - 32, text, 7.5, _REGULAR)
        marks.append(_Text(_LEFT, top + 2, _WIDTH - 32, lines, _REGULAR, 7.5, _MUTED))
        page = w["page"].format(page=number, pages=count)
        marks.append(_Text(_RIGHT - 32, top + 2, 32, [page], _REGULAR, 7.5, _MUTED, "R"))
        return marks

    def paint(self) -> bytes:
        """Paint every page and return the file: the same quote gives the same bytes."""
        q = self.quote
        title = f"{self.words['title']} {q.number}"
        out = BytesIO()
        canvas = Canvas(
            out,
            pagesize=(_PAGE_WIDTH * mm, _PAGE_HEIGHT * mm),
            invariant=True,
            lang=self.language,
            # Lato from the start, or each page would name an unused Helvetica.
            initialFontName=_REGULAR,  # type: ignore[arg-type]  # types-reportlab says float
            pageCompression=1,
        )
        canvas.setTitle(title)
        canvas.setSubject(f"{title} · {self.customer_name}")
        canvas.setAuthor(self.vendor_name)
        canvas.setCreator("renewquote")
        canvas.setProducer("renewquote")
        # Its date is the quote's, not the rendering's.
        created = q.created_at if q.created_at.tzinfo else q.created_at.replace(tzinfo=UTC)
        stamp = created.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")
        canvas.setDateFormatter(lambda *_: stamp)
        count = len(self.pages)
        for number, page in enumerate(self.pages, start=1):
            self.watermark(canvas)
            for mark in (*page.marks, *self.furniture(number, count)):
                _paint(canvas, mark)
            canvas.showPage()
        canvas.save()
        return out.getvalue()

    def watermark(self, canvas: Canvas) -> None:
        status = self.quote.status
        if status not in _WATERMARKED:
            return
        text = self.words[f"status.{status.value}"].upper()
        # Fit the word across the page's diagonal, whatever the language makes of it.
        size = min(100.0, 100.0 * 190 / (_text_width(text, _BOLD, 100)))
        canvas.saveState()
        canvas.translate(_PAGE_WIDTH / 2 * mm, _PAGE_HEIGHT / 2 * mm)
        canvas.rotate(35)
        canvas.setFillColorRGB(*_rgb(_STATUS_COLOR[status]), alpha=0.07)
        canvas.setFont(_BOLD, size)
        canvas.drawCentredString(0, -size / 3, text)
        canvas.restoreState()


def _font(style: str) -> str:
    return _BOLD if style == "B" else _REGULAR


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break `text` at its line breaks and spaces into lines no wider than `width` points.

    Plain spaces break a line; Babel's no-break spaces inside an amount only when the amount
    alone is wider than its cell, and a word wider than its cell is cut between two letters
    rather than left to overflow.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if stringWidth(paragraph, font, size) <= width:
            lines.append(paragraph)
            continue
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if stringWidth(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and stringWidth(word, font, size) > width:
                cut = len(word) - 1
                while cut > 1 and stringWidth(word[:cut], font, size) > width:
                    cut -= 1
                # An amount too wide for its cell breaks between its groups of digits.
                space = max(word.rfind("\u00a0", 1, cut + 1), word.rfind("\u202f", 1, cut + 1))
                if space > 0:
                    lines.append(word[:space])
                    word = word[space + 1 :]
                else:
                    lines.append(word[:cut])
                    word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _text_width(text: str, font: str, size: float, spacing: float = 0.0) -> float:
    """Return the width in mm of `text` set in `font` at `size` points."""
    width: float = stringWidth(text, font, size) + spacing * max(len(text) - 1, 0)
    return width / mm


def _centred(top: float, height: float, size: float) -> float:
    """Return the top of one line of text at `size` points centred in a box `height` mm tall."""
    return top + (height - _line_height(size)) / 2


def _rgb(color: Color) -> tuple[float, float, float]:
    return (color[0] / 255, color[1] / 255, color[2] / 255)


def _paint(canvas: Canvas, mark: _Mark) -> None:
    if isinstance(mark, _Text):
        canvas.setFont(mark.font, mark.size)
        canvas.setFillColorRGB(*_rgb(mark.color))
        height = _line_height(mark.size)
        for i, line in enumerate(mark.lines):
            y = (_PAGE_HEIGHT - _baseline(mark.top + i * height, height, mark.size)) * mm
            if mark.align == "R":
                x = (mark.x + mark.width - _INSET) * mm
                canvas.drawRightString(x, y, line, charSpace=mark.spacing)
            elif mark.align == "C":
                canvas.drawCentredString(
                    (mark.x + mark.width / 2) * mm, y, line, charSpace=mark.spacing
                )
            else:
                canvas.drawString((mark.x + _INSET) * mm, y, line, charSpace=mark.spacing)
    elif isinstance(mark, _Rule):
        canvas.setStrokeColorRGB(*_rgb(mark.color))
        canvas.setLineWidth(mark.width * mm)
        y = (_PAGE_HEIGHT - mark.y) * mm
        canvas.line(_LEFT * mm, y, _RIGHT * mm, y)
    else:
        canvas.setFillColorRGB(*_rgb(mark.color))
        x, y = mark.x * mm, (_PAGE_HEIGHT - mark.top - mark.height) * mm
        if mark.radius:
            canvas.roundRect(
                x, y, mark.width * mm, mark.height * mm, mark.radius * mm, stroke=0, fill=1
            )
        else:
            canvas.rect(x, y, mark.width * mm, mark.height * mm, stroke=0, fill=1)
