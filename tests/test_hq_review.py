"""Reviewing submissions in the HQ console: the filtered list, one submission in full, photos,
rejecting (with a required reason) and restoring, with the audit trail."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from survey import models
from survey.extensions import db
from survey.hq import queries, review
from survey.models import Attachment, Submission, SubmissionEvent
from survey.shopper.forms import field_name
from survey.caches import checklist_of

from .conftest import good_answers, hidden_fields, tiny_photo

JPEG = tiny_photo("JPEG")
TODAY = date.today()


@pytest.fixture
def make_submission(client, published, make_branch, make_assignment):
    """Return a callable that sends a flawless visit through the shopper's form and returns it.

    It posts with the test's own client: the app fixture keeps one app context (and so
    one ``g``, where Flask-WTF caches its token) for every request of a test.
    """

    def make(branch: str = "BR-001", region: str = "NORTH", slug: str = "store-visit", wave: str = "W1",
             photo: bool = False, **columns) -> Submission:
        found = db.session.scalar(db.select(models.Branch).filter_by(code=branch)) or make_branch(branch, region)
        assignment, token = make_assignment(slug=slug, branch=found, wave=wave)
        checklist = checklist_of(published[slug].latest)
        data = {**hidden_fields(client.get(f"/s/{token}").get_data(as_text=True)), **good_answers(checklist)}
        if photo:
            question = next(q for _, q in checklist.questions() if q.type == "photo")
            data[field_name(question.key)] = (io.BytesIO(JPEG), "receipt.jpg")
        assert client.post(f"/s/{token}", data=data).status_code == 303
        submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id))
        for name, value in columns.items():  # what the filters read, set directly
            setattr(submission, name, value)
        db.session.commit()
        return submission

    return make


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def field_block(html: str, name: str) -> str:
    start = html.rfind('<div class="field', 0, html.index(f'name="{name}"', html.index("<main")))
    return html[start:html.index("</div>", start)]


def references(response) -> set[str]:
    """Return the references of the submissions listed on a page."""
    return set(re.findall(r'<a href="/hq/submissions/\d+"><code>([A-Z0-9-]+)</code></a>',
                          response.get_data(as_text=True)))


# ---------------------------------------------------------------- the list and its filters


@pytest.fixture
def spread(make_submission):
    """Five visits that differ in one thing each, named by what sets them apart."""
    return {
        "north": make_submission("BR-001", "NORTH", score=0.9, visit_date=TODAY - timedelta(days=40)),
        "south": make_submission("BR-005", "SOUTH", wave="W2", score=0.6, visit_date=TODAY - timedelta(days=10)),
        "call": make_submission("BR-002", "NORTH", slug="phone-call", score=0.75, visit_date=TODAY - timedelta(days=5)),
        "critical": make_submission("BR-001", "NORTH", score=0.0, critical_fail=True,
                                    visit_date=TODAY - timedelta(days=2)),
        "rejected": make_submission("BR-002", "NORTH", score=0.8, review=models.ReviewState.rejected,
                                    visit_date=TODAY - timedelta(days=1)),
    }


def filter_for(spread, published, name: str) -> dict[str, str]:
    s = spread
    return {
        "wave": {"wave": str(s["south"].assignment.wave_id)},
        "region": {"region": str(s["south"].branch.region_id)},
        "branch": {"branch": s["call"].branch.code},
        "branch in lower case": {"branch": f' {s["call"].branch.code.lower()} '},
        "checklist": {"checklist": str(published["phone-call"].id)},
        "dates": {"date_from": (TODAY - timedelta(days=12)).isoformat(),
                  "date_to": (TODAY - timedelta(days=3)).isoformat()},
        "scores": {"score_min": "60", "score_max": "80"},
        "critical": {"critical": "y"},
        "rejected": {"state": "rejected"},
        "counted": {"state": "counted"},
    }[name]


@pytest.mark.parametrize("name, expected", [
    ("wave", {"south"}),
    ("region", {"south"}),
    ("branch", {"call", "rejected"}),
    ("branch in lower case", {"call", "rejected"}),
    ("checklist", {"call"}),
    ("dates", {"south", "call"}),
    ("scores", {"south", "call", "rejected"}),
    ("critical", {"critical"}),
    ("rejected", {"rejected"}),
    ("counted", {"north", "south", "call", "critical"}),
])
def test_each_filter_narrows_the_list(hq, published, spread, name, expected):
    response = hq.get("/hq/submissions", query_string=filter_for(spread, published, name))

    assert response.status_code == 200
    assert references(response) == {spread[k].reference for k in expected}


def test_without_filters_every_submission_is_listed_newest_visit_first(hq, spread):
    html = hq.get("/hq/submissions").get_data(as_text=True)

    order = [html.index(spread[k].reference) for k in ("rejected", "critical", "call", "south", "north")]
    assert order == sorted(order)
    assert "5 submissions." in html


def test_filters_combine_and_stay_filled_in(hq, published, spread):
    response = hq.get("/hq/submissions", query_string={"region": str(spread["north"].branch.region_id),
                                                       "state": "counted", "score_min": "50"})

    html = text_of(response)
    assert references(response) == {spread["north"].reference, spread["call"].reference}
    assert 'value="50"' in field_block(html, "score_min")
    assert re.search(r'<option selected value="counted">|<option value="counted" selected>', html)


@pytest.mark.parametrize("query, field, message", [
    ({"date_from": "2026-05-01", "date_to": "2026-01-01"}, "date_to", "This day is before \u201cVisited from\u201d."),
    ({"date_from": "yesterday"}, "date_from", "Enter a date, for example 2026-12-31."),
    ({"score_min": "abc"}, "score_min", "Enter a percentage from 0 to 100, e.g. 75."),
    ({"score_max": "101"}, "score_max", "Enter a percentage from 0 to 100, e.g. 75."),
    ({"score_min": "nan"}, "score_min", "Enter a percentage from 0 to 100, e.g. 75."),
    ({"score_max": "-Infinity"}, "score_max", "Enter a percentage from 0 to 100, e.g. 75."),
    ({"score_min": "80", "score_max": "20"}, "score_max", "This is below \u201cScore at least\u201d."),
    ({"wave": "987654"}, "wave", "Choose a wave from the list."),
    ({"branch": "BR-999"}, "branch", "No branch has the code \u201cBR-999\u201d. Enter a branch's code, e.g. BR-014."),
    ({"branch": "x" * 33}, "branch", "A branch's code has at most 32 characters."),
    ({"state": "deleted"}, "state", "Choose a state from the list."),
])
def test_a_bad_filter_is_explained_beside_it_and_keeps_what_was_typed(hq, spread, query, field, message):
    response = hq.get("/hq/submissions", query_string=query)

    html = text_of(response)
    assert response.status_code == 200
    assert message in field_block(html, field)
    assert "Fix the filters marked above to see submissions." in html
    assert references(response) == set()
    for name, value in query.items():
        if name.startswith(("date", "score", "branch")):
            assert f'value="{value}"' in field_block(html, name)


def test_an_unknown_branch_code_is_explained_beside_it_and_keeps_the_other_filters(hq, spread):
    north = spread["north"].branch.region_id
    response = hq.get("/hq/submissions", query_string={"region": str(north), "branch": "br-0o1", "state": "counted",
                                                       "score_min": "50", "critical": "y"})

    html = text_of(response)
    assert response.status_code == 200
    block = field_block(html, "branch")
    assert "No branch has the code \u201cbr-0o1\u201d. Enter a branch's code, e.g. BR-014." in block
    assert 'value="br-0o1"' in block and 'aria-invalid="true"' in block
    assert re.search(rf'<option selected value="{north}">|<option value="{north}" selected>', html)
    assert re.search(r'<option selected value="counted">|<option value="counted" selected>', html)
    assert 'value="50"' in field_block(html, "score_min")
    assert "checked" in field_block(html, "critical")
    assert references(response) == set()


def test_a_chosen_region_offers_its_own_branch_codes_only(hq, spread):
    """The branch box suggests the codes of the region chosen (a datalist: no JavaScript needed), never
    the whole network's: a chain has thousands."""
    everywhere = hq.get("/hq/submissions").get_data(as_text=True)
    assert "<datalist" not in everywhere and "<option value=\"BR-001\"" not in everywhere

    north = hq.get("/hq/submissions", query_string={"region": str(spread["north"].branch.region_id)})
    html = north.get_data(as_text=True)
    listed = re.search(r'<datalist id="branch-codes">(.*?)</datalist>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">', listed) == ["BR-001", "BR-002"]
    assert 'list="branch-codes"' in field_block(html, "branch")
    # Narrowed to one of them: the same list, and the region's visits at that branch only.
    both = hq.get("/hq/submissions", query_string={"region": str(spread["north"].branch.region_id),
                                                  "branch": "BR-002"})
    assert references(both) == {spread["call"].reference, spread["rejected"].reference}
    elsewhere = hq.get("/hq/submissions", query_string={"region": str(spread["south"].branch.region_id),
                                                       "branch": "BR-002"})
    assert references(elsewhere) == set() and "No submissions match these filters." in text_of(elsewhere)


