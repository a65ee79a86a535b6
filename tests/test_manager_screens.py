"""A manager's screens over HTTP (SPEC §8): the sortable branch list, the branch page (the PDF's
numbers) and the visit page (answers with each repetition, comments)."""

from __future__ import annotations

import html as html_module
import re
import uuid
from datetime import date, timedelta

import pytest
from survey.answers import Filled
from survey.catalogue import publish
from survey.checklist.loader import load_checklist_data
from survey import actions as operations
from survey import appeals
from survey.extensions import db
from survey.models import AppealCategory, Checklist, Submission, User
from survey.submissions import create_assignments, record_submission

from reports import service
from reports.formats import nice_date, percent_label, signed, visits

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


#: What the branch page shows (SPEC §8 Screens), by the key of the report's data.
SHOWN = ("branch", "region", "period", "target", "standards", "trend", "fix_first", "actions",
         "critical_failures", "visits")
HEADLINE = ("score", "ci_low", "ci_high", "n", "note", "previous_score", "change", "region_score", "gap_region",
            "gap_target")


def cells(html: str) -> list[list[str]]:
    """Return a table's body rows as the text of their cells (what a reader sees; hidden words dropped)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[words(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def words(fragment: str) -> str:
    fragment = re.sub(r'<span class="vh">.*?</span>', "", fragment, flags=re.S)
    return html_module.unescape(" ".join(re.sub(r"<[^>]+>", "", fragment).split()))


def part(page: str, heading_id: str) -> str:
    """Return the page's section under the heading with that id."""
    return page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def followed_up(known, north):
    """BR-A with an action on a fix-first question, and an appeal on one of its visits."""
    manager = db.session.scalar(db.select(User).filter_by(email="north@example.com"))
    mini = db.session.scalar(db.select(Checklist).filter_by(slug="mini"))
    operations.open_action(branch_id=known.a.id, checklist_id=mini.id, question_key="greet",
                           question_text="Were you greeted?", what="Greet at the door", owner="Ann",
                           due=date(2026, 7, 15), by_id=manager.id, today=date(2026, 3, 1))
    latest = db.session.scalar(db.select(Submission).where(Submission.branch_id == known.a.id,
                                                           Submission.visit_date == date(2026, 6, 30)))
    appeals.open_appeal(latest, category=AppealCategory.circumstances, reason="A fire drill that day.",
                        questions=None, user=manager)
    db.session.commit()
    return known


@pytest.mark.parametrize("code", ["BR-A", "BR-B"])  # four visits, an action and an appeal; one critical failure
def test_every_figure_on_the_branch_page_is_the_pdfs(north, followed_up, code):
    report = service.branch_report(code, PERIOD_START, PERIOD_END)
    screen = service.branch_screen(code, PERIOD_START, PERIOD_END)
    # The same data, key by key, for everything the page shows ...
    for key in SHOWN:
        assert screen[key] == report[key], key
    for key in HEADLINE:
        assert screen["headline"][key] == report["headline"][key], key
    # ... and the page shows it.
    page = north.get(f"/reports/branches/{code}?{PERIOD}").get_data(as_text=True)
    h = report["headline"]
    facts = dict(zip(re.findall(r"<dt>(.*?)</dt>", page), map(words, re.findall(r"<dd>(.*?)</dd>", page, re.S))))
    interval = f" 95 % interval {h['ci_low']:.1f}–{h['ci_high']:.1f} %" if h["ci_low"] is not None else ""
    change = (f"{signed(h['change'])} points against the previous period ({percent_label(h['previous_score'])})"
              if h["change"] is not None else "no score to compare in the previous period")
    assert facts == {
        "Score": percent_label(h["score"]) + interval,
        "Visits": f"{h['n']}" + (f" {h['note']}" if h["note"] else ""),
        "Change": change,
        "Region": f"{percent_label(h['region_score'])} ({signed(h['gap_region'])})",
        "Target": f"{percent_label(report['target'])} ({signed(h['gap_target'])})",
    }
    assert cells(part(page, "std-h")) == [
        [s["title"], percent_label(s["score"]), percent_label(s["region_score"]), signed(s["diff"])]
        for s in report["standards"] if s["score"] is not None]
    assert cells(part(page, "trend-h")) == [
        [t["label"], percent_label(t["score"]), str(t["n"]), percent_label(t["region_score"])]
        for t in report["trend"]]
    fixes = [words(item) for item in re.findall(r"<li>(.*?)</li>", part(page, "fix-h"), re.S)]
    assert fixes == [
        f"{q['text']} −{q['lost']:.1f} points per visit · applied in {visits(q['n'])}"
        + (f" · {q['critical']} critical failure{'s' if q['critical'] != 1 else ''}" if q["critical"] else "")
        + " Open an action" for q in report["fix_first"]]
    assert [words(a) for a in re.findall(r'<a href="/reports/actions/\d+">(.*?)</a>', part(page, "actions-h"))] \
        == [a["what"] for a in report["actions"]]
    failures = [words(f) for f in re.findall(r"<li>(.*?)</li>", part(page, "crit-h"), re.S)] \
        if report["critical_failures"] else []
    assert failures == [f"{nice_date(f['date'])}, visit {f['reference']}: {f['question']}"
                        for f in report["critical_failures"]]
    assert cells(part(page, "visits-h")) == [
        [nice_date(v["date"]), f"{v['checklist']} v{v['version']}",
         " ".join([percent_label(v["score"])] + ["critical"] * v["critical_fail"] + ["appealed"] * v["appealed"])]
        for v in reversed(report["visits"])]
    # What this data holds, so the comparisons above compare something.
    if code == "BR-A":
        assert h["n"] == 4 and h["ci_low"] is not None and report["actions"] and report["fix_first"]
        assert sum(v["appealed"] for v in report["visits"]) == 1
    else:
        assert h["note"] == "1 visit: not enough to compare" and len(report["critical_failures"]) == 1


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

