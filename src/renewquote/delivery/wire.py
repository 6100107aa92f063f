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
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses
from io import BytesIO

_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_CRLF = "\r\n"


class SharedPart(MIMEPart):
    """A part attached, unchanged, to many messages: its body is put on the wire once."""

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


class _WireGenerator(BytesGenerator):
    """`BytesGenerator` for the wire, copying the body of a shared PDF part."""

    def _handle_application_pdf(self, msg: MIMEPart) -> None:
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
    international: bool  # an address is not ASCII: the server must speak SMTPUTF8


def outgoing(message: EmailMessage) -> Outgoing:
    """Return a message's envelope (From; To and Cc) and bytes, as
    `smtplib.SMTP.send_message` would send them."""
    if "Bcc" in message or "Resent-Bcc" in message:
        raise ValueError("renewquote's mails name every recipient: no Bcc")
    sender = getaddresses([str(message["Sender"] or message["From"])])[0][1]
    headers = [str(value) for name in ("To", "Cc") for value in message.get_all(name, [])]
    recipients = tuple(address for _, address in getaddresses(headers))
    international = any(not address.isascii() for address in (sender, *recipients))
    # EmailPolicy's utf8: headers in UTF-8 instead of encoded words (typeshed types the base).
    policy = message.policy.clone(utf8=True) if international else message.policy  # type: ignore[call-arg]
    with BytesIO() as buffer:
        _WireGenerator(buffer, policy=policy).flatten(message, linesep=_CRLF)
        return Outgoing(sender, recipients, buffer.getvalue(), international)
