"""HQ review (SPEC §8): a visit under ``review: hq`` waits, then is approved, returned (the
shopper's link opens again with every answer and the note on top) or rejected; every decision
is audited, and only counted visits reach a report or the CSV."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from survey.caches import checklist_of
from survey.catalogue import publish
from survey.checklist.loader import dump_yaml, load_checklist_data, load_checklist_text
from survey.extensions import db
from survey.hq import reviews
from survey.models import (
    Answer,
    Assignment,
    AssignmentState,
    ReviewState,
    StandardScore,
    Submission,
    SubmissionEvent,
    User,
)
from survey.shopper.forms import field_name

from .conftest import good_answers, hidden_fields
from .test_hq_review import exported_ids, text_of

TODAY = date.today()


@pytest.fixture
def reviewed(published):
    """Publish a new version of store-visit under ``review: hq``; return the checklist."""
    checklist = published["store-visit"]
    publish(load_checklist_data({**checklist.latest.content, "review": "hq"}))
    db.session.commit()
    return checklist


@pytest.fixture
def send(client, make_assignment):
    """Return a callable that sends a flawless visit through the shopper's form: ``(submission, token)``."""

    def make(slug: str = "store-visit", **changed) -> tuple[Submission, str]:
        assignment, token = make_assignment(slug=slug)
        page = client.get(f"/s/{token}").get_data(as_text=True)
        checklist = checklist_of(db.session.get(Assignment, assignment.id).version)
        data = {**hidden_fields(page), **good_answers(checklist), **changed}
        assert client.post(f"/s/{token}", data=data).status_code == 303
        return db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id)), token

    return make


def scored_yes_no(checklist):
    return next(q for _, q in checklist.questions() if q.type == "yes_no" and q.scored and not q.critical
                and not q.show_if)


def decide(hq, submission, decision: str, reason: str = "", shown: str | None = None):
    shown = shown or db.session.get(Submission, submission.id).review.value
    return hq.post(f"/hq/submissions/{submission.id}/{decision}", {"reason": reason, "shown": shown})


# ---------------------------------------------------------------- arrival


def test_under_auto_a_visit_counts_on_arrival_and_says_so(hq, send, caplog):
    with caplog.at_level(logging.INFO, logger="survey.submissions"):
        submission, _ = send()

    assert submission.review == ReviewState.counted
    assert str(submission.id) in exported_ids(hq)
    assert f"submission {submission.id} counts" in caplog.text


def test_under_hq_a_visit_waits_in_the_queue_and_in_no_report(hq, reviewed, send, caplog):
    with caplog.at_level(logging.INFO, logger="survey.submissions"):
        submission, _ = send()

    assert submission.review == ReviewState.pending
    assert str(submission.id) not in exported_ids(hq)
    assert f"submission {submission.id} counts" not in caplog.text
    queue = text_of(hq.get("/hq/review"))
    assert submission.reference in queue and "Waiting for review" in queue
    assert "<strong>1</strong> waiting for review</a>" in text_of(hq.get("/hq/"))
    listed = text_of(hq.get("/hq/submissions?state=pending"))
    assert submission.reference in listed


def test_the_queue_puts_pending_before_returned_the_oldest_first_and_filters(hq, reviewed, send, published,
                                                                          make_branch):
    first, _ = send()
    second, _ = send()
    returned, _ = send()
    assert decide(hq, returned, "return", "Photo unreadable.").status_code == 302
    db.session.execute(db.update(Submission).where(Submission.id == second.id)
                       .values(submitted_at=first.submitted_at - timedelta(hours=1)))
    db.session.commit()

    html = text_of(hq.get("/hq/review"))
    html = html[html.index("<table"):]
    order = [html.index(s.reference) for s in (second, first, returned)]
    assert order == sorted(order)
    other = published["phone-call"].id
    assert "Nothing waits for review." in text_of(hq.get(f"/hq/review?checklist={other}"))
    region = make_branch("BR-009", "SOUTH").region_id
    assert "Nothing waits for review." in text_of(hq.get(f"/hq/review?region={region}"))
    assert "Choose a region from the list." in text_of(hq.get("/hq/review?region=999999"))


# ---------------------------------------------------------------- decisions


