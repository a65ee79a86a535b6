"""HQ console: home."""

from .blueprint import bp  # noqa: F401
