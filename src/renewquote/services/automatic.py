"""Automatic quotes: 30 days before subscriptions bought directly end, a renewal quote made for
them and sent to the customer's purchaser.

Which subscriptions: bought directly, active, standard offerings (never flex or success
plans), without auto-renew, not renewed yet and on no open quote (`storage.automatic`). One
quote per renewal group coming due (customer, currency; bought directly, so no partner), made
through the same creation and sending as any quote, on the `automatic` channel, under the
customer's own buying rules. Each term is recorded, in a table that takes a term once, in the
transaction that makes and sends its quote: however many workers run, no term is quoted
automatically twice; a term whose quote the rules refused is recorded too and not tried again;
one whose quote failed otherwise (a crash, a lost connection) is tried again next round.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from itertools import groupby

from renewquote.domain.errors import RuleViolation
from renewquote.domain.grouping import MAX_LINES_PER_QUOTE
from renewquote.domain.model import QuoteType
from renewquote.domain.quoting import LineRequest
from renewquote.services.access import Caller
from renewquote.services.quoting import QuoteDraft, new_draft, send_draft
from renewquote.storage import automatic
from renewquote.storage.database import Database

log = logging.getLogger(__name__)

AHEAD = timedelta(days=30)


def make_automatic_quotes(db: Database, *, today: date, now: datetime) -> list[str]:
    """Make and send the automatic quotes due today; return their numbers."""
    system = Caller.system()
    with db.read() as conn:
        due = automatic.due_subscriptions(conn, after=today, until=today + AHEAD)
    made = []
    for (csn, _currency), group in groupby(due, key=lambda s: (s.customer_csn, s.currency)):
        due_here = list(group)
        with db.read() as conn:
            purchaser = automatic.purchaser_of(conn, csn)
        if purchaser is None:
            log.warning("no automatic quote for %s yet: the customer has no purchaser", csn)
            continue
        # A quote holds at most MAX_LINES_PER_QUOTE lines: a bigger group makes several.
        for start in range(0, len(due_here), MAX_LINES_PER_QUOTE):
            number = _quote_group(
                db,
                system,
                csn,
                purchaser,
                due_here[start : start + MAX_LINES_PER_QUOTE],
                today,
                now,
            )
            if number is not None:
                made.append(number)
    return made


def _quote_group(
    db: Database,
    system: Caller,
    csn: str,
    purchaser: str,
    due: list[automatic.DueSubscription],
    today: date,
    now: datetime,
) -> str | None:
    try:
        # Terms recorded, quote made and sent in one transaction: a crash or an error half-way
        # records nothing, and the next round tries again.
        with db.write() as conn:
            # The terms another worker recorded first are its to quote.
            subscriptions = automatic.claim_terms(conn, due, now)
            if not subscriptions:
                return None
            draft = QuoteDraft(
                type=QuoteType.RENEWAL,
                lines=tuple(LineRequest(subscription_id=s.id) for s in subscriptions),
                customer_csn=csn,
                contact_email=purchaser,
            )
            quote = new_draft(conn, system, draft, today=today, now=now)
            return send_draft(conn, system, quote.number, today=today, now=now).number
    except RuleViolation as refusal:
        reasons = "; ".join(v.message() for v in refusal.violations)
        log.warning("no automatic quote for %s: %s", csn, reasons)
        try:
            # The rules said no: the terms are recorded all the same, not asked every round.
            with db.write() as conn:
                automatic.claim_terms(conn, due, now)
        except Exception:  # one customer's failure must not stop the others'
            log.exception("the refused terms of %s could not be recorded", csn)
    except Exception:  # one customer's failure must not stop the others'
        log.exception("no automatic quote for %s (tried again next round)", csn)
    return None
