"""HQ console: appeals (SPEC §8). The queue of open appeals, one appeal with a decision per disputed
item, and the appeal and upheld rates per branch and per category. Decisions are written by
``survey.appeals``."""

from __future__ import annotations

import math
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, func, orm, select
from wtforms import RadioField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .. import appeals
from ..extensions import db
from ..models import Appeal, AppealCategory, AppealItem, AppealState, Branch, Submission
from .blueprint import bp
from .forms import date_field, page_number
from .review import STATE_WORDS

PAGE_SIZE = 50


class AppealDecisionForm(FlaskForm):
    """HQ's decision on one disputed item: upheld or denied, with a reason (the answer is read apart)."""

    decision = RadioField("Decision", choices=[SelectChoice("upheld", "Uphold"), SelectChoice("denied", "Deny")],
                          validators=[InputRequired("Choose to uphold or deny.")])
    reason = TextAreaField("Reason", validators=[
        DataRequired("Give a reason: the branch reads it, and it is kept for the audit trail."),
        Length(max=appeals.REASON_MAX, message=f"Keep it under {appeals.REASON_MAX:,} characters.")],
        description="Why, e.g. “the comment confirms the floor was clean”.")


class RatesForm(FlaskForm):
    """The period of the rates page; a GET form, so a period is a shareable link."""

    class Meta:
        csrf = False

    date_from = date_field("Visited from", validators=[Optional()], description="")
    date_to = date_field("Visited to", validators=[Optional()], description="")

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end comes before the start: choose a later day.")