def test_pages_keep_the_branch_code(hq, make_submission, monkeypatch):
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    made = [make_submission("BR-001", visit_date=TODAY - timedelta(days=d)) for d in (1, 2, 3)]
    make_submission("BR-002", visit_date=TODAY - timedelta(days=2))

    first = hq.get("/hq/submissions?branch=br-001")
    html = first.get_data(as_text=True)
    assert references(first) == {made[0].reference, made[1].reference}
    assert "3 submissions, page 1 of 2." in text_of(first)
    older = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "branch=br-001" in older
    assert references(hq.get(older)) == {made[2].reference}


def test_the_list_is_paginated_and_pages_keep_the_filters(hq, make_submission, monkeypatch):
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    made = [make_submission("BR-001", visit_date=TODAY - timedelta(days=d)) for d in (1, 2, 3)]

    first = hq.get("/hq/submissions?state=counted")
    html = first.get_data(as_text=True)
    assert references(first) == {made[0].reference, made[1].reference}
    assert "Page 1 of 2" in html
    older = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "state=counted" in older and "page=2" in older

    second = hq.get(older)
    assert references(second) == {made[2].reference}
    assert 'rel="prev"' in second.get_data(as_text=True)
    assert references(hq.get("/hq/submissions?page=99")) == {made[2].reference}
    assert references(hq.get("/hq/submissions?page=abc")) == {made[0].reference, made[1].reference}
    assert references(hq.get("/hq/submissions?page=\u00b2")) == {made[0].reference, made[1].reference}
    # Only the filters travel into the pager's links: nothing reaches url_for's own options.
    hostile = hq.get("/hq/submissions?state=counted&_external=1&_method=POST&_anchor=x")
    assert hostile.status_code == 200
    assert re.search(r'<a href="(/hq/submissions\?[^"]+)" rel="next">', hostile.get_data(as_text=True))
    assert "_external" not in hostile.get_data(as_text=True)


