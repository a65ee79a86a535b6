"""Who may use the HQ console's pages (standards, places, waves, review): a table of route × role.

Anonymous visitors are sent to the login page, managers get a 404 as if the page
did not exist, HQ gets the page. Unknown ids are a 404 for HQ too.
"""

from __future__ import annotations

import io

import pytest
from survey.appeals import open_appeal
from survey.extensions import db
from survey.models import Alert, AlertState, AppealCategory, Role, StaffSession, Standard, Submission, User
from survey.shopper.forms import field_name
from survey.caches import checklist_of

from .conftest import good_answers, hidden_fields, log_in, tiny_photo

JPEG = tiny_photo("JPEG")

#: Every page of the console's standards, places, waves and review parts. The checklist
#: editor's routes (``/hq/checklists...``) are tested in test_hq_editor.py.
PAGES = [
    "/hq/",
    "/hq/standards",
    "/hq/standards/new",
    "/hq/standards/{standard}/edit",
    "/hq/regions",
    "/hq/regions/new",
    "/hq/regions/{region}/edit",
    "/hq/branches",
    "/hq/branches/new",
    "/hq/branches/{branch}/edit",
    "/hq/branches/import",
    "/hq/waves",
    "/hq/waves/new",
    "/hq/waves/{wave}",
    "/hq/assignments/{assignment}",
    "/hq/not-done",
    "/hq/review",
    "/hq/submissions",
    "/hq/submissions/{submission}",
    "/hq/attachments/{attachment}",
    "/hq/staff",
    "/hq/staff/{user}",
    "/hq/alerts",
    "/hq/appeals",
    "/hq/appeals/{appeal}",
    "/hq/appeals/rates",
]
ACTIONS = [
    "/hq/standards/new",
    "/hq/standards/{standard}/edit",
    "/hq/standards/{standard}/retire",
    "/hq/standards/{standard}/unretire",
    "/hq/regions/new",
    "/hq/regions/{region}/edit",
    "/hq/regions/{region}/deactivate",
    "/hq/regions/{region}/reactivate",
    "/hq/branches/new",
    "/hq/branches/{branch}/edit",
    "/hq/branches/{branch}/deactivate",
    "/hq/branches/{branch}/reactivate",
    "/hq/branches/import",
    "/hq/waves/new",
    "/hq/assignments/{assignment}/extend",
    "/hq/assignments/{assignment}/cancel",
    "/hq/assignments/{assignment}/reissue",
    "/hq/submissions/{submission}/approve",
    "/hq/submissions/{submission}/return",
    "/hq/submissions/{submission}/reject",
    "/hq/submissions/{submission}/restore",
    "/hq/staff/{user}/deactivate",
    "/hq/staff/{user}/reactivate",
    "/hq/staff/{user}/sessions/end",
    "/hq/staff/{user}/sessions/{session}/end",
    "/hq/alerts/{alert}/resend",
    "/hq/appeals/{appeal}/items/{item}",
]
ROUTES = [("GET", p) for p in PAGES] + [("POST", p) for p in ACTIONS]
WITH_IDS = [(m, p) for m, p in ROUTES if "{" in p]


def login(client, email: str) -> str:
    """Log in through the form; return the CSRF token, which stays valid for the session."""
    return log_in(client, email).token


@pytest.fixture
def world(client, published, make_branch, make_assignment):
    """One of everything a console URL can name; returns the ids to put into the URLs.

    The shopper posts with the test's own client: the app fixture keeps one app
    context (and so one ``g``, where Flask-WTF caches its token) for every request.
    """
    branch = make_branch("BR-001", "NORTH")
    assignment, token = make_assignment(branch=branch, wave="Access wave")
    other, _ = make_assignment(branch=branch, wave="Access wave")
    checklist = checklist_of(published["store-visit"].latest)
    data = {**hidden_fields(client.get(f"/s/{token}").get_data(as_text=True)), **good_answers(checklist)}
    photo = next(q for _, q in checklist.questions() if q.type == "photo")
    data[field_name(photo.key)] = (io.BytesIO(JPEG), "receipt.jpg")
    assert client.post(f"/s/{token}", data=data).status_code == 303
    submission = db.session.scalar(db.select(Submission))
    target = User(email="target@example.com", role=Role.manager, password_hash="x")
    db.session.add(target)
    db.session.flush()
    staff_session = StaffSession(user_id=target.id, token_hash="0" * 64)
    db.session.add(staff_session)
    alert = Alert(submission_id=submission.id, reason="critical", state=AlertState.failed, attempts=8)
    db.session.add(alert)
    db.session.commit()
    appeal = open_appeal(submission, category=AppealCategory.scoring, reason="Access", questions=None, user=target)
    return {
        "standard": db.session.scalar(db.select(Standard.key).limit(1)),
        "region": branch.region_id, "branch": branch.id, "wave": other.wave_id, "assignment": other.id,
        "submission": submission.id, "attachment": submission.attachments[0].id,
        "user": target.id, "session": staff_session.id, "alert": alert.id,
        "appeal": appeal.id, "item": appeal.items[0].id,
    }


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_go_to_login_managers_get_404_and_hq_gets_the_page(request, client, make_user, method, path):
    url = path.format(**request.getfixturevalue("world")) if "{" in path else path
    make_user("boss@example.com", "manager", ("NORTH",))
    make_user("hq@example.com", "hq")
    token = hidden_fields(client.get("/login").get_data(as_text=True))["csrf_token"]
    data = {"csrf_token": token} if method == "POST" else None

    anonymous = client.open(url, method=method, data=data)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")

    login(client, "boss@example.com")
    manager = client.open(url, method=method, data=data)
    assert manager.status_code == 404
    assert "There is nothing at this address" in manager.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})

    login(client, "hq@example.com")
    hq = client.open(url, method=method, data=data)
    hq.close()  # a photo is sent as a file
    if method == "GET":
        assert hq.status_code == 200
    else:  # an empty form is refused beside its fields, or the button does its one thing
        assert hq.status_code in (302, 422)
        assert not hq.headers.get("Location", "").startswith("/login")


def test_unknown_ids_are_a_404_for_hq_too(client, world, make_user):
    make_user("hq@example.com", "hq")
    token = login(client, "hq@example.com")
    unknown = {k: ("no_such_standard" if k == "standard" else 987654) for k in world}
    answered = {}
    for method, path in WITH_IDS:
        response = client.open(path.format(**unknown), method=method,
                               data={"csrf_token": token} if method == "POST" else None)
        answered[method, path] = response.status_code
        if response.status_code == 404:
            assert "There is nothing at this address" in response.get_data(as_text=True)
    assert answered == {route: 404 for route in WITH_IDS}


def test_the_table_names_every_route_of_these_console_parts(app):
    """A new route must join the table above, so its access is tested too."""
    placeholder = {"key": "{standard}", "region_id": "{region}", "branch_id": "{branch}", "wave_id": "{wave}",
                   "assignment_id": "{assignment}", "submission_id": "{submission}", "attachment_id": "{attachment}",
                   "user_id": "{user}", "session_id": "{session}",
                   "alert_id": "{alert}", "appeal_id": "{appeal}", "item_id": "{item}",
                   "decision": "{decision}"}  # a default of the review decisions, not in their paths
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("hq.") or rule.rule.startswith("/hq/checklists"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", placeholder[arg]).replace(f"<int:{arg}>", placeholder[arg])
        found |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert found == set(ROUTES)
