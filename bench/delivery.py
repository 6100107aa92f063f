"""Benchmark quote delivery: mail with PDFs from one worker, and PDF rendering.

    .venv/bin/python bench/delivery.py [--postgres-url URL] [--quotes N]

Mail: N quotes (5 lines each, a promotion on each line) sent to 4 recipients each, on
PostgreSQL; one worker (`renewquote worker`'s round, in this process) delivers them with their
PDFs to the mail sink (`renewquote mailsink`, its own process, keeping .eml files). The limit,
measured in the same run: plain `smtplib` sending the same messages, already rendered, to the
same sink on one connection. PDF: a 10-line and a 100-line quote rendered again and again.
Renewal season: a book of
`--season-customers` customers whose subscriptions come due; two `renewquote worker --once`
processes make the automatic quotes and mail them; wall time, mails a second, none twice.
The exit status is 0 even when a target fails: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, make_url, or_, select, update

from book import HTTP_BOOK, QUOTED_EACH, insert_book
from httpbench.cpu import cpu_seconds
from renewquote.clock import utcnow
from renewquote.delivery.pdf import PdfRenderer, render_quote_pdf
from renewquote.delivery.smtp import Handed, SmtpMailer
from renewquote.domain.model import QuoteType
from renewquote.domain.quotes import Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.auth import find_caller
from renewquote.services.documents import PrintableQuote, printable_quote
from renewquote.services.mailing import MailSettings
from renewquote.services.quoting import QuoteDraft, create_quote, send_quote
from renewquote.services.worker import work_once
from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade
from renewquote.storage.tables import automatic_quote_terms, outbox, quotes, subscriptions

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE = "bench_delivery"
RENEWQUOTE = Path(sys.executable).with_name("renewquote")
console = Console()


@dataclass
class Row:
    what: str
    value: str
    limit: str = ""
    ratio: str = ""
    target: str = ""
    result: str = ""


class Recording:
    """A mailer that keeps every message it hands on (the limit sends the same ones)."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self.mailer = mailer
        self.messages: list[EmailMessage] = []

    def hand_over(self, message: EmailMessage) -> Handed:
        self.messages.append(message)
        return self.mailer.hand_over(message)


