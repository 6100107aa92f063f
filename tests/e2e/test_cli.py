"""`renewquote` as a user runs it: the installed script, in a folder of its own, 80 columns wide.

Each command is a real process (about a second each), so a test groups the checks that share
a database. Every run also checks that nothing printed a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from renewquote.domain.model import QuoteType
from renewquote.domain.money import amount_text
from renewquote.domain.quotes import Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.auth import find_caller
from renewquote.services.book import load_book
from renewquote.services.demo import DUPONT, HORIZONTE, demo_book
from renewquote.services.quoting import QuoteDraft, create_quote
from renewquote.services.renewals import renewal_groups
from renewquote.storage.database import Database
from tests.book import NOW, TODAY
from tests.conftest import FAST_HASHER

RENEWQUOTE = Path(sys.executable).with_name("renewquote")
POSTGRES_URL = os.environ.get("RENEWQUOTE_TEST_POSTGRES_URL")
NO_DATABASE = (
    "error: no database at ./renewquote.db: "
    "run `renewquote db upgrade` or set RENEWQUOTE_DATABASE_URL\n"
)


def renewquote(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `renewquote *args` in `cwd` on the database at `url`, in an 80-column terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENEWQUOTE_")}
    env.pop("FORCE_COLOR", None)
    env |= {"RENEWQUOTE_DATABASE_URL": url, "COLUMNS": "80"}
    # A timeout, so that a `serve` that started after all fails the test instead of hanging.
    done = subprocess.run(
        [str(RENEWQUOTE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def url_of(db: Database) -> str:
    """Return the URL `renewquote` needs to reach `db`."""
    return db.url.render_as_string(hide_password=False)


def panel_text(output: str) -> str:
    """Return the words of Click's error panel, its frame and line breaks taken out."""
    return " ".join(output.replace("│", " ").split())


def assert_fits_80_columns(output: str) -> None:
    """Check that no line of `output` is wider than an 80-column terminal."""
    wide = [line for line in output.splitlines() if len(line) > 80]
    assert wide == [], "\n".join(wide)


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated(request: pytest.FixtureRequest, worker_id: str) -> Iterator[tuple[str, str]]:
    """A database without tables, and how `renewquote` names it: a SQLite file still to be
    created in the working folder, then a new PostgreSQL database, dropped afterwards."""
    if request.param == "sqlite":
        yield "sqlite:///renewquote.db", "./renewquote.db"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL half skipped: RENEWQUOTE_TEST_POSTGRES_URL is not set")
    base = make_url(POSTGRES_URL)
    url = base.set(database=f"{base.database}_rq_cli_{worker_id}_{os.getpid()}")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    with admin.connect() as conn:
        conn.execute(drop)
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    yield url.render_as_string(hide_password=False), url.render_as_string(hide_password=True)
    with admin.connect() as conn:
        conn.execute(drop)
    admin.dispose()


def test_commands_refuse_a_missing_database_in_one_sentence_and_leave_no_file(
    tmp_path: Path,
) -> None:
    for command in (["groups", DUPONT], ["quote", "show", "Q-2026-000001"], ["token", "a@b.fr"]):
        done = renewquote("sqlite:///renewquote.db", tmp_path, *command)

        assert (done.returncode, done.stdout, done.stderr) == (1, "", NO_DATABASE), command
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_file_is_refused_as_not_migrated(tmp_path: Path) -> None:
    (tmp_path / "renewquote.db").touch()

    done = renewquote("sqlite:///renewquote.db", tmp_path, "groups", DUPONT)

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: the database at ./renewquote.db is not migrated: "
        "run `renewquote db upgrade` or set RENEWQUOTE_DATABASE_URL\n"
    )


def test_a_bad_channel_or_language_lists_the_choices_before_any_database_is_opened(
    tmp_path: Path,
) -> None:
    channel = renewquote("sqlite:///renewquote.db", tmp_path, "groups", DUPONT, "--channel", "x")
    lang = renewquote("sqlite:///renewquote.db", tmp_path, "groups", DUPONT, "--lang", "de")

    assert (channel.returncode, channel.stdout) == (2, "")
    assert "'x' is not one of 'self_service', 'partner', 'staff'." in panel_text(channel.stderr)
    assert (lang.returncode, lang.stdout) == (2, "")
    assert "'de' is not one of 'en', 'fr'." in panel_text(lang.stderr)
    assert list(tmp_path.iterdir()) == []


