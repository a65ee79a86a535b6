"""The shopper's form for real programmes (SPEC §3): repeated sections, the visit's own date,
"Could not complete this shop?" outcomes; over HTTP, without JavaScript, as a phone without it sends."""

from __future__ import annotations

import html as htmllib
import io
from datetime import date, timedelta

import pytest
import yaml
from survey.caches import checklist_of
from survey.catalogue import import_paths
from survey.extensions import db
from survey.models import Answer, AssignmentState, Attachment, Checklist, ShopperDraft, Submission
from survey.shopper import uploads
from survey.submissions import create_assignments

from .conftest import good_answers, hidden_fields, tiny_photo
from .conftest import post_multipart as post


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.fixture
def visit(make_assignment, open_form):
    """An opened store-visit link: ``(token, form data of a flawless visit with one employee)``."""
    assignment, token = make_assignment()
    page, hidden = open_form(token)
    return token, {**hidden, **good_answers(checklist_of(assignment.version))}


@pytest.fixture
def call(make_assignment, open_form):
    """An opened phone-call link (it has outcomes): ``(assignment, token, its hidden fields)``."""
    assignment, token = make_assignment("phone-call")
    _, hidden = open_form(token)
    return assignment, token, hidden


# ---------------------------------------------------------------- repeated sections, without JavaScript


def test_the_store_visit_asks_about_one_employee_with_a_button_for_another(client, visit):
    token, _ = visit
    page = text_of(client.get(f"/s/{token}"))
    assert '<input type="hidden" name="n_staff" value="1">' in page
    assert "<h3" in page and ">Employee 1</h3>" in page
    assert 'name="q_name_badge-1"' in page and 'name="q_name_badge"' not in page
    assert '<button type="submit" name="action" value="add:staff" class="second">Add another employee</button>' in page
    # One employee is the least: no way to remove it.
    assert 'value="remove:staff:1" class="second" data-text="Remove Employee {n}" hidden' in page


def test_add_another_comes_back_with_every_answer_kept_and_kept_as_the_draft(client, visit):
    token, data = visit
    data.update({"q_name_badge-1": "no", "q_staff_description-1": "Tall, red scarf", "action": "add:staff"})

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{token}#r-staff-2")
    page = text_of(client.get(f"/s/{token}"))
    assert '<input type="hidden" name="n_staff" value="2">' in page
    assert ">Employee 2</h3>" in page and 'name="q_name_badge-2"' in page
    assert 'name="q_name_badge-1" value="no" checked' in page
    assert "Tall, red scarf</textarea>" in page
    assert 'name="q_politeness" value="5" checked' in page  # an answer outside the section too
    assert 'value="remove:staff:1" class="second" data-text="Remove Employee {n}">' in page  # now removable
    (draft,) = db.session.scalars(db.select(ShopperDraft))
    assert draft.answers["n_staff"] == "2" and draft.answers["q_name_badge-1"] == "no"
    assert count(Submission) == 0


def test_remove_renumbers_the_later_repetitions_and_keeps_their_answers(client, visit):
    token, data = visit
    data.update({"n_staff": "3", "q_name_badge-1": "yes", "q_staff_description-1": "First",
                 "q_name_badge-2": "no", "q_staff_attentive-2": "no", "q_staff_description-2": "Middle one",
                 "q_name_badge-3": "no", "q_staff_attentive-3": "yes", "q_staff_description-3": "Third",
                 "action": "remove:staff:2"})

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303 and response.headers["Location"].endswith("#s-staff")
    page = text_of(client.get(f"/s/{token}"))
    assert '<input type="hidden" name="n_staff" value="2">' in page
    assert "Middle one" not in page and "First</textarea>" in page and "Third</textarea>" in page
    assert page.index("First</textarea>") < page.index(">Employee 2</h3>") < page.index("Third</textarea>")
    assert 'name="q_staff_attentive-2" value="yes" checked' in page  # the third's answers, now the second's
    assert 'name="q_staff_description-3"' not in page


