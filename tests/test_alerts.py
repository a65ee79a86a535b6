"""E-mail alerts (SPEC §8): a counted visit with a critical failure reaches its region's managers,
through the worker, never inside the shopper's request; refusals and silence are retried, a
message is sent at most once."""

from __future__ import annotations

import html
import select
import threading
from datetime import timedelta

import pytest
from flask_babel import get_locale, gettext
from survey import appeals
from survey.alerts import alert_reason, send_alert, visit_counted
from survey.caches import checklist_of
from survey.catalogue import publish
from survey.checklist.loader import load_checklist_data
from survey.extensions import db
from survey.i18n import mail_language
from survey.jobs import run_periodic, run_queued
from survey.models import Alert, AlertState, AppealCategory, Region, ReviewState, Submission, User, utcnow
from survey.shopper.fields import field_name
from survey.submissions import find_assignment

from .conftest import good_answers, log_in
from .conftest import post_multipart as post
from .mail_fixtures import silent_server, smtp  # noqa: F401  (fixtures)
from .test_i18n import german  # noqa: F401  (fixture)

COMMENT = "Scrolling on her phone <b>the whole time</b>"


@pytest.fixture
def managers(make_user):
    """Two managers of NORTH (one of them also of SOUTH), one of SOUTH only, one inactive, and HQ."""
    make_user("anna@north.example", "manager", ("NORTH",))
    make_user("ben@both.example", "manager", ("NORTH", "SOUTH"))
    make_user("sue@south.example", "manager", ("SOUTH",))
    gone = make_user("gone@north.example", "manager", ("NORTH",))
    gone.active = False
    make_user("hq@example.com", "hq")
    db.session.commit()


@pytest.fixture
def send_visit(client, make_assignment, open_form):
    """Send a store visit through the shopper's form; ``critical=True`` fails the critical question."""

    def send(critical: bool = True, token: str | None = None) -> Submission:
        if token is None:
            _, token = make_assignment()
        page, hidden = open_form(token)
        assert page.status_code == 200
        checklist = checklist_of(find_assignment(token).version)
        data = {**hidden, **good_answers(checklist)}
        if critical:
            data[field_name("used_phone")] = "yes"
            data[field_name("used_phone", "comment")] = COMMENT
        response = post(client, f"/s/{token}", data)
        assert response.status_code == 303, response.get_data(as_text=True)
        return db.session.scalar(db.select(Submission).order_by(Submission.id.desc()).limit(1))

    return send


def deliver_now(app) -> None:
    """What the worker does each minute: the sweep queues what is due, a worker runs it."""
    run_periodic("sweep")
    run_queued(app)


def the_alert() -> Alert:
    db.session.expire_all()
    return db.session.scalar(db.select(Alert))


def make_due(alert_id: int) -> None:
    """Skip the wait before the next try (the test's clock, not a sleep)."""
    db.session.execute(db.update(Alert).where(Alert.id == alert_id).values(next_attempt_at=utcnow()))
    db.session.commit()


# ---------------------------------------------------------------- who gets what


def test_a_critical_failure_reaches_the_regions_active_managers_through_the_worker(app, smtp, managers,
                                                                                   send_visit):
    submission = send_visit(critical=True)
    # The shopper's request wrote the alert and nothing else: the server has heard nothing.
    assert smtp.received == []
    alert = the_alert()
    assert (alert.state, alert.reason, alert.attempts) == (AlertState.pending, "critical", 0)

    deliver_now(app)

    assert len(smtp.received) == 1
    envelope, message = smtp.received[0]
    assert sorted(envelope) == ["anna@north.example", "ben@both.example"]
    assert message["Subject"].startswith("Critical failure at Branch BR-001 on ")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    url = f"http://shop.test/reports/visits/{submission.reference}"
    assert "Did they use a personal phone while serving you?" in text
    assert COMMENT in text and "Answer: Yes" in text
    assert url in text
    assert f'<a href="{url}">' in html
    assert "Scrolling on her phone &lt;b&gt;the whole time&lt;/b&gt;" in html  # escaped in HTML
    alert = the_alert()
    assert (alert.state, alert.attempts, alert.last_error) == (AlertState.sent, 1, None)
    assert alert.recipients == "anna@north.example, ben@both.example"
    assert message["Message-ID"] == alert.message_id
    # Sent once: later sweeps find nothing to do.
    deliver_now(app)
    assert len(smtp.received) == 1


