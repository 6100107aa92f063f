"""How `renewquote serve` runs uvicorn: no banner, and a client's address from a proxy only when
the proxy is named."""

from renewquote.api.server import server_options


def test_no_proxy_is_trusted_unless_named() -> None:
    options = server_options(None)
    assert (options["proxy_headers"], options["server_header"]) == (False, False)
    assert "forwarded_allow_ips" not in options


def test_a_named_proxy_s_forwarded_for_names_the_client() -> None:
    options = server_options("10.0.0.5")
    assert (options["proxy_headers"], options["forwarded_allow_ips"]) == (True, "10.0.0.5")
    assert options["server_header"] is False