def test_two_employees_are_stored_with_their_repetition_numbers(client, visit):
    token, data = visit
    data.update({"n_staff": "2", "q_name_badge-2": "no", "q_staff_attentive-2": "yes",
                 "q_staff_description-2": "Short hair"})

    assert post(client, f"/s/{token}", data).status_code == 303

    rows = {(a.question_key, a.repeat): a for a in db.session.scalars(db.select(Answer))}
    assert rows[("name_badge", 1)].value == "yes" and rows[("name_badge", 2)].value == "no"
    assert rows[("staff_description", 2)].value == "Short hair"
    assert rows[("politeness", 0)].repeat == 0


def test_a_missing_answer_in_a_second_employee_is_named_with_the_employee(client, visit):
    token, data = visit
    data.update({"n_staff": "2", "q_name_badge-2": "no"})  # attentive left blank

    response = post(client, f"/s/{token}", data)

    page = text_of(response)
    assert response.status_code == 422
    assert '<a href="#q-staff_attentive-2">Was this employee attentive, not busy with other things? (Employee 2)</a>' \
        in page
    assert 'name="q_name_badge-2" value="no" checked' in page
    assert count(Submission) == 0


@pytest.mark.parametrize("sent, message", [
    ("9", "“The employees you met” can be filled at most 6 times; 9 were sent."),
    ("0", "“The employees you met” must be filled at least 1 times; 0 were sent."),
])
def test_a_count_of_repetitions_out_of_range_posted_by_hand_is_refused_with_answers_kept(client, visit, sent,
                                                                                         message):
    token, data = visit
    data.update({"n_staff": sent, "q_politeness": "2"})

    response = post(client, f"/s/{token}", data)

    page = text_of(response)
    assert response.status_code == 422
    assert message in page
    assert 'name="q_politeness" value="2" checked' in page
    assert count(Submission) == 0


@pytest.mark.parametrize("action", ["add:nope", "remove:staff:1", "remove:staff:x", "add:arrival", "remove:staff"])
def test_an_impossible_add_or_remove_is_explained_not_a_500(client, visit, action):
    token, data = visit
    data.update({"action": action, "q_politeness": "2"})

    response = post(client, f"/s/{token}", data)

    page = text_of(response)
    assert response.status_code == 422
    assert "That part can't take more or fewer repetitions. Your answers are kept." in page
    assert 'name="q_politeness" value="2" checked' in page


def test_a_draft_with_a_repetition_out_of_range_opens_within_the_limits(client, visit):
    token, data = visit
    post(client, f"/s/{token}", {**data, "action": "add:staff"})  # a draft exists
    draft = db.session.scalar(db.select(ShopperDraft))
    draft.answers = {**draft.answers, "n_staff": "99", "q_name_badge-99": "no", "q_name_badge-6": "no"}
    db.session.commit()

    page = client.get(f"/s/{token}")

    html = text_of(page)
    assert page.status_code == 200
    assert '<input type="hidden" name="n_staff" value="6">' in html
    assert 'name="q_name_badge-6" value="no" checked' in html and "q_name_badge-99" not in html
    assert 'value="add:staff" class="second" hidden' in html  # six is the most


def test_a_draft_keeps_repetitions_up_to_the_most_and_no_further(client, visit):
    token, data = visit
    csrf = data["csrf_token"]
    response = client.post(f"/s/{token}/draft", headers={"X-CSRFToken": csrf},
                           data={"n_staff": "2", "q_name_badge-2": "no", "q_name_badge-7": "no"})
    assert response.status_code == 204
    answers = db.session.scalar(db.select(ShopperDraft)).answers
    assert answers == {"n_staff": "2", "q_name_badge-2": "no"}


# ---------------------------------------------------------------- the visit's own date and time