def test_a_good_visit_alerts_no_one(app, smtp, managers, send_visit):
    send_visit(critical=False)
    deliver_now(app)
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0
    assert smtp.received == []


@pytest.mark.parametrize("score, critical, below, expected", [
    (0.6999, False, 70, "low_score"),
    (0.70, False, 70, None),  # at the threshold: not below it
    (0.10, False, None, None),  # no threshold: only critical failures alert
    (0.95, True, 70, "critical"),  # a critical failure comes first, whatever the score
    (0.0, True, None, "critical"),
    (None, False, 70, None),
])
def test_which_visits_alert(score, critical, below, expected):
    assert alert_reason(score, critical, below) == expected


def test_a_visit_below_the_threshold_alerts_when_one_is_set(app, smtp, managers, send_visit):
    app.config["SURVEY_ALERT_BELOW"] = 101.0
    send_visit(critical=False)
    deliver_now(app)
    assert the_alert().reason == "low_score"
    assert smtp.messages[0]["Subject"].startswith("Low score (100.0 %) at Branch BR-001")


@pytest.fixture
def waiting_visit(published, send_visit):
    """Put store-visit under ``review: hq``; return a callable sending a visit that waits for HQ."""
    checklist = published["store-visit"]
    publish(load_checklist_data({**checklist.latest.content, "review": "hq"}))
    db.session.commit()

    def send(critical: bool) -> Submission:
        submission = send_visit(critical=critical)
        assert submission.review == ReviewState.pending
        # Waiting: it counts nowhere yet, so it alerts no one on arrival.
        assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0
        return submission

    return send


