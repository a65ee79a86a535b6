"""Collect the HQ console's routes onto one blueprint."""

from . import alerts, appeals, editor, home, places, review, staff, standards, waves  # noqa: F401  (each adds routes to bp)
from .blueprint import bp

__all__ = ["bp"]
