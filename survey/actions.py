"""Writes to actions (SPEC §8), one function per thing a person does, each logged.

Views check who may act (a manager only on their regions' branches) and parse the form; these
functions change the data and commit.
"""

from __future__ import annotations

import logging
from datetime import date

from .extensions import db
from .models import Action, ActionState, utcnow

logger = logging.getLogger(__name__)


def open_action(*, branch_id: int, checklist_id: int, question_key: str, question_text: str, what: str,
                owner: str, due: date, by_id: int | None, today: date, submission_id: int | None = None) -> Action:
    """Open an action on a branch's question; its "before" score runs up to ``today``."""
    action = Action(branch_id=branch_id, checklist_id=checklist_id, question_key=question_key,
                    question_text=question_text, what=what, owner=owner, due=due, opened_on=today,
                    opened_by_id=by_id, submission_id=submission_id, state=ActionState.open)
    db.session.add(action)
    db.session.commit()
    logger.info("action %s opened on branch %s question %s by user %s", action.id, branch_id, question_key, by_id)
    return action


def edit_action(action: Action, *, what: str, owner: str, due: date, by_id: int | None) -> None:
    """Change what an open action says will be done, by whom and by when."""
    action.what, action.owner, action.due = what, owner, due
    db.session.commit()
    logger.info("action %s edited by user %s", action.id, by_id)


def _close(action_id: int, state: ActionState, note: str | None, by_id: int | None) -> bool:
    # One conditional UPDATE: of two people closing the same action at once, only one wins.
    result = db.session.execute(
        db.update(Action).where(Action.id == action_id, Action.state == ActionState.open)
        .values(state=state, note=note, closed_at=utcnow(), closed_by_id=by_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        logger.info("action %s %s by user %s", action_id, state.value, by_id)
    return bool(result.rowcount)


def complete_action(action_id: int, note: str, by_id: int | None) -> bool:
    """Mark an open action done with a note; False when it was closed already."""
    return _close(action_id, ActionState.done, note, by_id)


def drop_action(action_id: int, note: str | None, by_id: int | None) -> bool:
    """Drop an open action; False when it was closed already."""
    return _close(action_id, ActionState.dropped, note or None, by_id)
