"""Posting webhooks as the Standard Webhooks specification says: signed with the endpoint's
`whsec_` secret, `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, a 15 s
timeout, redirects not followed (a redirect is a failure)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from types import TracebackType

import httpx2
from standardwebhooks.webhooks import Webhook

from renewquote import __version__

TIMEOUT_SECONDS = 15.0


def new_secret() -> str:
    """Return a new signing secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(secret: str, webhook_id: str, timestamp: int, body: str) -> dict[str, str]:
    """Return the headers of one delivery, its signature over id, timestamp and body."""
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    signature = Webhook(secret).sign(webhook_id, at, body)
    return {
        "content-type": "application/json",
        "user-agent": f"renewquote/{__version__}",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


class WebhookError(Exception):
    """The endpoint could not be reached, or took too long."""


class HttpPoster:
    """One HTTP client for a round of deliveries."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        # No proxy or .netrc from the environment: the address checked is the one posted to.
        # No connection kept between posts: one made for a name checked at an address must
        # never carry another name's post (whose certificate would then go unchecked).
        self._client = httpx2.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx2.Limits(max_keepalive_connections=0),
        )

    def __enter__(self) -> HttpPoster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def post(
        self, url: str, body: str, headers: dict[str, str], *, address: str | None = None
    ) -> int:
        """Post and return the answer's status; `WebhookError` when there is none.

        `address`: connect there rather than to what the URL's host resolves to now; the
        request still names the host (Host header, and for https the TLS server name and the
        certificate checked)."""
        target = httpx2.URL(url)
        extensions: dict[str, str] = {}
        if address is not None:
            headers = {**headers, "host": target.netloc.decode("ascii")}
            if target.scheme == "https":
                # The name as resolved (IDNA 2008), which the certificate must name.
                extensions["sni_hostname"] = target.raw_host.decode("ascii")
            target = target.copy_with(host=address)
        try:
            # The status only: the answer's body is never read, however slowly it comes.
            with self._client.stream(
                "POST", target, content=body.encode(), headers=headers, extensions=extensions
            ) as answer:
                return answer.status_code
        except httpx2.HTTPError as error:
            raise WebhookError(f"{type(error).__name__}: {error}") from error
