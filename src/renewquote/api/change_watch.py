"""Keep what a server process holds for long true to the database: callers and promotions.

Each worker keeps who a bearer token belongs to (api.dependencies) and the promotions running
today (storage.repository.running_promotions), which saves a query on nearly every call. On
PostgreSQL, triggers notify `renewquote_callers` whenever a statement changes or deletes users or
tokens (migration 0010) and `renewquote_promotions` whenever one changes promotions (0011),
whoever runs it (sign-out in another worker, `renewquote load`, an administrator's SQL); this
thread LISTENs and forgets what a notification concerns at once, so callers and promotions can be
kept for minutes. Whenever it is not listening (starting, its connection lost, SQLite) callers
are kept for ten seconds only and promotions not at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg

from renewquote.api.dependencies import forget_all, listening, watched
from renewquote.storage.database import Database, listen
from renewquote.storage.repository import forget_promotions, watch_promotions

CALLERS = "renewquote_callers"  # as the trigger of migration 0010 names it
PROMOTIONS = "renewquote_promotions"  # and that of migration 0011
# What each notification makes this process forget.
FORGET: dict[str, Callable[[], None]] = {CALLERS: forget_all, PROMOTIONS: forget_promotions}
RETRY_SECONDS = 1.0
PING_SECONDS = 30.0
log = logging.getLogger(__name__)


class ChangeWatch:
    """A thread that makes this process forget kept callers and promotions when they change."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening (PostgreSQL only: SQLite keeps callers briefly, promotions never)."""
        if self._db.is_sqlite or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="change-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: the thread ends on its own within half a second."""
        self._stop.set()
        self._thread = None

    def _run(self) -> None:
        engines = (self._db.engine, self._db.reader, self._db.bookkeeper)
        while not self._stop.is_set():
            try:
                connection = listen(self._db.engine, *FORGET)
            except (psycopg.Error, OSError) as error:
                log.warning("change watch cannot listen: %s", error)
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                forget_all()  # what changed before it listened went unannounced
                watch_promotions(engines, True)  # forgets them too
                listening(True)
                pinged = time.monotonic()
                while not self._stop.is_set():
                    # Short slices, so that stop() is heard at once.
                    for notification in connection.notifies(timeout=0.5, stop_after=1):
                        FORGET[notification.channel]()
                    if time.monotonic() - pinged >= PING_SECONDS:
                        # A connection dropped on the way raises nothing while idle: ask.
                        connection.execute("SELECT 1")
                        pinged = time.monotonic()
            except Exception as error:  # its connection lost, or worse: listen again
                log.warning("change watch stopped listening: %s", error)
            finally:
                listening(False)
                watch_promotions(engines, False)
                if not watched():  # what was kept for long is no longer watched over
                    forget_all()
                connection.close()
            self._stop.wait(RETRY_SECONDS)
