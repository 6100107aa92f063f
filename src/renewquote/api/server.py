"""How the HTTP server runs the application: the options `renewquote serve` gives uvicorn."""

from __future__ import annotations

from typing import Any

# No `server:` banner (it tells an attacker what to try), no access log on the hot path (a
# proxy in front keeps one), the peer's own address as the client (no proxy trusted by
# default: X-Forwarded-For would let anyone choose the address sign-in limits count).
SERVER_OPTIONS: dict[str, Any] = {
    "server_header": False,
    "access_log": False,
    "proxy_headers": False,
    "log_level": "warning",
}


def server_options(forwarded_allow_ips: str | None) -> dict[str, Any]:
    """Return uvicorn's options, trusting X-Forwarded-For from these proxies if any are named
    (behind a proxy, every client would otherwise have the proxy's address)."""
    if not forwarded_allow_ips:
        return dict(SERVER_OPTIONS)
    return {**SERVER_OPTIONS, "proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
