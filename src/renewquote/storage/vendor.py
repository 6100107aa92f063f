"""The vendor printed on quotes, as the last book of business that named it gave it."""

from __future__ import annotations

from sqlalchemy import Connection, select

from renewquote.domain.model import Vendor
from renewquote.storage.tables import vendor

_VENDOR = select(
    vendor.c.name,
    vendor.c.address_line1,
    vendor.c.address_line2,
    vendor.c.city,
    vendor.c.postal_code,
    vendor.c.country,
    vendor.c.tax_id,
    vendor.c.support_email,
)


def load_vendor(conn: Connection) -> Vendor | None:
    """Return the vendor, or None while no book of business has named one."""
    row = conn.execute(_VENDOR).one_or_none()
    return None if row is None else Vendor(*row)
