"""Reports: SQL aggregates → statistics → plain dicts that the PDF templates render.

``init_app`` adds the part to an app; ``survey.create_app`` calls it because the app's
configuration names it (``SURVEY_PARTS``): reports depend on survey, never the reverse.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the reports' pages (``/reports/``), commands (``flask report``, ``flask export``) and
    the PDF renderer of the worker's batches (survey/delivery.py)."""
    from survey.delivery import register_renderer

    from . import delivered, screens  # noqa: F401  (add their pages to the blueprint)
    from .cli import register
    from .views import bp

    app.register_blueprint(bp)
    register(app)
    register_renderer(app, delivered.render)