def test_approving_counts_the_visit_and_keeps_who_and_when(hq, reviewed, send, caplog):
    submission, _ = send()

    with caplog.at_level(logging.INFO):
        response = decide(hq, submission, "approve", "Receipt checked.")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == ReviewState.counted
    event = db.session.scalar(db.select(SubmissionEvent))
    assert (event.action, event.from_state, event.to_state, event.reason, event.user.email) == (
        "approved", "pending", "counted", "Receipt checked.", "hq@example.com")
    assert f"submission {submission.id} counts" in caplog.text
    assert str(submission.id) in exported_ids(hq)
    assert f"Approved {submission.reference}: it counts in reports." in text_of(hq.get(response.headers["Location"]))


def test_rejecting_a_waiting_visit_keeps_it_out_and_restoring_lets_it_count(hq, reviewed, send):
    submission, _ = send()
    decide(hq, submission, "reject", "Wrong branch.")
    assert str(submission.id) not in exported_ids(hq)
    decide(hq, submission, "restore")
    assert str(submission.id) in exported_ids(hq)
    assert [(e.from_state, e.to_state) for e in db.session.scalars(db.select(SubmissionEvent))] == [
        ("pending", "rejected"), ("rejected", "counted")]


@pytest.mark.parametrize("note", ["", "   "])
def test_a_return_without_a_note_is_refused_beside_the_field_and_changes_nothing(hq, reviewed, send, note):
    submission, _ = send()

    response = decide(hq, submission, "return", note)

    assert response.status_code == 422
    html = text_of(response)
    assert "Write a note: the shopper sees it on top of their answers." in html
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == ReviewState.pending
    assert db.session.scalar(db.select(db.func.count(SubmissionEvent.id))) == 0


def test_a_decision_on_a_page_overtaken_by_another_changes_nothing(hq, reviewed, send):
    submission, _ = send()
    decide(hq, submission, "approve")

    late = decide(hq, submission, "return", "Check the photo.", shown="pending")

    assert "This submission is counted now; nothing changed." in text_of(hq.get(late.headers["Location"]))
    assert [e.action for e in db.session.scalars(db.select(SubmissionEvent))] == ["approved"]


def test_of_two_decisions_at_once_only_one_lands(app, reviewed, send, make_user):
    submission, _ = send()
    user = make_user()
    other = db.session.get(User, user.id)

    first = reviews.approve(submission, ReviewState.pending, user)
    second = reviews.reject(submission, ReviewState.pending, other, "Too late.")

    assert (first, second) == (True, False)
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == ReviewState.counted
    assert db.session.scalar(db.select(db.func.count(SubmissionEvent.id))) == 1


def test_a_manager_can_not_decide(client, reviewed, send, make_user):
    from .conftest import log_in

    submission, _ = send()
    make_user("m@example.com", role="manager", regions=("NORTH",))
    manager = log_in(client, "m@example.com")

    response = manager.post(f"/hq/submissions/{submission.id}/approve", {"shown": "pending"})

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == ReviewState.pending


# ---------------------------------------------------------------- return and send again