@pytest.fixture
def own_dates(published, make_branch, tmp_path):
    """Publish a checklist whose own date and time questions are the visit's; return ``(token, data)``."""
    content = {
        "slug": "dated", "title": "Dated visit", "channel": "visit",
        "visit": {"date": "visited_on", "time": "visited_at"},
        "sections": [{"key": "when", "title": "When", "questions": [
            {"key": "visited_on", "text": "Day of your visit", "type": "date"},
            {"key": "visited_at", "text": "Time you arrived", "type": "time"},
            {"key": "greeted", "text": "Were you greeted?", "type": "yes_no", "standard": "greeting"},
        ]}],
    }
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(content))
    _, errors = import_paths([path])
    assert not errors, errors
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug="dated"))
    today = date.today()
    (_, token), = create_assignments(checklist, make_branch(), 1, not_before=today - timedelta(days=3),
                                     due=today + timedelta(days=3))
    db.session.commit()
    return token


def test_a_checklist_with_its_own_visit_date_asks_the_date_once(client, own_dates):
    page = text_of(client.get(f"/s/{own_dates}"))
    assert 'name="visit_date"' not in page and 'name="visit_time"' not in page
    assert page.count('type="date"') == 1
    today = date.today()
    assert (f'name="q_visited_on" type="date" value="" min="{today - timedelta(days=3)}" max="{today}"'
            in page)


def test_the_visit_date_question_is_the_visits_date_and_its_window_applies(client, own_dates):
    hidden = hidden_fields(text_of(client.get(f"/s/{own_dates}")))
    early = (date.today() - timedelta(days=5)).isoformat()
    data = {**hidden, "q_visited_on": early, "q_visited_at": "09:15", "q_greeted": "yes"}

    refused = post(client, f"/s/{own_dates}", data)

    assert refused.status_code == 422
    assert "This visit had to take place on or after" in text_of(refused)
    data["q_visited_on"] = (date.today() - timedelta(days=1)).isoformat()
    assert post(client, f"/s/{own_dates}", data).status_code == 303
    submission = db.session.scalar(db.select(Submission))
    assert submission.visit_date == date.today() - timedelta(days=1)
    assert submission.visit_time.isoformat(timespec="minutes") == "09:15"


# ---------------------------------------------------------------- outcomes


def test_the_call_offers_its_outcomes_in_a_panel(client, call):
    _, token, _ = call
    page = text_of(client.get(f"/s/{token}"))
    assert '<details id="outcome">' in page and "<summary>Could not complete this shop?</summary>" in page
    assert '<input type="radio" name="outcome" value="no_answer"> Nobody answered three calls</label>' in page
    assert 'name="outcome_photo" type="file"' in page
    assert '<button type="submit" name="action" value="outcome" class="second">Send this instead</button>' in page


def test_the_store_visit_without_outcomes_has_no_panel(client, visit):
    token, _ = visit
    assert 'id="outcome"' not in text_of(client.get(f"/s/{token}"))


def test_a_counted_outcome_is_a_submission_scoring_zero_on_its_standards(client, call):
    assignment, token, hidden = call
    data = {**hidden, "action": "outcome", "outcome": "no_answer", "outcome_comment": "Rang at 9, 10 and 11",
            "outcome_photo": (io.BytesIO(tiny_photo()), "log.jpg")}

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303
    page = text_of(client.get(f"/s/{token}"))
    assert "Thank you – your answers arrived" in page
    assert "You told us: Nobody answered three calls." in page
    submission = db.session.scalar(db.select(Submission))
    assert (submission.outcome, submission.score, submission.critical_fail) == ("no_answer", 0.0, False)
    assert {s.standard_key: s.score for s in submission.standards} == {"speed": 0.0}
    (row,) = submission.answers
    assert (row.value, row.comment, row.question_key) == ("outcome:no_answer", "Rang at 9, 10 and 11", "")
    assert db.session.scalar(db.select(Attachment.submission_id)) == submission.id
    # Sent again (a double tap, an offline resend): stored once.
    data["outcome_photo"] = (io.BytesIO(tiny_photo()), "log.jpg")
    assert post(client, f"/s/{token}", data).status_code == 303
    assert count(Submission) == 1


