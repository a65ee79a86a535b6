"""Security headers (issue 11, point 2), on a shopper page, a staff page, an error page and a PDF.

The policy forbids inline script and style, so the templates must hold none: the last test reads
them all. tests/e2e/test_csp.py checks in Chromium that the pages work under the policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from survey import create_app

from .conftest import log_in

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def assert_common(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "script-src" not in directives  # so default-src 'self' rules scripts: no inline, no eval
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # development and tests speak HTTP


def test_the_shopper_page_sends_no_referrer_and_the_policy(client, make_assignment):
    _, token = make_assignment()
    response = client.get(f"/s/{token}")
    assert response.status_code == 200
    assert_common(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_shopper_error_page_sends_no_referrer_either(client):
    response = client.get("/s/" + "A" * 32)
    assert response.status_code == 404
    assert_common(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_staff_page_keeps_the_referrer_on_this_site(hq):
    response = hq.get("/hq/")
    assert response.status_code == 200
    assert_common(response)
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_login_page_is_kept_out_of_caches(client):
    response = client.get("/login")
    assert_common(response)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_an_error_page_carries_the_headers(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_common(response)
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_pdf_carries_the_headers(client, make_branch, make_user):
    make_branch("BR-001", "NORTH")
    make_user("hq@example.com", "hq")
    staff = log_in(client, "hq@example.com")
    response = staff.get("/reports/branches/BR-001.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert_common(response)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_static_files_and_the_service_worker_are_not_sniffed(client):
    for path in ("/static/app.css", "/sw.js"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        response.close()


def test_production_adds_hsts(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    response = app.test_client().get("/no/such/page")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "an inline <script>"),
    (re.compile(r"<style\b"), "a <style> element"),
    (re.compile(r"\sstyle=[\"']"), "a style attribute"),
    (re.compile(r"\son[a-z]+=[\"']"), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                                            if p.parts[-2] not in ("pdf", "mail")))
def test_no_template_served_to_a_browser_holds_inline_script_or_style(template):
    """Print documents (templates/pdf/) go to WeasyPrint only, which knows no CSP; e-mails
    (templates/mail/) go to mail readers, which take styles inline only."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{template} holds {', '.join(found)}: the Content-Security-Policy would block it"


def test_only_the_editors_preview_may_be_framed_and_by_this_site_only(app, hq):
    """The checklist editor shows its preview in an iframe; nothing else may be framed."""
    from survey.security import FRAMEABLE

    assert FRAMEABLE and FRAMEABLE <= set(app.view_functions)  # a renamed view would break the preview
    response = hq.get("/hq/checklists/no-such-draft/preview")
    policies = response.headers.getlist("Content-Security-Policy")
    assert "frame-ancestors 'self'" in " ".join(policies) and "frame-ancestors 'none'" not in " ".join(policies)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
