"""The shopper's whole path through the test client: open, fill, send, see it arrived."""

from survey.extensions import db
from survey.models import Answer, AssignmentState, Submission
from survey.caches import checklist_of

from .conftest import good_answers


def test_store_visit_submitted_once_with_full_score(client, make_assignment, open_form):
    assignment, token = make_assignment()
    page, hidden = open_form(token)
    assert page.status_code == 200
    assert "Store visit" in page.get_data(as_text=True)
    checklist = checklist_of(assignment.version)
    data = {**hidden, **good_answers(checklist)}
    response = client.post(f"/s/{token}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    done = client.get(f"/s/{token}").get_data(as_text=True)
    submission = db.session.scalar(db.select(Submission))
    assert submission.reference in done
    assert "Thank you" in done
    assert submission.score == 1.0
    assert submission.assignment.state == AssignmentState.submitted
    again = client.post(f"/s/{token}", data=data)
    assert again.status_code == 303
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
    assert "Already received" in client.get(f"/s/{token}").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Answer.id))) == sum(1 for _ in checklist.questions())
