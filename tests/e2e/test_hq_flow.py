"""HQ's whole job in one story, in real Chromium: build a checklist, issue a link, review what came back.

HQ works at a desktop (1280×900), the shopper on a phone (390×844), both against
the app served on loopback. Everything HQ does is done through the HQ console's
own pages by clicking and typing, finding controls by their labels and roles the
way a person (or a screen reader) finds them, so the test also checks that the
console's forms are labelled. Only the set-up a person can't do in the console
(the first HQ account, the standards catalogue, the branches) goes straight into
the test database.

The story ends where HQ's work shows: in the region PDF a manager downloads. A
rejected visit must leave the report, and come back when it is restored.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from survey.catalogue import import_standards
from survey.checklist import loader
from survey.extensions import db

from ..conftest import CHECKLISTS, PASSWORD
from .test_shopper_phone import fill_visit, send, tap_answers

HQ_EMAIL = "quality@example.com"
REGION = "NORTH"
TODAY = date.today()

TITLE = "Branch spot check"
SLUG = "spot-check"
#: The new checklist, in the words HQ types: (section, question, type, standard).
GREETED = "Were you greeted within 30 seconds?"
EXPLAINED = "How clearly did they explain the product?"
SECTIONS = [
    ("Arrival", GREETED, "Yes / no", "Greeting and first contact"),
    ("Advice", EXPLAINED, "Scale (min to max)", "Quality of communication"),
]
WAVE = "Spot check June"
REJECT_REASON = "Shopper visited the wrong branch."


# ---------------------------------------------------------------- what exists before the story starts


@pytest.fixture
def network(app, make_user, make_branch):
    """One HQ account, the shipped standards catalogue, and two branches of one region.

    The second branch is there so that issuing a wave to *one* branch is a real
    choice: the CSV must hold that branch's link and no other.
    """
    make_user(HQ_EMAIL, "hq")  # the real (slow) password hash: one user, once
    import_standards(loader.load_standards_text((CHECKLISTS / "standards.yaml").read_text(), "standards.yaml"))
    db.session.commit()
    make_branch("BR-001", REGION, "Leeds Briggate")
    make_branch("BR-002", REGION, "York Parliament Street")


# ---------------------------------------------------------------- HQ's steps


def log_in(page: Page, server: str) -> None:
    """HQ logs in with the form at /login and lands on the console."""
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(HQ_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server}/hq/")
    expect(page.get_by_role("navigation", name="HQ console")).to_be_visible()


def console(page: Page, section: str) -> None:
    """Go to a section of the console by its menu, as HQ would."""
    page.get_by_role("navigation", name="HQ console").get_by_role("link", name=section, exact=True).click()


def start_checklist(page: Page) -> None:
    """Checklists › New checklist: title, slug and channel start an empty draft."""
    console(page, "Checklists")
    page.get_by_role("link", name="New checklist").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_label("Channel").select_option(label="Visit to a branch")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("New checklist started.")).to_be_visible()


def add_section(page: Page, title: str) -> None:
    """The draft page's "Add a section" form; the key is left for the editor to make from the title."""
    form = page.get_by_role("region", name="Add a section")
    form.get_by_label("Title").fill(title)
    form.get_by_role("button", name="Add section").click()
    expect(page.get_by_text(f"Section “{title}” added.")).to_be_visible()


def add_question(page: Page, section: str, text: str, kind: str) -> None:
    """The section's "Add a question" form takes the words and the type; the question's own page follows."""
    place = page.get_by_role("region", name=re.compile(re.escape(section) + "$"))
    place.get_by_label("Question").fill(text)
    place.get_by_label("Type").select_option(label=kind)
    place.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("heading", name="Edit question")).to_be_visible()
    expect(page.get_by_label("Question", exact=True)).to_have_value(text)


def finish_question(page: Page, text: str, standard: str, scale: tuple[str, str] | None = None) -> None:
    """On the question's page: the standard it measures (and a scale's ends), then save."""
    page.get_by_label("Standard").select_option(label=standard)
    if scale:
        page.get_by_label("From", exact=True).fill(scale[0])
        page.get_by_label("To", exact=True).fill(scale[1])
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text(f"Question “{text}” saved.")).to_be_visible()