def test_past_the_count_cap_the_list_says_more_and_offers_the_next_page(hq, make_submission, monkeypatch):
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    made = [make_submission("BR-001", visit_date=TODAY - timedelta(days=d)) for d in range(1, 8)]

    first = hq.get("/hq/submissions?state=counted")
    assert "More than 3 submissions, page 1." in text_of(first)
    assert " of " not in re.search(r'<nav class="pages".*?</nav>', text_of(first), re.S).group(0)
    seen, url = [], "/hq/submissions?state=counted"
    while url:
        page = hq.get(url)
        html = page.get_data(as_text=True)
        seen += sorted(references(page))
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert url is None or "state=counted" in url
    assert sorted(seen) == sorted(s.reference for s in made) and len(seen) == 7  # none lost, none doubled
    # The last page counts to its end: the number is exact there.
    assert "7 submissions, page 4 of 4." in text_of(hq.get("/hq/submissions?state=counted&page=4"))
    assert references(hq.get("/hq/submissions?page=99")) == {made[6].reference}


# ---------------------------------------------------------------- one submission


def test_one_submission_in_full(hq, published, make_submission):
    submission = make_submission(photo=True)
    checklist = checklist_of(published["store-visit"].latest)

    html = text_of(hq.get(f"/hq/submissions/{submission.id}"))

    assert f"Submission <code>{submission.reference}</code>" in html
    assert "100.0 %" in html
    for section in checklist.sections:
        assert section.title in html
    for key in {q.standard for _, q in checklist.questions() if q.scored}:
        assert db.session.scalar(db.select(models.Standard.title).filter_by(key=key)) in html
    yes_no = next(q for _, q in checklist.questions() if q.type == "yes_no" and q.scored and q.weight == 1)
    row = html[html.index(yes_no.text):html.index("</tr>", html.index(yes_no.text))]
    assert ("Yes" if yes_no.pass_on == "yes" else "No") in row and "1 / 1" in row
    for label in ("Visit", "Link opened", "First answer", "Submitted"):
        assert f"<dt>{label}</dt>" in html
    assert f"{TODAY.isoformat()} at 12:30" in html
    attachment = submission.attachments[0]
    assert f'<img class="photo" src="/hq/attachments/{attachment.id}"' in html
    assert "No decision yet: the visit counted on arrival." in html