def test_a_returned_visit_reopens_with_every_answer_and_the_note_and_counts_once_approved(
        hq, client, reviewed, send):
    checklist = checklist_of(reviewed.latest)
    question = scored_yes_no(checklist)
    worse = "no" if question.pass_on == "yes" else "yes"
    submission, token = send()
    first_score = submission.score
    answers_before = db.session.scalar(db.select(db.func.count(Answer.id)).filter_by(submission_id=submission.id))

    assert decide(hq, submission, "return", "Your greeting answer looks wrong; please check.").status_code == 302

    page = client.get(f"/s/{token}")
    html = text_of(page)
    assert page.status_code == 200
    assert "Sent back to you: please check your answers" in html
    assert "Your greeting answer looks wrong; please check." in html
    assert html.index("Sent back to you") < html.index('<form method="post"')
    assert 'data-returned="' in html
    good = good_answers(checklist)
    name = field_name(question.key)
    assert f'name="{name}" type="radio" value="{good[name]}" checked' in page.get_data(as_text=True) \
        or f'value="{good[name]}" checked' in page.get_data(as_text=True)
    assert f'value="{TODAY.isoformat()}"' in html
    assert str(submission.id) not in exported_ids(hq)

    data = {**hidden_fields(page.get_data(as_text=True)), **good, name: worse}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    again = client.post(f"/s/{token}", data=data)  # a double send
    assert again.status_code == 303

    db.session.expire_all()
    stored = db.session.get(Submission, submission.id)
    assert stored.review == ReviewState.pending and stored.score < first_score
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
    assert db.session.scalar(db.select(db.func.count(Answer.id)).filter_by(submission_id=stored.id)) == answers_before
    assert db.session.scalar(db.select(Answer.value).filter_by(submission_id=stored.id,
                                                                 question_key=question.key)) == worse
    standards = db.session.scalars(db.select(StandardScore).filter_by(submission_id=stored.id)).all()
    assert len({s.standard_key for s in standards}) == len(standards)
    assert any(s.score < 1 for s in standards if s.standard_key == question.standard)
    assert [e.action for e in stored.events] == ["returned", "resent"]
    assert "Thank" in text_of(client.get(f"/s/{token}")) or "received" in text_of(client.get(f"/s/{token}"))

    hq_page = text_of(hq.get(f"/hq/submissions/{stored.id}"))
    changed = hq_page[hq_page.index("Changed since the return"):hq_page.index("<h2>Scores</h2>")]
    assert question.key in changed and f"→ {worse}" in changed

    decide(hq, stored, "approve")
    assert str(stored.id) in exported_ids(hq)


def test_a_returned_link_stays_open_at_least_a_week(hq, client, reviewed, send):
    submission, token = send()
    assignment = db.session.get(Assignment, submission.assignment_id)
    assignment.due = TODAY + timedelta(days=1)
    db.session.commit()

    decide(hq, submission, "return", "Add the receipt.")

    db.session.expire_all()
    assignment = db.session.get(Assignment, submission.assignment_id)
    assert assignment.state == AssignmentState.returned
    assert assignment.due == TODAY + timedelta(days=reviews.RETURN_OPEN_DAYS)
    assert "Add the receipt." in text_of(client.get(f"/s/{token}"))


def test_a_draft_from_a_page_opened_before_the_return_is_refused(hq, client, reviewed, send):
    submission, token = send()
    decide(hq, submission, "return", "Check the greeting.")
    reopened = client.get(f"/s/{token}").get_data(as_text=True)
    csrf = hidden_fields(reopened)["csrf_token"]  # the session's: a page from before the return has the same
    stamp = reopened.split('data-returned="', 1)[1].split('"', 1)[0]

    stale = client.post(f"/s/{token}/draft", data={"visit_time": "23:59"}, headers={"X-CSRFToken": csrf})
    fresh = client.post(f"/s/{token}/draft", data={"visit_time": "10:15"},
                        headers={"X-CSRFToken": csrf, "X-Returned": stamp})

    assert stale.status_code == 409 and stale.get_json()["state"] == "returned"
    assert "reload this page" in stale.get_json()["error"]
    assert fresh.status_code == 204
    assert 'value="10:15"' in client.get(f"/s/{token}").get_data(as_text=True)


# ---------------------------------------------------------------- the checklist keys


def test_review_and_min_minutes_are_read_exported_and_refused_when_wrong(published):
    from survey.checklist.loader import ChecklistError
    from survey.models import Standard

    known = {s.key: s.retired for s in db.session.scalars(db.select(Standard))}
    content = {**published["store-visit"].latest.content, "review": "hq", "min_minutes": 4}
    loaded = load_checklist_text(dump_yaml(content), "x.yaml", known)
    assert (loaded.review, loaded.min_minutes) == ("hq", 4)
    assert load_checklist_data(loaded.canonical()).canonical() == loaded.canonical()
    assert "review: hq\nmin_minutes: 4\n" in dump_yaml(loaded.canonical())
    assert "review" not in load_checklist_data({**content, "review": "auto"}).canonical()

    for key, value in (("review", "sometimes"), ("min_minutes", 0)):
        with pytest.raises(ChecklistError) as refused:
            load_checklist_text(dump_yaml({**content, key: value}), "x.yaml", known)
        assert f" {key}: " in str(refused.value) and "x.yaml:" in str(refused.value)
