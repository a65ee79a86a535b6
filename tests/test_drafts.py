"""Server drafts of a shopper's answers (SPEC §7): the JSON endpoint, "Save and finish later", the prefill."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from survey.extensions import db
from survey.models import AssignmentState, ShopperDraft, Submission
from survey.shopper import drafts
from survey.checklist.conditions import slots
from survey.shopper.fields import slot_name
from survey.shopper.forms import field_name, form_class
from survey.caches import checklist_of
from werkzeug.datastructures import MultiDict

from .conftest import good_answers, hidden_fields



@pytest.fixture
def link(make_assignment, open_form):
    """An opened store-visit link: ``(assignment, token, checklist, csrf token)``."""
    assignment, token = make_assignment()
    page, hidden = open_form(token)
    assert page.status_code == 200
    return assignment, token, checklist_of(assignment.version), hidden["csrf_token"]


def first_of(checklist, type_: str):
    return next(q for _, q in checklist.questions() if q.type == type_ and not q.show_if)


def first_name(checklist, type_: str) -> str:
    """Name the field of the first place a question of a type is asked (a repetition's, if it is repeated)."""
    return next(slot_name(slot) for _, _, q, slot in slots(checklist) if q.type == type_ and not q.show_if)


def half(checklist) -> dict[str, str | list[str]]:
    """Half a visit, as the page sends it: a few answers, a multi with two ticks, a comment."""
    yes_no, scale, multi = first_of(checklist, "yes_no"), first_of(checklist, "scale"), first_of(checklist, "multi")
    return {
        "visit_date": date.today().isoformat(),
        field_name(yes_no.key): "no",
        field_name(scale.key): str(scale.min + 1),
        field_name(multi.key): [o.key for o in multi.options[:2]],
    }


def save(client, token: str, data, csrf: str | None):
    headers = {"X-CSRFToken": csrf} if csrf is not None else {}
    return client.post(f"/s/{token}/draft", data=data, headers=headers)


def stored() -> list[ShopperDraft]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(ShopperDraft)))


# ---------------------------------------------------------------- the JSON endpoint


def test_a_draft_is_saved_with_the_csrf_header_and_answers_204(client, link):
    assignment, token, checklist, csrf = link
    response = save(client, token, half(checklist), csrf)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["X-Draft-Saved"]
    (draft,) = stored()
    assert draft.assignment_id == assignment.id
    assert draft.version_id == assignment.version_id
    assert draft.answers == half(checklist)


@pytest.mark.parametrize("csrf", [None, "", "not-a-token"])
def test_a_draft_without_a_valid_csrf_token_is_refused(client, link, csrf):
    _, token, checklist, _ = link
    response = save(client, token, half(checklist), csrf)
    assert response.status_code == 400
    assert response.is_json
    assert response.json["state"] == "csrf"
    assert "reload" in response.json["error"]
    assert stored() == []


def test_the_csrf_token_may_come_as_a_form_field_for_send_beacon(client, link):
    _, token, checklist, csrf = link
    assert client.post(f"/s/{token}/draft", data={**half(checklist), "csrf_token": csrf}).status_code == 204
    assert len(stored()) == 1


def test_saving_again_is_idempotent_and_the_latest_save_wins(client, link):
    _, token, checklist, csrf = link
    data = half(checklist)
    assert save(client, token, data, csrf).status_code == 204
    assert save(client, token, data, csrf).status_code == 204
    (draft,) = stored()
    assert draft.answers == data
    changed = {**data, "visit_time": "10:45"}
    del changed["visit_date"]  # cleared on the page: no longer in the draft
    assert save(client, token, changed, csrf).status_code == 204
    (draft,) = stored()
    assert draft.answers == changed


def test_a_draft_keeps_only_the_forms_own_fields(client, link):
    _, token, checklist, csrf = link
    text = first_name(checklist, "text")
    data = {
        **half(checklist),
        "csrf_token": csrf, "idem": "f" * 32, "action": "save",  # tokens and buttons: never kept
        "evil": "x", "q_no_such_question": "yes",  # not fields of this checklist
        text: "",  # empty: nothing to keep
        "first_answer_at": "2026-01-01T10:00:00Z",
    }
    assert save(client, token, data, csrf).status_code == 204
    (draft,) = stored()
    assert draft.answers == {**half(checklist), "first_answer_at": "2026-01-01T10:00:00Z"}


def test_a_huge_value_is_cut_not_refused(client, link):
    _, token, checklist, csrf = link
    text = first_name(checklist, "text")
    assert save(client, token, {text: "a" * 50_000}, csrf).status_code == 204
    (draft,) = stored()
    assert len(draft.answers[text]) == drafts.VALUE_MAX


def test_a_draft_is_refused_once_the_answers_were_received(client, link):
    assignment, token, checklist, csrf = link
    sent = client.post(f"/s/{token}", data={**hidden_fields(client.get(f"/s/{token}").get_data(as_text=True)),
                                            **good_answers(checklist)})
    assert sent.status_code == 303
    response = save(client, token, half(checklist), csrf)
    assert response.status_code == 409
    assert response.json == {"state": "submitted",
                             "error": "These answers were already received, so there is nothing left to save."}
    assert stored() == []
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1


