"""Settings come from the environment (README, Configuration); production refuses the development key."""

from __future__ import annotations

import pytest
from survey import create_app


@pytest.fixture
def clean_env(monkeypatch):
    for key in ("SECRET_KEY", "SURVEY_ENV", "DATABASE_URL", "SURVEY_BASE_URL", "SURVEY_UPLOAD_MAX_MB",
                "SURVEY_BRAND", "SURVEY_TARGET_SCORE", "RATELIMIT_STORAGE_URI", "UPLOAD_DIR", "FLASK_DEBUG",
                "SURVEY_PROXY_HOPS"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_the_environment_sets_what_the_readme_lists(clean_env, tmp_path):
    clean_env.setenv("SURVEY_BASE_URL", "https://shop.example.com/")
    clean_env.setenv("SURVEY_UPLOAD_MAX_MB", "2.5")
    clean_env.setenv("SURVEY_BRAND", "Acme Stores")
    clean_env.setenv("SURVEY_TARGET_SCORE", "90")
    clean_env.setenv("UPLOAD_DIR", str(tmp_path / "photos"))
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")

    app = create_app()

    assert app.config["SURVEY_BASE_URL"] == "https://shop.example.com"
    assert app.config["UPLOAD_MAX_BYTES"] == int(2.5 * 1024 * 1024)
    assert app.config["SURVEY_BRAND"] == "Acme Stores"
    assert app.config["SURVEY_TARGET_SCORE"] == 90.0
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "photos")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")


def test_production_needs_a_secret_key_and_secure_cookies(clean_env, tmp_path):
    clean_env.setenv("SURVEY_ENV", "production")
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    clean_env.setenv("SECRET_KEY", "a" * 64)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_private_pages_are_kept_out_of_caches(client, make_assignment, make_user):
    """A shopper's form (draft answers, CSRF token) and every staff page: private, no-store."""
    from .conftest import log_in

    _, token = make_assignment()
    assert client.get(f"/s/{token}").headers["Cache-Control"] == "private, no-store"
    assert client.get("/login").headers["Cache-Control"] == "private, no-store"  # its CSRF token is the session's
    make_user("hq@example.com", "hq")
    staff = log_in(client, "hq@example.com")
    for page in ("/hq/", "/reports/", "/hq/submissions"):
        assert staff.get(page).headers["Cache-Control"] == "private, no-store", page
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"  # its own rule stands


def test_under_gunicorn_a_missing_survey_env_means_production(clean_env, tmp_path, monkeypatch):
    """A server started without SURVEY_ENV must not run on the public development key."""
    import sys
    import types

    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    clean_env.setenv("SURVEY_ENV", "development")  # said out loud, it is allowed
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("hops, seen", [("1", "203.0.113.7"), (None, "127.0.0.1")])
def test_behind_a_proxy_the_client_address_is_the_forwarded_one(clean_env, tmp_path, hops, seen):
    """Login throttling counts per address: behind nginx every client must not look like 127.0.0.1."""
    from flask import request

    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    if hops:
        clean_env.setenv("SURVEY_PROXY_HOPS", hops)
    app = create_app({"TESTING": True})
    app.add_url_rule("/_addr", "addr", lambda: request.remote_addr)
    response = app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == seen