def fresh_database(admin_url: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    engine.dispose()
    return make_url(admin_url).set(database=DATABASE).render_as_string(hide_password=False)


def drop_database(admin_url: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    engine.dispose()


def send_quotes(db: Database, count: int) -> list[str]:
    """Load a book of `count` customers; each buyer sends a 5-line quote to 3 more people."""
    book = dataclasses.replace(HTTP_BOOK, customers=count)
    upgrade(db)
    today, now = utcnow().date(), utcnow()
    with db.engine.begin() as conn:
        insert_book(conn, book, today, copy=True)
    numbers = []
    for n in range(1, count + 1):
        buyer = find_caller(db, book.buyer.format(n=n))
        draft = QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=tuple(
                LineRequest(subscription_id=book.sid(n, k)) for k in range(1, QUOTED_EACH + 1)
            ),
            recipients=tuple(
                Recipient(f"{who}@atelier-{n:05d}.example") for who in ("cfo", "it", "ap")
            ),
        )
        quote = create_quote(db, buyer, draft, today=today, now=now)
        numbers.append(send_quote(db, buyer, quote.number, today=today, now=now).number)
    return numbers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink(folder: Path, port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        [str(RENEWQUOTE), "mailsink", "--folder", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the mail sink did not start") from None
            time.sleep(0.1)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_mail(
    db: Database, port: int, expected: int, warm_up: PrintableQuote
) -> tuple[list[Row], int]:
    url = f"smtp://127.0.0.1:{port}"
    settings = MailSettings(public_url="https://quotes.example", sender="quotes@vendor.example")
    renderer = PdfRenderer()
    with SmtpMailer(url) as mailer:
        recording = Recording(mailer)
        # As `renewquote worker` runs: its PDF process started (once a worker) before the clock.
        renderer.start(warm_up).result()
        drawer = renderer.process_ids()
        started, cpu0, drawer0 = time.perf_counter(), cpu(), cpu_seconds(drawer)
        done = work_once(db, recording, settings, clock=utcnow, batch=50, renderer=renderer)
        worker_s = time.perf_counter() - started
        worker_cpu = cpu() - cpu0 + cpu_seconds(drawer) - drawer0
    renderer.close()
    messages = recording.messages
    # The limit: the same messages, rendered already, over one plain smtplib connection.
    wire = messages[0].policy.clone(linesep="\r\n") if messages else None
    raw = [(str(m["From"]), [str(m["To"])], m.as_bytes(policy=wire)) for m in messages]
    with smtplib.SMTP("127.0.0.1", port) as plain:
        started = time.perf_counter()
        for sender, to, data in raw:
            plain.sendmail(sender, to, data)
        plain_s = time.perf_counter() - started
    rate, limit = done.mail.sent / worker_s, len(raw) / plain_s
    size = sum(len(data) for _, _, data in raw) / max(len(raw), 1) / 1024
    rows = [
        Row(
            f"worker: {done.mail.sent} mails of {expected} ({done.mail.pdfs} PDFs rendered), "
            f"{size:.0f} KiB each",
            f"{rate:,.0f} mails/s",
            f"{limit:,.0f} mails/s",
            f"{rate / limit:.2f}×",
            "≥ 0.50× and ≥ 100 mails/s, none lost",
            "PASS"
            if rate >= 0.5 * limit and rate >= 100 and done.mail.sent == expected
            else "FAIL",
        ),
        Row(
            "  worker CPU a mail (with its PDF process)",
            f"{worker_cpu / max(done.mail.sent, 1) * 1000:.2f} ms",
        ),
        Row(
            "  wall a mail (worker / plain smtplib)",
            f"{worker_s / max(done.mail.sent, 1) * 1000:.2f} ms / "
            f"{plain_s / len(raw) * 1000:.2f} ms",
        ),
    ]
    return rows, done.mail.sent


def measure_pdf(db: Database, number: str, buyer_email: str) -> list[Row]:
    caller = find_caller(db, buyer_email)
    printable = printable_quote(db, caller, number)
    rows = []
    for count, limit_ms in ((10, None), (100, 250.0)):
        lines = tuple(
            dataclasses.replace(line, position=i + 1)
            for i, line in enumerate(
                (printable.quote.lines * (count // len(printable.quote.lines) + 1))[:count]
            )
        )
        quote = dataclasses.replace(printable.quote, lines=lines)
        wide = dataclasses.replace(printable, quote=quote)
        render_quote_pdf(wide)  # fonts loaded once
        times = []
        for _ in range(15):
            started = time.perf_counter()
            pdf = render_quote_pdf(wide)
            times.append(time.perf_counter() - started)
        ms = median(times) * 1000
        rows.append(
            Row(
                f"PDF of a {count}-line quote ({len(pdf) / 1024:.0f} KiB), median of 15",
                f"{ms:.1f} ms",
                target="" if limit_ms is None else f"< {limit_ms:.0f} ms",
                result="" if limit_ms is None else ("PASS" if ms < limit_ms else "FAIL"),
            )
        )
    return rows


def measure_season(admin_url: str, customers: int) -> list[Row]:
    """A renewal season: `customers` customers with subscriptions coming due; two `renewquote
    worker --once` processes make their automatic quotes and mail them with PDFs."""
    url = fresh_database(admin_url)
    db = Database(url)
    folder = Path(tempfile.mkdtemp(prefix="renewquote-bench-season-"))
    port = free_port()
    sink = start_sink(folder, port)
    try:
        book = dataclasses.replace(HTTP_BOOK, customers=customers)
        upgrade(db)
        with db.engine.begin() as conn:
            insert_book(conn, book, utcnow().date(), copy=True)
            # Each customer's first five (annual, EUR, bought direct) renew by quote, not
            # automatically: those ending within 30 days are due.
            conn.execute(
                update(subscriptions)
                .where(or_(*(subscriptions.c.id.like(f"SUB-%-{k:02d}") for k in range(1, 6))))
                .values(auto_renew=False)
            )
            conn.exec_driver_sql("ANALYZE")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RENEWQUOTE_")}
        env |= {
            "RENEWQUOTE_DATABASE_URL": url,
            "RENEWQUOTE_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "RENEWQUOTE_PUBLIC_URL": "https://quotes.example",
        }
        logs = [folder / f"worker-{n}.log" for n in (1, 2)]
        started = time.perf_counter()
        # Each worker's output to a file: a pipe nobody reads would stop it once full.
        workers = []
        for log in logs:
            with log.open("w") as out:
                workers.append(
                    subprocess.Popen(
                        [str(RENEWQUOTE), "worker", "--once"], env=env, stdout=out, stderr=out
                    )
                )
        for worker in workers:
            worker.wait()
        wall = time.perf_counter() - started
        failed = [log.read_text() for w, log in zip(workers, logs, strict=True) if w.returncode]
        with db.engine.connect() as conn:
            made = conn.execute(
                select(func.count()).select_from(quotes).where(quotes.c.channel == "automatic")
            ).scalar_one()
            terms = conn.execute(select(func.count()).select_from(automatic_quote_terms)).scalar()
            pending = conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.topic == "mail.quote", outbox.c.status != "sent")
            ).scalar_one()
    finally:
        sink.terminate()
        sink.wait(timeout=20)
        db.dispose()
        drop_database(admin_url)
    parser = BytesHeaderParser()
    ids = [parser.parsebytes(f.read_bytes())["Message-ID"] for f in folder.glob("*.eml")]
    twice = len(ids) - len(set(ids))
    ok = not failed and twice == 0 and pending == 0 and wall < 300
    return [
        Row(
            f"renewal season: {customers:,} customers, two workers: {made:,} automatic quotes "
            f"({terms:,} terms), {len(ids):,} mails with PDFs, {twice} twice, {pending} left",
            f"{wall:,.0f} s",
            ratio=f"{len(ids) / wall:,.1f} mails/s",
            target="< 5 min, none twice" if customers == 10_000 else "< 5 min at 10,000",
            result=("PASS" if ok else "FAIL") if customers == 10_000 else ("—" if ok else "FAIL"),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url", default=os.environ.get("RENEWQUOTE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--quotes", type=int, default=150, help="quotes sent (4 mails each)")
    parser.add_argument(
        "--season-customers", type=int, default=10_000, help="customers of the renewal season"
    )
    args = parser.parse_args()

    machine = Table(title="Machine", show_header=False)
    machine.add_row("CPU", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    machine.add_row("Python", platform.python_version())
    console.print(machine)

    url = fresh_database(args.postgres_url)
    db = Database(url)
    folder = Path(tempfile.mkdtemp(prefix="renewquote-bench-mail-"))
    port = free_port()
    sink = start_sink(folder, port)
    try:
        started = time.perf_counter()
        numbers = send_quotes(db, args.quotes)
        console.print(
            f"Sent {len(numbers)} quotes to 4 recipients each in "
            f"{time.perf_counter() - started:.1f} s (PostgreSQL, database {DATABASE}); "
            f"sink on port {port}, mail in {folder}"
        )
        sample = printable_quote(db, find_caller(db, HTTP_BOOK.buyer.format(n=1)), numbers[0])
        rows, _ = measure_mail(db, port, expected=4 * len(numbers), warm_up=sample)
        rows += measure_pdf(db, numbers[0], HTTP_BOOK.buyer.format(n=1))
    finally:
        sink.terminate()
        sink.wait(timeout=20)
        db.dispose()
        drop_database(args.postgres_url)
    rows += measure_season(args.postgres_url, args.season_customers)
    table = Table(title="Delivery: one worker on PostgreSQL, the mail sink, and PDFs")
    for name in ("measure", "value", "limit (same run)", "ratio", "target", "result"):
        table.add_column(name, justify="left" if name in ("measure", "target") else "right")
    for row in rows:
        table.add_row(row.what, row.value, row.limit, row.ratio, row.target, row.result)
    console.print(table)
    console.print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
