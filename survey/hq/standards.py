"""HQ console: standards."""

from .blueprint import bp  # noqa: F401
