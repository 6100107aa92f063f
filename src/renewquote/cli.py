"""The `renewquote` command line, thin over the services: Rich for people, JSON for scripts.

JSON output is the API's own models (`api.schemas`), so a script reads the same shape from
either. No command prints a traceback: a refusal or an unreachable database is one sentence
and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from renewquote.clock import utcnow
from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.messages import LANGUAGES
from renewquote.domain.model import CallerKind, Channel
from renewquote.domain.money import amount_text
from renewquote.services.access import Caller
from renewquote.settings import Settings
from renewquote.storage.database import Database
from renewquote.storage.migrate import current_revision, head_revision, is_packaged, upgrade
from renewquote.storage.outbox import Waker

BOOK_FORMAT = "docs/book.md"
LEASE_SECONDS = 120.0  # services.mailing.LEASE, without importing the mail code at start
# The worker's time-driven work (expiry, reminders, automatic quotes) scans the book: once a
# minute is enough for work counted in days.
TIME_DRIVEN_EVERY = 60.0

app = typer.Typer(
    help="Renewal quotes for software subscriptions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
quote_app = typer.Typer(help="Quotes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(quote_app, name="quote")

# No markup: what is printed comes from books of business and the command line, where Rich
# would take "[/x]" for a tag and fail, or swallow "[x]" as a style.
console = Console(markup=False)
errors = Console(stderr=True, markup=False)


class Language(StrEnum):
    """A language the messages are written in."""

    EN = "en"
    FR = "fr"


assert {language.value for language in Language} == set(LANGUAGES)


class View(StrEnum):
    """Whose eyes the renewal groups are seen through (the channels people quote through)."""

    SELF_SERVICE = Channel.SELF_SERVICE.value
    PARTNER = Channel.PARTNER.value
    STAFF = Channel.STAFF.value


Today = Annotated[
    str | None,
    typer.Option(help="The day to judge eligibility on (YYYY-MM-DD); default today."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the API's shape).")]
LanguageOption = Annotated[
    Language, typer.Option("--lang", help="Language of the reasons.", case_sensitive=False)
]
OPERATOR = Caller(email="operator@cli", kind=CallerKind.STAFF)


_HOW_TO_CREATE = "run `renewquote db upgrade` or set RENEWQUOTE_DATABASE_URL"
_URL_FORMS = "sqlite:///path.db or postgresql+psycopg://user@host/db"


def _database() -> Database:
    """Open the database of the settings, which must exist at this release's revision."""
    db = _configured()
    where = _where(db)
    path = db.sqlite_path
    # Checked before connecting: SQLite would create an empty file where none is.
    if path is not None and not path.exists():
        _fail(f"no database at {where}: {_HOW_TO_CREATE}")
    current = _revision(db)
    if current is None:
        _fail(f"the database at {where} is not migrated: {_HOW_TO_CREATE}")
    if current != head_revision():
        _fail(f"the database at {where} is not up to date: run `renewquote db upgrade`")
    return db


def _migrated() -> tuple[Database, str]:
    """Create or migrate the database of the settings; return it and a sentence saying which."""
    db = _configured()
    where = _where(db)
    before = _revision(db)
    try:
        upgrade(db)
    except SQLAlchemyError as error:
        _fail(f"cannot migrate the database at {where}: {_first_line(error)}")
    if before is None:
        return db, f"Created the database at {where}."
    if before != head_revision():
        return db, f"Migrated the database at {where} to the current version."
    return db, f"The database at {where} is up to date."


def _configured() -> Database:
    url = Settings().database_url
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        _fail(f"RENEWQUOTE_DATABASE_URL is not a database URL: use {_URL_FORMS}")
    if backend not in ("sqlite", "postgresql"):
        _fail(f"RENEWQUOTE_DATABASE_URL names a {backend} database: use {_URL_FORMS}")
    try:
        return Database(url)
    except (SQLAlchemyError, ImportError) as error:
        # A driver that is not installed (postgresql+psycopg2) fails here, before connecting.
        _fail(f"cannot use RENEWQUOTE_DATABASE_URL: {_first_line(error)}")


