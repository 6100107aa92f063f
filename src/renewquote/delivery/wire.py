"""Messages as the bytes an SMTP server receives, with a part shared by many messages (a
quote's PDF, attached to the mail of each of its recipients) encoded once.

Flattening a 40 KiB attachment line by line costs more than the rest of a mail; the generator
below is the standard library's, extended the way it is meant to be (a `_handle_<type>`
method per content type), and copies a shared part's body as it was first written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from email.mime.application import MIMEApplication
from email.policy import Compat32
from email.utils import getaddresses
from functools import lru_cache
from io import BytesIO

_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_CRLF = "\r\n"


class SharedPart(MIMEApplication):
    """A PDF attached, unchanged, to many messages: its body is put on the wire once."""

    def __init__(self, pdf: bytes, filename: str) -> None:
        super().__init__(pdf, "pdf")  # base64
        del self["MIME-Version"]  # said once, by the message
        self.add_header("Content-Disposition", "attachment", filename=filename)

    def wire_body(self) -> bytes:
        """Return the body as the generator writes it (CRLF line ends), encoded once."""
        body: bytes | None = getattr(self, "_wire_body", None)
        if body is None:
            payload = self.get_payload()
            if not isinstance(payload, str):
                raise TypeError("a shared part holds one encoded body")
            body = _CRLF.join(_LINE_ENDS.split(payload)).encode("ascii")
            self._wire_body = body
        return body


class _WirePolicy(Compat32):
    """compat32, folding each header once a process: a quote's mails share their Subject and
    From, and a short ASCII header goes as it is.

    compat32 puts every header through `email.header.Header` to fold it, which gives a short
    ASCII value back unchanged, at a cost of ~40 µs a header (17 headers a mail), and encodes
    a header in UTF-8 character by character (~0.5 ms for a French subject).
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        """Return a header as it goes on the wire."""
        if not isinstance(value, str):
            return super().fold_binary(name, value)  # a Header object: not ours to keep
        if value.isascii() and len(name) + len(value) + 2 <= 78:
            line = f"{name}: {value}"
            if "\r" not in line and "\n" not in line:
                return f"{line}{self.linesep}".encode("ascii")
        if name in _SHARED_HEADERS:
            return _folded(name, value)
        return _CRLF_COMPAT32.fold_binary(name, value)


_CRLF_COMPAT32 = Compat32(linesep=_CRLF)
# Headers alike in the mails of one quote, kept folded (the others differ a mail).
_SHARED_HEADERS = frozenset({"Subject", "From"})


@lru_cache(maxsize=1024)
def _folded(name: str, value: str) -> bytes:
    return _CRLF_COMPAT32.fold_binary(name, value)


_WIRE = _WirePolicy(linesep=_CRLF)


class _WireGenerator(BytesGenerator):
    """`BytesGenerator` for the wire, copying the body of a shared PDF part."""

    def _handle_application_pdf(self, msg: Message) -> None:
        if isinstance(msg, SharedPart):
            self._fp.write(msg.wire_body())  # type: ignore[attr-defined]  # its buffer
        else:
            self._handle_text(msg)  # type: ignore[attr-defined]  # what it would do otherwise


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready for the SMTP conversation: envelope and bytes."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


def outgoing(message: Message) -> Outgoing:
    """Return a message's envelope (From; To and Cc) and bytes, as
    `smtplib.SMTP.send_message` would send them."""
    if "Bcc" in message or "Resent-Bcc" in message:
        raise ValueError("renewquote's mails name every recipient: no Bcc")
    sender = getaddresses([str(message["Sender"] or message["From"])])[0][1]
    headers = [str(value) for name in ("To", "Cc") for value in message.get_all(name, [])]
    recipients = tuple(address for _, address in getaddresses(headers))
    with BytesIO() as buffer:
        _WireGenerator(buffer, mangle_from_=False, policy=_WIRE).flatten(message)
        return Outgoing(sender, recipients, buffer.getvalue())
