"""The interactive API documentation loads nothing from the internet: /docs and /redoc."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

OFF_SERVER = ("cdn.jsdelivr.net", "fonts.googleapis.com", "fastapi.tiangolo.com")
PAGES = ("/docs", "/redoc")


class _Urls(HTMLParser):
    """Collect every URL a page makes the browser load: script src, link href, spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.specs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "script" and "src" in found:
            self.scripts.append(found["src"])
        elif tag == "link" and "href" in found:
            self.links.append((found.get("rel", ""), found["href"]))
        elif tag == "redoc" and "spec-url" in found:
            self.specs.append(found["spec-url"])


def urls_of(html: str) -> _Urls:
    parser = _Urls()
    parser.feed(html)
    parser.close()
    return parser


def assets_of(html: str) -> list[str]:
    found = urls_of(html)
    return found.scripts + [href for _, href in found.links]


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_names_only_urls_of_the_server(client, page):
    """The page's scripts, stylesheets and favicon are paths on the server, never a CDN."""
    answer = client.get(page)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    found = urls_of(answer.text)
    assert found.scripts, "the page loads its JavaScript"
    assert any("icon" in rel for rel, _ in found.links), "the page names a favicon"
    for url in [*found.scripts, *(href for _, href in found.links), *found.specs]:
        assert url.startswith("/") and not url.startswith("//"), url
        assert "http://" not in url and "https://" not in url, url
    for host in OFF_SERVER:
        assert host not in answer.text


def test_swagger_ui_gets_its_script_stylesheet_and_favicon_from_the_package(client):
    """/docs names Swagger UI's bundle, its CSS and the favicon under /static."""
    found = urls_of(client.get("/docs").text)
    assert [s for s in found.scripts if s.endswith("/swagger-ui-bundle.js")]
    assert [h for rel, h in found.links if "stylesheet" in rel and h.endswith("/swagger-ui.css")]
    assert all(url.startswith("/static/") for url in assets_of(client.get("/docs").text))


def test_redoc_gets_its_script_and_favicon_from_the_package_without_google_fonts(client):
    """/redoc names ReDoc's standalone bundle under /static, and no web font."""
    html = client.get("/redoc").text
    found = urls_of(html)
    assert [s for s in found.scripts if s.endswith("/redoc.standalone.js")]
    assert not [h for rel, h in found.links if "stylesheet" in rel]
    assert found.specs == ["/openapi.json"]
    assert all(url.startswith("/static/") for url in assets_of(html))


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_a_docs_page_names_is_served(client, page):
    """Each script, stylesheet and favicon answers 200 with its type and a real body."""
    assets = assets_of(client.get(page).text)
    assert len(assets) >= 2
    for url in assets:
        answer = client.get(url)
        assert answer.status_code == 200, url
        kind = answer.headers["content-type"]
        if url.endswith(".js"):
            assert "javascript" in kind, (url, kind)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
        else:
            assert kind.startswith("image/"), (url, kind)
        assert len(answer.content) > 500, url


def test_the_openapi_document_still_answers_without_the_docs_routes(client):
    """/openapi.json answers, and lists none of /docs, its OAuth2 redirect, /redoc or /static."""
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert "/api/v1/quotes" in paths
    for path in paths:
        assert not path.startswith(("/docs", "/redoc", "/static")), path


def test_the_swagger_ui_oauth2_redirect_page_answers(client):
    """/docs/oauth2-redirect answers 200 HTML, the page Swagger UI's OAuth2 flow returns to."""
    answer = client.get("/docs/oauth2-redirect")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "swaggerUIRedirectOauth2" in answer.text


def test_a_missing_static_file_is_a_problem_404(client):
    """A file the package does not hold answers 404 as problem+json, like any unknown path."""
    answer = client.get("/static/vendor/swagger-ui/missing.js")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
