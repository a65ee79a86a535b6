"""Command-line interface (SPEC §5): ``flask --app wsgi <command>``."""

from __future__ import annotations

import logging
import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import catalogue, jobs, rollups
from .auth.forms import email_problem
from .extensions import db
from .models import Branch, Checklist, Region, Role, User, code_is
from .submissions import create_assignments, get_or_create_wave, shopper_url

checklist_cli = AppGroup("checklist", help="Validate, import and export checklist files.")
user_cli = AppGroup("user", help="Manage staff accounts.")
uploads_cli = AppGroup("uploads", help="Look after the shoppers' photos in UPLOAD_DIR.")
rollups_cli = AppGroup("rollups", help="The monthly score sums the region and network averages read.")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@checklist_cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def checklist_validate(paths):
    """Validate checklist and standards files; list every error and exit 1 if any."""
    try:
        parsed, errors = catalogue.validate_paths(list(paths))
    except catalogue.NoSchema as exc:
        fail(str(exc))
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        click.echo(f"{len(errors)} error{'s' if len(errors) != 1 else ''}; nothing imported.", err=True)
        sys.exit(1)
    click.echo(f"{len(parsed)} file{'s' if len(parsed) != 1 else ''} valid.")


@checklist_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def checklist_import(paths):
    """Validate files and publish new versions; unchanged content publishes nothing."""
    try:
        outcomes, errors = catalogue.import_paths(list(paths))
    except catalogue.NoSchema as exc:
        fail(str(exc))
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        click.echo(f"{len(errors)} error{'s' if len(errors) != 1 else ''}; nothing imported.", err=True)
        sys.exit(1)
    for outcome in outcomes:
        click.echo(str(outcome))


@checklist_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: standard output).")
def checklist_export(slug, output):
    """Write the latest version of a checklist as YAML that imports back unchanged."""
    text = catalogue.export_yaml(slug)
    if text is None:
        fail(f"no checklist with slug '{slug}'")
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


@click.command("assign")
@click.option("--checklist", "slug", required=True, help="Checklist slug, e.g. store-visit.")
@click.option("--branch", "code", required=True, help="Branch code, e.g. BR-014.")
@click.option("--count", default=1, type=click.IntRange(1, 1000), show_default=True)
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day of the window (default: in 30 days).")
@click.option("--not-before", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day of the window (default: today).")
@click.option("--wave", help="Name of the wave these links belong to.")
def assign(slug, code, count, due, not_before, wave):
    """Create assignments and print one shopper URL per line."""
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug=slug))
    if checklist is None or checklist.latest is None:
        fail(f"no published checklist with slug '{slug}'")
    branch = db.session.scalar(db.select(Branch).where(code_is(Branch.code, code)))
    if branch is None:
        fail(f"no branch with code '{code}'")
    start = not_before.date() if not_before else date.today()
    end = due.date() if due else None
    if end is not None and end < start:
        fail("--due is before the start of the window")
    made = create_assignments(checklist, branch, count, due=end, not_before=start, wave=get_or_create_wave(wave))
    db.session.commit()
    for _, token in made:
        click.echo(shopper_url(token))


@click.command("seed-demo")
def seed_demo():
    """Load demo regions, branches, checklists, users, open links and 12 months of history."""
    from .demo import seed

    seed(echo=click.echo)


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--region", "regions", multiple=True, help="Region code (managers; repeat for several).")
@click.password_option("--password", help="Prompted when not given.")
def user_create(email, role, regions, password):
    """Create a staff account."""
    email = email.strip().lower()
    problem = email_problem(email)
    if problem:  # an address the login form refuses could never log in
        fail(f"{email}: {problem}")
    if len(password) < 8:
        fail("the password needs at least 8 characters")
    if db.session.scalar(db.select(User).filter_by(email=email)):
        fail(f"a user {email} already exists")
    found = []
    for code in regions:
        region = db.session.scalar(db.select(Region).filter_by(code=code))
        if region is None:
            fail(f"no region with code '{code}'")
        found.append(region)
    if role == Role.manager.value and not found:
        fail("a manager needs at least one --region")
    user = User(email=email, role=Role(role), regions=found)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {email}" + (f" for {', '.join(r.code for r in found)}" if found else ""))


@uploads_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def uploads_purge(dry_run):
    """Delete photos that can never be sent (their link is sent or cancelled, or 30 days past
    due) and photo files no row names. The worker runs it daily at 03:17 UTC."""
    from .shopper.uploads import purge

    done = purge(date.today(), dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} {done.rows} unsent photo{'s' if done.rows != 1 else ''} and "
               f"{done.files} file{'s' if done.files != 1 else ''} ({done.bytes / 1e6:.1f} MB).")


@rollups_cli.command("check")
@click.option("--repair", is_flag=True, help="Set every drifted row to the sums of the visits.")
def rollups_check(repair):
    """Recompute the monthly score sums from the visits and list what differs; exit 1 if anything
    drifted and was left as it was."""
    drift = rollups.check(repair=repair)
    for found in (drift.scores, drift.standards):
        for key, (was, should) in sorted(found.items(), key=str):
            click.echo(f"{'/'.join(map(str, key))}: stored {was or 'nothing'}, visits {should or 'nothing'}")
    if repair:
        db.session.commit()
        click.echo(f"{len(drift)} row{'s' if len(drift) != 1 else ''} set right.")
        return
    click.echo(f"{len(drift)} row{'s' if len(drift) != 1 else ''} drifted." if drift else "No drift.")
    if drift:
        sys.exit(1)


@click.command("worker")
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at the same time.")
@click.option("-k", "--kind", type=click.Choice(["thread", "process"]), default="thread", show_default=True,
              help="Run jobs in threads or in processes.")
@click.option("--no-periodic", is_flag=True,
              help="Run queued jobs only; leave the schedule (sweep, daily purge) to another worker.")
def worker(workers, kind, no_periodic):
    """Run the background jobs (e-mail alerts, scheduled clean-ups) until stopped.

    SIGTERM (systemd's stop) lets running jobs finish first; Ctrl+C stops at once (a job cut off
    is picked up by the next sweep, an e-mail cut off mid-send is marked unknown, never sent twice).
    """
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"Jobs wait in {jobs.describe_queue(app)}.")
    for line in jobs.describe_work(app):
        click.echo(line, err=line.startswith("Warning"))
    if no_periodic:
        click.echo("Not scheduling: another worker must run without --no-periodic.")
    consumer = app.extensions["jobs"].huey.create_consumer(
        workers=workers, worker_type=kind, periodic=not no_periodic, graceful_signal="TERM",
        check_worker_health=True)
    consumer.run()


def register(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(checklist_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(uploads_cli)
    app.cli.add_command(rollups_cli)
    app.cli.add_command(assign)
    app.cli.add_command(seed_demo)
