"""HQ console: waves."""

from .blueprint import bp  # noqa: F401