def build_checklist(page: Page) -> None:
    """Two sections, one question each, every question naming a standard: nothing left to fix."""
    start_checklist(page)
    for section, text, kind, standard in SECTIONS:
        add_section(page, section)
        add_question(page, section, text, kind)
        finish_question(page, text, standard, scale=("1", "5") if kind.startswith("Scale") else None)
    # Back on the draft page: both questions listed under their sections, no problem reported.
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    for section, text, _, standard in SECTIONS:
        place = page.get_by_role("region", name=re.compile(re.escape(section) + "$"))
        expect(place.get_by_role("link", name=text, exact=True)).to_be_visible()
        expect(place).to_contain_text(standard)
    expect(page.get_by_text(re.compile(r"problems? to fix before publishing"))).to_have_count(0)


def check_preview(page: Page) -> None:
    """The draft page shows the draft in the shopper's own form, at phone width, before anything is published."""
    preview = page.get_by_title("Preview of the draft as a shopper sees it")
    expect(preview).to_have_attribute("width", "390")
    shown = preview.content_frame
    expect(shown.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    for _, text, _, _ in SECTIONS:
        expect(shown.get_by_role("group", name=text)).to_be_visible()
    expect(shown.get_by_role("group", name=EXPLAINED).get_by_label("5", exact=True)).to_be_visible()


def publish(page: Page) -> None:
    """Publishing the never-published draft makes version 1; its page says what it holds."""
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_text("Published version 1.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{TITLE}, version 1", level=1)).to_be_visible()
    # The change summary of a first version: every section, with its number of questions.
    expect(page.get_by_role("heading", name="The first version")).to_be_visible()
    changes = page.get_by_role("listitem").filter(has_text=re.compile(r"\(\d+ questions?\)"))
    expect(changes).to_have_text([f"{section} (1 question)" for section, *_ in SECTIONS])
    expect(page.get_by_text(f"{len(SECTIONS)} in {len(SECTIONS)} sections")).to_be_visible()
    expect(page.get_by_text("0 filled against this version")).to_be_visible()