def approve_over_http(client, submission: Submission) -> None:
    hq = log_in(client, "hq@example.com")
    response = hq.post(f"/hq/submissions/{submission.id}/approve", {"shown": "pending"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == ReviewState.counted


def test_approving_a_waiting_visit_with_a_critical_failure_writes_its_alert(app, client, smtp, managers,
                                                                           waiting_visit):
    """Under ``review: hq`` HQ's approval is what makes the visit count, so it writes the alert row
    (in the approval's transaction); the worker then sends it."""
    submission = waiting_visit(critical=True)
    approve_over_http(client, submission)
    alert = the_alert()
    assert (alert.submission_id, alert.reason, alert.state) == (submission.id, "critical", AlertState.pending)
    deliver_now(app)
    assert len(smtp.received) == 1 and the_alert().state == AlertState.sent


def test_approving_a_waiting_visit_without_a_failure_writes_no_alert(app, client, smtp, managers, waiting_visit):
    """No critical failure and no SURVEY_ALERT_BELOW (the default): approval counts the visit, quietly."""
    assert app.config["SURVEY_ALERT_BELOW"] is None
    submission = waiting_visit(critical=False)
    approve_over_http(client, submission)
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0
    deliver_now(app)
    assert smtp.received == []


def test_a_visit_counting_again_keeps_its_one_alert(app, managers, send_visit):
    submission = send_visit(critical=True)
    assert not visit_counted(submission.id)  # approved after a return, say: no second alert
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1


def test_without_mail_url_development_writes_the_outbox(app, managers, send_visit, tmp_path):
    app.config.update(MAIL_URL=None, SURVEY_DEVELOPMENT=True)
    submission = send_visit(critical=True)
    deliver_now(app)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    content = files[0].read_text()
    assert "Critical failure at Branch BR-001" in content and submission.reference in content
    assert the_alert().state == AlertState.sent


def test_without_mail_url_production_marks_the_alert_failed(app, managers, send_visit, tmp_path):
    app.config.update(MAIL_URL=None, SURVEY_DEVELOPMENT=False)
    send_visit(critical=True)
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.failed and "MAIL_URL is not set" in alert.last_error
    assert not (tmp_path / "outbox").exists()


def test_a_region_without_managers_fails_with_the_reason(app, smtp, make_user, send_visit):
    make_user("sue@south.example", "manager", ("SOUTH",))
    send_visit(critical=True)
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.failed and "region NORTH has no active manager" in alert.last_error
    assert smtp.received == []


def test_a_german_checklist_writes_german(app, smtp, managers, german, send_visit):  # noqa: F811
    _, token = german()
    send_visit(critical=True, token=token)
    deliver_now(app)
    message = smtp.messages[0]
    assert message["Subject"].startswith("Kritischer Fehler bei Branch BR-001 am ")
    text = message.get_body(("plain",)).get_content()
    assert "Kommentar" in text and "Den ganzen Besuch lesen" in text


# ---------------------------------------------------------------- refusals, silence, at most once


def test_a_refusing_server_is_retried_with_growing_waits_then_the_alert_fails(app, smtp, managers, send_visit):
    app.config.update(SURVEY_ALERT_ATTEMPTS=3, SURVEY_ALERT_RETRY_SECONDS=60)
    smtp.replies = ["554 5.7.1 Message rejected"] * 3
    send_visit(critical=True)
    tries = []
    for _ in range(3):
        before = utcnow()
        deliver_now(app)
        after = utcnow()
        alert = the_alert()
        tries.append((before, alert.next_attempt_at, after))
        make_due(alert.id)
    assert alert.state == AlertState.failed
    assert "554 5.7.1 Message rejected" in alert.last_error and "after 3 tries" in alert.last_error
    # The next try is set from the moment the try failed, somewhere between before and after:
    # 60 s after the first, then doubled. (Bracketed, not timed: a busy machine only widens the bracket.)
    second = timedelta(seconds=1)
    for (before, next_at, after), wait in zip(tries, (60, 120)):
        assert before + timedelta(seconds=wait) - second <= next_at <= after + timedelta(seconds=wait) + second
    assert smtp.received == []
    deliver_now(app)  # failed: never tried again on its own
    assert the_alert().attempts == 3


def test_a_busy_server_is_tried_again_and_the_message_arrives(app, smtp, managers, send_visit):
    smtp.replies = ["451 4.3.0 Try again later"]
    send_visit(critical=True)
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.pending and alert.attempts == 1 and "451" in alert.last_error
    deliver_now(app)  # not yet: its wait is not over
    assert the_alert().attempts == 1
    make_due(alert.id)
    deliver_now(app)
    alert = the_alert()
    assert (alert.state, alert.attempts, alert.last_error) == (AlertState.sent, 2, None)
    assert len(smtp.received) == 1


def test_a_silent_server_times_out_and_the_shoppers_request_never_touches_it(app, silent_server, managers,
                                                                             send_visit):
    send_visit(critical=True)
    # No connection reached the server during the shopper's request (one would wait in its backlog).
    assert select.select([silent_server], [], [], 0)[0] == []
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.pending and alert.attempts == 1
    assert "no answer in time" in alert.last_error or "timed out" in alert.last_error


def test_a_line_dropped_during_the_message_is_unknown_and_never_retried(app, smtp, managers, send_visit):
    smtp.replies = ["DROP"]
    send_visit(critical=True)
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.unknown and "connection lost" in alert.last_error
    make_due(alert.id)
    deliver_now(app)
    assert the_alert().attempts == 1 and smtp.received == []


def test_a_worker_lost_mid_send_leaves_the_alert_unknown(app, smtp, managers, send_visit):
    send_visit(critical=True)
    alert = the_alert()
    long_ago = utcnow() - timedelta(hours=1)
    db.session.execute(db.update(Alert).where(Alert.id == alert.id)
                       .values(state=AlertState.sending, attempts=1, claimed_at=long_ago))
    db.session.commit()
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.unknown and "may have arrived" in alert.last_error
    assert smtp.received == []


def test_a_visit_rejected_before_sending_cancels_its_alert(app, smtp, managers, send_visit):
    submission = send_visit(critical=True)
    submission.review = ReviewState.rejected
    db.session.commit()
    deliver_now(app)
    assert the_alert().state == AlertState.cancelled


def test_an_appeal_that_lifts_the_failure_before_sending_cancels_its_alert(app, smtp, managers, send_visit,
                                                                            make_user):
    submission = send_visit(critical=True)
    hq = db.session.scalar(db.select(User).filter_by(email="hq@example.com"))
    appeal = appeals.open_appeal(submission, category=AppealCategory.scoring, reason="The receipt shows no phone",
                                 questions=["used_phone"], user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="Comment contradicts the answer", user=hq,
                          answer="no")
    assert db.session.get(Submission, submission.id).critical_fail is False
    deliver_now(app)
    alert = the_alert()
    assert alert.state == AlertState.cancelled and "appeal" in alert.last_error
    assert smtp.received == []
    assert smtp.received == []


def test_five_jobs_racing_for_one_alert_send_it_once(app, smtp, managers, send_visit):
    send_visit(critical=True)
    alert_id = the_alert().id
    start = threading.Barrier(5)
    errors = []

    def race():
        try:
            start.wait()
            with app.app_context():
                send_alert(alert_id)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(smtp.received) == 1
    assert the_alert().attempts == 1


def test_outside_a_request_the_language_falls_back_to_english(app):
    assert str(get_locale()) == "en_GB"  # the worker has no request: English, no crash
    with mail_language("de"):
        assert gettext("Read the whole visit") == "Den ganzen Besuch lesen"
    assert gettext("Read the whole visit") == "Read the whole visit"


# ---------------------------------------------------------------- what HQ sees and does


def test_hq_sees_a_failed_alert_and_sends_it_again_as_the_same_message(app, client, smtp, managers, send_visit):
    app.config.update(SURVEY_ALERT_ATTEMPTS=2)
    smtp.replies = ["554 5.7.1 Message rejected"] * 2
    submission = send_visit(critical=True)
    for _ in range(2):
        deliver_now(app)
        make_due(the_alert().id)
    alert = the_alert()
    assert alert.state == AlertState.failed
    hq = log_in(client, "hq@example.com")
    page = html.unescape(hq.get("/hq/alerts?state=attention").get_data(as_text=True))
    assert submission.reference in page and "Failed" in page and "554 5.7.1 Message rejected" in page
    assert "anna@north.example, ben@both.example" in page
    assert "Send again: the alert about" in page

    response = hq.post(f"/hq/alerts/{alert.id}/resend?state=attention")
    assert response.status_code == 302 and response.headers["Location"].endswith("/hq/alerts?state=attention")
    page = html.unescape(hq.get("/hq/alerts").get_data(as_text=True))
    assert f"The alert about {submission.reference} is queued again" in page
    run_queued(app)  # queued at once: no waiting for the sweep
    alert = the_alert()
    assert (alert.state, alert.attempts) == (AlertState.sent, 1)
    assert [m["Message-ID"] for m in smtp.messages] == [alert.message_id]

    # Sent: pressing the button again (a second tab) changes nothing.
    hq.post(f"/hq/alerts/{alert.id}/resend")
    assert "only a failed or unknown alert can be sent again" in hq.get("/hq/alerts").get_data(as_text=True)
    assert run_queued(app) == 0 and len(smtp.messages) == 1


def test_hq_filters_and_pages_the_alerts(app, client, managers, send_visit, monkeypatch):
    monkeypatch.setattr("survey.hq.alerts.PAGE_SIZE", 2)
    sent = [send_visit(critical=True).reference for _ in range(3)]
    db.session.execute(db.update(Alert).where(Alert.id == the_alert().id).values(state=AlertState.unknown))
    db.session.commit()
    hq = log_in(client, "hq@example.com")
    first = hq.get("/hq/alerts").get_data(as_text=True)
    assert "3 alerts, page 1 of 2" in first and 'rel="next"' in first
    assert sum(ref in first for ref in sent) == 2
    second = hq.get("/hq/alerts?page=2").get_data(as_text=True)
    assert sum(ref in second for ref in sent) == 1
    unknown = hq.get("/hq/alerts?state=unknown").get_data(as_text=True)
    assert "1 alert." in unknown
    south = hq.get(f"/hq/alerts?region={db.session.scalar(db.select(Region.id).filter_by(code='SOUTH'))}")
    assert "No alerts match these filters." in south.get_data(as_text=True)
    bad = hq.get("/hq/alerts?state=lost&region=abc&page=zz")
    assert bad.status_code == 200
    text = html.unescape(bad.get_data(as_text=True))
    assert "Choose a state from the list." in text and "Choose a region from the list." in text


def test_the_dashboard_counts_alerts_needing_attention(app, client, managers, send_visit):
    send_visit(critical=True)
    db.session.execute(db.update(Alert).values(state=AlertState.failed))
    db.session.commit()
    page = log_in(client, "hq@example.com").get("/hq/").get_data(as_text=True)
    assert "<strong>1</strong> alert failed or unknown" in page
    assert 'href="/hq/alerts?state=attention"' in page
