"""The `renewquote` command line, thin over the services: Rich for people, JSON for scripts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from renewquote.clock import utcnow
from renewquote.domain.errors import RuleViolation
from renewquote.domain.model import Channel
from renewquote.services import renewals
from renewquote.services.actors import Actor
from renewquote.services.public import groups_public, problem_public, quote_public
from renewquote.services.quoting import get_quote
from renewquote.settings import Settings
from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade

app = typer.Typer(help="Renewal quotes for software subscriptions.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
quote_app = typer.Typer(help="Quotes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(quote_app, name="quote")

console = Console()
errors = Console(stderr=True)

Today = Annotated[
    str | None,
    typer.Option(help="The day to judge eligibility on (YYYY-MM-DD); default today."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the API's shape).")]
Language = Annotated[str, typer.Option("--lang", help="Language of the reasons: en or fr.")]
OPERATOR = Actor(email="operator@cli", kind="staff")


def _database() -> Database:
    return Database(Settings().database_url)


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _refused(error: RuleViolation, as_json: bool) -> None:
    if as_json:
        print(json.dumps(problem_public(error), indent=2))
    else:
        for v in error.violations:
            ids = f" [{', '.join(v.subscription_ids)}]" if v.subscription_ids else ""
            errors.print(f"[red]{v.code.value}[/red]: {v.message()}{ids}")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by RENEWQUOTE_DATABASE_URL."""
    db = _database()
    upgrade(db)
    console.print(f"Database at {db.url.render_as_string(hide_password=True)} is up to date.")


@app.command()
def load(file: Annotated[Path, typer.Argument(help="A book of business (JSON).")]) -> None:
    """Load a book of business in one transaction; a bad file is refused whole."""
    from renewquote.services.book import BookError, load_book

    try:
        data: Any = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        errors.print(f"[red]cannot read {file}[/red]: {exc.strerror}")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        errors.print(
            f"[red]{file} is not JSON[/red]: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        )
        raise typer.Exit(1) from None
    db = _database()
    upgrade(db)
    try:
        report = load_book(db, data)
    except BookError as exc:
        table = Table(
            "where in the file", "what is wrong", title=f"{file} was refused; nothing was written"
        )
        for problem in exc.problems:
            table.add_row(problem.path or "(top)", problem.message)
        errors.print(table)
        raise typer.Exit(1) from None
    console.print(f"Loaded {file}: {report}")


@app.command()
def demo(today: Today = None) -> None:
    """Load the built-in demo book (dates relative to today) and print the demo logins."""
    from renewquote.services.book import load_book
    from renewquote.services.demo import DEMO_LOGINS, demo_book

    db = _database()
    upgrade(db)
    report = load_book(db, demo_book(_today(today)))
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
        str, typer.Option(help="Whose view: self_service (the buyer's), partner or staff.")
    ] = Channel.SELF_SERVICE.value,
    language: Language = "en",
    today: Today = None,
) -> None:
    """Show a customer's renewal groups and every ineligible subscription with its reasons."""
    db = _database()
    try:
        result = renewals.groups_for(db, csn, channel=Channel(channel), today=_today(today))
    except RuleViolation as exc:
        _refused(exc, as_json)
        return
    if as_json:
        print(json.dumps(groups_public(result, language), indent=2))
        return
    table = Table(
        "customer",
        "currency",
        "purchase method",
        "partner",
        "subscriptions",
        title=f"Renewal groups of {csn}",
    )
    for g in result.groups:
        table.add_row(
            g.key.customer_csn,
            g.key.currency,
            g.key.purchase_method,
            g.key.partner_csn or "-",
            ", ".join(g.subscription_ids),
        )
    if result.groups:
        console.print(table)
    else:
        console.print(f"No subscription of {csn} can be renewed on a quote now.")
    if result.ineligible:
        left = Table("subscription", "code", "why", title="Not eligible now")
        for item in result.ineligible:
            for reason in item.reasons:
                left.add_row(item.subscription_id, reason.code.value, reason.message(language))
        console.print(left)


@quote_app.command("show")
def quote_show(
    number: Annotated[str, typer.Argument(help="The quote number, e.g. Q-2026-000001.")],
    as_json: AsJson = False,
) -> None:
    """Show a quote as stored: lines, promotions, totals, recipients."""
    try:
        quote = get_quote(_database(), OPERATOR, number)
    except RuleViolation as exc:
        _refused(exc, as_json)
        return
    if as_json:
        print(json.dumps(quote_public(quote), indent=2))
        return
    console.print(
        f"[bold]{quote.number}[/bold] {quote.type} quote, [bold]{quote.status.value}[/bold], "
        f"customer {quote.customer_csn}, {quote.currency}, valid until {quote.expires_at}"
    )
    table = Table(
        "#",
        "subscription",
        "offering",
        "qty",
        "term",
        "period",
        "unit",
        "promotion",
        "discount",
        "amount",
        "tax",
    )
    for line in quote.lines:
        table.add_row(
            str(line.position),
            line.subscription_id or f"({line.kind})",
            line.offering_name,
            str(line.quantity),
            line.term,
            f"{line.start_date} → {line.end_date}",
            str(line.unit_price),
            line.promotion_name or "",
            str(line.discount),
            str(line.amount),
            str(line.tax),
        )
    console.print(table)
    console.print(
        f"subtotal {quote.subtotal}  discounts -{quote.discount_total}  tax {quote.tax}  "
        f"[bold]total {quote.total} {quote.currency}[/bold]"
    )
    console.print("recipients: " + ", ".join(f"{r.email} ({r.role})" for r in quote.recipients))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use several on PostgreSQL).")] = 1,
) -> None:
    """Serve the API (and its OpenAPI document at /docs) on the database of the settings."""
    import os
    import tempfile

    import uvicorn

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics there, and /metrics adds them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="renewquote-metrics-")
    upgrade(_database())
    uvicorn.run(
        "renewquote.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def token(
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    hours: Annotated[int, typer.Option(help="Hours until it expires.")] = 12,
) -> None:
    """Print a new API token for a user (for scripts)."""
    from datetime import timedelta

    from renewquote.services.auth import issue_token

    try:
        issued = issue_token(_database(), email, now=utcnow(), lifetime=timedelta(hours=hours))
    except RuleViolation as exc:
        _refused(exc, False)
        return
    print(issued.access_token)


if __name__ == "__main__":
    app()
