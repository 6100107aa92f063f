"""`renewquote worker` and `renewquote mailsink` as real processes: mail kept as files, a worker
killed mid-batch, two workers on one PostgreSQL outbox. The demo book, on today's date, since
the worker runs on the real clock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from renewquote.cli import LEASE_SECONDS
from renewquote.clock import utcnow
from renewquote.domain.model import QuoteType
from renewquote.domain.quotes import Quote, Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.auth import find_caller
from renewquote.services.book import load_book
from renewquote.services.demo import demo_book
from renewquote.services.mailing import LEASE, queue_quote_mail
from renewquote.services.quoting import QuoteDraft, create_quote, send_quote
from renewquote.storage.database import Database
from renewquote.storage.tables import outbox
from tests.conftest import FAST_HASHER

RENEWQUOTE = Path(sys.executable).with_name("renewquote")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(db: Database, smtp_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENEWQUOTE_")}
    return env | {
        "RENEWQUOTE_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "RENEWQUOTE_SMTP_URL": smtp_url,
        "RENEWQUOTE_PUBLIC_URL": "http://quotes.test",
        "COLUMNS": "100",
    }


class Inbox:
    """Keeps the Message-ID of everything it is given."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.ids.append(str(message["Message-ID"]))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def sent_demo_quote(db: Database, extra_recipients: int = 3) -> Quote:
    """Load the demo book on today's date; the demo buyer sends a quote to herself and
    `extra_recipients` more."""
    today, now = utcnow().date(), utcnow()
    load_book(db, demo_book(today), hasher=FAST_HASHER)
    marie = find_caller(db, "marie@dupont.example")
    draft = QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=(LineRequest(subscription_id="SUB-1001"),),
        recipients=tuple(
            Recipient(f"copy{n}@dupont.example") for n in range(1, extra_recipients + 1)
        ),
    )
    quote = create_quote(db, marie, draft, today=today, now=now)
    return send_quote(db, marie, quote.number, today=today, now=now)


def queue_copies(db: Database, quote: Quote, times: int) -> None:
    """Queue the quote's mail `times` more times (new links and Message-IDs each time)."""
    with db.write() as conn:
        for _ in range(times):
            queue_quote_mail(conn, quote, utcnow())


def queued_ids(db: Database) -> list[str]:
    with db.read() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == "mail.quote"))
        return [row.payload["message_id"] for row in rows]


def test_the_cli_lease_is_the_services(db: Database) -> None:
    assert LEASE.total_seconds() == LEASE_SECONDS


def test_the_mail_sink_keeps_what_a_worker_delivers_once(db: Database, tmp_path: Path) -> None:
    quote = sent_demo_quote(db, extra_recipients=1)
    port = free_port()
    env = environment(db, f"smtp://127.0.0.1:{port}")
    folder = tmp_path / "mail"
    sink = subprocess.Popen(
        [str(RENEWQUOTE), "mailsink", "--folder", str(folder), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and sink.poll() is None, "no sink"
                time.sleep(0.1)
        worker = subprocess.run(
            [str(RENEWQUOTE), "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 0, worker.stdout + worker.stderr
        assert "mail: 2 sent, 0 to retry, 0 failed" in worker.stdout
        again = subprocess.run(
            [str(RENEWQUOTE), "worker", "--once"], env=env, capture_output=True, text=True
        )
        assert again.returncode == 0 and again.stdout == ""  # nothing left: says nothing
    finally:
        sink.send_signal(signal.SIGTERM)
        out, err = sink.communicate(timeout=20)
    assert sink.returncode == 0, err
    assert "Traceback" not in out + err
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert all(quote.number in subject for subject in subjects)
    # One line a message, naming the recipient and the file.
    lines = [line for line in out.splitlines() if ".eml" in line]
    assert len(lines) == 2 and any("copy1@dupont.example" in line for line in lines)


def children(pid: int) -> list[int]:
    """Return the processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pids: list[int], *, within: float) -> bool:
    """Tell whether these processes all end within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_one(
    db: Database, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    quote = sent_demo_quote(db)  # 4 recipients
    queue_copies(db, quote, 49)  # 200 mails in all
    expected = queued_ids(db)
    assert len(expected) == 200
    env = environment(db, url)
    command = [str(RENEWQUOTE), "worker", "--batch", "50", "--lease", "2", "--interval", "0.2"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(inbox.ids) < 70:  # in the middle of the second batch
        assert time.monotonic() < deadline and first.poll() is None, "the worker stalled"
        time.sleep(0.005)
    drawers = children(first.pid)  # its PDF process
    assert drawers, "the worker draws no PDF in a process of its own"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert gone(drawers, within=10), "a killed worker left its PDF process behind"
    killed_at = len(inbox.ids)
    assert killed_at < 200
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while len(set(inbox.ids)) < 200:
            assert time.monotonic() < deadline and second.poll() is None, "mail left behind"
            time.sleep(0.05)
        drawers = children(second.pid)
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=30)
    assert second.returncode == 0 and b"Traceback" not in err, err
    assert gone(drawers, within=5), "a stopped worker left its PDF process behind"
    assert set(inbox.ids) == set(expected)
    repeated = [mid for mid, count in Counter(inbox.ids).items() if count > 1]
    assert len(repeated) <= 1, repeated  # only the one in flight at the kill, if any
    with db.read() as conn:
        states = Counter(
            conn.execute(select(outbox.c.status).where(outbox.c.topic == "mail.quote")).scalars()
        )
    assert states == {"sent": 200}


def test_two_workers_drain_one_postgresql_outbox_without_a_duplicate(
    db: Database, smtp: tuple[Inbox, str]
) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite workers take turns at the one writer's lock")
    inbox, url = smtp
    quote = sent_demo_quote(db)
    queue_copies(db, quote, 249)  # 1,000 mails
    expected = queued_ids(db)
    assert len(expected) == 1000
    env = environment(db, url)
    command = [str(RENEWQUOTE), "worker", "--once", "--batch", "25"]
    workers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and "Traceback" not in out + err, out + err
    assert sorted(inbox.ids) == sorted(expected)  # each once, none missing
    sent = [int(out.split("mail: ")[1].split(" sent")[0]) for out, _ in outputs]
    assert sum(sent) == 1000 and min(sent) > 0, sent  # both took a share