def _revision(db: Database) -> str | None:
    where = _where(db)
    try:
        current = current_revision(db)
    except SQLAlchemyError as error:
        _fail(f"cannot open the database at {where}: {_first_line(error)}")
    # Alembic could neither read nor migrate it: its revision is not among ours.
    if current is not None and not is_packaged(current):
        _fail(
            f"the database at {where} was migrated by a newer release of renewquote "
            f"(revision {current}): use that release"
        )
    return current


def _fail(message: str) -> NoReturn:
    _say_error("error", message)
    raise typer.Exit(1)


def _say_error(label: str, message: str) -> None:
    # One line however long: the terminal wraps it, and grep finds the whole sentence.
    errors.print(Text.assemble((label, "red"), ": ", message), soft_wrap=True)


def _where(db: Database) -> str:
    path = db.sqlite_path
    if path is None:
        return db.url.render_as_string(hide_password=True)
    if path.is_absolute() or path.parts[0] in (".", ".."):
        return str(path)
    # "./renewquote.db": a bare name does not say that it is relative to where one stands.
    return f".{os.sep}{path}"


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _refused(error: RuleViolation, as_json: bool, language: str = "en") -> NoReturn:
    from renewquote.api.problems import problem_of

    if as_json:
        print(problem_of(error, language).model_dump_json(indent=2))
    else:
        for v in error.violations:
            ids = f" [{', '.join(v.subscription_ids)}]" if v.subscription_ids else ""
            _say_error(v.code.value, f"{v.message(language)}{ids}")
    raise typer.Exit(1)


def _not_found(what: str) -> NoReturn:
    _say_error("not_found", what)
    raise typer.Exit(1)


def _is_not_found(error: RuleViolation) -> bool:
    return all(v.code is Code.NOT_FOUND for v in error.violations)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by RENEWQUOTE_DATABASE_URL."""
    _, done = _migrated()
    console.print(done, soft_wrap=True)


@app.command(epilog=f"The file's format is described in {BOOK_FORMAT}.")
def load(file: Annotated[Path, typer.Argument(help="A book of business (JSON).")]) -> None:
    """Load a book of business in one transaction; a bad file is refused whole, every problem
    listed, and nothing is written. The format: docs/book.md."""
    from renewquote.services.book import BookError, load_book

    try:
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        _say_error(f"cannot read {file}", str(exc.strerror))
        raise typer.Exit(2) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "it is not UTF-8 text"
        )
        _say_error(f"{file} is not JSON", where)
        raise typer.Exit(1) from None
    db, _ = _migrated()
    try:
        report = load_book(db, data)
    except BookError as exc:
        table = Table(
            "where in the file", "what is wrong", title=f"{file} was refused; nothing was written"
        )
        for problem in exc.problems:
            table.add_row(problem.path or "(top)", problem.message)
        errors.print(table)
        errors.print(f"The format of a book of business is described in {BOOK_FORMAT}.")
        raise typer.Exit(1) from None
    console.print(f"Loaded {file}: {report}")


@app.command()
def demo(today: Today = None) -> None:
    """Load the built-in demo book (dates relative to today) and print the demo logins."""
    from renewquote.services.book import load_book
    from renewquote.services.demo import DEMO_LOGINS, demo_book

    book = demo_book(_today(today))
    db, _ = _migrated()
    report = load_book(db, book)
    console.print(f"Demo book loaded: {report}")
    table = Table("who", "e-mail", "password", title="Demo logins")
    for who, email, password in DEMO_LOGINS:
        table.add_row(who, email, password)
    console.print(table)


@app.command()
def groups(
    csn: Annotated[str, typer.Argument(help="The customer's CSN.")],
    as_json: AsJson = False,
    channel: Annotated[
        View, typer.Option(help="Whose view: the buyer's (self_service), a partner's, staff's.")
    ] = View.SELF_SERVICE,
    language: LanguageOption = Language.EN,
    today: Today = None,
) -> None:
    """Show a customer's renewal groups and every ineligible subscription with its reasons."""
    from renewquote.api.schemas import RenewalGroups
    from renewquote.services.renewals import renewal_groups

    lang = str(language.value)
    try:
        result = renewal_groups(
            _database(),
            OPERATOR,
            today=_today(today),
            customer_csn=csn,
            channel=Channel(channel.value),
        )
    except RuleViolation as exc:
        if not as_json and _is_not_found(exc):
            _not_found(f"no customer {csn}")
        _refused(exc, as_json, lang)
    if as_json:
        print(RenewalGroups.of(result, lang).model_dump_json(indent=2))
        return
    table = Table(
        "currency", "method", "partner", "subscriptions", title=f"Renewal groups of {csn}"
    )
    for g in result.groups:
        table.add_row(
            g.key.currency,
            g.key.purchase_method.value,
            g.key.partner_csn or "-",
            ", ".join(g.subscription_ids),
        )
    if result.groups:
        console.print(table)
    else:
        console.print(f"No subscription of {csn} can be renewed on a quote now.")
    if result.ineligible:
        left = Table("subscription", "why not", title="Not eligible now")
        for item in result.ineligible:
            for reason in item.reasons:
                left.add_row(item.subscription_id, f"{reason.code.value}: {reason.message(lang)}")
        console.print(left)


