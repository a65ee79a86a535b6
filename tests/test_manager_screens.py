"""A manager's screens over HTTP (SPEC §8): the sortable branch list, the branch page (the PDF's
numbers) and the visit page (answers with each repetition, comments)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from survey.answers import Filled
from survey.catalogue import publish
from survey.checklist.loader import load_checklist_data
from survey.extensions import db
from survey.models import Submission
from survey.submissions import create_assignments, record_submission

from reports import service

from .conftest import log_in
from .reports_fixtures import *  # noqa: F401,F403
from .reports_fixtures import PERIOD_END, PERIOD_START

PERIOD = "from=2026-01-01&to=2026-06-30"


@pytest.fixture
def north(known, client, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    return log_in(client, "north@example.com")


def branch_order(page: str) -> list[str]:
    return re.findall(r'<span class="code">(BR-[A-Z])</span>', page)


def test_branch_list_sorts_by_plain_links_and_says_how(north):
    by_name = north.get(f"/reports/?{PERIOD}").get_data(as_text=True)
    assert branch_order(by_name) == ["BR-A", "BR-B", "BR-D"]  # Alpha, Bravo, Delta
    assert 'aria-sort="ascending"' in by_name
    by_score = north.get(f"/reports/?{PERIOD}&sort=score&dir=asc").get_data(as_text=True)
    assert branch_order(by_score) == ["BR-B", "BR-A", "BR-D"]  # 0, 62.5, then no visits last
    assert re.search(r'aria-sort="ascending">\s*<a href="[^"]*sort=score&amp;dir=desc', by_score)
    down = north.get(f"/reports/?{PERIOD}&sort=score&dir=desc").get_data(as_text=True)
    assert branch_order(down) == ["BR-A", "BR-B", "BR-D"]
    odd = north.get(f"/reports/?{PERIOD}&sort=drop+table&dir=sideways")
    assert odd.status_code == 200 and branch_order(odd.get_data(as_text=True)) == ["BR-A", "BR-B", "BR-D"]


def test_branch_page_shows_the_pdfs_numbers(north):
    page = north.get(f"/reports/branches/br-a?{PERIOD}").get_data(as_text=True)
    report = service.branch_report("BR-A", PERIOD_START, PERIOD_END)
    assert f"{report['headline']['score']:.1f} %" in page
    assert f"95 % interval {report['headline']['ci_low']:.1f}–{report['headline']['ci_high']:.1f} %" in page
    texts = re.findall(r"<li><strong>([^<]+)</strong>", page.split('id="fix-h"')[1])
    assert texts == [q["text"] for q in report["fix_first"]] == ["Were you greeted?", "Were they polite?",
                                                                  "Was the floor clean?"]
    assert "−18.8 points per visit" in page
    assert "/reports/branches/BR-A/actions/new?checklist=mini&amp;question=greet" in page
    for visit in report["visits"]:
        assert f"/reports/visits/{visit['reference']}" in page


def test_a_bad_period_on_the_branch_page_is_a_clear_400(north):
    response = north.get("/reports/branches/BR-A?from=2026-02-30")
    assert response.status_code == 400 and "is not a date" in response.get_data(as_text=True)


REPEATED = {
    "slug": "rep", "title": "Repeated", "channel": "visit",
    "sections": [{"key": "staff", "title": "Each person", "repeat": {"min": 1, "max": 3, "label": "Person {n}"},
                  "questions": [{"key": "smile", "text": "Did they smile?", "type": "yes_no",
                                 "standard": "communication", "comment": "on_fail"}]}],
}


def test_visit_page_shows_each_repetition_and_comments(north, known, published):
    version, _ = publish(load_checklist_data(REPEATED))
    db.session.commit()
    day = date(2026, 3, 3)
    (assignment, _), = create_assignments(version.checklist, known.a, 1, due=day + timedelta(days=7),
                                          not_before=day - timedelta(days=7))
    assignment.version = version
    filled = Filled(answers={("smile", 1): "yes", ("smile", 2): "no"}, visit_date=day, visit_time=None,
                    idempotency_key=uuid.uuid4().hex, repeats={"staff": 2},
                    comments={("smile", 2): "<script>Looked away</script>"})
    submission = db.session.get(Submission, record_submission(assignment, version, filled)[0])
    page = north.get(f"/reports/visits/{submission.reference.lower()}").get_data(as_text=True)
    assert "<h4>Person 1</h4>" in page and "<h4>Person 2</h4>" in page  # the section's own label
    assert page.count("Did they smile?") == 2
    assert "&lt;script&gt;Looked away&lt;/script&gt;" in page and "<script>Looked" not in page
    assert "50.0 %" in page


def test_each_repetition_shows_its_own_photo(north, known, published, app, make_user):
    """A photo sent in repetition 2 of a repeated section shows there, on the manager's page and HQ's."""
    from pathlib import Path

    from survey.models import Attachment

    from .conftest import tiny_photo

    with_photo = {**REPEATED, "slug": "rep-photo"}
    with_photo["sections"] = [{**REPEATED["sections"][0], "questions": [
        *REPEATED["sections"][0]["questions"], {"key": "badge", "text": "Photo of their badge", "type": "photo"}]}]
    version, _ = publish(load_checklist_data(with_photo))
    db.session.commit()
    day = date(2026, 3, 3)
    (assignment, _), = create_assignments(version.checklist, known.a, 1, due=day + timedelta(days=7),
                                          not_before=day - timedelta(days=7))
    assignment.version = version
    filled = Filled(answers={("smile", 1): "yes", ("smile", 2): "no"}, visit_date=day, visit_time=None,
                    idempotency_key=uuid.uuid4().hex, repeats={"staff": 2})
    submission = db.session.get(Submission, record_submission(assignment, version, filled)[0])
    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "badge2.jpg").write_bytes(tiny_photo())
    photo = Attachment(assignment_id=assignment.id, submission_id=submission.id, question_key="badge-2",
                       stored_name="badge2.jpg", original_name="badge.jpg", content_type="image/jpeg", size=100)
    db.session.add(photo)
    db.session.commit()

    page = north.get(f"/reports/visits/{submission.reference}").get_data(as_text=True)
    first, second = page.split("<h4>Person 2</h4>")
    assert f"/reports/photos/{photo.id}" not in first.split("<h4>Person 1</h4>")[1]
    assert f'src="/reports/photos/{photo.id}" alt="Photo sent for “Photo of their badge”"' in second

    make_user("hq@example.com", "hq")
    hq = log_in(app.test_client(), "hq@example.com")
    page = hq.get(f"/hq/submissions/{submission.id}").get_data(as_text=True)
    assert page.count(f"/hq/attachments/{photo.id}") >= 1
    assert "Other photos" not in page
    first, second = page.split("Person 2", 1)
    assert f"/hq/attachments/{photo.id}" not in first and f"/hq/attachments/{photo.id}" in second