def issue_wave(page: Page) -> str:
    """Waves › Issue a new wave for one branch; download the links CSV and return its one link."""
    console(page, "Waves")
    page.get_by_role("link", name="Issue a new wave").click()
    page.get_by_label("Wave name").fill(WAVE)
    page.get_by_label("Checklist").select_option(label=f"{TITLE} (v1)")
    page.get_by_label("BR-001 Leeds Briggate").check()
    expect(page.get_by_label("Visits per branch")).to_have_value("1")
    page.get_by_role("button", name="Create wave and links").click()
    expect(page.get_by_role("heading", name=f"Wave “{WAVE}” created")).to_be_visible()
    expect(page.get_by_text(f"1 link for 1 branch, checklist {TITLE}.")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download links-.*\.csv$")).click()
    download = info.value
    assert download.suggested_filename == "links-spot-check-june.csv"
    with open(download.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["branch_code", "branch_name", "due", "url"]
    assert len(rows) == 2, rows
    code, name, due, url = rows[1]
    assert (code, name) == ("BR-001", "Leeds Briggate")
    assert date.fromisoformat(due) >= TODAY
    assert re.fullmatch(r"https?://[^/]+/s/[A-Za-z0-9_-]{22,}", url), url
    return url


def on_server(url: str, server: str) -> str:
    """The CSV's link names the configured public origin (SURVEY_BASE_URL); open its path on the test server."""
    return server + urlsplit(url).path


def region_pdf_text(page: Page, server: str) -> str:
    """Download the region PDF as HQ (the page's context sends the login cookie) and return its text."""
    period = f"from={(TODAY - timedelta(days=30)).isoformat()}&to={TODAY.isoformat()}"
    response = page.request.get(f"{server}/reports/regions/{REGION}.pdf?{period}")
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    pages = PdfReader(BytesIO(response.body())).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


#: The region report's score card (templates/pdf/region.html, "Region score"): with visits it reads
#: "87.5 % average of 1 branch with visits 1 visit in 1 branch", with none "– No visits in this period".
CARD = re.compile(r"REGION SCORE (.*?) Target ")
COUNTED = re.compile(r"(?:^| )(\d+) visits? in (\d+) branch(?:es)?$")
NONE = re.compile(r"^– ?No visits in this period$")


def visits_in_region_pdf(page: Page, server: str) -> int:
    """Read the visit count the region PDF's score card shows (0 when it says there were none)."""
    text = region_pdf_text(page, server)
    card = CARD.search(text)
    assert card, text[:500]
    card = card.group(1).strip()
    if NONE.match(card):
        assert "Branch ranking" not in text  # nothing left to rank
        return 0
    counted = COUNTED.search(card)
    assert counted, card
    visits, branches = map(int, counted.groups())
    assert branches == 1 and card.endswith(" in 1 branch"), card  # only BR-001 was visited
    # The ranking's row for the branch agrees: rank, name, code, visits, score.
    assert f"1 Leeds Briggate BR-001 {visits} 87.5 %" in text
    return visits


def find_submission(page: Page, reference: str) -> None:
    """Submissions, filtered to the wave: the shopper's reference is listed; open it."""
    console(page, "Submissions")
    page.get_by_label("Wave").select_option(label=WAVE)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status").filter(has_text="submission")).to_have_text(
        re.compile(r"^1 submission\. "))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference, exact=True))
    expect(row).to_contain_text("Leeds Briggate")
    expect(row).to_contain_text(f"{TITLE} v1")
    expect(row).to_contain_text("87.5 %")  # yes on one section, 4 of 1–5 on the other: (1 + 0.75) / 2
    row.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", name=f"Submission {reference}")).to_be_visible()


def reject(page: Page, reference: str) -> None:
    """Reject with a reason (SPEC §2: a flag kept for audit); the page says the visit no longer counts."""
    page.get_by_label("Reason for rejecting").fill(REJECT_REASON)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(f"Rejected {reference}: it no longer counts in reports.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="does not count in reports")).to_contain_text(
        REJECT_REASON)


def restore(page: Page, reference: str) -> None:
    """Undo the rejection; the visit counts again and the page stops saying otherwise."""
    page.get_by_label("Reason for restoring").fill("Checked again: it was the right branch.")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text(f"Restored {reference}: it counts in reports again.")).to_be_visible()
    expect(page.get_by_text("this visit does not count in reports")).to_have_count(0)


# ---------------------------------------------------------------- the shopper's step


def shopper_fills(page: Page, link: str) -> str:
    """The shopper opens the link on a phone, answers by taps, sends, and gets a reference."""
    page.goto(link)
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Leeds Briggate, 1 High St")).to_be_visible()
    fill_visit(page)
    tap_answers(page, GREETED, ["Yes"])
    tap_answers(page, EXPLAINED, ["4"])
    send(page)
    expect(page.get_by_role("heading", name="Thank you – your answers arrived")).to_be_visible()
    said = page.get_by_text(re.compile(r"^Your reference \S+$"))
    expect(said).to_be_visible()
    return said.inner_text().removeprefix("Your reference").strip()


# ---------------------------------------------------------------- the story


def test_hq_builds_a_checklist_issues_a_link_and_rejects_the_visit(desktop, phone, live_server, network):
    """From an empty console to a rejected visit leaving the region report, and coming back on restore."""
    hq = desktop
    log_in(hq, live_server)

    build_checklist(hq)
    check_preview(hq)
    publish(hq)
    link = issue_wave(hq)

    reference = shopper_fills(phone, on_server(link, live_server))

    find_submission(hq, reference)
    assert visits_in_region_pdf(hq, live_server) == 1
    reject(hq, reference)
    assert visits_in_region_pdf(hq, live_server) == 0
    restore(hq, reference)
    assert visits_in_region_pdf(hq, live_server) == 1