@quote_app.command("show")
def quote_show(
    number: Annotated[str, typer.Argument(help="The quote number, e.g. Q-2026-000001.")],
    as_json: AsJson = False,
) -> None:
    """Show a quote as stored: lines, promotions, totals, recipients."""
    from renewquote.api.schemas import QuotePublic
    from renewquote.services.quoting.lifecycle import get_quote

    try:
        quote = get_quote(_database(), OPERATOR, number)
    except RuleViolation as exc:
        if as_json or not _is_not_found(exc):
            _refused(exc, as_json)
        _not_found(f"no quote {number}")
    shown = QuotePublic.of(quote)
    if as_json:
        print(shown.model_dump_json(indent=2))
        return
    console.print(
        Text.assemble(
            (shown.number, "bold"),
            f" {shown.type} quote, ",
            (shown.status, "bold"),
            f", customer {shown.customer_csn}, {shown.currency}, valid until {shown.expires_at}",
        )
    )
    table = Table("#", "subscription", "seats", "term", "unit", "discount", "amount")
    for position, line in enumerate(shown.lines, start=1):
        offering = line.offering.name
        promotion = f"\n{line.promotion.name}" if line.promotion else ""
        table.add_row(
            str(position),
            f"{line.subscription_id or line.kind}\n{offering}{promotion}",
            str(line.quantity),
            f"{line.term}\n{line.start_date}\n{line.end_date}",
            line.unit_price,
            line.discount,
            line.amount,
        )
    console.print(table)
    currency = quote.currency
    console.print(
        Text.assemble(
            f"subtotal {shown.subtotal}  discounts -{shown.discount_total}  tax {shown.tax}  ",
            (f"total {amount_text(quote.total, currency)} {currency}", "bold"),
        )
    )
    console.print("recipients: " + ", ".join(f"{r.email} ({r.role})" for r in shown.recipients))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use several on PostgreSQL).")] = 1,
) -> None:
    """Serve the API (and its OpenAPI document at /docs) on the database of the settings."""
    import tempfile

    import uvicorn

    # Before uvicorn starts: a database it cannot open is one sentence, not a worker's traceback.
    db, _ = _migrated()
    db.dispose()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics there, and /metrics adds them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="renewquote-metrics-")
    from renewquote.api.server import server_options

    options = server_options(Settings().forwarded_allow_ips)
    uvicorn.run("renewquote.api.asgi:app", host=host, port=port, workers=workers, **options)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Do what is due now, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between two rounds when one found nothing.", min=0.1)
    ] = 3.0,
    batch: Annotated[int, typer.Option(help="Mails claimed at a time.", min=1, max=1000)] = 50,
    lease: Annotated[
        float,
        typer.Option(
            help="Seconds a claim holds its mails; a worker that dies leaves them to others "
            "after this long.",
            min=1,
        ),
    ] = LEASE_SECONDS,
) -> None:
    """Deliver queued mail over SMTP (RENEWQUOTE_SMTP_URL) and end quotes past their validity;
    stops cleanly on SIGTERM or Ctrl-C. Several workers may run at once on PostgreSQL."""
    import signal
    import threading
    import time
    from datetime import timedelta

    from renewquote.api.schemas import webhook_body
    from renewquote.delivery.pdf import PdfRenderer
    from renewquote.delivery.smtp import SmtpMailer, shown_url
    from renewquote.delivery.webhooks import HttpPoster
    from renewquote.services.mailing import MailSettings
    from renewquote.services.worker import WebhookSettings, work_once

    settings = Settings()
    db = _database()
    mail = MailSettings(public_url=settings.public_url, sender=settings.mail_from)
    try:
        SmtpMailer(settings.smtp_url)
    except ValueError as error:
        _fail(str(error))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if not once:
        console.print(f"Worker delivering mail to {shown_url(settings.smtp_url)}; Ctrl-C to stop.")
    last_time_driven = -TIME_DRIVEN_EVERY
    waker = Waker(db.engine) if not once else None
    renderer = PdfRenderer()
    while not stop.is_set():
        time_driven = time.monotonic() - last_time_driven >= TIME_DRIVEN_EVERY
        if time_driven:
            last_time_driven = time.monotonic()
        try:
            with SmtpMailer(settings.smtp_url) as mailer, HttpPoster() as poster:
                hooks = WebhookSettings(poster, webhook_body, settings.webhooks_allow_private)
                done = work_once(
                    db,
                    mailer,
                    mail,
                    clock=utcnow,
                    batch=batch,
                    lease=timedelta(seconds=lease),
                    hooks=hooks,
                    time_driven=time_driven,
                    renderer=renderer,
                )
        except Exception as error:
            # The database away for a while, or a bug: said in one line, tried again next
            # round; delivery never stops for good.
            if isinstance(error, SQLAlchemyError):
                _say_error("error", f"the database refused: {_first_line(error)}")
            else:
                _say_error("error", f"unexpected {type(error).__name__}: {_first_line(error)}")
            if once:
                sys.exit(1)
            stop.wait(interval)
            continue
        if not done.idle:
            m, w = done.mail, done.webhooks
            console.print(
                f"{utcnow():%H:%M:%S} mail: {m.sent} sent, {m.retried} to retry, {m.failed} "
                f"failed; webhooks: {w.sent} posted, {w.retried} to retry, {w.failed} failed; "
                f"quotes expired: {len(done.expired)}, reminded: {len(done.reminded)}, "
                f"made automatically: {len(done.automatic)}"
            )
        if once:
            break
        if done.idle and waker is not None:
            # Nothing was due: wait for the next message (PostgreSQL wakes us) or the interval.
            waker.wait(interval, stop)
    if waker is not None:
        waker.close()
    renderer.close()
    db.dispose()


