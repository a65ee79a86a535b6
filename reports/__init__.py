"""Reports: SQL aggregates → statistics → plain dicts that the PDF templates render.

``init_app`` adds the part to an app; ``survey.create_app`` calls it because the app's
configuration names it (``SURVEY_PARTS``): reports depend on survey, never the reverse.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the reports' pages (``/reports/``) and commands (``flask report``, ``flask export``)."""
    from . import screens  # noqa: F401  (adds the screens' pages to the blueprint)
    from .cli import register
    from .views import bp

    app.register_blueprint(bp)
    register(app)
