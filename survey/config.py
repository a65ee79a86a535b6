"""Configuration layers: defaults here, then the environment, then a test mapping."""

import os
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from .jobs import QueueUrlError, queue_target
from .mail import MailUrlError, parse_mail_url

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting that cannot be used; the message names it, so start-up stops with a reason."""


class Config:
    """Defaults that suit a developer's machine; production overrides via environment."""

    SECRET_KEY = "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = None  # filled in by load_config: needs the instance path
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    CHECKLISTS_DIR = str(ROOT / "checklists")
    TEMPLATES_DIR = str(ROOT / "templates")
    UPLOAD_DIR = None  # default: <instance>/uploads, outside the web root
    #: ``s3://bucket/prefix``: photos in S3-compatible object storage instead of UPLOAD_DIR, so
    #: several app hosts share them (survey/storage.py). Keys from AWS_ACCESS_KEY_ID/..._SECRET_...
    UPLOAD_URL = None
    S3_ENDPOINT_URL = None  # a server other than AWS (SeaweedFS, MinIO), e.g. http://10.0.0.5:8333
    S3_REGION = None
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
    #: Seconds the database may take before a request gives up with a 503 (errors.py): PostgreSQL's
    #: statement_timeout, SQLite's busy timeout, and the wait for a pooled connection. Without it
    #: a database that hangs held every worker until gunicorn killed it (30 s).
    SURVEY_DB_TIMEOUT = 5.0
    #: Seconds to wait for a new PostgreSQL connection (libpq's connect_timeout; 2 is its minimum).
    SURVEY_DB_CONNECT_TIMEOUT = 2
    #: /healthz answers 503 when UPLOAD_DIR's disk (or a SQLite file's) has less free space than this.
    SURVEY_MIN_FREE_MB = 200
    #: A staff session ends after this many hours without a request (auth/sessions.py).
    SURVEY_SESSION_HOURS = 12.0
    #: Strict-Transport-Security on every response; turned on outside development (HTTPS).
    SURVEY_HSTS = False
    #: Where background jobs wait (survey/jobs.py): unset, a SQLite file ``<instance>/jobs.db``;
    #: ``redis://`` or ``rediss://`` for Redis; ``sqlite:////absolute/path`` for another file.
    SURVEY_QUEUE_URL = None
    #: Where e-mail leaves (survey/mail.py): ``smtp://``, ``smtp+starttls://`` or ``smtps://``
    #: ``user:pass@host:port``. Unset: written to ``<instance>/outbox/`` in development.
    MAIL_URL = None
    #: Where development writes e-mail when MAIL_URL is unset (default: <instance>/outbox).
    SURVEY_OUTBOX_DIR = None
    #: The sender of every message.
    SURVEY_MAIL_FROM = "Mystery Shopping <alerts@localhost>"
    #: Seconds an SMTP server may take to answer any one step before the try counts as failed.
    SURVEY_MAIL_TIMEOUT = 30.0
    #: An alert goes out for a counted visit below this score in percent (unset: only critical failures).
    SURVEY_ALERT_BELOW = None
    #: Tries per alert before it is marked failed; the wait doubles from SURVEY_ALERT_RETRY_SECONDS, up to an hour.
    SURVEY_ALERT_ATTEMPTS = 8
    SURVEY_ALERT_RETRY_SECONDS = 60.0
    #: A batch PDF claimed longer ago than this lost its worker (killed): the sweep queues it again.
    SURVEY_PDF_LOST_SECONDS = 300.0
    #: Days a batch's PDFs are kept in the store; then the daily clean-up deletes them (their links
    #: then say so and offer the same report made fresh). 400: a year's comparison and some margin.
    SURVEY_BATCH_KEEP_DAYS = 400
    #: The most visits a workbook download (/reports/export.xlsx) may hold. A workbook is sent only
    #: once it is complete, at about 1,400 answer rows a second on a busy CPU (README, "Exports"), so
    #: 5,000 visits (~125,000 answers) is a minute or so, what a proxy in front waits; larger
    #: exports are the CSV's (streamed, no limit) or ``flask export csv -o x.xlsx``.
    SURVEY_XLSX_MAX_VISITS = 5000
    #: Days after a visit's arrival during which a manager may appeal it (SPEC §8).
    SURVEY_APPEAL_DAYS = 14


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
                      ("UPLOAD_DIR", str), ("UPLOAD_URL", str), ("S3_ENDPOINT_URL", str), ("S3_REGION", str),
                      ("SURVEY_PROXY_HOPS", int),
                      ("SURVEY_SESSION_HOURS", float), ("SURVEY_DB_TIMEOUT", float),
                      ("SURVEY_DB_CONNECT_TIMEOUT", int), ("SURVEY_MIN_FREE_MB", float),
                      ("SURVEY_XLSX_MAX_VISITS", int), ("SURVEY_APPEAL_DAYS", int)):
        if env.get(key):
            app.config[key] = cast(env[key])
    for key in ("SURVEY_QUEUE_URL", "MAIL_URL", "SURVEY_OUTBOX_DIR", "SURVEY_MAIL_FROM", "SURVEY_MAIL_TIMEOUT",
                "SURVEY_ALERT_BELOW", "SURVEY_ALERT_ATTEMPTS", "SURVEY_ALERT_RETRY_SECONDS",
                "SURVEY_PDF_LOST_SECONDS", "SURVEY_BATCH_KEEP_DAYS"):
        if env.get(key):
            app.config[key] = env[key]
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'survey.db'}"
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["SURVEY_DB_TIMEOUT"],
                         app.config["SURVEY_DB_CONNECT_TIMEOUT"]),
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }
    if not app.config["SURVEY_OUTBOX_DIR"]:
        app.config["SURVEY_OUTBOX_DIR"] = str(Path(app.instance_path) / "outbox")
    if not app.config["UPLOAD_DIR"]:
        app.config["UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    app.config["SURVEY_BASE_URL"] = app.config["SURVEY_BASE_URL"].rstrip("/")
    max_upload = int(app.config["SURVEY_UPLOAD_MAX_MB"] * 1024 * 1024)
    app.config["UPLOAD_MAX_BYTES"] = max_upload
    # Flask's defaults hold the key (as None), so only an explicit override may replace ours.
    if "MAX_CONTENT_LENGTH" not in (overrides or {}):
        app.config["MAX_CONTENT_LENGTH"] = request_limit(max_upload)
    app.config.setdefault("SURVEY_DEVELOPMENT", development)
    check_background(app.config)
    if not development and not app.config.get("TESTING"):
        if app.config["SECRET_KEY"] == Config.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set outside development")
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["SURVEY_HSTS"] = True


def _number(config, key: str, cast, low: float, high: float | None = None) -> None:
    value = config[key]
    if value is None or value == "":
        config[key] = None
        return
    try:
        number = cast(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number, not {value!r}") from None
    if number < low or (high is not None and number > high):
        limit = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{key} must be {limit}, not {value!r}")
    config[key] = number


def check_background(config) -> None:
    """Check the settings of jobs, mail and alerts at start-up: a typo must stop the app with the
    setting's name, not surface as a failed alert days later."""
    _number(config, "SURVEY_ALERT_BELOW", float, 0, 100)
    _number(config, "SURVEY_ALERT_ATTEMPTS", int, 1, 100)
    _number(config, "SURVEY_ALERT_RETRY_SECONDS", float, 0.1)
    _number(config, "SURVEY_MAIL_TIMEOUT", float, 0.1)
    _number(config, "SURVEY_PDF_LOST_SECONDS", float, 1)
    _number(config, "SURVEY_BATCH_KEEP_DAYS", int, 1)
    try:
        if config["MAIL_URL"]:
            parse_mail_url(config["MAIL_URL"])
        queue_target(config["SURVEY_QUEUE_URL"], "instance")
    except (MailUrlError, QueueUrlError) as exc:
        raise ConfigError(str(exc)) from None


#: Photos one form may carry (a checklist's photo questions and an outcome's photo).
PHOTOS_PER_REQUEST = 4
#: The rest of a form: 24 questions with comments of 5,000 characters are about 250 KB.
FORM_ROOM = 1024 * 1024


def request_limit(photo_bytes: int) -> int:
    """Return the largest request body accepted: a few full-size photos and the form around them.

    A single oversized photo is caught per field with a message beside it; this cap stops a body
    no form could need before the app reads it (security.refuse_oversized_body).
    """
    return PHOTOS_PER_REQUEST * photo_bytes + FORM_ROOM


def engine_options(url: str, timeout: float, connect_timeout: int) -> dict:
    """Timeouts that make a slow or unreachable database fail a request fast (a 503), not hang it.

    PostgreSQL: libpq's connect_timeout, and statement_timeout set for every connection (added to
    any ``options`` the URL already gives, such as a search_path); JIT off, because compiling a
    large query (the network CSV of a chain's three years) took 2 s before its first row, more
    than it ever saves on our indexed reads (bench/chain_pages.py). SQLite: the busy timeout,
    through sqlite3's own ``timeout``. Both: the wait for a free pooled connection.
    """
    parsed = make_url(url)
    options: dict = {}
    if parsed.get_backend_name() == "postgresql" or parsed.database not in (None, "", ":memory:"):
        options["pool_timeout"] = timeout  # a queue pool; an in-memory SQLite has none
    if parsed.get_backend_name() == "postgresql":
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        options["connect_args"] = {
            "connect_timeout": max(2, int(connect_timeout)),
            "options": f"{given} -c statement_timeout={int(timeout * 1000)} -c jit=off".strip(),
        }
    elif parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": timeout}
    return options


def normalise_db_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
