"""Monthly delivery (issue 15.5): each manager gets one e-mail with their regions' and branches' PDFs
for the month, made once by the worker's jobs and sent to a real SMTP server on loopback; linked
instead of attached over HQ's size limit; a manager may opt out; HQ sees progress and sends again."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event
from pypdf import PdfReader
from survey import delivery
from survey.extensions import db
from survey.jobs import run_periodic, run_queued
from survey.models import BatchPdf, Branch, DeliveryMail, MailState, PdfState, ReportBatch, User, utcnow
from survey.storage import objects as report_store

from .conftest import ServerClient, log_in
from .mail_fixtures import smtp  # noqa: F401  (fixture)
from .reports_fixtures import *  # noqa: F401,F403
from .test_photo_store import bucket, keys, new_app, objects, s3, shared_bucket  # noqa: F401  (fixtures)

FEB = date(2026, 2, 1)
SLUG = "2026-02-01_2026-02-28"
NORTH_FILES = [f"NORTH_{SLUG}.pdf", f"BR-A_{SLUG}.pdf", f"BR-B_{SLUG}.pdf", f"BR-D_{SLUG}.pdf"]
SOUTH_FILES = [f"SOUTH_{SLUG}.pdf", f"BR-C_{SLUG}.pdf"]


@pytest.fixture
def managers(known, make_user):
    """A manager of NORTH, one of SOUTH, one of both, one inactive, and HQ (who gets no e-mail)."""
    make_user("north@example.com", "manager", ("NORTH",))
    make_user("south@example.com", "manager", ("SOUTH",))
    make_user("both@example.com", "manager", ("NORTH", "SOUTH"))
    gone = make_user("gone@example.com", "manager", ("NORTH",))
    gone.active = False
    make_user("hq@example.com", "hq")
    db.session.commit()


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def by_recipient(inbox) -> dict[str, object]:
    found = {}
    for envelope, message in inbox.received:
        (to,) = envelope
        found.setdefault(to, []).append(message)
    return found


def deliver_february(app, origin="command line"):
    started = delivery.start_batch(FEB, "delivery", origin)
    run_queued(app)
    db.session.expire_all()
    return started


def test_each_manager_gets_their_regions_pdfs_once_and_none_of_another_region(app, smtp, managers):
    started = deliver_february(app)
    assert (started.branches, started.regions, started.mails) == (4, 2, 3)

    mails = by_recipient(smtp)
    assert sorted(mails) == ["both@example.com", "north@example.com", "south@example.com"]
    assert all(len(messages) == 1 for messages in mails.values())
    north = attachments(mails["north@example.com"][0])
    south = attachments(mails["south@example.com"][0])
    both = attachments(mails["both@example.com"][0])
    assert list(north) == NORTH_FILES  # the region first, then its branches
    assert list(south) == SOUTH_FILES
    assert sorted(both) == sorted(NORTH_FILES + SOUTH_FILES)
    for files in (north, south, both):
        for name, body in files.items():
            reader = PdfReader(io.BytesIO(body))
            assert len(reader.pages) >= 1, name
    # The branch PDF is the branch's: its code and the month are printed on page 1.
    page_one = PdfReader(io.BytesIO(north[f"BR-A_{SLUG}.pdf"])).pages[0].extract_text()
    assert "BR-A" in page_one and "Alpha" in page_one and "Charlie" not in page_one
    message = mails["north@example.com"][0]
    assert message["Subject"] == "Your reports for February 2026"
    text = message.get_body(("plain",)).get_content()
    assert "Your monthly reports for February 2026: North." in text or "February 2026" in text
    assert "http://shop.test/account/delivery" in text

    # Each PDF made once and shared: six rows, six files, whoever gets them.
    pdfs = db.session.scalars(db.select(BatchPdf)).all()
    assert sorted((p.kind, p.code, p.state, p.attempts) for p in pdfs) == sorted(
        [("branch", c, PdfState.done, 1) for c in ("BR-A", "BR-B", "BR-C", "BR-D")]
        + [("region", c, PdfState.done, 1) for c in ("NORTH", "SOUTH")])
    folder = app.config["UPLOAD_DIR"] + "/reports"
    import os
    assert len(os.listdir(folder)) == 6
    assert both[f"BR-A_{SLUG}.pdf"] == north[f"BR-A_{SLUG}.pdf"]

    # Sent at most once: later sweeps and stray jobs send nothing more.
    run_periodic("delivery_sweep")
    for row in db.session.scalars(db.select(DeliveryMail)):
        assert row.state == MailState.sent and row.attempts == 1 and not row.linked
        app.extensions["jobs"].tasks["send_delivery"](row.id)
    run_queued(app)
    assert len(smtp.received) == 3


def test_over_the_size_limit_the_pdfs_are_links_that_only_their_region_can_open(app, smtp, managers, client):
    delivery.save_settings(True, 1, 0, "en")  # 0 KB: every e-mail is over it
    deliver_february(app)
    north = by_recipient(smtp)["north@example.com"][0]
    assert attachments(north) == {}
    text = north.get_body(("plain",)).get_content()
    html = north.get_body(("html",)).get_content()
    assert "too large to attach" in text
    links = re.findall(r"http://shop\.test(/reports/deliveries/\d+/[\w.-]+\.pdf)", text)
    assert [link.rsplit("/", 1)[1] for link in links] == NORTH_FILES
    assert all(f'href="http://shop.test{link}"' in html for link in links)
    branch_link = links[1]

    assert client.get(branch_link).status_code == 302  # log in first
    north_staff = log_in(client, "north@example.com")
    opened = client.get(branch_link)
    assert opened.status_code == 200 and opened.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(opened.data)).pages) >= 1
    assert client.get(branch_link.replace("BR-A", "BR-X")).status_code == 404  # a name that is not its own
    north_staff.post("/logout")

    log_in(client, "south@example.com")
    refused = client.get(branch_link)
    assert refused.status_code == 404
    assert "BR-A" not in refused.get_data(as_text=True)
    south_links = re.findall(r"http://shop\.test(/reports/deliveries/\d+/[\w.-]+\.pdf)",
                             by_recipient(smtp)["south@example.com"][0].get_body(("plain",)).get_content())
    assert client.get(south_links[0]).status_code == 200
    assert all(row.linked for row in db.session.scalars(db.select(DeliveryMail)))


def test_a_manager_who_turns_it_off_gets_no_e_mail(app, smtp, managers, client):
    staff = log_in(client, "north@example.com")
    page = client.get("/account/delivery")
    assert page.status_code == 200
    assert re.search(r'<input[^>]* checked[^>]* name="monthly"', page.get_data(as_text=True))
    done = staff.post("/account/delivery", data={})  # the box unticked
    assert done.status_code == 302
    after = client.get("/account/delivery").get_data(as_text=True)
    assert "You will get no monthly e-mail" in after
    assert not re.search(r'<input[^>]* checked[^>]* name="monthly"', after)
    assert db.session.scalar(db.select(User.monthly_delivery).filter_by(email="north@example.com")) is False

    deliver_february(app)
    assert sorted(by_recipient(smtp)) == ["both@example.com", "south@example.com"]

    staff.post("/account/delivery", data={"monthly": "y"})
    assert db.session.scalar(db.select(User.monthly_delivery).filter_by(email="north@example.com")) is True


def test_the_choice_needs_a_login_and_its_form_token(client, managers):
    assert client.get("/account/delivery").status_code == 302
    log_in(client, "north@example.com")
    assert client.post("/account/delivery", data={}).status_code == 400  # no CSRF token
    assert db.session.scalar(db.select(User.monthly_delivery).filter_by(email="north@example.com")) is True


def test_hq_sees_a_failed_pdf_and_sends_the_e_mail_again_once_it_is_made(app, smtp, managers, client):
    app.config["SURVEY_ALERT_ATTEMPTS"] = 1
    started = delivery.start_batch(FEB, "delivery", "HQ")
    # BR-C disappears under its code before the worker gets to it: its PDF can't be made.
    charlie = db.session.scalar(db.select(Branch).filter_by(code="BR-C"))
    charlie.code = "BR-C2"
    db.session.commit()
    run_queued(app)
    db.session.expire_all()
    assert sorted(by_recipient(smtp)) == ["north@example.com"]  # SOUTH's e-mails need BR-C
    south = db.session.scalar(db.select(DeliveryMail).join(User).filter(User.email == "south@example.com"))
    assert south.state == MailState.failed and "branch BR-C" in south.last_error

    hq = log_in(client, "hq@example.com")
    listing = client.get("/hq/deliveries").get_data(as_text=True)
    assert f"#{started.batch.id}" in listing and "5 of 6" in listing
    page = client.get(f"/hq/deliveries/{started.batch.id}").get_data(as_text=True)
    assert "1 failed" in page and "no branch with code" in page and "south@example.com" in page
    assert page.index("BR-C") < page.index("BR-A")  # failures first

    charlie.code = "BR-C"
    db.session.commit()
    again = hq.post(f"/hq/deliveries/mails/{south.id}/resend")
    assert again.status_code == 302
    run_queued(app)
    assert sorted(by_recipient(smtp)) == ["north@example.com", "south@example.com"]
    assert list(attachments(by_recipient(smtp)["south@example.com"][0])) == SOUTH_FILES
    db.session.expire_all()
    assert db.session.get(DeliveryMail, south.id).state == MailState.sent


def test_hq_can_send_a_sent_e_mail_again_and_it_keeps_its_message_id(app, smtp, managers, client):
    deliver_february(app)
    north = db.session.scalar(db.select(DeliveryMail).join(User).filter(User.email == "north@example.com"))
    hq = log_in(client, "hq@example.com")
    assert "Send again" in client.get(f"/hq/deliveries/{north.batch_id}").get_data(as_text=True)
    hq.post(f"/hq/deliveries/mails/{north.id}/resend")
    run_queued(app)
    sent = by_recipient(smtp)["north@example.com"]
    assert len(sent) == 2 and sent[0]["Message-ID"] == sent[1]["Message-ID"]
    assert len(smtp.received) == 4  # the others once


def test_hq_settings_keep_bad_input_beside_the_field(app, client, make_user):
    make_user("hq@example.com", "hq")
    hq = log_in(client, "hq@example.com")
    bad = hq.post("/hq/deliveries/settings", data={"enabled": "y", "day": "31", "limit_mb": "2.5", "language": "de"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Enter a day from 1 to 28" in body and 'value="2.5"' in body
    assert delivery.settings().enabled is False  # nothing saved
    good = hq.post("/hq/deliveries/settings", data={"enabled": "y", "day": "5", "limit_mb": "2.5",
                                                    "language": "de"})
    assert good.status_code == 302
    saved = delivery.settings()
    assert (saved.enabled, saved.day, saved.attach_limit_kb, saved.language) == (True, 5, 2560, "de")


def test_the_e_mail_speaks_the_language_hq_chose(app, smtp, managers):
    delivery.save_settings(True, 1, 10240, "de")
    deliver_february(app)
    message = by_recipient(smtp)["south@example.com"][0]
    assert message["Subject"] == "Ihre Berichte für Februar 2026"
    assert "Im Anhang" in message.get_body(("plain",)).get_content()


def test_the_schedule_starts_last_months_delivery_once_on_hqs_day(app, managers):
    assert delivery.maybe_start_monthly(date(2026, 3, 10)) is None  # HQ has not turned it on
    delivery.save_settings(True, 10, 10240, "en")
    assert delivery.maybe_start_monthly(date(2026, 3, 9)) is None
    batch = delivery.maybe_start_monthly(date(2026, 3, 10))
    assert (batch.kind, batch.month, batch.origin) == ("delivery", "2026-02", "schedule")
    assert delivery.maybe_start_monthly(date(2026, 3, 11)) is None  # once a month
    assert delivery.maybe_start_monthly(date(2026, 4, 12)).month == "2026-03"


@pytest.mark.parametrize("typed, words", [
    ("2026-13", "'2026-13' is not a month: write it as YYYY-MM"),
    ("Feb 2026", "is not a month"),
    ("2999-01", "2999-01 has not ended yet"),
])
def test_the_command_refuses_a_bad_month_plainly(runner, managers, typed, words):
    result = runner.invoke(args=["report", "deliver", "--month", typed])
    assert result.exit_code == 2
    assert words in result.output
    assert db.session.scalar(db.select(db.func.count(BatchPdf.id))) == 0


def test_the_command_queues_a_delivery_and_says_what(app, runner, managers, smtp):
    result = runner.invoke(args=["report", "deliver", "--month", "2026-02"])
    assert result.exit_code == 0, result.output
    assert "of 2026-02: 4 branch and 2 region PDFs, e-mails to 3 managers" in result.output
    run_queued(app)
    assert len(smtp.received) == 3

    last = runner.invoke(args=["report", "deliver"])
    expected = (date.today().replace(day=1) - delivery.timedelta(days=1)).strftime("%Y-%m")
    assert f"of {expected}:" in last.output

    pdfs = runner.invoke(args=["report", "batch", "--month", "2026-01"])
    assert "4 branch PDFs" in pdfs.output


def test_parse_month():
    today = date(2026, 3, 15)
    assert delivery.parse_month(None, today) == date(2026, 2, 1)
    assert delivery.parse_month("2026-02", today) == date(2026, 2, 1)
    assert delivery.parse_month(" 2025-12 ", today) == date(2025, 12, 1)
    with pytest.raises(delivery.MonthError, match="has not ended"):
        delivery.parse_month("2026-03", today)
    with pytest.raises(delivery.MonthError, match="not a month"):
        delivery.parse_month("2026-00", today)


def test_batch_pdfs_live_in_the_bucket_below_the_photos_and_the_purge_leaves_them(
        app, _schema, tmp_path, s3, bucket, keys, new_app, make_branch, make_user):
    make_branch("BR-001", "NORTH")
    make_branch("BR-002", "SOUTH")
    make_user("north@example.com", "manager", ("NORTH",))
    make_user("south@example.com", "manager", ("SOUTH",))
    bucketed = new_app({**{k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SURVEY_BASE_URL",
                                                      "RATELIMIT_ENABLED")},
                        "SQLALCHEMY_DATABASE_URI": _schema, "UPLOAD_DIR": str(tmp_path / "not-used"),
                        "UPLOAD_URL": f"s3://{bucket}/shop/photos", "S3_ENDPOINT_URL": s3.endpoint,
                        "SURVEY_QUEUE_URL": f"sqlite:///{tmp_path / 'bucket-jobs.db'}"})
    bucketed.test_client_class = ServerClient
    with bucketed.app_context():
        delivery.start_batch(date(2026, 10, 1), "pdfs", "test")
        run_queued(bucketed)
        purged = bucketed.test_cli_runner().invoke(args=["uploads", "purge"])
    assert purged.exit_code == 0 and "Deleted 0 unsent photos and 0 files" in purged.output
    kept = objects(s3, bucket)
    names = sorted(kept)
    assert len(names) == 2 and all(n.startswith("shop/photos/reports/") for n in names)
    assert all(kept[n].startswith(b"%PDF") for n in names)
    assert not (tmp_path / "not-used").exists()

    pdf = db.session.scalar(db.select(BatchPdf).filter_by(code="BR-001"))
    link = delivery.PDF_PATH.format(pdf_id=pdf.id, filename=pdf.filename)
    north = bucketed.test_client()
    log_in(north, "north@example.com")
    opened = north.get(link)
    assert opened.status_code == 200 and opened.data == kept[f"shop/photos/reports/{pdf.stored_name}"]
    south = bucketed.test_client()
    log_in(south, "south@example.com")
    assert south.get(link).status_code == 404


def test_a_manager_who_turns_it_off_while_the_pdfs_are_made_gets_nothing(app, smtp, managers):
    delivery.start_batch(FEB, "delivery", "HQ")
    north = db.session.scalar(db.select(User).filter_by(email="north@example.com"))
    north.monthly_delivery = False
    db.session.commit()
    run_queued(app)
    assert sorted(by_recipient(smtp)) == ["both@example.com", "south@example.com"]
    row = db.session.scalar(db.select(DeliveryMail).filter_by(user_id=north.id))
    assert row.state == MailState.failed and "turned the monthly e-mail off" in row.last_error


def test_a_refused_e_mail_is_tried_again_later_and_sent_once(app, smtp, managers):
    smtp.replies = ["451 busy, try later"]  # the first e-mail handed over is refused
    deliver_february(app)
    waiting = db.session.scalars(db.select(DeliveryMail).filter_by(state=MailState.pending)).all()
    assert len(waiting) == 1 and "451 busy" in waiting[0].last_error and waiting[0].attempts == 1
    assert waiting[0].next_attempt_at > delivery.utcnow()  # not at once: the wait
    assert len(smtp.received) == 2
    db.session.execute(db.update(DeliveryMail).values(next_attempt_at=delivery.utcnow()))
    db.session.commit()
    run_periodic("delivery_sweep")
    run_queued(app)
    assert sorted(by_recipient(smtp)) == ["both@example.com", "north@example.com", "south@example.com"]
    db.session.expire_all()
    assert [r.attempts for r in db.session.scalars(db.select(DeliveryMail).filter_by(id=waiting[0].id))] == [2]


def test_a_manager_of_closed_regions_only_gets_no_empty_e_mail(app, smtp, known, make_user):
    from survey.models import Region

    make_user("north@example.com", "manager", ("NORTH",))
    make_user("south@example.com", "manager", ("SOUTH",))
    db.session.scalar(db.select(Region).filter_by(code="SOUTH")).active = False
    db.session.commit()
    started = deliver_february(app)
    assert (started.branches, started.regions, started.mails) == (3, 1, 1)
    assert sorted(by_recipient(smtp)) == ["north@example.com"]


def test_the_batch_page_counts_each_e_mails_pdfs_in_queries_that_do_not_grow_with_the_managers(
        app, smtp, managers, make_user, client):
    first = deliver_february(app)
    for n in range(4):
        make_user(f"extra{n}@example.com", "manager", ("NORTH",))
    db.session.commit()
    second = deliver_february(app, origin="HQ")
    log_in(client, "hq@example.com")

    def page_and_statements(batch_id: int) -> tuple[str, int]:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            page = client.get(f"/hq/deliveries/{batch_id}").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return page, len(seen)

    small, three = page_and_statements(first.batch.id)
    large, seven = page_and_statements(second.batch.id)
    row = large[large.index("extra0@example.com"):]
    assert f"<td>{len(NORTH_FILES)}, attached</td>" in row[:row.index("</tr>")]
    row = small[small.index("both@example.com"):]
    assert f"<td>{len(NORTH_FILES) + len(SOUTH_FILES)}, attached</td>" in row[:row.index("</tr>")]
    assert seven == three


def test_old_batches_pdfs_are_deleted_and_their_links_offer_the_report_made_fresh(app, smtp, managers, client):
    delivery.save_settings(True, 1, 0, "en")  # links, not attachments
    old = deliver_february(app)
    kept = deliver_february(app, origin="HQ")
    db.session.execute(db.update(ReportBatch).where(ReportBatch.id == old.batch.id)
                       .values(created_at=utcnow() - timedelta(days=app.config["SURVEY_BATCH_KEEP_DAYS"] + 1)))
    db.session.commit()
    names = {pdf.id: pdf.stored_name for pdf in db.session.scalars(db.select(BatchPdf))}
    old_ids = {pdf.id for pdf in db.session.scalars(db.select(BatchPdf).filter_by(batch_id=old.batch.id))}
    store = report_store(delivery.FOLDER)

    run_periodic("batch_purge")
    run_periodic("batch_purge")  # the same day again: nothing more to do, nothing breaks
    db.session.expire_all()
    for pdf in db.session.scalars(db.select(BatchPdf)):
        if pdf.id in old_ids:
            assert pdf.stored_name is None and store.read(names[pdf.id]) is None
        else:
            assert pdf.stored_name == names[pdf.id] and store.read(pdf.stored_name) is not None
    assert kept.batch.id != old.batch.id

    old_branch = db.session.scalar(db.select(BatchPdf).filter_by(batch_id=old.batch.id, code="BR-A"))
    link = f"/reports/deliveries/{old_branch.id}/{old_branch.filename}"
    south = log_in(client, "south@example.com")
    assert client.get(link).status_code == 404  # still not a hint to another region
    south.post("/logout")
    log_in(client, "north@example.com")
    gone = client.get(link)
    text = gone.get_data(as_text=True)
    assert gone.status_code == 410 and "This PDF was deleted" in text and "February 2026" in text
    fresh = re.search(r'href="(/reports/branches/BR-A\.pdf\?[^"]+)"', text).group(1).replace("&amp;", "&")
    assert "from=2026-02-01" in fresh and "to=2026-02-28" in fresh
    made = client.get(fresh)
    assert made.status_code == 200 and made.mimetype == "application/pdf"
