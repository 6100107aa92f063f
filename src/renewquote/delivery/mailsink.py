"""`renewquote mailsink`: an SMTP server for development that keeps every message it is
given as a `.eml` file and prints a line for each."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

_HEADERS = BytesHeaderParser(policy=policy.default)


class KeepMessages:
    """An aiosmtpd handler: each message it accepts goes to `folder` as a `.eml` file."""

    def __init__(self, folder: Path, say: Callable[[str], None] = print) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._say = say
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message, say where, and accept it."""
        content = envelope.original_content or b""
        at = datetime.now(UTC)
        path = self.folder / f"{at:%Y%m%d-%H%M%S-%f}-{next(self._numbers)}.eml"
        path.write_bytes(content)
        # The headers only: parsing the parts (a PDF in base64) would cost more than the rest.
        message = _HEADERS.parsebytes(content)
        recipients = ", ".join(str(r) for r in envelope.rcpt_tos)
        self._say(f"{at:%H:%M:%S} to {recipients}: {message.get('Subject', '')} -> {path}")
        return "250 Message accepted for delivery"


def serve_sink(folder: Path, host: str, port: int, wait: Callable[[], Any]) -> None:
    """Serve the sink on `host:port` until `wait()` returns."""
    from aiosmtpd.controller import Controller

    controller = Controller(KeepMessages(folder), hostname=host, port=port)
    controller.start()
    try:
        wait()
    finally:
        controller.stop()
