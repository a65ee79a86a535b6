"""The mystery-shopping application: ``create_app`` builds it in a few named steps."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template, request
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import import_string
from sqlalchemy.engine import Engine

from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .i18n import init_babel

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
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_parts(app)
    register_template_helpers(app)
    register_response_headers(app)
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

    from .models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Make SQLite safe for a small server: WAL for concurrent readers, waits, and real foreign keys."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL (a crash loses at most the last commits, never corrupts) and
        # it halves the cost of every commit: the shopper's POST commits a lot.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from .health import bp as health_bp
    from .shopper import offline  # noqa: F401  (adds the draft and offline routes to the shopper blueprint)
    from .shopper.views import bp as shopper_bp

    # The shopper form checks its CSRF token itself, so a stale token re-shows the
    # form with every answer kept instead of failing the whole request.
    csrf.exempt(shopper_bp)
    app.register_blueprint(shopper_bp)
    app.register_blueprint(health_bp)
    from .auth.views import bp as auth_bp
    from .hq.views import bp as hq_bp

    for bp in (auth_bp, hq_bp):
        app.register_blueprint(bp)


#: What an error page says, by status: its title and what to do.
ERROR_PAGES = {
    404: ("Not found", "There is nothing at this address. Check the link you were sent."),
    405: ("Not allowed", "This page can't be used that way."),
    413: ("Too large", "What you sent is too large. Go back, choose a smaller photo and send again; "
                       "your answers are still on the form."),
    429: ("Too many attempts", "Too many attempts. Wait a minute and try again."),
    500: ("Something went wrong", "Something went wrong on our side. Nothing you sent was lost; "
                                  "try again in a moment."),
}


def register_error_handlers(app: Flask) -> None:
    def render(code: int, title: str, message: str):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    app.register_error_handler(400, lambda e: render(400, "Bad request", getattr(e, "description", "")))
    for code, (title, message) in ERROR_PAGES.items():
        app.register_error_handler(code, lambda e, page=(code, title, message): render(*page))


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


def register_response_headers(app: Flask) -> None:
    @app.after_request
    def keep_private_pages_out_of_caches(response):
        """Staff pages and a shopper's form hold private data (comments, draft answers, a CSRF
        token): no shared or disk cache may keep them. The offline copy of the form lives in
        the service worker's own cache, which this header does not touch."""
        if (
            response.mimetype == "text/html"
            and "Cache-Control" not in response.headers
            and (request.blueprint == "shopper" or current_user.is_authenticated)
        ):
            response.headers["Cache-Control"] = "private, no-store"
        return response


def register_template_helpers(app: Flask) -> None:
    @app.template_filter("percent")
    def percent(fraction: float | None) -> str:
        """Show a 0..1 score or share as percent with one decimal ("72.3 %"), as SPEC §4 displays scores."""
        return "–" if fraction is None else f"{fraction * 100:.1f} %"
