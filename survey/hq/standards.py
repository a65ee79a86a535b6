"""HQ console: the standards catalogue (list, add, edit, retire and un-retire)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from ..extensions import db
from ..models import Standard
from . import queries
from .blueprint import bp
from .forms import NewStandardForm, StandardForm


def get_standard_or_404(key: str) -> Standard:
    standard = db.session.scalar(db.select(Standard).filter_by(key=key))
    if standard is None:
        abort(404)
    return standard


def retire_question(standard: Standard, questions: list[dict]) -> str:
    """The confirmation asked before a standard is retired: which published checklists it blocks."""
    if not questions:
        return (f"Retire \u201c{standard.title}\u201d? No published question measures it. No new question can "
                "use it; its history stays in reports. You can un-retire it later.")
    checklists = list(dict.fromkeys(q["checklist"] for q in questions))
    named = checklists[0] if len(checklists) == 1 else f"{', '.join(checklists[:-1])} and {checklists[-1]}"
    n = len(questions)
    return (f"Retire \u201c{standard.title}\u201d? {n} published question{'s' if n != 1 else ''} "
            f"measure{'s' if n == 1 else ''} it (in {named}). "
            f"{'That checklist' if len(checklists) == 1 else 'Those checklists'} can't be published again until "
            f"{'that question picks' if n == 1 else 'those questions pick'} another standard. "
            "Its history stays in reports; you can un-retire it later.")


@bp.get("/standards")
def standards():
    rows = queries.standards()
    measured = queries.measured_by()
    return render_template("hq/standards.html", standards=rows, measured=measured,
                           retire_questions={s.key: retire_question(s, measured.get(s.key, [])) for s in rows})


@bp.route("/standards/new", methods=["GET", "POST"])
def standard_new():
    form = NewStandardForm()
    if form.validate_on_submit():
        last = db.session.scalar(db.select(db.func.max(Standard.position))) or 0
        standard = Standard(key=form.key.data, title=form.title.data, description=form.description.data or "",
                            position=last + 1)
        db.session.add(standard)
        db.session.commit()
        flash(f"Added the standard \u201c{standard.title}\u201d.")
        return redirect(url_for("hq.standards", _anchor=f"s-{standard.key}"))
    return render_template("hq/standard_form.html", form=form, standard=None), 422 if form.errors else 200


@bp.route("/standards/<key>/edit", methods=["GET", "POST"])
def standard_edit(key: str):
    standard = get_standard_or_404(key)
    form = StandardForm(current=standard)
    if form.validate_on_submit():
        standard.title = form.title.data
        standard.description = form.description.data or ""
        db.session.commit()
        flash(f"Saved the standard \u201c{standard.title}\u201d.")
        return redirect(url_for("hq.standards", _anchor=f"s-{standard.key}"))
    return render_template("hq/standard_form.html", form=form, standard=standard,
                           measured=queries.measured_by().get(standard.key, [])), 422 if form.errors else 200


@bp.post("/standards/<key>/retire")
def standard_retire(key: str):
    return _set_retired(get_standard_or_404(key), True)


@bp.post("/standards/<key>/unretire")
def standard_unretire(key: str):
    return _set_retired(get_standard_or_404(key), False)


def _set_retired(standard: Standard, retired: bool):
    """Flip a standard's retirement; the CSRF check has already run for every POST."""
    if standard.retired != retired:
        standard.retired = retired
        db.session.commit()
        if retired:
            flash(f"Retired \u201c{standard.title}\u201d. Its history stays in reports; no new question can use it.")
        else:
            flash(f"\u201c{standard.title}\u201d is in use again: questions may measure it.")
    return redirect(url_for("hq.standards", _anchor=f"s-{standard.key}"))
