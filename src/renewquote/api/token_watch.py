"""Keep a server process's token cache true to the database while it holds callers longer.

Each worker keeps who a bearer token belongs to (api.dependencies), which saves the token's query
on every call after the first. On PostgreSQL, a trigger notifies `renewquote_callers` whenever a
statement changes or deletes users or tokens, whoever runs it (sign-out in another worker,
`renewquote load`, an administrator's SQL); this thread LISTENs and empties the cache on each
notification, so callers can be kept for minutes instead of seconds. Whenever it is not listening
(starting, its connection lost, SQLite) the cache keeps callers for ten seconds only.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg

from renewquote.api.dependencies import forget_all, listening, watched
from renewquote.storage.database import Database, listen

CHANNEL = "renewquote_callers"  # as the trigger of migration 0010 names it
RETRY_SECONDS = 1.0
PING_SECONDS = 30.0
log = logging.getLogger(__name__)


class TokenWatch:
    """A thread that empties this process's token cache whenever users or tokens change."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening (PostgreSQL only: SQLite keeps the short cache)."""
        if self._db.is_sqlite or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="token-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: the thread ends on its own within half a second."""
        self._stop.set()
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection = listen(self._db.engine, CHANNEL)
            except (psycopg.Error, OSError) as error:
                log.warning("token watch cannot listen: %s", error)
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                forget_all()  # what changed before it listened went unannounced
                listening(True)
                pinged = time.monotonic()
                while not self._stop.is_set():
                    # Short slices, so that stop() is heard at once.
                    for _ in connection.notifies(timeout=0.5, stop_after=1):
                        forget_all()
                    if time.monotonic() - pinged >= PING_SECONDS:
                        # A connection dropped on the way raises nothing while idle: ask.
                        connection.execute("SELECT 1")
                        pinged = time.monotonic()
            except Exception as error:  # its connection lost, or worse: listen again
                log.warning("token watch stopped listening: %s", error)
            finally:
                listening(False)
                if not watched():  # what was kept for long is no longer watched over
                    forget_all()
                connection.close()
            self._stop.wait(RETRY_SECONDS)
