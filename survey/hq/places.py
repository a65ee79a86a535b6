"""HQ console: places."""

from .blueprint import bp  # noqa: F401
