"""Handing mail to an SMTP server, with its failures told apart: worth retrying, or final."""

from __future__ import annotations

import contextlib
import email.errors
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from email.message import Message
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from renewquote.delivery.wire import outgoing


class MailError(Exception):
    """The server did not take a message; `permanent` when trying again cannot help (5xx),
    `no_session` when no session could be opened at all (unreachable, login refused): no
    other message can go either until it can."""

    def __init__(self, reason: str, *, permanent: bool, no_session: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.no_session = no_session


class Handed:
    """A message handed to the server in two steps: its envelope and text, then the end of its
    data (`release`), from which on the server may deliver it. A session that ends before the
    release delivers nothing (RFC 5321, 4.1.1.4), so a sender that dies between the two sent
    nothing. `wait()` reads the server's verdict."""

    def __init__(
        self,
        failure: MailError | None,
        release: Callable[[], MailError | None] | None = None,
        verdict: Callable[[], MailError | None] | None = None,
        abandon: Callable[[], None] | None = None,
    ) -> None:
        self._failure = failure
        self._release = release
        self._verdict = verdict
        self._abandon = abandon

    def abandon(self) -> None:
        """Give up a message not released yet: its session ends, and the server drops it."""
        if self._release is not None and self._abandon is not None:
            self._abandon()
        self._release = self._verdict = None

    def release(self) -> None:
        """End the message's data: the server may now deliver it."""
        if self._release is not None and self._failure is None:
            self._failure = self._release()
        self._release = None

    def wait(self) -> None:
        """Return once the server took the message (released first if it was not);
        `MailError` if it did not."""
        self.release()
        if self._verdict is not None and self._failure is None:
            self._failure = self._verdict()
        self._verdict = None
        if self._failure is not None:
            raise self._failure


# What smtplib.SMTP.data does to a message before it goes, but for the line ends: a dot that
# starts a line doubled (RFC 5321, 4.5.2). `outgoing` writes CRLF line ends only (every part
# is encoded, headers cannot hold a line break), so they need no mending.
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _written(
    session: smtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
) -> None:
    """Say the envelope and write the message, as `smtplib.SMTP.sendmail` does, but for the
    end of its data (a line holding a dot), which the caller sends when it sees fit."""
    code, text = session.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, text, sender)
    refused = {}
    for recipient in recipients:
        code, text = session.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, text)
    if refused:
        # A quote's mail has one recipient: refused, nothing goes.
        raise smtplib.SMTPRecipientsRefused(refused)
    session.putcmd("data")
    code, text = session.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, text)
    body = _LEADING_DOT.sub(b"..", data) if data.startswith(b".") or b"\n." in data else data
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    session.send(body)


class SmtpMailer:
    """One SMTP session, opened at the first message and kept for the next ones.

    `url` is `smtp://[user:password@]host[:port]` (STARTTLS whenever the server offers it,
    its certificate checked; required before a password is sent), or `smtps://...` (TLS from
    the start). `?verify=false` accepts a relay's own certificate, when no password is sent.
    A session that cannot be opened (unreachable, refused login, no TLS for a password) is a
    passing failure: the mail is kept and tried again, never failed for good for the
    server's fault.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"RENEWQUOTE_SMTP_URL must be smtp://host:port, not {shown_url(url)!r}"
            )
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout
        self._verify = parse_qs(parts.query).get("verify", ["true"])[-1].lower() != "false"
        self._session: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def hand_over(self, message: Message) -> Handed:
        """Start handing one message to the server: the envelope is taken and the message
        written before this returns, but not ended: the server delivers it once it is
        `release()`d, and says so to `wait()`. Meanwhile the caller can do other work while
        the server reads the message."""
        try:
            session = self._open()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return Handed(
                MailError(f"cannot open a session: {_why(error)}", permanent=False, no_session=True)
            )
        try:
            wire = outgoing(message)
        except (ValueError, LookupError, email.errors.MessageError) as error:
            return Handed(MailError(f"cannot be written: {error}", permanent=True))
        try:
            _written(session, wire.sender, wire.recipients, wire.data)
        except Exception as error:  # sorted out in one place, below
            return Handed(self._failure(error))
        return Handed(
            None,
            lambda: self._end(session),
            lambda: self._verdict(session),
            lambda: self._drop(session),
        )

    def _end(self, session: smtplib.SMTP) -> MailError | None:
        try:
            session.send(b".\r\n")
        except Exception as error:
            return self._failure(error)
        return None

    def _verdict(self, session: smtplib.SMTP) -> MailError | None:
        try:
            code, text = session.getreply()
        except Exception as error:
            return self._failure(error)
        if code != 250:
            return self._failure(smtplib.SMTPDataError(code, text))
        return None

    def _failure(self, error: BaseException) -> MailError:
        """Say what an error of the conversation means for the mail; the session, its state
        unknown, is dropped (the next message opens a new one)."""
        self._drop()
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in error.recipients.values()]
            reason = "; ".join(f"{code} {text!r}" for code, text in error.recipients.values())
            return MailError(reason, permanent=all(code >= 500 for code in codes))
        if isinstance(error, smtplib.SMTPResponseException):
            reason = f"{error.smtp_code} {error.smtp_error!r}"
            return MailError(reason, permanent=error.smtp_code >= 500)
        if isinstance(error, smtplib.SMTPException | OSError):
            return MailError(_why(error), permanent=False)
        raise error

    def close(self) -> None:
        """End the session politely, if one is open."""
        if self._session is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._session.quit()
            self._session = None

    def _open(self) -> smtplib.SMTP:
        if self._session is None:
            session: smtplib.SMTP
            if self._tls:
                session = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=ssl.create_default_context(),
                )
            else:
                session = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
                session.ehlo()
                if session.has_extn("starttls"):
                    session.starttls(context=self._starttls_context())
                    session.ehlo()
                elif self._password is not None:
                    session.close()
                    raise smtplib.SMTPException("the server offers no STARTTLS for the password")
            if self._user is not None and self._password is not None:
                session.login(self._user, self._password)
            if session.sock is not None:
                # The end of a message (a dot line) goes out at once, not held by Nagle's
                # algorithm until the server acknowledges the text (up to its delayed ACK).
                session.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._session = session
        return self._session

    def _starttls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._verify or self._password is not None:
            # The mails carry links that buy quotes, and a password crosses only to the
            # server the certificate names.
            return context
        # `?verify=false`, without a password: a local relay whose certificate is its own.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def _drop(self, session: smtplib.SMTP | None = None) -> None:
        # After an error the session's state is unknown: the next message opens a new one.
        # (Given a session, only if it is still this mailer's.)
        if self._session is not None and session in (None, self._session):
            with contextlib.suppress(OSError):
                self._session.close()
            self._session = None


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def shown_url(url: str) -> str:
    """Return an SMTP URL as it may be printed: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
