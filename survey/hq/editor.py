"""HQ console: editor."""

from .blueprint import bp  # noqa: F401