def test_every_command_on_an_unreachable_postgresql_says_so_in_one_sentence(
    tmp_path: Path,
) -> None:
    # A database that is not on the test server; without one, a port nothing listens on.
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL).set(database="no_such_db").render_as_string(False)
    else:
        url = "postgresql+psycopg://renewquote@127.0.0.1:1/renewquote"
    book = tmp_path / "book.json"
    book.write_text("{}", encoding="utf-8")
    shown = make_url(url).render_as_string(hide_password=True)

    for command in (
        ["db", "upgrade"],
        ["load", str(book)],
        ["demo"],
        ["serve", "--port", "0"],
        ["token", "ops@vendor.example"],
    ):
        done = renewquote(url, tmp_path, *command)

        assert (done.returncode, done.stdout) == (1, ""), command
        assert done.stderr.startswith(f"error: cannot open the database at {shown}: "), command
        assert done.stderr.count("\n") == 1, command
        if POSTGRES_URL:
            assert 'database "no_such_db" does not exist' in done.stderr


def test_db_upgrade_says_it_created_the_database_then_that_it_is_up_to_date(
    unmigrated: tuple[str, str], tmp_path: Path
) -> None:
    url, shown = unmigrated

    first = renewquote(url, tmp_path, "db", "upgrade")
    second = renewquote(url, tmp_path, "db", "upgrade")

    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == f"Created the database at {shown}.\n"
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout == f"The database at {shown} is up to date.\n"


def test_an_unknown_customer_or_quote_is_named_in_one_line(db: Database, tmp_path: Path) -> None:
    customer = renewquote(url_of(db), tmp_path, "groups", "5299999999")
    quote = renewquote(url_of(db), tmp_path, "quote", "show", "Q-2026-999999")

    assert (customer.returncode, customer.stdout) == (1, "")
    assert customer.stderr == "not_found: no customer 5299999999\n"
    assert (quote.returncode, quote.stdout) == (1, "")
    assert quote.stderr == "not_found: no quote Q-2026-999999\n"


def test_groups_and_a_quote_fit_an_80_column_terminal(db: Database, tmp_path: Path) -> None:
    load_book(db, demo_book(TODAY), hasher=FAST_HASHER)
    marie = find_caller(db, "marie@dupont.example")
    biggest = max(
        renewal_groups(db, marie, today=TODAY).groups, key=lambda g: len(g.subscription_ids)
    )
    quote = create_quote(
        db,
        marie,
        QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=tuple(LineRequest(subscription_id=s) for s in biggest.subscription_ids),
            recipients=(Recipient("comptabilite.fournisseurs.europe@dupont.example", "Compta"),),
        ),
        today=TODAY,
        now=NOW,
    )
    day = TODAY.isoformat()

    dupont = renewquote(url_of(db), tmp_path, "groups", DUPONT, "--lang", "fr", "--today", day)
    horizonte = renewquote(url_of(db), tmp_path, "groups", HORIZONTE, "--today", day)
    shown = renewquote(url_of(db), tmp_path, "quote", "show", quote.number)

    for done in (dupont, horizonte, shown):
        assert (done.returncode, done.stderr) == (0, "")
        assert_fits_80_columns(done.stdout)
    assert "Renewal groups of" in dupont.stdout and "Not eligible now" in dupont.stdout
    assert all(s in dupont.stdout for s in biggest.subscription_ids)
    assert "region_not_enabled" in horizonte.stdout
    assert shown.stdout.startswith(f"{quote.number} renewal quote, draft, customer {DUPONT}")
    assert all(s in shown.stdout for s in biggest.subscription_ids)
    assert f"total {amount_text(quote.total, quote.currency)} {quote.currency}" in shown.stdout
