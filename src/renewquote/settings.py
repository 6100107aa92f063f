"""Settings read from the environment (RENEWQUOTE_*), with defaults for a laptop."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where renewquote keeps its data and sends its mail, and who may read its metrics."""

    model_config = SettingsConfigDict(env_prefix="RENEWQUOTE_")

    database_url: str = "sqlite:///renewquote.db"
    smtp_url: str = "smtp://127.0.0.1:8025"
    # Webhooks may go to loopback and private addresses (development and tests only).
    webhooks_allow_private: bool = False
    # The From address of quote mail (the seller's name is shown with it).
    mail_from: str = "quotes@renewquote.example"
    public_url: str = "http://127.0.0.1:8000"
    # /metrics answers only a scraper that sends this token (`Authorization: Bearer ...`);
    # without one set, /metrics is not served at all.
    metrics_token: str | None = None
    # The addresses of the reverse proxies in front (comma-separated, "*" for any): their
    # X-Forwarded-For names the client, whose address sign-in limits count. None trusts none.
    forwarded_allow_ips: str | None = None
    # A keep-alive connection serves this many requests on average, then the answer says
    # `Connection: close` (each answer with a chance of one in this many); 0 never closes.
    keepalive_requests: int = Field(default=100, ge=0)
