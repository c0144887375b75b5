"""The OPAC's frame (server/opac/web.py, server/errors.py): every answer under /opac — a page,
a refusal, an unknown address, a crash — is an OPAC HTML page with the security headers, never
the API's JSON; the stylesheet is shared and cacheable."""

from __future__ import annotations

import pytest


def _secure(r) -> None:
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path, status", [("/opac", 200), ("/opac/nope", 404),
                                          ("/opac/record/999999", 404), ("/opac/record/x", 404),
                                          ("/opac/search?page=0", 422)])
def test_pages_and_refusals_are_pages_with_the_headers(opac, path, status):
    make, _db = opac
    r = make().get(path)
    assert r.status_code == status and r.headers["content-type"].startswith("text/html"), r.text[:200]
    assert '<html lang="ru">' in r.text and "/opac/static/opac.css" in r.text
    _secure(r)
    assert r.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_cacheable(opac):
    make, _db = opac
    r = make().get("/opac/static/opac.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"] == "public, max-age=86400"
    _secure(r)


def test_a_crash_is_a_page_with_the_headers(opac):
    """A bug (500) is answered by the outermost error middleware, outside the ones that add the
    headers: server/errors.py adds them itself (the desk's too)."""
    make, _db = opac
    client = make()

    def boom() -> None:
        raise RuntimeError("a bug")

    client.app.add_api_route("/opac/test-crash", boom)
    client.app.add_api_route("/desk/test-crash", boom)
    r = client.get("/opac/test-crash")
    assert r.status_code == 500 and '<html lang="ru">' in r.text and "a bug" not in r.text
    _secure(r)
    assert r.headers["cache-control"] == "no-store"
    r = client.get("/desk/test-crash")
    assert r.status_code == 500 and "frame-ancestors 'none'" in r.headers["content-security-policy"]
