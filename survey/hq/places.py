"""HQ console: regions and branches (list, add, edit, deactivate) and the branches CSV import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from ..extensions import db
from ..models import Branch, Region
from . import queries
from .blueprint import bp
from .forms import BRANCH_CSV_HEADER, BranchForm, BranchImportForm, BranchRow, RegionForm, page_number

#: Default cap on an uploaded branches file; HQ_IMPORT_MAX_BYTES in the config overrides it.
IMPORT_MAX_BYTES = 1024 * 1024




# ---------------------------------------------------------------- regions


@bp.get("/regions")
def regions():
    """List regions with how many branches can get links: a region's inactive branches, or all the branches of
    an inactive region, are counted apart."""
    totals = queries.branch_counts_by_region()
    rows = queries.regions()
    counts = {}
    for r in rows:
        on, off = totals.get(r.id, {}).get(True, 0), totals.get(r.id, {}).get(False, 0)
        counts[r.id] = {"active": on if r.active else 0, "off": off if r.active else on + off}
    return render_template("hq/regions.html", regions=rows, counts=counts,
                           deactivate_question=deactivate_region_question)


def deactivate_region_question(region: Region, active_branches: int) -> str:
    n = active_branches
    return (f"Deactivate the region {region.name} ({region.code})? Its {n} active branch{'es' if n != 1 else ''} "
            "will get no new links until you reactivate it. Links already sent keep working; "
            "its history stays in reports.")


def deactivate_branch_question(branch, open_links: int) -> str:
    """Ask before deactivating a branch (a Branch, or a row of ``queries.branches_page``)."""
    n = open_links
    kept = f"Its {n} open link{'s' if n != 1 else ''} keep{'s' if n == 1 else ''} working; its" if n else "Its"
    return (f"Deactivate {branch.code} {branch.name}? It will get no new links until you reactivate it. "
            f"{kept} history stays in reports.")


@bp.route("/regions/new", methods=["GET", "POST"])
def region_new():
    form = RegionForm()
    if form.validate_on_submit():
        region = Region(code=form.code.data, name=form.name.data)
        db.session.add(region)
        db.session.commit()
        flash(f"Added the region {region.name} ({region.code}).")
        return redirect(url_for("hq.regions"))
    return render_template("hq/region_form.html", form=form, region=None), 422 if form.errors else 200


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
def region_edit(region_id: int):
    region = db.get_or_404(Region, region_id)
    form = RegionForm(current=region)
    if form.validate_on_submit():
        region.code, region.name = form.code.data, form.name.data
        db.session.commit()
        flash(f"Saved the region {region.name} ({region.code}).")
        return redirect(url_for("hq.regions"))
    return render_template("hq/region_form.html", form=form, region=region), 422 if form.errors else 200


@bp.post("/regions/<int:region_id>/deactivate")
def region_deactivate(region_id: int):
    region = db.get_or_404(Region, region_id)
    return _set_active(region, False, "hq.regions",
                       f"Deactivated {region.name}. Its branches get no new links; their history stays in reports.")


@bp.post("/regions/<int:region_id>/reactivate")
def region_reactivate(region_id: int):
    region = db.get_or_404(Region, region_id)
    return _set_active(region, True, "hq.regions", f"{region.name} is active again.")


def _set_active(thing: Region | Branch, active: bool, back_to: str, message: str):
    """Switch a region or branch on or off (nothing is deleted: history stays in the reports)."""
    if thing.active != active:
        thing.active = active
        db.session.commit()
        flash(message)
    return redirect(url_for(back_to))


# ---------------------------------------------------------------- branches


#: Branches per page of the list: about a laptop screen's worth, the rows a person reads before
#: paging on or narrowing to a region. A chain has thousands; at 50 a page its list cost 1.5-1.7x the
#: demo's 13 branches, at 25 about 1.2x (bench/README.md, issue 16).
BRANCH_PAGE_SIZE = 25


#: What a row of the branches list links to: ``hq.branch_<verb>``.
ROW_ACTIONS = ("edit", "deactivate", "reactivate")


def per_branch(endpoint: str) -> Callable[[int], str]:
    """Return a function that gives ``endpoint``'s URL for a branch id, with url_for called once.

    A list's rows each link to their branch: url_for per row was two thirds of the cost of a row
    of the branches list (bench/README.md, issue 16).
    """
    marker = 918273645
    head, tail = url_for(endpoint, branch_id=marker).split(str(marker))
    return lambda branch_id: f"{head}{int(branch_id)}{tail}"


@bp.get("/branches")
def branches():
    region = None
    code = request.args.get("region", "")
    if code:
        region = queries.region(code)
        if region is None:
            abort(404)
    rows, total, page = queries.branches_page(region.id if region else None,
                                              page_number(request.args.get("page")), BRANCH_PAGE_SIZE)
    return render_template(
        "hq/branches.html", branches=rows, total=total, page=page, pages=max(1, -(-total // BRANCH_PAGE_SIZE)),
        args={"region": region.code} if region else {}, region=region, regions=queries.regions_by_code(),
        open_links=queries.open_links_by_branch(date.today(), [b.id for b in rows]),
        deactivate_question=deactivate_branch_question,
        urls=SimpleNamespace(**{verb: per_branch(f"hq.branch_{verb}") for verb in ROW_ACTIONS}),
    )


@bp.route("/branches/new", methods=["GET", "POST"])
def branch_new():
    form = BranchForm()
    wanted = request.args.get("region", "")
    if request.method == "GET" and wanted.isascii() and wanted.isdigit() and len(wanted) < 10:
        form.region_id.data = int(request.args["region"])
    if form.validate_on_submit():
        branch = Branch(code=form.code.data, name=form.name.data, region_id=form.region_id.data,
                        address=form.address.data or "", opening_hours=form.opening_hours.data or None)
        db.session.add(branch)
        db.session.commit()
        flash(f"Added the branch {branch.code} {branch.name}.")
        return redirect(url_for("hq.branches"))
    return render_template("hq/branch_form.html", form=form, branch=None), 422 if form.errors else 200


@bp.route("/branches/<int:branch_id>/edit", methods=["GET", "POST"])
def branch_edit(branch_id: int):
    branch = db.get_or_404(Branch, branch_id)
    form = BranchForm(current=branch)
    if form.validate_on_submit():
        branch.code, branch.name = form.code.data, form.name.data
        branch.region_id, branch.address = form.region_id.data, form.address.data or ""
        branch.opening_hours = form.opening_hours.data or None
        db.session.commit()
        flash(f"Saved the branch {branch.code} {branch.name}.")
        return redirect(url_for("hq.branches"))
    open_links = queries.open_links_by_branch(date.today(), [branch.id]).get(branch.id, 0)
    return (render_template("hq/branch_form.html", form=form, branch=branch, open_links=open_links),
            422 if form.errors else 200)


@bp.post("/branches/<int:branch_id>/deactivate")
def branch_deactivate(branch_id: int):
    branch = db.get_or_404(Branch, branch_id)
    return _set_active(branch, False, "hq.branches",
                       f"Deactivated {branch.code} {branch.name}. It gets no new links; its history stays in reports.")


@bp.post("/branches/<int:branch_id>/reactivate")
def branch_reactivate(branch_id: int):
    branch = db.get_or_404(Branch, branch_id)
    return _set_active(branch, True, "hq.branches", f"{branch.code} {branch.name} is active again.")


@bp.route("/branches/import", methods=["GET", "POST"])
def branch_import():
    form = BranchImportForm(max_bytes=current_app.config.get("HQ_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES))
    if form.validate_on_submit():
        added, updated, unchanged = import_branches(form.rows)
        db.session.commit()
        flash(f"Imported {len(form.rows)} branches: {added} added, {updated} updated, {unchanged} unchanged.")
        return redirect(url_for("hq.branches"))
    return render_template("hq/branch_import.html", form=form, header=",".join(BRANCH_CSV_HEADER),
                           max_kb=form.max_bytes // 1024), 422 if form.errors else 200


def import_branches(rows: list[BranchRow]) -> tuple[int, int, int]:
    """Add new branches and update known ones (by code); return how many were added, updated, unchanged."""
    regions = {r.code: r for r in db.session.scalars(db.select(Region))}
    existing = {b.code.upper(): b for b in db.session.scalars(db.select(Branch))}  # an older "br-1" is BR-1
    added = updated = 0
    for row in rows:
        region = regions[row.region_code]
        branch = existing.get(row.code.upper())
        if branch is None:
            db.session.add(Branch(code=row.code, name=row.name, region=region, address=row.address,
                                  opening_hours=row.opening_hours or None))
            added += 1
            continue
        hours = branch.opening_hours if row.opening_hours is None else (row.opening_hours or None)
        if (branch.name, branch.region_id, branch.address, branch.opening_hours) != (
                row.name, region.id, row.address, hours):
            branch.name, branch.region, branch.address, branch.opening_hours = row.name, region, row.address, hours
            updated += 1
    return added, updated, len(rows) - added - updated