def test_a_photo_is_served_inline_with_its_type_and_never_sniffed(hq, make_submission):
    attachment = make_submission(photo=True).attachments[0]

    response = hq.get(f"/hq/attachments/{attachment.id}")

    assert response.status_code == 200
    assert response.data.startswith(b"\xff\xd8\xff") and len(response.data) == attachment.size  # as stored
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    response.close()


def test_a_photo_not_yet_submitted_or_gone_from_disk_is_a_404(hq, app, make_submission, make_assignment):
    attachment = make_submission(photo=True).attachments[0]
    pending_assignment, _ = make_assignment()
    pending = Attachment(assignment_id=pending_assignment.id, question_key="receipt", stored_name="pending.jpeg",
                         original_name="r.jpg", content_type="image/jpeg", size=4)
    db.session.add(pending)
    db.session.commit()
    (Path(app.config["UPLOAD_DIR"]) / "pending.jpeg").write_bytes(JPEG)

    assert hq.get(f"/hq/attachments/{pending.id}").status_code == 404
    (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).unlink()
    assert hq.get(f"/hq/attachments/{attachment.id}").status_code == 404


# ---------------------------------------------------------------- reject and restore


def exported_ids(hq) -> set[str]:
    """Return the submission ids in the reports' CSV export, which holds counted submissions only."""
    response = hq.get(f"/reports/export.csv?from={(TODAY - timedelta(days=30)).isoformat()}&to={TODAY.isoformat()}")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    return {row["submission_id"] for row in rows}


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reject_without_a_reason_is_refused_and_changes_nothing(hq, make_submission, reason):
    submission = make_submission()

    response = hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": reason})

    assert response.status_code == 422
    assert "Give a reason: it is kept for the audit trail." in field_block(text_of(response), "reason")
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).review == models.ReviewState.counted
    assert db.session.scalar(db.select(db.func.count(SubmissionEvent.id))) == 0


def test_a_reason_over_the_limit_is_refused_and_kept_in_the_box(hq, make_submission):
    submission = make_submission()

    response = hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": "r" * 2001})

    assert response.status_code == 422
    assert "Keep the reason under 2,000 characters." in field_block(text_of(response), "reason")
    assert "r" * 2001 + "</textarea>" in text_of(response)


