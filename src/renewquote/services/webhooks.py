"""Webhooks: endpoints that staff and partners register, and the quote events posted to them.

Every change of a quote writes an audit event in its own transaction. A worker publishes the
events not yet published: for each endpoint listening to that type (a partner's, for its own
quotes only; staff's, for every quote), one outbox row holding the body as it will be posted
(the quote as `GET /api/v1/quotes/{number}` showed it then) and its `webhook-id`, so that every
retry posts the same bytes under the same id, signed anew with the attempt's timestamp.
Deliveries are retried on the published schedule; a `410 Gone` disables the endpoint.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import secrets
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx2
from sqlalchemy import Connection

from renewquote.delivery.webhooks import WebhookError, new_secret, signed_headers
from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import CallerKind
from renewquote.domain.quotes import Quote
from renewquote.services.access import Caller
from renewquote.services.rounds import DeliveryRound, give_back, hold, settle
from renewquote.storage import outbox, quotes, webhooks
from renewquote.storage.database import Database
from renewquote.storage.outbox import Claimed, OutboxStatus
from renewquote.storage.webhooks import Endpoint

log = logging.getLogger(__name__)

WEBHOOK = "webhook"
# The audit actions that are webhook events, and their types.
EVENT_TYPES = {
    "created": "quote.created",
    "sent": "quote.sent",
    "viewed": "quote.viewed",
    "ordered": "quote.ordered",
    "expired": "quote.expired",
    "cancelled": "quote.cancelled",
    "superseded": "quote.superseded",
}
# The first attempt is at once; after each failure the next waits this long (give or take a
# tenth); after the eighth attempt the delivery is given up.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
LEASE = timedelta(minutes=2)

# The JSON body of one event: its type, when it happened, and the quote then.
BodyOf = Callable[[str, datetime, Quote], str]


def create_endpoint(
    db: Database,
    caller: Caller,
    url: str,
    events: Collection[str],
    *,
    now: datetime,
    allow_private: bool,
) -> Endpoint:
    """Register an endpoint of the caller (staff or a partner) for these event types."""
    _require_owner(caller)
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        raise RuleViolation.one(Code.WEBHOOK_URL_NOT_ALLOWED, url=url, why=problem)
    endpoint = Endpoint(
        id="whe_" + secrets.token_hex(12),
        url=url,
        events=tuple(sorted(set(events))),
        secret=new_secret(),
        partner_csn=caller.partner_csn if caller.kind is CallerKind.PARTNER else None,
        created_by=caller.email,
        created_at=now,
        disabled_at=None,
        disabled_why=None,
    )
    with db.write() as conn:
        webhooks.insert_endpoint(conn, endpoint)
    return endpoint


def list_endpoints(db: Database, caller: Caller) -> list[Endpoint]:
    """Return the caller's endpoints: a partner's own, or the vendor's staff's."""
    _require_owner(caller)
    with db.read() as conn:
        return webhooks.endpoints_of(conn, partner_csn=_owner(caller))


def delete_endpoint(db: Database, caller: Caller, endpoint_id: str) -> None:
    """Delete one of the caller's endpoints; `not_found` for any other."""
    _require_owner(caller)
    with db.write() as conn:
        if not webhooks.delete_endpoint(conn, endpoint_id, partner_csn=_owner(caller)):
            raise RuleViolation.one(Code.NOT_FOUND, thing="webhook endpoint")


def _owner(caller: Caller) -> str | None:
    return caller.partner_csn if caller.kind is CallerKind.PARTNER else None


def _require_owner(caller: Caller) -> None:
    if caller.kind not in (CallerKind.STAFF, CallerKind.PARTNER):
        raise RuleViolation.one(Code.FORBIDDEN, why="webhooks are for partners and staff")


class UrlNotAllowed(Exception):
    """Webhooks cannot go to this address; `problem` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one delivery goes: the endpoint's URL and, once its host was checked, the
    address it was checked at, which is the one connected to (so a name that resolves
    elsewhere a moment later cannot send the post to a private address)."""

    url: str
    address: str | None = None  # None when private addresses are allowed: the name is used