@app.command()
def mailsink(
    folder: Annotated[Path, typer.Option(help="Where each message is kept as a .eml file.")] = Path(
        "mail"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
) -> None:
    """Run an SMTP server for development that keeps every message in FOLDER; Ctrl-C stops."""
    import signal
    import threading

    from renewquote.delivery.mailsink import serve_sink

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    console.print(f"Mail sink on smtp://{host}:{port}, keeping messages in {folder.resolve()}/")
    try:
        serve_sink(folder, host, port, stop.wait)
    except OSError as error:
        _fail(f"cannot listen on {host}:{port}: {error.strerror or error}")


@app.command()
def token(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    hours: Annotated[int, typer.Option(help="Hours until it expires.", min=1)] = 12,
) -> None:
    """Print a new API token for a user (for scripts)."""
    from datetime import timedelta

    from renewquote.services.auth import issue_token

    try:
        issued = issue_token(_database(), email, now=utcnow(), lifetime=timedelta(hours=hours))
    except RuleViolation:
        _not_found(f"no user {email}")
    print(issued.access_token)


def main() -> None:
    """Run the command line; an unusable database or an unexpected error is one sentence."""
    try:
        app()
    except SQLAlchemyError as error:
        _say_error("error", f"the database refused: {_first_line(error)}")
        sys.exit(1)
    except Exception as error:
        # The promise is no traceback, even for a bug: one sentence names the error instead.
        _say_error("error", f"unexpected {type(error).__name__}: {_first_line(error)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
