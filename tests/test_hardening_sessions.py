"""Sessions that end (issue 11, point 3): logout, a new password or deactivation ends a user's
sessions everywhere, a copied cookie included; a session ends after SURVEY_SESSION_HOURS unused;
HQ sees and ends a user's sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from survey.extensions import db
from survey.models import StaffSession, User, utcnow

from .conftest import PASSWORD, hidden_fields, log_in


def copy_session(source, target) -> None:
    """Give ``target`` the very cookie ``source`` holds, as someone who copied it would."""
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def can_see_reports(client) -> bool:
    response = client.get("/reports/")
    return response.status_code == 200


@pytest.fixture
def worker(app, _schema):
    """Clients of a second app on the same database and key, as another gunicorn worker would be.

    Each of its requests runs in an app context of its own (the test's app context is shared by
    the ``client``'s requests), so nothing a request leaves on ``g`` can stand in for a login.
    """
    from survey import create_app

    other = create_app({**{k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
                                                      "UPLOAD_DIR", "RATELIMIT_ENABLED")}})
    yield other.test_client
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def manager(make_user):
    return make_user("north@example.com", "manager", ("NORTH",))


def test_a_copied_session_cookie_stops_working_after_logout(worker, client, manager):
    staff = log_in(client, "north@example.com")
    thief = worker()
    copy_session(client, thief)
    assert can_see_reports(thief)

    assert staff.post("/logout").status_code == 302

    assert not can_see_reports(thief)
    assert thief.get("/reports/").headers["Location"].startswith("/login")
    assert not can_see_reports(client)


def test_logging_out_ends_the_sessions_of_the_account_on_every_device(worker, client, manager):
    staff = log_in(client, "north@example.com")
    phone = worker()
    log_in(phone, "north@example.com")
    assert can_see_reports(phone)

    staff.post("/logout")

    assert not can_see_reports(phone)
    assert db.session.scalar(db.select(db.func.count(StaffSession.id))) == 0


def test_a_new_password_ends_every_other_session_but_this_one(worker, client, manager):
    staff = log_in(client, "north@example.com")
    other = worker()
    log_in(other, "north@example.com")
    page = staff.get("/account/password")
    assert page.status_code == 200 and "Change your password" in page.get_data(as_text=True)

    new = {"new": "a-new-long-one", "confirm": "a-new-long-one"}
    wrong = staff.post("/account/password", data={"current": "not-it", **new})
    assert wrong.status_code == 422
    assert "That is not your current password." in wrong.get_data(as_text=True)
    assert can_see_reports(other)

    done = staff.post("/account/password", data={"current": PASSWORD, **new})
    assert done.status_code == 302

    assert can_see_reports(client)
    assert not can_see_reports(other)
    assert db.session.get(User, manager.id).check_password("a-new-long-one")


def test_the_new_password_form_explains_each_mistake_beside_its_field(client, manager):
    staff = log_in(client, "north@example.com")
    response = staff.post("/account/password", data={"current": "", "new": "short", "confirm": "other"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your current password." in page
    assert "Use 8 to 200 characters." in page
    assert "The two new passwords differ." in page


def test_deactivating_a_user_ends_their_sessions_and_their_logins(worker, client, hq, manager):
    theirs = worker()
    log_in(theirs, "north@example.com")
    assert can_see_reports(theirs)

    response = hq.post(f"/hq/staff/{manager.id}/deactivate")
    assert response.status_code == 302

    assert not can_see_reports(theirs)
    form = hidden_fields(theirs.get("/login").get_data(as_text=True))
    again = theirs.post("/login", data={**form, "email": "north@example.com", "password": PASSWORD})
    assert again.status_code == 422

    hq.post(f"/hq/staff/{manager.id}/reactivate")
    log_in(theirs, "north@example.com")
    assert can_see_reports(theirs)


def test_hq_can_not_deactivate_itself(client, hq):
    me = db.session.scalar(db.select(User).filter_by(email="hq@example.com"))
    response = hq.post(f"/hq/staff/{me.id}/deactivate", follow_redirects=True)
    assert "You can&#39;t deactivate your own account" in response.get_data(as_text=True)
    assert db.session.get(User, me.id).active


def test_a_session_unused_for_the_configured_hours_ends(app, client, manager):
    assert app.config["SURVEY_SESSION_HOURS"] == 12
    log_in(client, "north@example.com")
    row = db.session.scalar(db.select(StaffSession))
    row.last_seen_at = utcnow() - timedelta(hours=11, minutes=50)
    db.session.commit()
    assert can_see_reports(client)  # used within the hours: kept, and its clock starts again
    db.session.expire_all()
    assert db.session.get(StaffSession, row.id).last_seen_at > utcnow() - timedelta(minutes=1)

    db.session.get(StaffSession, row.id).last_seen_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.commit()
    assert not can_see_reports(client)


def test_the_hours_come_from_the_environment(monkeypatch, tmp_path):
    from survey import create_app

    monkeypatch.setenv("SURVEY_SESSION_HOURS", "2.5")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert create_app().config["SURVEY_SESSION_HOURS"] == 2.5


def test_hq_sees_a_users_sessions_and_ends_one(worker, client, hq, manager):
    laptop, phone = worker(), worker()
    log_in(laptop, "north@example.com")
    phone.environ_base.update({"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "PhoneBrowser/1.0"})
    log_in(phone, "north@example.com")

    page = hq.get(f"/hq/staff/{manager.id}").get_data(as_text=True)
    assert "203.0.113.9" in page and "PhoneBrowser/1.0" in page
    listing = hq.get("/hq/staff").get_data(as_text=True)
    assert "north@example.com" in listing and "Staff" in listing

    phone_row = db.session.scalar(db.select(StaffSession).filter_by(address="203.0.113.9"))
    assert hq.post(f"/hq/staff/{manager.id}/sessions/{phone_row.id}/end").status_code == 302
    assert not can_see_reports(phone)
    assert can_see_reports(laptop)

    assert hq.post(f"/hq/staff/{manager.id}/sessions/end").status_code == 302
    assert not can_see_reports(laptop)


def test_a_session_of_another_user_can_not_be_ended_through_this_one(worker, client, hq, manager, make_user):
    other = make_user("south@example.com", "manager", ("SOUTH",))
    theirs = worker()
    log_in(theirs, "south@example.com")
    row = db.session.scalar(db.select(StaffSession).filter_by(user_id=other.id))
    assert hq.post(f"/hq/staff/{manager.id}/sessions/{row.id}/end").status_code == 404
    assert can_see_reports(theirs)


def test_the_shopper_page_asks_nothing_about_staff_sessions(app, client, manager, make_assignment):
    """The anonymous shopper's budgeted page loads no user and no session row."""
    log_in(app.test_client(), "north@example.com")  # a staff session exists, in another browser
    _, token = make_assignment()
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(f"/s/{token}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert seen and not [s for s in seen if "staff_session" in s or 'FROM "user"' in s or "FROM user" in s]
