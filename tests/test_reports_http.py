"""The reports blueprint over HTTP: who may see what, downloads, and bad input."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from survey.extensions import db

from .reports_fixtures import *  # noqa: F401,F403

PERIOD = "from=2026-01-01&to=2026-06-30"
LANDING = "/reports/"
BRANCH_PDF = f"/reports/branches/BR-A.pdf?{PERIOD}"
REGION_PDF = f"/reports/regions/NORTH.pdf?{PERIOD}"
CSV = f"/reports/export.csv?region=NORTH&{PERIOD}"

USERS = {
    "manager_north": ("north@example.com", "manager", ("NORTH",)),
    "manager_south": ("south@example.com", "manager", ("SOUTH",)),
    "hq": ("hq@example.com", "hq", ()),
}


@pytest.fixture
def as_user(known, make_user, login, fake_pdf):
    """Return a callable that logs in as one of USERS (or stays anonymous for None)."""

    def become(who: str | None):
        if who is None:
            return
        email, role, regions = USERS[who]
        make_user(email, role, regions)
        response = login(email)
        assert response.status_code == 302, response.get_data(as_text=True)

    return become


#: Every page of the reports (GET), with ``{visit}``, ``{photo}`` and ``{action}`` filled in by the
#: ``page_ids`` fixture: a visit, photo and action of branch B or A (NORTH).
PAGES = {
    "reports.index": LANDING,
    "reports.branch_pdf": BRANCH_PDF,
    "reports.region_pdf": REGION_PDF,
    "reports.export_csv": CSV,
    "reports.export_xlsx": f"/reports/export.xlsx?region=NORTH&{PERIOD}",
    "reports.branch": f"/reports/branches/BR-A?{PERIOD}",
    "reports.visit": "/reports/visits/{visit}",
    "reports.photo": "/reports/photos/{photo}",
    "reports.action_new": "/reports/branches/BR-A/actions/new?checklist=mini&question=greet",
    "reports.action": "/reports/actions/{action}",
    "reports.visit_appeal": "/reports/visits/{visit}/appeal",
}
#: Write-only endpoints, with their own tests of bad input and access (tests/test_actions.py).
WRITES = {"reports.action_done", "reports.action_drop"}
SEES = {None: 302, "manager_north": 200, "manager_south": 404, "hq": 200}


@pytest.fixture
def page_ids(app, known, mini):
    """Give the known dataset's critical visit a photo, and branch A an action; return the ids to fill in."""
    from datetime import date
    from pathlib import Path

    from survey import actions
    from survey.models import Attachment

    from .conftest import tiny_photo

    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "p1.jpg").write_bytes(tiny_photo())
    photo = Attachment(assignment_id=known.critical.assignment_id, submission_id=known.critical.id,
                       question_key="phone", stored_name="p1.jpg", original_name="phone.jpg",
                       content_type="image/jpeg", size=100)
    db.session.add(photo)
    db.session.commit()
    action = actions.open_action(branch_id=known.a.id, checklist_id=mini.id, question_key="greet",
                                 question_text="Were you greeted?", what="Greet", owner="Sam",
                                 due=date(2030, 1, 1), by_id=None, today=date(2026, 2, 1))
    return {"visit": known.critical.reference, "photo": photo.id, "action": action.id}


@pytest.mark.parametrize("who", list(SEES))
@pytest.mark.parametrize("endpoint", list(PAGES))
def test_access(client, as_user, page_ids, who, endpoint):
    url = PAGES[endpoint].format(**page_ids)
    status = 200 if endpoint == "reports.index" and who else SEES[who]
    as_user(who)
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login"
        assert parse_qs(location.query)["next"][0].startswith(url.split("?")[0])
    if status == 404:
        body = response.get_data(as_text=True)
        assert "BR-A" not in body and "NORTH" not in body


