"""Cells that people open in a spreadsheet: text is defused so it is shown, never run.

Used by the links file HQ downloads (``hq/waves.py``) and by every export (``reports/export.py``).
"""

from __future__ import annotations

import re

#: A cell starting with one of these is a formula to a spreadsheet; typed text must not run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_text(value: str | None) -> str:
    """Write text someone typed (a shopper's comment, a branch name from an import), defused:
    a leading quote makes a spreadsheet show ``=HYPERLINK(...)`` instead of running it."""
    if not value:
        return ""
    if value.startswith(FORMULA_START) and not NUMBER_RE.match(value):
        return "'" + value
    return value
