"""The time as the database stores it: UTC, without a zone."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time, naive, as the database stores it."""
    return datetime.now(UTC).replace(tzinfo=None)