def test_every_reports_route_is_in_the_access_table(app):
    """A new page under /reports/ fails here until it is added to PAGES (or WRITES, with its own tests)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("reports.")}
    assert endpoints == set(PAGES) | WRITES


@pytest.mark.parametrize(("who", "shown", "hidden"), [
    ("manager_north", ["Alpha", "Bravo", "Delta", "BR-A"], ["Charlie", "BR-C", "SOUTH"]),
    ("manager_south", ["Charlie", "BR-C"], ["Alpha", "BR-A", "NORTH", "Bravo"]),
    ("hq", ["Alpha", "Bravo", "Charlie", "Delta"], []),
])
def test_landing_lists_only_visible_branches(client, as_user, who, shown, hidden):
    as_user(who)
    page = client.get(f"{LANDING}?{PERIOD}").get_data(as_text=True)
    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page


def test_landing_shows_scores_visits_and_links_for_the_period(client, as_user):
    as_user("manager_north")
    page = client.get(f"{LANDING}?{PERIOD}").get_data(as_text=True)
    assert "1 Jan 2026 – 30 Jun 2026" in page
    assert "62.5 %" in page                      # Alpha's mean
    assert "−37.5" in page                       # Alpha's change: 62.5 against 100 in the previous period
    assert "inactive" not in page
    # Alpha (62.5 %) and Beta (0 %, its one visit a critical failure) are under the 85 % target.
    assert page.count("below target") == 2
    assert page.count("1 critical<") == 1
    assert "/reports/branches/BR-A.pdf?from=2026-01-01&amp;to=2026-06-30" in page
    assert "/reports/regions/NORTH.pdf?from=2026-01-01&amp;to=2026-06-30" in page
    assert "/reports/export.csv?region=NORTH&amp;from=2026-01-01&amp;to=2026-06-30" in page
    assert 'name="from"' in page and 'value="2026-01-01"' in page
    assert 'name="viewport"' in page


def test_landing_marks_an_inactive_branch_that_had_visits(client, as_user, known):
    known.a.active = False
    db.session.commit()
    as_user("manager_north")
    page = client.get(f"{LANDING}?{PERIOD}").get_data(as_text=True)
    assert '<span class="code">BR-A</span> <span class="tag inactive">inactive</span>' in page


def test_landing_default_period_fills_the_form(client, as_user):
    from datetime import date

    as_user("hq")
    page = client.get(LANDING).get_data(as_text=True)
    assert f'value="{date.today().isoformat()}"' in page


def test_landing_bad_period_keeps_input_and_explains(client, as_user):
    as_user("manager_north")
    response = client.get(f"{LANDING}?from=2026-31-01&to=2026-06-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not a date" in page
    assert 'aria-invalid="true"' in page
    assert 'value="2026-31-01"' in page and 'value="2026-06-30"' in page
    assert "Alpha" in page                       # the page still works, on the default period


def test_branch_pdf_download(client, as_user, fake_pdf):
    as_user("manager_north")
    response = client.get(BRANCH_PDF)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=BR-A_2026-01-01_2026-06-30.pdf"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.data.startswith(b"%PDF")
    data, = fake_pdf
    assert data["kind"] == "branch"
    assert data["headline"]["score"] == pytest.approx(62.5)


def test_codes_in_report_addresses_match_whatever_the_case(client, as_user, fake_pdf):
    """Someone typing br-a means BR-A; the file and the report name it as stored."""
    as_user("hq")
    branch = client.get(BRANCH_PDF.replace("BR-A", "br-a"))
    assert branch.status_code == 200
    assert branch.headers["Content-Disposition"] == "attachment; filename=BR-A_2026-01-01_2026-06-30.pdf"
    region = client.get(REGION_PDF.replace("NORTH", "north"))
    assert region.headers["Content-Disposition"] == "attachment; filename=NORTH_2026-01-01_2026-06-30.pdf"
    assert [data["kind"] for data in fake_pdf] == ["branch", "region"]
    assert client.get(BRANCH_PDF.replace("BR-A", "br-zz")).status_code == 404


def test_region_pdf_download(client, as_user, fake_pdf):
    as_user("hq")
    response = client.get(REGION_PDF)
    assert response.headers["Content-Disposition"] == "attachment; filename=NORTH_2026-01-01_2026-06-30.pdf"
    data, = fake_pdf
    assert data["kind"] == "region"
    assert [r["code"] for r in data["ranking"]] == ["BR-A", "BR-B", "BR-D"]


def test_pdf_default_period_is_the_last_twelve_months(client, as_user, fake_pdf):
    from datetime import date

    from reports.periods import shift_months

    as_user("hq")
    response = client.get("/reports/branches/BR-A.pdf")
    today = date.today()
    name = f"BR-A_{shift_months(today, -12).isoformat()}_{today.isoformat()}.pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}"


def test_real_pdf_renders(client, known, make_user, login):
    make_user("hq@example.com", "hq")
    login("hq@example.com")
    response = client.get(BRANCH_PDF)
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert client.get(REGION_PDF).data.startswith(b"%PDF")


@pytest.mark.parametrize(("url", "status", "words"), [
    (f"/reports/branches/BR-NOPE.pdf?{PERIOD}", 404, "nothing at this address"),
    (f"/reports/regions/NOWHERE.pdf?{PERIOD}", 404, "nothing at this address"),
    ("/reports/export.csv?region=NOWHERE", 404, "nothing at this address"),
    ("/reports/branches/BR-A.pdf?from=2026-07-01&to=2026-06-30", 400, "is after the"),
    ("/reports/branches/BR-A.pdf?from=2026-13-01", 400, "is not a date"),
    ("/reports/branches/BR-A.pdf?to=tomorrow", 400, "is not a date"),
    ("/reports/regions/NORTH.pdf?from=2015-01-01&to=2026-01-01", 400, "at most 5 years"),
    ("/reports/regions/NORTH.pdf?from=0001-01-01", 400, "out of range"),
    ("/reports/export.csv?region=NORTH&from=2026-02-30", 400, "is not a date"),
    ("/reports/export.csv?to=2026-01-01&from=2026-02-01", 400, "is after the"),
])
def test_bad_input_gets_a_clear_page(client, as_user, url, status, words):
    as_user("manager_north")
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert words in response.get_data(as_text=True)


def test_out_of_scope_is_404_even_with_bad_dates(client, as_user):
    as_user("manager_south")
    assert client.get("/reports/branches/BR-A.pdf?from=nonsense").status_code == 404
    assert client.get("/reports/export.csv?region=NORTH&from=nonsense").status_code == 404


def test_csv_over_http_streams_the_users_regions(client, as_user):
    as_user("manager_south")
    response = client.get(f"/reports/export.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    # Their region, not "all".
    assert response.headers["Content-Disposition"] == "attachment; filename=export_SOUTH_2026-01-01_2026-06-30.csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("submission_id,visit_date,region_code,branch_code,")
    assert len(lines) == 1 + 2 * 5                               # C's two visits, five questions each
    assert {line.split(",")[2] for line in lines[1:]} == {"SOUTH"}


def test_landing_query_count_does_not_grow_with_branches(client, as_user, make_branch, make_visit):
    from datetime import date

    from .test_report_data import counted_queries

    from survey.extensions import db

    as_user("hq")
    client.get(f"{LANDING}?{PERIOD}")
    db.session.expire_all()  # the request shares the test's session: start both counts from cold
    with counted_queries() as small:
        client.get(f"{LANDING}?{PERIOD}")
    for i in range(5):
        branch = make_branch(f"BR-X{i}", "EAST")
        make_visit(branch, date(2026, 2, 1 + i))
    db.session.expire_all()
    with counted_queries() as big:
        page = client.get(f"{LANDING}?{PERIOD}").get_data(as_text=True)
    assert "BR-X4" in page
    assert len(big) == len(small)


def test_a_manager_without_a_region_gets_no_empty_export(client, make_user):
    from .conftest import log_in

    make_user("new.manager@example.com", "manager")
    staff = log_in(client, "new.manager@example.com")
    assert staff.get("/reports/export.csv").status_code == 404
    assert "You don't have any regions to see yet." in staff.get("/reports/").get_data(as_text=True)