def destination(url: str, *, allow_private: bool) -> Destination:
    """Check `url` and return where to post: http(s) only, and (unless private addresses are
    allowed) a host whose every address is public; `UrlNotAllowed` otherwise."""
    try:
        parsed = httpx2.URL(url)
        host = parsed.raw_host.decode("ascii")  # as the client will connect: IDNA 2008
    except (httpx2.InvalidURL, UnicodeError, ValueError):
        raise UrlNotAllowed("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise UrlNotAllowed("only http:// and https:// addresses with a host")
    if parsed.userinfo:
        raise UrlNotAllowed("no user or password in the address")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UrlNotAllowed("no spaces or control characters")
    if allow_private:
        return Destination(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UrlNotAllowed("not a public address") from None
    addresses = [ipaddress.ip_address(address[0]) for *_, address in found]
    if not addresses or not all(_public(ip) for ip in addresses):
        raise UrlNotAllowed("not a public address")
    return Destination(url, str(addresses[0]))


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Say why webhooks cannot go to `url`, or None (see `destination`)."""
    try:
        destination(url, allow_private=allow_private)
    except UrlNotAllowed as refused:
        return refused.problem
    return None


# NAT64 prefixes (RFC 6052's well-known one, RFC 8215's local-use one): the IPv4 address in
# the last 32 bits is the one reached.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Tell whether an address is public, an IPv4 address written as IPv6 judged as itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in network for network in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if ip in _NAT64[1]:
                return False  # local-use NAT64 leads into a private network
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip))  # IPv4-compatible ::a.b.c.d
        if embedded is not None and not embedded.is_global:
            return False
    return bool(ip.is_global)


def publish_events(db: Database, body_of: BodyOf, *, now: datetime, limit: int = 200) -> int:
    """Hand events not yet published to the endpoints listening; return how many events."""
    with db.write() as conn:
        events = webhooks.take_unpublished(conn, now=now, limit=limit)
        if not events:
            return 0
        endpoints = webhooks.listening(conn)
        rows = []
        read: dict[int, Quote] = {}
        for event in events:
            kind = EVENT_TYPES.get(event.action)
            if kind is None:
                continue
            for endpoint in endpoints:
                if kind not in endpoint.events:
                    continue
                if endpoint.partner_csn not in (None, event.partner_csn):
                    continue
                if event.quote_id not in read:
                    read[event.quote_id] = quotes.load_quote_by_id(conn, event.quote_id)
                rows.append(
                    {
                        "endpoint_id": endpoint.id,
                        "webhook_id": f"msg_{event.id}_{secrets.token_hex(8)}",
                        "type": kind,
                        "body": body_of(kind, event.at, read[event.quote_id]),
                    }
                )
        outbox.enqueue(conn, WEBHOOK, rows, now)
        return len(events)


class Poster(Protocol):
    """What posts a webhook (`delivery.webhooks.HttpPoster`)."""

    def post(
        self, url: str, body: str, headers: dict[str, str], *, address: str | None = None
    ) -> int: ...


class WebhookRound(DeliveryRound):
    """What one round of webhook delivery did."""


def deliver_webhooks(
    db: Database,
    poster: Poster,
    *,
    clock: Callable[[], datetime],
    allow_private: bool,
    batch: int = 50,
    lease: timedelta = LEASE,
) -> WebhookRound:
    """Claim up to `batch` due deliveries and post them; return the counts."""
    done = WebhookRound()
    with db.write(durable=False) as conn:
        claimed = outbox.claim(conn, [WEBHOOK], now=clock(), lease=lease, limit=batch)
        if not claimed:
            return done
        endpoints: dict[str, Endpoint | None] = dict(
            webhooks.endpoints_by_id(conn, {c.payload["endpoint_id"] for c in claimed})
        )
    for claimed_row in claimed:
        row = hold(db, claimed_row, now=clock(), lease=lease)
        if row is None:
            done.lost += 1
            continue
        # Read again: an endpoint disabled by a 410 earlier in this batch gets no more.
        endpoint_id = row.payload["endpoint_id"]
        with db.read() as conn:
            fresh = webhooks.endpoints_by_id(conn, {endpoint_id})
        endpoints[endpoint_id] = fresh.get(endpoint_id)  # None once deleted
        _deliver_one(
            db,
            poster,
            row,
            endpoints[row.payload["endpoint_id"]],
            clock,
            done,
            allow_private=allow_private,
        )
    return done


def _deliver_one(
    db: Database,
    poster: Poster,
    row: Claimed,
    endpoint: Endpoint | None,
    clock: Callable[[], datetime],
    done: WebhookRound,
    *,
    allow_private: bool,
) -> None:
    if endpoint is None or endpoint.disabled_at is not None:
        _finish(db, row, done, clock, OutboxStatus.FAILED, "the endpoint is gone or disabled")
        return
    # Checked again now, and posted to the address checked: a name that resolved to a public
    # address may not any more.
    try:
        to = destination(endpoint.url, allow_private=allow_private)
    except UrlNotAllowed as refused:
        _finish(db, row, done, clock, OutboxStatus.FAILED, f"not allowed: {refused.problem}")
        return
    payload = row.payload
    # The same id and body on every attempt; the timestamp (and so the signature) is the
    # attempt's, which receivers compare with their clock against replays.
    timestamp = int(clock().replace(tzinfo=UTC).timestamp())
    headers = signed_headers(endpoint.secret, payload["webhook_id"], timestamp, payload["body"])
    try:
        status = poster.post(to.url, payload["body"], headers, address=to.address)
    except WebhookError as error:
        _again(db, row, done, clock, str(error))
        return
    except Exception as error:  # a delivery that cannot be made must not stop the others
        log.exception("webhook %s to %s", payload["webhook_id"], endpoint.id)
        _finish(db, row, done, clock, OutboxStatus.FAILED, f"cannot be posted: {error}")
        return
    if 200 <= status < 300:
        _finish(db, row, done, clock, OutboxStatus.SENT, None)
    elif status == 410:
        now = clock()

        def disable(conn: Connection) -> None:
            webhooks.disable_endpoint(conn, endpoint.id, now, "410 Gone")

        gone = "410 Gone: endpoint disabled"
        settle(db, row, done, sent=False, now=now, error=gone, also=disable)
    else:
        _again(db, row, done, clock, f"answered {status}")


def _again(
    db: Database, row: Claimed, done: WebhookRound, clock: Callable[[], datetime], error: str
) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        _finish(db, row, done, clock, OutboxStatus.FAILED, error)
        return
    delay = RETRY_DELAYS[row.attempts - 1]
    jitter = delay * random.uniform(-0.1, 0.1)
    give_back(db, row, done, at=clock() + delay + jitter, error=error)


def _finish(
    db: Database,
    row: Claimed,
    done: WebhookRound,
    clock: Callable[[], datetime],
    status: OutboxStatus,
    error: str | None,
) -> None:
    settle(db, row, done, sent=status is OutboxStatus.SENT, now=clock(), error=error)
