"""Keep the callers a server process holds for long true to the database.

Each worker keeps who a bearer token belongs to (api.dependencies), which saves a query on
nearly every call, and with a customer's contact its company's region. On PostgreSQL, triggers
notify `renewquote_callers` whenever a statement changes or deletes users or tokens (migration
0010), customers or countries (0013), whoever runs it (sign-out in another worker, `renewquote
load`, an administrator's SQL); this thread LISTENs and forgets the kept callers at once, so
they can be kept for minutes. Whenever it is not listening (starting, its connection lost,
SQLite) callers are kept for ten seconds only.

(Promotions need no watch: each quote reads their version with its other facts, see
storage.repository.running_promotions.)
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from renewquote.api.dependencies import forget_all, listening, watched
from renewquote.storage.database import Database, listen

CALLERS = "renewquote_callers"  # as the trigger of migration 0010 names it
RETRY_SECONDS = 1.0
PING_SECONDS = 30.0
log = logging.getLogger(__name__)


class ChangeWatch:
    """A thread that makes this process forget the callers it keeps when they change."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening (PostgreSQL only: SQLite keeps callers briefly)."""
        if self._db.is_sqlite or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="change-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: the thread ends on its own within half a second."""
        self._stop.set()
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection = listen(self._db.engine, CALLERS)
            except (psycopg.Error, OSError) as error:
                log.warning("change watch cannot listen: %s", error)
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                forget_all()  # what changed before it listened went unannounced
                listening(True)
                pinged = time.monotonic()
                while not self._stop.is_set():
                    # Short slices, so that stop() is heard at once.
                    for _notification in connection.notifies(timeout=0.5, stop_after=1):
                        forget_all()
                    if time.monotonic() - pinged >= PING_SECONDS:
                        # A connection dropped on the way raises nothing while idle: ask.
                        connection.execute("SELECT 1")
                        pinged = time.monotonic()
            except Exception as error:  # its connection lost, or worse: listen again
                log.warning("change watch stopped listening: %s", error)
            finally:
                listening(False)
                if not watched():  # what was kept for long is no longer watched over
                    forget_all()
                connection.close()
            self._stop.wait(RETRY_SECONDS)
