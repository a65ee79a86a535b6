"""Request size (issue 11, point 1): a body over the limit is refused from its declared length,
before CSRF, the form parser or a photo check reads any of it."""

from __future__ import annotations

import io

import pytest
from survey import create_app


class CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes that counts how many of them the app reads."""

    def __init__(self, size: int):
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # Werkzeug's test client measures the stream this way
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"x" * n
        self.position += n
        self.read_bytes += n
        return n


def post_body(client, path: str, size: int, content_type: str):
    body = CountingBody(size)
    response = client.post(path, input_stream=body, content_length=size, content_type=content_type)
    return response, body


def test_the_limit_comes_from_the_photo_limit_plus_room_for_the_form(app):
    from survey.config import request_limit

    assert app.config["MAX_CONTENT_LENGTH"] == request_limit(app.config["UPLOAD_MAX_BYTES"])
    assert app.config["UPLOAD_MAX_BYTES"] < app.config["MAX_CONTENT_LENGTH"] < 8 * app.config["UPLOAD_MAX_BYTES"]


def test_the_environment_sets_the_limit_too(monkeypatch, tmp_path):
    from survey.config import request_limit

    monkeypatch.setenv("SURVEY_UPLOAD_MAX_MB", "2")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.config["MAX_CONTENT_LENGTH"] == request_limit(2 * 1024 * 1024)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_login_body_one_byte_over_the_limit_gets_413_unread(client, app, content_type):
    response, body = post_body(client, "/login", app.config["MAX_CONTENT_LENGTH"] + 1, content_type)
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert "too large" in response.get_data(as_text=True)


def test_a_shopper_body_over_the_limit_gets_413_unread_and_a_message_that_keeps_the_answers(
        client, app, make_assignment):
    _, token = make_assignment()
    response, body = post_body(client, f"/s/{token}", app.config["MAX_CONTENT_LENGTH"] + 1,
                               "multipart/form-data; boundary=x")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert body.read_bytes == 0
    assert "Your answers are still on this phone" in page
    assert "choose a smaller photo and send again" in page


def test_a_body_at_the_limit_is_read_as_usual(client, app):
    """The limit is the limit: a body of exactly that size is read (and refused for its CSRF token)."""
    response, body = post_body(client, "/login", app.config["MAX_CONTENT_LENGTH"],
                               "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert body.read_bytes == app.config["MAX_CONTENT_LENGTH"]
