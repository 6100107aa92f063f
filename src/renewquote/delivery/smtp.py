"""Handing mail to an SMTP server, with its failures told apart: worth retrying, or final."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
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

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; `MailError` if it did not take it."""
        try:
            session = self._open()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise MailError(
                f"cannot open a session: {_why(error)}", permanent=False, no_session=True
            ) from error
        wire = outgoing(message)
        if wire.international and not session.has_extn("smtputf8"):
            raise MailError("the server cannot take a non-ASCII address (SMTPUTF8)", permanent=True)
        options = ("SMTPUTF8", "BODY=8BITMIME") if wire.international else ()
        try:
            refused = session.sendmail(wire.sender, list(wire.recipients), wire.data, options)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            self._drop()
            reason = "; ".join(f"{code} {text!r}" for code, text in error.recipients.values())
            raise MailError(reason, permanent=all(code >= 500 for code in codes)) from error
        except smtplib.SMTPResponseException as error:
            self._drop()
            reason = f"{error.smtp_code} {error.smtp_error!r}"
            raise MailError(reason, permanent=error.smtp_code >= 500) from error
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise MailError(_why(error), permanent=False) from error
        if refused:
            # Some recipients refused, others taken: a quote's mail has one recipient.
            reason = "; ".join(f"{code} {text!r}" for code, text in refused.values())
            raise MailError(reason, permanent=True)

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

    def _drop(self) -> None:
        # After an error the session's state is unknown: the next message opens a new one.
        if self._session is not None:
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
