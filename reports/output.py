"""Turning report data into documents and naming the files people download."""

from __future__ import annotations

from typing import Any

from .bounds import for_print
from .periods import Period


def render_pdf(data: dict[str, Any], *, appendix: bool = True) -> bytes:
    """Render report data as a PDF; ``appendix=False`` leaves out how the scores are computed."""
    # WeasyPrint takes about a second to import: load it when a report is first asked
    # for, not when a shopper's request starts the app.
    from .pdf import render_report

    return render_report(for_print(data), appendix=appendix)


def render_html(data: dict[str, Any], *, appendix: bool = True) -> str:
    """Render report data as one HTML file, stylesheet inlined, that a browser shows like the PDF."""
    from .pdf import render_standalone_html

    return render_standalone_html(for_print(data), appendix=appendix)


def report_filename(code: str, period: Period, extension: str = "pdf") -> str:
    """Name a report file after what it covers: ``BR-014_2025-11-22_2026-11-22.pdf``."""
    return f"{code}_{period.slug()}.{extension}"