@bp.get("/appeals")
def appeals_queue():
    """The open appeals, oldest first (``?state=decided``: the decided ones, newest first)."""
    decided = request.args.get("state") == "decided"
    state = AppealState.decided if decided else AppealState.open
    page = page_number(request.args.get("page"))
    total = db.session.scalar(select(func.count(Appeal.id)).where(Appeal.state == state)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    order = (Appeal.closed_at.desc(), Appeal.id.desc()) if decided else (Appeal.opened_at, Appeal.id)
    items = func.count(AppealItem.id)
    rows = db.session.execute(
        select(Appeal.id, Appeal.category, Appeal.opened_at, Appeal.closed_at, Submission.id.label("submission_id"),
               Submission.reference, Submission.visit_date, Branch.code, Branch.name, items.label("items"),
               func.sum(case((AppealItem.question_key.is_(None), 1), else_=0)).label("whole"))
        .join(Submission, Submission.id == Appeal.submission_id).join(Branch, Branch.id == Submission.branch_id)
        .join(AppealItem, AppealItem.appeal_id == Appeal.id)
        .where(Appeal.state == state)
        .group_by(Appeal.id, Submission.id, Branch.id)
        .order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    args = {"state": "decided"} if decided else {}
    return render_template("hq/appeals.html", rows=rows, total=total, page=page, pages=pages, args=args,
                           decided=decided, categories=appeals.CATEGORIES)


def appeal_or_404(appeal_id: int) -> Appeal:
    found = db.session.scalar(select(Appeal).where(Appeal.id == appeal_id)
                              .options(orm.selectinload(Appeal.items), orm.joinedload(Appeal.submission)))
    if found is None:
        abort(404)
    return found


def _appeal_page(appeal: Appeal, posted: dict | None = None, status: int = 200):
    submission = appeal.submission
    rows = []
    answers = {(a.question_key, a.repeat): a for a in submission.answers}
    for item in appeal.items:
        question = None if item.whole else appeals.question_of(submission, item.question_key)
        answer = answers.get((item.question_key, item.repeat))
        form, problem, given = (posted or {}).get(item.id, (None, None, []))
        rows.append({
            "item": item, "question": question, "answer": answer,
            "choices": question.kind.choices(question) if question is not None else [],
            "multi": question is not None and question.type == "multi",
            "form": form or AppealDecisionForm(formdata=None, prefix=f"i{item.id}"),
            "answer_error": problem, "given": given,
        })
    return render_template("hq/appeal.html", a=appeal, s=submission, rows=rows, categories=appeals.CATEGORIES,
                           decision_words=appeals.DECISION_WORDS, state_words=STATE_WORDS), status


@bp.get("/appeals/<int:appeal_id>")
def appeal(appeal_id: int):
    """One appeal: the visit, the branch's reason, and a decision form for each item still waiting."""
    return _appeal_page(appeal_or_404(appeal_id))


@bp.post("/appeals/<int:appeal_id>/items/<int:item_id>")
def appeal_decide(appeal_id: int, item_id: int):
    """Decide one disputed item: upheld (with HQ's answer for a question) or denied, with a reason."""
    found = appeal_or_404(appeal_id)
    item = next((i for i in found.items if i.id == item_id), None)
    if item is None:
        abort(404)
    if item.decision is not None:
        flash(f"This item was {item.decision} already; nothing changed.")
        return redirect(url_for("hq.appeal", appeal_id=found.id))
    form = AppealDecisionForm(prefix=f"i{item.id}")
    raw = request.form.getlist(f"i{item.id}-answer")
    answer, problem = None, None
    valid = form.validate_on_submit()
    if form.decision.data == "upheld" and not item.whole:
        question = appeals.question_of(found.submission, item.question_key)
        answer, problem = appeals.read_answer(question, raw) if question is not None else (None, "Unknown question.")
    if not valid or problem:
        return _appeal_page(found, {item.id: (form, problem, raw)}, status=422)
    try:
        done = appeals.decide(item, upheld=form.decision.data == "upheld", reason=form.reason.data.strip(),
                              user=current_user, answer=answer)
    except appeals.AppealRefused as refused:
        found = appeal_or_404(appeal_id)
        return _appeal_page(found, {item_id: (form, str(refused), raw)}, status=422)
    flash(f"Decided: {'upheld' if form.decision.data == 'upheld' else 'denied'}." if done
          else "Someone decided this item meanwhile; nothing changed.")
    return redirect(url_for("hq.appeal", appeal_id=appeal_id))


# ---------------------------------------------------------------- rates


def rates(start: date, end: date, page: int) -> tuple[list, int, list]:
    """Return the appeal and upheld rates of the visits made from ``start`` to ``end``: one page of
    branches (most appealed first), their number, and the rows per category.

    A visit counts in the rate's base when it counted on arrival or was appealed (an upheld
    whole-visit appeal rejects it); an appeal is upheld when HQ upheld any of its items.
    """
    upheld = (select(AppealItem.appeal_id).where(AppealItem.decision == "upheld").distinct().subquery())
    base = (select(Submission.id, Submission.branch_id, Appeal.id.label("appeal_id"), Appeal.category,
                   Appeal.state, upheld.c.appeal_id.label("upheld_id"))
            .outerjoin(Appeal, Appeal.submission_id == Submission.id)
            .outerjoin(upheld, upheld.c.appeal_id == Appeal.id)
            .where(Submission.visit_date.between(start, end), Submission.counts() | Appeal.id.is_not(None))
            .subquery())
    appealed = func.count(base.c.appeal_id)
    # Upheld among the decided appeals only, so the upheld rate's numerator stays within its base.
    upheld_decided = func.count(case((base.c.state == AppealState.decided.value, base.c.upheld_id)))
    per_branch = (select(Branch.code, Branch.name, func.count(base.c.id).label("visits"), appealed.label("appeals"),
                         upheld_decided.label("upheld"),
                         func.sum(case((base.c.state == AppealState.decided.value, 1), else_=0)).label("decided"))
                  .join(Branch, Branch.id == base.c.branch_id).group_by(Branch.id, Branch.code, Branch.name))
    total = db.session.scalar(select(func.count()).select_from(per_branch.subquery())) or 0
    branches = db.session.execute(per_branch.order_by(appealed.desc(), Branch.code)
                                  .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    per_category = db.session.execute(
        select(base.c.category, func.count(base.c.appeal_id).label("appeals"), upheld_decided.label("upheld"),
               func.sum(case((base.c.state == AppealState.decided.value, 1), else_=0)).label("decided"))
        .where(base.c.appeal_id.is_not(None)).group_by(base.c.category)).all()
    found = {AppealCategory(r.category): r for r in per_category}
    categories = [{"key": c.value, "label": label, "appeals": found[c].appeals if c in found else 0,
                   "decided": int(found[c].decided or 0) if c in found else 0,
                   "upheld": found[c].upheld if c in found else 0}
                  for c, (label, _) in appeals.CATEGORIES.items()]
    return branches, total, categories


@bp.get("/appeals/rates")
def appeal_rates():
    """Appeal and upheld rates per branch and per category, for a period of visits."""
    form = RatesForm(formdata=request.args)
    today = date.today()
    if not form.validate():
        return render_template("hq/appeal_rates.html", form=form, branches=[], categories=[], total=0, page=1,
                               pages=1, args={}, start=None, end=None), 400
    end = form.date_to.data or today
    start = form.date_from.data or end - timedelta(days=365)
    page = page_number(request.args.get("page"))
    branches, total, categories = rates(start, end, page)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    args = {k: v for k, v in request.args.items() if k in ("date_from", "date_to") and v}
    return render_template("hq/appeal_rates.html", form=form, branches=branches, categories=categories,
                           total=total, page=page, pages=pages, args=args, start=start, end=end)
