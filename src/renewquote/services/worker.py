"""What `renewquote worker` does each round: end quotes past their validity, deliver the
mail that is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from renewquote.delivery.pdf import PdfRenderer
from renewquote.services.automatic import make_automatic_quotes
from renewquote.services.mailing import (
    LEASE,
    Mailer,
    MailRound,
    MailSettings,
    deliver_mail,
    remind_expiring_quotes,
)
from renewquote.services.quoting import expire_quotes
from renewquote.services.webhooks import (
    BodyOf,
    Poster,
    WebhookRound,
    deliver_webhooks,
    publish_events,
)
from renewquote.storage.database import Database


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How a worker posts webhooks: the poster, the body of an event, private addresses."""

    poster: Poster
    body_of: BodyOf
    allow_private: bool = False


@dataclass(slots=True)
class WorkRound:
    """What one round did."""

    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    automatic: list[str] = field(default_factory=list)
    mail: MailRound = field(default_factory=MailRound)
    published: int = 0  # events handed to webhook endpoints
    webhooks: WebhookRound = field(default_factory=WebhookRound)

    @property
    def idle(self) -> bool:
        """Tell whether the round found nothing to do."""
        return (
            not self.expired
            and not self.reminded
            and not self.automatic
            and self.mail.claimed == 0
            and self.published == 0
            and self.webhooks.claimed == 0
        )


def work_once(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    *,
    clock: Callable[[], datetime],
    batch: int = 50,
    lease: timedelta = LEASE,
    hooks: WebhookSettings | None = None,
    time_driven: bool = True,
    renderer: PdfRenderer | None = None,
) -> WorkRound:
    """Do what is due now: expire quotes, remind the recipients of those expiring soon, make
    the automatic quotes due,
    deliver mail until none is left due, then publish events and post webhooks (when
    `hooks` says how). `time_driven` False leaves the first three (which scan the book) for
    a later round. `renderer` draws PDFs in a process of its own (`PdfRenderer`)."""
    now = clock()
    today = now.date()
    done = WorkRound()
    if time_driven:
        done.expired = expire_quotes(db, today=today, now=now)
        done.reminded = remind_expiring_quotes(db, today=today, now=now)
        done.automatic = make_automatic_quotes(db, today=today, now=now)
    while True:
        mail = deliver_mail(
            db, mailer, settings, clock=clock, batch=batch, lease=lease, renderer=renderer
        )
        done.mail.add(mail)
        if mail.claimed < batch:
            break
    if hooks is None:
        return done
    while (published := publish_events(db, hooks.body_of, now=clock())) > 0:
        done.published += published
    while True:
        posted = deliver_webhooks(
            db,
            hooks.poster,
            clock=clock,
            allow_private=hooks.allow_private,
            batch=batch,
            lease=lease,
        )
        done.webhooks.add(posted)
        if posted.claimed < batch:
            return done