def test_an_outcome_that_does_not_count_ends_the_link_not_done(client, app, call):
    assignment, token, hidden = call
    data = {**hidden, "action": "outcome", "outcome": "could_not_call", "outcome_comment": "Number disconnected",
            "outcome_photo": (io.BytesIO(tiny_photo()), "screen.jpg")}

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303
    db.session.expire_all()
    assert assignment.state == AssignmentState.not_done
    assert (assignment.outcome, assignment.outcome_comment) == ("could_not_call", "Number disconnected")
    assert assignment.outcome_at is not None
    assert count(Submission) == 0
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "You told us this shop could not be done: I could not make the call." in text_of(page)
    # The photo stays for HQ: the purge keeps a not_done link's.
    photo = db.session.scalar(db.select(Attachment))
    assert photo.question_key == "outcome" and photo.submission_id is None
    uploads.purge(date.today() + timedelta(days=400))
    assert count(Attachment) == 1
    # No more answers, no more drafts.
    assert post(client, f"/s/{token}", good_answers(checklist_of(assignment.version))).status_code == 303
    draft = client.post(f"/s/{token}/draft", headers={"X-CSRFToken": hidden["csrf_token"]}, data={"x": "y"})
    assert draft.status_code == 410
    assert count(Submission) == 0


@pytest.mark.parametrize("sent", ["no_such_outcome", ""])
def test_an_unknown_or_missing_outcome_is_refused_beside_the_panel(client, call, sent):
    assignment, token, hidden = call
    data = {**hidden, "action": "outcome", "outcome": sent, "outcome_comment": "Tried twice",
            "q_rings_before_answer": "3"}

    response = post(client, f"/s/{token}", data)

    page = text_of(response)
    assert response.status_code == 422
    assert '<details id="outcome" open>' in page
    assert "Choose one of the reasons shown." in page and '<a href="#q-outcome">' in page
    assert "Tried twice</textarea>" in page and 'value="3"' in page  # everything typed is kept
    db.session.expire_all()
    assert assignment.state == AssignmentState.started and count(Submission) == 0


def test_the_progress_counts_required_questions_shown_and_each_repetition(client, make_assignment, open_form):
    assignment, token = make_assignment()
    page, hidden = open_form(token)
    checklist = checklist_of(assignment.version)
    unconditional = [q for s, q in checklist.questions() if q.is_required and not s.show_if and not q.show_if]
    assert 0 < len(unconditional) < sum(1 for _ in checklist.questions())
    assert f">0 of {len(unconditional)} required</span>" in text_of(page)

    # Two employees (the second asks its required questions again); the briefing asks for a complaint,
    # which was raised: the complaint part and its follow-ups show, each counted once it shows.
    staff = [q for s, q in checklist.questions() if s.repeat and q.is_required]
    complaint = [q for s, q in checklist.questions() if s.key == "complaint" and q.is_required]
    data = {**hidden, "n_staff": "2", "q_complaint_briefed": "yes", "q_raised_complaint": "yes",
            "q_name_badge-2": "no"}
    total = len(unconditional) + len(staff) + len(complaint)
    refused = text_of(post(client, f"/s/{token}", data))
    assert f">3 of {total} required</span>" in refused


def test_an_outcome_sent_for_a_checklist_without_outcomes_is_refused(client, visit):
    token, data = visit
    response = post(client, f"/s/{token}", {**data, "action": "outcome", "outcome": "no_answer"})
    assert response.status_code == 422
    assert "This checklist has no other way to end: please fill in the form." in text_of(response)
    assert count(Submission) == 0
