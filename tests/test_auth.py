"""Staff login and logout as a person meets them: messages, throttling, cookies, CSRF."""

from __future__ import annotations

from survey.extensions import db

from .conftest import PASSWORD, hidden_fields
from .reports_fixtures import login  # noqa: F401


def form_fields(client, path: str = "/login") -> dict[str, str]:
    return hidden_fields(client.get(path).get_data(as_text=True))


def test_login_page_has_labelled_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'name="csrf_token"' in page


def test_login_lands_a_manager_on_reports(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    response = login("north@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports/"


def test_login_follows_a_local_next_only(client, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    data = {**form_fields(client), "email": "north@example.com", "password": PASSWORD}
    response = client.post("/login?next=//evil.test/x", data=data)
    assert response.headers["Location"] == "/reports/"


def test_wrong_password_keeps_the_email_and_explains(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    response = login("north@example.com", "not-the-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "That e-mail and password don&#39;t match an account." in page or \
        "That e-mail and password don't match an account." in page
    assert 'value="north@example.com"' in page
    assert "not-the-password" not in page


def test_unknown_email_gets_the_same_message(client, login):
    page = login("nobody@example.com", "whatever-123").get_data(as_text=True)
    assert "match an account" in page
    assert 'value="nobody@example.com"' in page


def test_missing_fields_are_explained_beside_them(client):
    response = client.post("/login", data={**form_fields(client), "email": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your e-mail address." in page
    assert "Enter your password." in page


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    response = client.post("/login", data={"email": "north@example.com", "password": PASSWORD})
    assert response.status_code in (400, 422)
    assert client.get("/reports/").status_code == 302


def test_six_failed_attempts_for_one_email_are_throttled(limited_client, make_user):
    make_user("target@example.com", "manager", ("NORTH",))
    statuses = []
    for _ in range(6):
        data = {**form_fields(limited_client), "email": "target@example.com", "password": "wrong-guess"}
        statuses.append(limited_client.post("/login", data=data).status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5] == 429
    page = limited_client.post("/login", data={**form_fields(limited_client), "email": "target@example.com",
                                                "password": PASSWORD})
    assert page.status_code == 429                       # even the right password waits a minute
    assert "Too many attempts" in page.get_data(as_text=True)


def test_throttling_one_email_leaves_another_alone(limited_client, make_user):
    make_user("target2@example.com", "manager", ("NORTH",))
    make_user("other@example.com", "manager", ("NORTH",))
    for _ in range(6):
        limited_client.post("/login", data={**form_fields(limited_client), "email": "target2@example.com",
                                            "password": "wrong-guess"})
    response = limited_client.post("/login", data={**form_fields(limited_client), "email": "other@example.com",
                                                   "password": PASSWORD})
    assert response.status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    response = login("north@example.com")
    cookies = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    assert cookies, response.headers
    attributes = [part.strip().lower() for part in cookies[-1].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_logout_needs_post(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    login("north@example.com")
    assert client.get("/logout").status_code == 405
    assert client.get("/reports/").status_code == 200


def test_logout_needs_the_csrf_token(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    login("north@example.com")
    assert client.post("/logout").status_code == 400
    assert client.get("/reports/").status_code == 200


def test_logout_with_token_logs_out(client, make_user, login):
    make_user("north@example.com", "manager", ("NORTH",))
    login("north@example.com")
    token = form_fields(client, "/reports/")["csrf_token"]
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/reports/").status_code == 302


def test_set_password_stores_a_slow_salted_hash_that_logs_in(client, make_user, login):
    """The fixtures use a cheap hash for speed; the real path must use scrypt and still log in."""
    user = make_user("north@example.com", "manager", ("NORTH",))
    user.set_password(PASSWORD)
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert login("north@example.com").status_code == 302