@pytest.mark.parametrize("state, status", [("expired", 410), ("cancelled", 410)])
def test_a_draft_is_refused_on_a_closed_link(client, link, state, status):
    assignment, token, checklist, csrf = link
    if state == "expired":
        assignment.due = date.today() - timedelta(days=1)
    else:
        assignment.state = AssignmentState.cancelled
    db.session.commit()
    response = save(client, token, half(checklist), csrf)
    assert response.status_code == status
    assert response.json["state"] == state
    assert "can no longer be saved" in response.json["error"]
    assert stored() == []


def test_a_draft_for_an_unknown_link_is_404(client, link):
    _, _, checklist, csrf = link
    assert save(client, "A" * 32, half(checklist), csrf).status_code == 404
    assert save(client, "nonsense", half(checklist), csrf).status_code == 404


def test_a_draft_can_only_be_posted(client, link):
    _, token, _, _ = link
    assert client.get(f"/s/{token}/draft").status_code == 405


# ---------------------------------------------------------------- the functions the fill view calls


def test_draft_formdata_gives_the_draft_back_as_form_data(app, client, link):
    assignment, token, checklist, csrf = link
    assert drafts.draft_formdata(assignment) is None
    save(client, token, half(checklist), csrf)
    with app.test_request_context(f"/s/{token}"):
        data = drafts.draft_formdata(assignment)
        multi = first_of(checklist, "multi")
        assert isinstance(data, MultiDict)
        assert data.getlist(field_name(multi.key)) == [o.key for o in multi.options[:2]]
        version = assignment.version
        form = form_class(version.id, version.content_hash, checklist)(formdata=data, meta={"csrf": False})
        assert form[field_name(first_of(checklist, "yes_no").key)].data == "no"
        assert form.visit_date.data == date.today().isoformat()


def test_save_draft_stores_the_posted_form_and_checks_its_csrf_token(app, client, link):
    assignment, token, checklist, csrf = link
    version = assignment.version
    cls = form_class(version.id, version.content_hash, checklist)
    cookie = client.get_cookie("session")
    headers = {"Cookie": f"session={cookie.value}"}
    with app.test_request_context(f"/s/{token}", method="POST", headers=headers,
                                  data={**half(checklist), "csrf_token": "stale", "action": "save"}):
        form = cls()
        assert drafts.save_draft(assignment, form) is False
        assert "csrf_token" in form.errors
    assert stored() == []
    with app.test_request_context(f"/s/{token}", method="POST", headers=headers,
                                  data={**half(checklist), "csrf_token": csrf, "action": "save"}):
        assert drafts.save_draft(assignment, cls()) is True
    (draft,) = stored()
    assert draft.answers == half(checklist)


# ---------------------------------------------------------------- through the fill view


def test_opening_the_link_again_shows_the_saved_draft(client, link):
    _, token, checklist, csrf = link
    save(client, token, half(checklist), csrf)
    other_phone = client.application.test_client()
    html = other_phone.get(f"/s/{token}").get_data(as_text=True)
    yes_no, multi = first_of(checklist, "yes_no"), first_of(checklist, "multi")
    assert f'name="{field_name(yes_no.key)}" value="no" checked' in html
    for option in multi.options[:2]:
        assert f'name="{field_name(multi.key)}" value="{option.key}" checked' in html
    assert f'value="{date.today().isoformat()}"' in html
    assert "data-saved=" in html


def test_save_and_finish_later_without_javascript(client, link):
    _, token, checklist, csrf = link
    idem = hidden_fields(client.get(f"/s/{token}").get_data(as_text=True))["idem"]
    response = client.post(f"/s/{token}", data={**half(checklist), "csrf_token": csrf, "idem": idem, "action": "save"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{token}")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Saved. Open this link again to finish." in page
    assert f'name="{field_name(first_of(checklist, "yes_no").key)}" value="no" checked' in page
    assert 'id="summary"' not in page  # no box of answers needing attention
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    (draft,) = stored()
    assert draft.answers == half(checklist)
    # Finishing later sends everything, once.
    done = client.post(f"/s/{token}", data={**hidden_fields(page), **good_answers(checklist)})
    assert done.status_code == 303
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1


def test_save_and_finish_later_with_a_stale_csrf_token_keeps_the_answers(client, link):
    _, token, checklist, _ = link
    response = client.post(f"/s/{token}", data={**half(checklist), "csrf_token": "stale", "action": "save"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "it was not sent" in html
    assert f'name="{field_name(first_of(checklist, "yes_no").key)}" value="no" checked' in html
    assert stored() == []


# ---------------------------------------------------------------- the service worker's script


def test_the_service_worker_is_served_from_the_root_small_and_uncached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert len(response.get_data()) <= 10 * 1024
    assert b'addEventListener("sync"' in response.get_data()
