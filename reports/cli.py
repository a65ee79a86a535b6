"""Report commands (SPEC §5): ``flask report branch|region`` and ``flask export csv``.

Bad input ends with a one-line message and exit code 2, like click's own usage errors.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from . import export, output, queries, service
from .periods import PeriodError, parse_period

report_cli = AppGroup("report", help="Render branch and region reports.")
export_cli = AppGroup("export", help="Export raw data.")

FROM = click.option("--from", "start", metavar="YYYY-MM-DD", help="First visit day (default: 12 months before --to).")
TO = click.option("--to", "end", metavar="YYYY-MM-DD", help="Last visit day (default: today).")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def period_or_fail(start: str | None, end: str | None):
    try:
        return parse_period(start, end)
    except PeriodError as exc:
        fail(str(exc))


def write(path: str, body: bytes | str) -> None:
    """Write a finished document; a path that can't be written is the caller's mistake (exit 2)."""
    try:
        if isinstance(body, bytes):
            with open(path, "wb") as fh:
                fh.write(body)
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(body)
    except OSError as exc:
        fail(f"can't write {path}: {exc.strerror or exc}")


def render(kind: str, code: str, start: str | None, end: str | None, fmt: str, path: str,
           appendix: bool = True) -> None:
    period = period_or_fail(start, end)
    build = service.branch_report if kind == "branch" else service.region_report
    try:
        data = build(code, period.start, period.end)
    except service.UnknownCode:
        fail(f"no {kind} with code '{code}'")
    body = (output.render_pdf(data, appendix=appendix) if fmt == "pdf"
            else output.render_html(data, appendix=appendix))
    write(path, body)
    click.echo(f"Wrote {path} ({kind} {data[kind]['code']}, {period.label})")  # as stored, however typed


def _report_command(kind: str):
    @click.argument("code")
    @FROM
    @TO
    @click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True)
    @click.option("-o", "--output", "path", required=True, metavar="FILE", help="File to write.")
    @click.option("--appendix/--no-appendix", default=True, show_default=True,
                  help="Include the appendix on how the scores are computed.")
    def command(code, start, end, fmt, path, appendix):
        render(kind, code, start, end, fmt, path, appendix)

    command.__doc__ = f"Render a {kind} report for a period."
    return command


report_cli.command("branch")(_report_command("branch"))
report_cli.command("region")(_report_command("region"))


@export_cli.command("csv")
@click.option("--region", "code", metavar="CODE", help="Only this region (default: every region).")
@FROM
@TO
@click.option("--by", type=click.Choice(export.KINDS), default="answer", show_default=True,
              help="One row per answer, or one per visit.")
@click.option("-o", "--output", "path", required=True, metavar="FILE",
              help="File to write ('-' for standard output); a name ending in .xlsx writes a workbook of both.")
def export_csv(code, start, end, by, path):
    """Export one CSV row per answer (or per visit) of the visits in a period."""
    period = period_or_fail(start, end)
    ids = None
    if code:
        region = queries.region_by_code(code)
        if region is None:
            fail(f"no region with code '{code}'")
        ids, code = [region.id], region.code  # as stored, however typed
    if path == "-":
        for chunk in export.export_lines(period, ids, by):
            click.echo(chunk, nl=False)
        return
    try:
        if path.lower().endswith(".xlsx"):
            with open(path, "wb") as fh:
                export.write_workbook(fh, period, ids)
        else:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                for chunk in export.export_lines(period, ids, by):
                    fh.write(chunk)
    except OSError as exc:
        fail(f"can't write {path}: {exc.strerror or exc}")
    click.echo(f"Wrote {path} ({code or 'all regions'}, {period.label})")


def register(app: Flask) -> None:
    """Add the ``report`` and ``export`` command groups."""
    app.cli.add_command(report_cli)
    app.cli.add_command(export_cli)
