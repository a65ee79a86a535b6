"""The mystery-shopping application: ``create_app`` builds it in a few named steps."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import import_string
from sqlalchemy.engine import Engine

from . import alerts, delivery, rollups  # noqa: F401  (register their jobs before register_jobs binds them)
from .auth.sessions import init_sessions
from .config import load_config
from .errors import register_error_handlers
from .extensions import csrf, db, limiter, login_manager, migrate
from .i18n import init_babel
from .jobs import init_jobs
from . import storage
from .security import register_security
from .assets import register_lean_static

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides defaults and environment (tests pass one)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    load_config(app, config)
    if app.config["SURVEY_PROXY_HOPS"]:
        hops = app.config["SURVEY_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    register_extensions(app)
    register_jobs(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_parts(app)
    register_template_helpers(app)
    register_security(app)
    register_lean_static(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    init_babel(app)
    init_sessions(app)
    storage.init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Make SQLite safe for a small server: WAL for concurrent readers, and real foreign keys.

    How long a writer waits for another is sqlite3's ``timeout`` (config.engine_options)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL (a crash loses at most the last commits, never corrupts) and
        # it halves the cost of every commit: the shopper's POST commits a lot.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_jobs(app: Flask) -> None:
    """Bind the background jobs (survey/jobs.py) to the queue SURVEY_QUEUE_URL names."""
    init_jobs(app)


def register_blueprints(app: Flask) -> None:
    from .health import bp as health_bp
    from .shopper import offline  # noqa: F401  (adds the draft and offline routes to the shopper blueprint)
    from .shopper.views import bp as shopper_bp

    # The shopper form checks its CSRF token itself, so a stale token re-shows the
    # form with every answer kept instead of failing the whole request.
    csrf.exempt(shopper_bp)
    app.register_blueprint(shopper_bp)
    app.register_blueprint(health_bp)
    from .auth import delivery as _delivery  # noqa: F401  (adds the monthly e-mail page to the auth blueprint)
    from .auth.views import bp as auth_bp
    from .hq.views import bp as hq_bp

    for bp in (auth_bp, hq_bp):
        app.register_blueprint(bp)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)


def register_parts(app: Flask) -> None:
    """Add the parts built on this package (``SURVEY_PARTS``: the reports), each by its ``init_app``.

    Named in the configuration, not imported here: the flow runs checklists → survey → reports,
    and nothing in survey depends on what is built on it.
    """
    for name in app.config["SURVEY_PARTS"]:
        import_string(name)(app)


def register_template_helpers(app: Flask) -> None:
    @app.template_filter("percent")
    def percent(fraction: float | None) -> str:
        """Show a 0..1 score or share as percent with one decimal ("72.3 %"), as SPEC §4 displays scores."""
        return "–" if fraction is None else f"{fraction * 100:.1f} %"