def test_rejecting_flags_the_visit_records_who_and_why_and_takes_it_out_of_reports(hq, make_submission):
    submission = make_submission()
    assert str(submission.id) in exported_ids(hq)

    response = hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": "Shopper visited the wrong branch."})

    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Submission, submission.id)
    assert stored.review == models.ReviewState.rejected
    event = db.session.scalar(db.select(SubmissionEvent))
    assert (event.action, event.reason, event.user.email, event.from_state, event.to_state) == (
        "rejected", "Shopper visited the wrong branch.", "hq@example.com", "counted", "rejected")
    assert event.at is not None
    html = text_of(hq.get(f"/hq/submissions/{submission.id}"))
    assert f"Rejected {submission.reference}: it no longer counts in reports." in html
    assert "<strong>Rejected</strong> by hq@example.com" in html
    assert "\u201cShopper visited the wrong branch.\u201d" in html
    assert str(submission.id) not in exported_ids(hq)


def test_restoring_counts_the_visit_again_and_keeps_the_whole_trail(hq, make_submission):
    submission = make_submission()
    hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": "Looked copied."})

    response = hq.post(f"/hq/submissions/{submission.id}/restore", {"reason": "Checked the receipt: genuine."})

    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Submission, submission.id)
    assert stored.review == models.ReviewState.counted
    events = db.session.scalars(db.select(SubmissionEvent).order_by(SubmissionEvent.id))
    actions = [(e.action, e.reason) for e in events]
    assert actions == [("rejected", "Looked copied."), ("restored", "Checked the receipt: genuine.")]
    html = text_of(hq.get(f"/hq/submissions/{submission.id}"))
    assert html.index("<strong>Rejected</strong>") < html.index("<strong>Restored</strong>")
    assert str(submission.id) in exported_ids(hq)


def test_rejecting_twice_or_restoring_a_counted_visit_changes_nothing(hq, make_submission):
    submission = make_submission()
    hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": "First."})

    again = hq.post(f"/hq/submissions/{submission.id}/reject", {"reason": "Second."})
    assert "This submission is rejected now; nothing changed." in text_of(hq.get(again.headers["Location"]))
    hq.post(f"/hq/submissions/{submission.id}/restore")
    restored_again = hq.post(f"/hq/submissions/{submission.id}/restore")

    assert "This submission is counted now; nothing changed." in text_of(hq.get(restored_again.headers["Location"]))
    assert [e.action for e in db.session.scalars(db.select(SubmissionEvent).order_by(SubmissionEvent.id))] == [
        "rejected", "restored"]


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_counts_open_links_this_months_submissions_and_rejections(hq, make_submission, make_assignment):
    make_submission()
    make_submission(review=models.ReviewState.rejected)
    make_submission(submitted_at=models.utcnow() - timedelta(days=62))  # an earlier month
    make_assignment()  # open
    make_assignment(not_before=TODAY - timedelta(days=20), due=TODAY - timedelta(days=1))  # expired
    cancelled, _ = make_assignment()
    cancelled.state = models.AssignmentState.cancelled
    db.session.commit()

    html = text_of(hq.get("/hq/"))

    tiles = html[html.index('<ul class="tiles"'):html.index("</ul>", html.index('<ul class="tiles"'))]
    assert "<strong>1</strong> open link</a>" in tiles
    assert f"<strong>2</strong> submissions in {TODAY.strftime('%B %Y')}</a>" in tiles
    assert "<strong>1</strong> rejected</a>" in tiles
    assert 'href="/hq/submissions?state=rejected"' in tiles


def test_the_dashboard_links_to_every_section(hq):
    html = hq.get("/hq/").get_data(as_text=True)

    for url in ("/hq/standards", "/hq/regions", "/hq/branches", "/hq/branches/import", "/hq/waves",
                "/hq/waves/new", "/hq/submissions", "/hq/checklists", "/reports/"):
        assert f'href="{url}"' in html, url
