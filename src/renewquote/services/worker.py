"""What `renewquote worker` does each round: end quotes past their validity, deliver the
mail that is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from renewquote.services.mailing import (
    LEASE,
    Mailer,
    MailRound,
    MailSettings,
    deliver_mail,
    remind_expiring_quotes,
)
from renewquote.services.quoting import expire_quotes
from renewquote.storage.database import Database


@dataclass(slots=True)
class WorkRound:
    """What one round did."""

    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    mail: MailRound = field(default_factory=MailRound)

    @property
    def idle(self) -> bool:
        """Tell whether the round found nothing to do."""
        return not self.expired and not self.reminded and self.mail.claimed == 0


def work_once(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    *,
    clock: Callable[[], datetime],
    batch: int = 50,
    lease: timedelta = LEASE,
) -> WorkRound:
    """Do what is due now: expire quotes, remind the recipients of those expiring soon, then
    deliver mail until none is left due."""
    now = clock()
    today = now.date()
    done = WorkRound(
        expired=expire_quotes(db, today=today, now=now),
        reminded=remind_expiring_quotes(db, today=today, now=now),
    )
    while True:
        mail = deliver_mail(db, mailer, settings, clock=clock, batch=batch, lease=lease)
        done.mail.add(mail)
        if mail.claimed < batch:
            return done
