"""Configuration layers: defaults here, then the environment, then a test mapping."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Config:
    """Defaults that suit a developer's machine; production overrides via environment."""

    SECRET_KEY = "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = None  # filled in by load_config: needs the instance path
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    CHECKLISTS_DIR = str(ROOT / "checklists")
    TEMPLATES_DIR = str(ROOT / "templates")
    UPLOAD_DIR = None  # default: <instance>/uploads, outside the web root
    SURVEY_BASE_URL = "http://127.0.0.1:5000"
    SURVEY_UPLOAD_MAX_MB = 8
    SURVEY_BRAND = "Mystery Shopping"
    SURVEY_TARGET_SCORE = 85.0
    #: A shopper may fill the form an hour after opening it; the CSRF token is tied
    #: to the session anyway, so a short expiry would only lose answers.
    WTF_CSRF_TIME_LIMIT = 7 * 24 * 3600
    #: Every message a shopper sees is our own, translated by our catalogue; with this on,
    #: Flask-WTF would parse WTForms' catalogue from disk on every request for nothing.
    WTF_I18N_ENABLED = False
    #: Text answers are capped by the form (5,000 characters) with a message beside
    #: the field; the request limit only has to stop abuse, not normal typing.
    MAX_FORM_MEMORY_SIZE = 8 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    #: Reverse proxies in front of the app (README: 1 behind nginx or Caddy): their
    #: X-Forwarded-For and -Proto are then believed, so login throttling sees real clients.
    SURVEY_PROXY_HOPS = 0
    #: What is built on the survey package and added to the app (each name's ``init_app``).
    SURVEY_PARTS = ("reports:init_app",)


def default_env() -> str:
    """Say where we run when SURVEY_ENV does not: under gunicorn, production.

    A server started without SURVEY_ENV must not run with the public development key
    (anyone could sign a session and be HQ); ``flask run`` and the CLI stay development.
    """
    return "production" if "gunicorn" in sys.modules else "development"


def load_config(app, overrides: dict | None) -> None:
    """Layer defaults, environment and explicit overrides onto ``app.config``."""
    app.config.from_object(Config)
    env = os.environ
    development = app.debug or env.get("FLASK_DEBUG") == "1" or env.get("SURVEY_ENV", default_env()) == "development"
    if env.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = env["SECRET_KEY"]
    if env.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(env["DATABASE_URL"])
    for key, cast in (("SURVEY_BASE_URL", str), ("SURVEY_UPLOAD_MAX_MB", float),
                      ("SURVEY_BRAND", str), ("SURVEY_TARGET_SCORE", float), ("RATELIMIT_STORAGE_URI", str),
                      ("UPLOAD_DIR", str), ("SURVEY_PROXY_HOPS", int)):
        if env.get(key):
            app.config[key] = cast(env[key])
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'survey.db'}"
    if not app.config["UPLOAD_DIR"]:
        app.config["UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    app.config["SURVEY_BASE_URL"] = app.config["SURVEY_BASE_URL"].rstrip("/")
    max_upload = int(app.config["SURVEY_UPLOAD_MAX_MB"] * 1024 * 1024)
    app.config["UPLOAD_MAX_BYTES"] = max_upload
    # Room for a few photos plus the text; a single oversized photo is caught
    # per field with a message, this cap only stops absurd bodies.
    app.config.setdefault("MAX_CONTENT_LENGTH", 4 * max_upload + 4 * 1024 * 1024)
    if not development and not app.config.get("TESTING"):
        if app.config["SECRET_KEY"] == Config.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set outside development")
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def normalise_db_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
