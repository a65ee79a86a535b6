"""HQ console: review."""

from .blueprint import bp  # noqa: F401
