"""What `renewquote worker` does each round: end quotes past their validity, deliver the
mail that is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from renewquote.services.mailing import LEASE, Mailer, MailRound, MailSettings, deliver_mail
from renewquote.services.quoting import expire_quotes
from renewquote.storage.database import Database


@dataclass(slots=True)
class WorkRound:
    """What one round did."""

    expired: list[str] = field(default_factory=list)
    mail: MailRound = field(default_factory=MailRound)

    @property
    def idle(self) -> bool:
        """Tell whether the round found nothing to do."""
        return not self.expired and self.mail.claimed == 0


def work_once(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    *,
    clock: Callable[[], datetime],
    batch: int = 50,
    lease: timedelta = LEASE,
) -> WorkRound:
    """Do what is due now: expire quotes, then deliver mail until none is left due."""
    now = clock()
    done = WorkRound(expired=expire_quotes(db, today=now.date(), now=now))
    while True:
        mail = deliver_mail(db, mailer, settings, clock=clock, batch=batch, lease=lease)
        for name in ("sent", "retried", "failed", "lost", "pdfs"):
            setattr(done.mail, name, getattr(done.mail, name) + getattr(mail, name))
        if mail.claimed < batch:
            return done
