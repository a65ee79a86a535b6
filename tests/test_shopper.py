"""The shopper's link over HTTP: the whole path, every kind of bad input, photos, show_if, replays.

Question keys are taken from the loaded checklist (by type and flags), so the
tests keep working while the shipped checklists are being adjusted.
"""

from __future__ import annotations

import html as htmllib
import io
import re
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from PIL import Image
from flask import render_template
from survey.extensions import db
from survey.models import Answer, AssignmentState, Attachment, SectionScore, Submission
from survey.shopper import forms as shopper_forms
from survey.checklist.conditions import slots
from survey.shopper.fields import slot_name
from survey.shopper.forms import field_name
from survey.caches import checklist_of

from .conftest import CHECKLISTS, good_answers, hidden_fields, tiny_photo
from .conftest import post_multipart as post

REFERENCE_RE = re.compile(r"\b[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}\b")
JPEG = tiny_photo("JPEG")
PNG = tiny_photo("PNG")
WEBP = tiny_photo("WEBP")
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


# ---------------------------------------------------------------- helpers


def text_of(response) -> str:
    """Return a page's HTML with entities decoded, as a person would read the words."""
    return htmllib.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def block(html: str, key: str) -> str:
    """Return the markup of one question: from its ``id="q-<key>"`` to the next question."""
    start = html.index(f'id="q-{key}"')
    end = html.find('class="q', start)
    return html[start:] if end == -1 else html[start:end]


def visit_block(html: str, name: str) -> str:
    """Return the markup around the visit's own date or time input."""
    start = html.index(f'<label for="{name}">')
    end = html.index("</div>", start)
    return html[start:end]


def is_checked(html: str, name: str, value: str) -> bool:
    """Tell whether the radio or checkbox ``name=value`` is ticked in the page."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return re.search(r"\schecked(?:[\s>=/]|$)", tag) is not None
    return False


def scored(checklist, type_: str, **flags):
    """Return the scored questions of a type, optionally filtered by attributes."""
    found = []
    for _, q in checklist.questions():
        if q.type != type_ or not q.scored:
            continue
        if all(getattr(q, k, None) == v for k, v in flags.items()):
            found.append(q)
    return found


def always_shown(checklist):
    """Return the keys of questions asked once (not in a repeated section), with no show_if on them or their section."""
    return {q.key for s, q in checklist.questions() if not s.show_if and not q.show_if and not s.repeat}


def fail_value(q) -> str:
    return "no" if q.pass_on == "yes" else "yes"


@pytest.fixture
def visit(make_assignment, open_form):
    """Open a store-visit link; return ``(token, checklist, form data of a flawless visit)``."""
    assignment, token = make_assignment()
    page, hidden = open_form(token)
    assert page.status_code == 200
    checklist = checklist_of(assignment.version)
    return token, checklist, {**hidden, **good_answers(checklist)}


@pytest.fixture
def markers(visit):
    """Pick a yes/no question, a scale and a number that are always shown, to check they stay filled in."""
    _, checklist, data = visit
    shown = always_shown(checklist)
    yes_no = next(q for q in scored(checklist, "yes_no") if q.key in shown and not q.comment)
    scale = next(q for q in scored(checklist, "scale") if q.key in shown)
    number = next((q for _, q in checklist.questions() if q.type == "number" and q.key in shown), None)
    data[field_name(yes_no.key)] = fail_value(yes_no)  # a non-default choice, so "kept" means something
    data[field_name(scale.key)] = str(scale.min + 1)
    if number is not None:
        data[field_name(number.key)] = "17"
    return yes_no, scale, number


def assert_kept(html: str, markers, data) -> None:
    """Every answer of the markers is still filled in after a re-render."""
    yes_no, scale, number = markers
    assert is_checked(html, field_name(yes_no.key), data[field_name(yes_no.key)])
    assert is_checked(html, field_name(scale.key), data[field_name(scale.key)])
    if number is not None:
        assert 'value="17"' in block(html, number.key)
    assert f'value="{data["visit_date"]}"' in visit_block(html, "visit_date")
    assert 'value="12:30"' in visit_block(html, "visit_time")


def refused(response, markers, data) -> str:
    """Check a refused form: shown again (not a 500), answers kept, nothing stored; return its HTML."""
    html = text_of(response)
    assert response.status_code == 422, html[:2000]
    assert 'id="summary"' in html  # the box at the top that says what to fix
    assert_kept(html, markers, data)
    assert count(Submission) == 0
    return html


# ---------------------------------------------------- expected scores by hand


def _yaml_answer(value) -> str:
    """Read YAML 1.1's bare yes/no the way SPEC §3 says: as the answers."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _raw_scored(q: dict) -> bool:
    if q.get("scored") is False:
        return False
    if q["type"] in ("yes_no", "scale"):
        return True
    if q["type"] in ("choice", "multi"):
        return all("score" in o for o in q["options"])
    if q["type"] == "number":
        return bool(q.get("bands"))
    return False


def _holds(rule: dict, value) -> bool:
    if value in (None, "", []):
        return False
    if "above" in rule:
        return float(value) > rule["above"]
    if "below" in rule:
        return float(value) < rule["below"]
    wanted = {_yaml_answer(v) for v in (rule["in"] if "in" in rule else [rule["equals"]])}
    values = value if isinstance(value, list) else [value]
    return any(v in wanted for v in values)


def score_by_hand(raw: dict, data: dict) -> tuple[dict[str, float | None], float]:
    """Score form data straight from the YAML file, independently of ``survey.scoring``.

    A repeated section scores each repetition (fields ``q_<key>-<n>``, ``n_<section>`` of them) as a
    section and takes their mean; bonuses and deductions move the overall percentage, held in 0..100.
    """
    shown: set[str] = set()
    sections: dict[str, float | None] = {}
    weights: dict[str, float] = {}
    adjust = 0.0
    for s in raw["sections"]:
        own = {q["key"] for q in s["questions"]} if "repeat" in s else set()

        def name(key, n, own=own):
            return f"q_{key}-{n}" if key in own else field_name(key)

        def applies(rule, n=None, own=own) -> bool:
            if rule is None:
                return True
            parent = rule["question"] if rule["question"] not in own else f"{rule['question']}-{n}"
            return parent in shown and _holds(rule, data.get(name(rule["question"], n)))

        section_shown = applies(s.get("show_if"))
        count = int(data.get(f"n_{s['key']}", 1)) if own else None
        scores = []
        for n in range(1, count + 1) if own else [None]:
            earned = possible = 0.0
            for q in s["questions"]:
                if not section_shown or not applies(q.get("show_if"), n):
                    continue
                shown.add(q["key"] if n is None else f"{q['key']}-{n}")
                value = data.get(name(q["key"], n))
                if value in (None, "", [], "na"):
                    continue
                passed = value == _yaml_answer(q.get("pass_on", "yes"))
                if "bonus" in q:
                    adjust += q["bonus"] if passed else 0
                    continue
                if "deduction" in q:
                    adjust -= 0 if passed else q["deduction"]
                    continue
                if not _raw_scored(q):
                    continue
                w = q.get("weight", 1)
                if q["type"] == "yes_no":
                    fraction = 1.0 if passed else 0.0
                elif q["type"] == "scale":
                    fraction = (int(value) - q["min"]) / (q["max"] - q["min"])
                elif q["type"] == "choice":
                    fraction = next(o["score"] for o in q["options"] if o["key"] == value)
                elif q["type"] == "multi":
                    fraction = min(1.0, sum(o["score"] for o in q["options"] if o["key"] in value))
                else:
                    fraction = next(b["score"] for b in q["bands"] if "max" not in b or float(value) <= b["max"])
                earned += w * fraction
                possible += w
            if possible:
                scores.append(earned / possible)
        sections[s["key"]] = sum(scores) / len(scores) if scores else None
        weights[s["key"]] = s.get("weight", 1)
    applicable = {k: v for k, v in sections.items() if v is not None}
    overall = sum(v * weights[k] for k, v in applicable.items()) / sum(weights[k] for k in applicable)
    return sections, min(100.0, max(0.0, 100 * overall + adjust)) / 100


# ---------------------------------------------------------------- the whole path


def test_whole_path_stores_scores_equal_to_a_hand_computation(client, visit):
    token, checklist, data = visit
    shown = always_shown(checklist)
    # A weighted yes/no failed (not critical, no comment demanded), a scale in its middle.
    candidates = [q for q in scored(checklist, "yes_no") if q.key in shown and not q.critical and not q.comment]
    failed = max(candidates, key=lambda q: q.weight)
    scale = next(q for q in scored(checklist, "scale") if q.key in shown)
    middle = (scale.min + scale.max) // 2
    data[field_name(failed.key)] = fail_value(failed)
    data[field_name(scale.key)] = str(middle)
    # A second employee without a badge; the bonus earned (+5) and the deduction lost (-10).
    data.update({"n_staff": "2", "q_name_badge-2": "no", "q_staff_attentive-2": "yes",
                 "q_offered_extra": "yes", "q_eating_at_till": "yes"})

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{token}")
    done = client.get(f"/s/{token}")
    page = text_of(done)
    assert done.status_code == 200
    assert "Thank you – your answers arrived" in page
    submission = db.session.scalar(db.select(Submission))
    assert count(Submission) == 1
    assert REFERENCE_RE.fullmatch(submission.reference)
    assert f'<strong class="ref">{submission.reference}</strong>' in page

    raw = yaml.safe_load((Path(CHECKLISTS) / "store-visit.yaml").read_text())
    sections, overall = score_by_hand(raw, data)
    assert 0 < overall < 1
    assert submission.score == pytest.approx(overall, abs=1e-12)
    assert not submission.critical_fail
    stored = {s.section_key: s for s in db.session.scalars(db.select(SectionScore))}
    assert set(stored) == set(sections)
    for key, expected in sections.items():
        assert stored[key].score == (None if expected is None else pytest.approx(expected, abs=1e-12))

    answers = {a.question_key: a for a in db.session.scalars(db.select(Answer))}
    assert len(answers) == sum(1 for _ in checklist.questions())
    assert (answers[failed.key].value, answers[failed.key].earned, answers[failed.key].possible) == (
        fail_value(failed), 0.0, failed.weight)
    fraction = (middle - scale.min) / (scale.max - scale.min)
    assert answers[scale.key].value == str(middle)
    assert answers[scale.key].earned == pytest.approx(scale.weight * fraction)
    assert answers[scale.key].possible == scale.weight
    assert submission.visit_date == date.today()
    assert submission.assignment.state == AssignmentState.submitted


def test_form_has_a_fieldset_per_option_question_and_a_label_per_control(client, visit):
    token, checklist, _ = visit
    html = text_of(client.get(f"/s/{token}"))
    for _, n, q, slot in slots(checklist):  # a repeated section once, its minimum
        anchor = q.key if n is None else f"{q.key}-{n}"
        part = block(html, anchor)
        if q.type in ("yes_no", "scale", "choice", "multi"):
            assert part.startswith(f'id="q-{anchor}"') and f"<legend>{q.text}" in part
        else:
            assert f'<label for="{slot_name(slot)}">{q.text}' in part


# ---------------------------------------------------------------- bad input


def test_missing_required_answers_are_named_beside_each_question(client, visit, markers):
    token, checklist, data = visit
    shown = always_shown(checklist)
    missing = [next(q for q in scored(checklist, t) if q.key in shown and q.key not in {m.key for m in markers if m})
               for t in ("yes_no", "choice")]
    for q in missing:
        del data[field_name(q.key)]
    data["visit_time"] = "12:30"

    html = refused(post(client, f"/s/{token}", data), markers, data)

    for q in missing:
        assert "Please answer this question." in block(html, q.key)
        assert 'aria-invalid="true"' in block(html, q.key)
        assert f'<a href="#q-{q.key}">{q.text}</a>' in html  # the summary links to it
    assert "2 answers need attention" in html


@pytest.mark.parametrize("typed, message", [
    ("999999", "Enter a number no larger than"),
    ("-5", "Enter a number of at least"),
    ("abc", "Enter a number, for example 45."),
])
def test_bad_number_is_refused_beside_the_field_and_kept(client, visit, markers, typed, message):
    token, checklist, data = visit
    question = next(q for _, q in checklist.questions()
                    if q.type == "number" and q.key in always_shown(checklist)
                    and q.max is not None and q.min is not None)
    data[field_name(question.key)] = typed
    if markers[2] is not None and markers[2].key == question.key:
        markers = (markers[0], markers[1], None)

    html = refused(post(client, f"/s/{token}", data), markers, data)

    part = block(html, question.key)
    assert message in part
    assert f'value="{typed}"' in part


def test_an_option_that_is_not_offered_is_refused(client, visit, markers):
    token, checklist, data = visit
    question = next(q for q in scored(checklist, "choice") if q.key in always_shown(checklist))
    data[field_name(question.key)] = "free_lunch"

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "Choose one of the answers shown." in block(html, question.key)


def test_a_scale_value_outside_the_scale_is_refused(client, visit, markers):
    token, checklist, data = visit
    shown = always_shown(checklist)
    question = next(q for q in scored(checklist, "scale") if q.key in shown and q.key != markers[1].key)
    data[field_name(question.key)] = str(question.max + 10)

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "Choose one of the answers shown." in block(html, question.key)


def test_a_visit_date_in_the_future_is_refused(client, visit, markers):
    token, _, data = visit
    data["visit_date"] = (date.today() + timedelta(days=1)).isoformat()

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "The visit date can't be in the future." in visit_block(html, "visit_date")


def test_a_visit_date_before_the_window_is_refused(client, visit, markers):
    token, _, data = visit
    early = date.today() - timedelta(days=30)  # the fixture's window opens 14 days ago
    data["visit_date"] = early.isoformat()

    html = refused(post(client, f"/s/{token}", data), markers, data)

    opens = date.today() - timedelta(days=14)
    assert f"This visit had to take place on or after {opens:%-d %B %Y}." in visit_block(html, "visit_date")


@pytest.mark.parametrize("typed, message", [("", "Please enter the date of your visit."),
                                            ("yesterday", "Enter a date, for example")])
def test_a_missing_or_garbled_visit_date_is_refused(client, visit, markers, typed, message):
    token, _, data = visit
    data["visit_date"] = typed
    html = text_of(post(client, f"/s/{token}", data))
    assert message in visit_block(html, "visit_date")
    assert count(Submission) == 0


def photo_question(checklist):
    return next(q for _, q in checklist.questions() if q.type == "photo")


def test_an_oversized_photo_is_refused_beside_the_field(client, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(JPEG + b"\x00" * (1024 * 1024 + 10)), "receipt.jpg")

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "This photo is larger than 1 MB. Choose a smaller one." in block(html, photo.key)
    assert count(Attachment) == 0


def test_a_text_file_named_like_a_photo_is_refused(client, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(b"just some words, not a receipt\n" * 10), "receipt.jpg")

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "This file is not a photo. Choose a JPEG, PNG, WebP or HEIC image." in block(html, photo.key)
    assert count(Attachment) == 0


@pytest.mark.parametrize("csrf", [None, "not-the-token", ""])
def test_a_missing_or_wrong_csrf_token_shows_the_form_again_with_the_answers(client, visit, markers, csrf):
    token, _, data = visit
    if csrf is None:
        del data["csrf_token"]
    else:
        data["csrf_token"] = csrf

    response = post(client, f"/s/{token}", data)

    html = refused(response, markers, data)
    assert 400 <= response.status_code < 500
    assert "Your answers are still here" in html
    # The fresh token on the page lets the next press go through.
    data["csrf_token"] = hidden_fields(html)["csrf_token"]
    assert post(client, f"/s/{token}", data).status_code == 303
    assert count(Submission) == 1


@pytest.mark.parametrize("idem", ["../../etc", "x" * 64, "", "A" * 32])
def test_a_tampered_idempotency_field_stores_nothing(client, visit, markers, idem):
    token, _, data = visit
    data["idem"] = idem

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "Part of this form was damaged on the way. Check your answers and send again." in html
    fresh = re.search(r'name="idem"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="idem"', html)
    assert fresh, "a new key is put in the form so the next press can go through"


def text_slot(checklist):
    """Return the first text question shown without conditions, its slot and its block's id (the
    store visit's is in the first repetition of its employees)."""
    return next((q, slot, q.key if n is None else f"{q.key}-{n}") for s, n, q, slot in slots(checklist)
                if q.type == "text" and not s.show_if and not q.show_if)


def test_a_very_long_text_answer_asks_to_keep_it_short(client, visit, markers):
    token, checklist, data = visit
    text, slot, anchor = text_slot(checklist)
    data[slot_name(slot)] = "x" * (2 * 1024 * 1024)

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "Please keep this under 5,000 characters" in block(html, anchor)


def test_a_very_long_comment_asks_to_keep_it_short(client, visit, markers):
    token, checklist, data = visit
    shown = always_shown(checklist)
    question = next(q for _, q in checklist.questions() if getattr(q, "comment", None) and q.key in shown)
    data[field_name(question.key, "comment")] = "y" * 3000

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "Please keep the comment under 2,000 characters" in block(html, question.key)


@pytest.mark.parametrize("path", ["/s/abc", "/s/" + "A" * 32, "/s/" + "a" * 31 + "!", "/s/" + "b" * 200])
def test_an_unknown_or_malformed_token_is_a_plain_404(client, app, path):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 404
        assert "There is nothing at this address. Check the link you were sent." in text_of(response)


def test_a_malformed_form_body_is_not_a_server_error(client, visit, markers):
    token, checklist, data = visit
    multi = next(q for _, q in checklist.questions() if q.type == "multi" and q.key in always_shown(checklist))
    data[field_name(multi.key)] = ["not_an_option", multi.options[0].key]
    data["visit_time"] = "25:99"
    data["first_answer_at"] = "not a time"

    response = post(client, f"/s/{token}", data)

    html = text_of(response)
    assert response.status_code == 422
    assert "Choose among the answers shown." in block(html, multi.key)
    assert "Enter a time, for example 14:30." in visit_block(html, "visit_time")
    assert count(Submission) == 0


# ---------------------------------------------------------------- photos


def test_a_good_photo_is_kept_across_a_reshown_form_and_stored_with_the_submission(client, app, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    yes_no = markers[0]
    data[field_name(photo.key)] = (io.BytesIO(JPEG), "my receipt.jpg")
    del data[field_name(yes_no.key)]  # another mistake makes the form come back

    response = post(client, f"/s/{token}", data)

    html = text_of(response)
    assert response.status_code == 422
    assert "Please answer this question." in block(html, yes_no.key)
    part = block(html, photo.key)
    assert "Photo attached." in part
    kept = re.search(rf'name="{field_name(photo.key, "upload")}" value="(\d+)"', part).group(1)
    attachment = db.session.get(Attachment, int(kept))
    assert attachment.submission_id is None and attachment.content_type == "image/jpeg"

    data[field_name(yes_no.key)] = "yes"
    data[field_name(photo.key, "upload")] = kept
    del data[field_name(photo.key)]  # the browser sends no file this time
    assert post(client, f"/s/{token}", data).status_code == 303

    submission = db.session.scalar(db.select(Submission))
    db.session.refresh(attachment)
    assert attachment.submission_id == submission.id
    assert [a.id for a in submission.attachments] == [attachment.id]
    answer = db.session.scalar(db.select(Answer).filter_by(question_key=photo.key))
    assert answer.value == "my receipt.jpg"
    stored = Path(app.config["UPLOAD_DIR"]) / attachment.stored_name
    with Image.open(stored) as image:
        assert image.size == Image.open(io.BytesIO(JPEG)).size  # re-encoded from its pixels
    assert "my receipt" not in attachment.stored_name  # never the shopper's file name on disk


def test_a_photo_is_stored_without_its_location_or_device(client, app, visit):
    """A receipt photo can give away the shopper's home address: the server drops EXIF before storing."""
    from .test_images import jpeg

    token, checklist, data = visit
    photo = photo_question(checklist)
    original = jpeg()
    assert b"PhoneMaker" in original and b"1 High St" in original
    data[field_name(photo.key)] = (io.BytesIO(original), "IMG_0002.jpg")

    assert post(client, f"/s/{token}", data).status_code == 303

    attachment = db.session.scalar(db.select(Attachment))
    stored = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff") and attachment.size == len(stored)
    for secret in (b"PhoneMaker", b"Phone 12", b"1 High St", b"GPSLatitude", b"Exif\x00\x00"):
        assert secret not in stored


def real_heic() -> bytes:
    """A HEIC photo as an iPhone sends one (the header alone can't be decoded, so is refused)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(out, "HEIF", quality=80)
    return out.getvalue()


@pytest.mark.parametrize("content, kind", [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"),
                                           ("heic", "image/jpeg")])
def test_photos_are_recognised_by_their_content(client, app, visit, content, kind):
    """Stored re-encoded from its pixels, in its own type; a HEIC photo is stored as a JPEG (see images.py)."""
    content = real_heic() if content == "heic" else content
    token, checklist, data = visit
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(content), "IMG_0001.bin")

    assert post(client, f"/s/{token}", data).status_code == 303

    attachment = db.session.scalar(db.select(Attachment))
    assert attachment.content_type == kind
    assert attachment.submission_id == db.session.scalar(db.select(Submission.id))
    stored = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    assert attachment.size == len(stored) and attachment.stored_name.endswith("." + kind.split("/")[1])
    assert Image.open(io.BytesIO(stored)).size == Image.open(io.BytesIO(content)).size


def test_a_heic_file_that_is_only_a_header_is_refused_beside_the_field(client, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    data[field_name(photo.key)] = (io.BytesIO(HEIC), "IMG_0002.HEIC")
    html = refused(post(client, f"/s/{token}", data), markers, data)
    assert "This photo could not be read. Take it again or choose another." in block(html, photo.key)
    assert count(Attachment) == 0


def test_a_kept_photo_of_another_link_is_not_claimed(client, make_assignment, open_form, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    _, other_token = make_assignment()
    _, other_hidden = open_form(other_token)
    other = {**other_hidden, **good_answers(checklist)}
    other[field_name(photo.key)] = (io.BytesIO(PNG), "other.png")
    del other["visit_time"]
    post(client, f"/s/{other_token}", other)
    theirs = db.session.scalar(db.select(Attachment))
    assert theirs is not None

    data[field_name(photo.key, "upload")] = str(theirs.id)
    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "That photo could not be found. Please choose it again." in block(html, photo.key)


# ---------------------------------------------------------------- show_if


def _screened(checklist):
    """Return a yes/no screener, the value that hides what depends on it, and the keys it hides."""
    for section, q in checklist.questions():
        rule = q.show_if or section.show_if
        if rule is None:
            continue
        parent = next(p for _, p in checklist.questions() if p.key == rule.question)
        if parent.type == "yes_no" and rule.values() == ["yes"]:
            hidden = [x.key for s, x in checklist.questions()
                      if parent.key in (s.show_if and s.show_if.question, x.show_if and x.show_if.question)]
            return parent, "no", hidden
    raise AssertionError("the shipped store visit must keep a question that hangs on a yes/no screener")


def test_answers_for_hidden_questions_are_dropped_and_score_nothing(client, visit):
    token, checklist, data = visit
    screener, hiding, hidden = _screened(checklist)
    data[field_name(screener.key)] = hiding  # ...but the answers below it are still sent, as without JavaScript

    assert post(client, f"/s/{token}", data).status_code == 303

    answers = {a.question_key: a for a in db.session.scalars(db.select(Answer))}
    for key in hidden:
        assert (answers[key].status, answers[key].value, answers[key].earned, answers[key].possible) == (
            "hidden", None, None, None)
    raw = yaml.safe_load((Path(CHECKLISTS) / "store-visit.yaml").read_text())
    _, overall = score_by_hand(raw, data)
    assert db.session.scalar(db.select(Submission.score)) == pytest.approx(overall)


def test_a_required_question_hidden_by_show_if_is_not_demanded(client, visit):
    token, checklist, data = visit
    screener, hiding, hidden = _screened(checklist)
    data[field_name(screener.key)] = hiding
    for key in hidden:
        data.pop(field_name(key), None)
        data.pop(field_name(key, "comment"), None)

    response = post(client, f"/s/{token}", data)

    assert response.status_code == 303, text_of(response)[:2000]
    assert count(Submission) == 1


def test_a_shown_dependent_question_is_still_required(client, visit):
    token, checklist, data = visit
    screener, _, hidden = _screened(checklist)
    data[field_name(screener.key)] = "yes"
    required = next(q for _, q in checklist.questions() if q.key in hidden and q.is_required and q.type != "photo")
    data.pop(field_name(required.key))

    html = text_of(post(client, f"/s/{token}", data))

    assert "Please answer this question." in block(html, required.key)
    assert count(Submission) == 0


# ---------------------------------------------------------------- comments


def _on_fail_yes_no(checklist):
    return next(q for q in scored(checklist, "yes_no", comment="on_fail")
                if q.key in always_shown(checklist) and not q.critical)


def test_on_fail_comment_is_required_when_points_are_lost(client, visit, markers):
    token, checklist, data = visit
    question = _on_fail_yes_no(checklist)
    data[field_name(question.key)] = fail_value(question)

    html = refused(post(client, f"/s/{token}", data), markers, data)

    part = block(html, question.key)
    assert "Please say briefly what happened." in part
    assert is_checked(part, field_name(question.key), fail_value(question))


def test_on_fail_comment_is_stored_with_its_answer(client, visit):
    token, checklist, data = visit
    question = _on_fail_yes_no(checklist)
    data[field_name(question.key)] = fail_value(question)
    data[field_name(question.key, "comment")] = "  Wet floor, no sign <b>at all</b>.  "

    assert post(client, f"/s/{token}", data).status_code == 303

    answer = db.session.scalar(db.select(Answer).filter_by(question_key=question.key))
    assert answer.comment == "Wet floor, no sign <b>at all</b>."
    assert answer.earned == 0 and answer.value == fail_value(question)


def test_on_fail_comment_is_not_required_for_full_points(client, visit):
    token, checklist, data = visit
    question = _on_fail_yes_no(checklist)
    data[field_name(question.key)] = question.pass_on
    data.pop(field_name(question.key, "comment"), None)
    assert post(client, f"/s/{token}", data).status_code == 303


# ---------------------------------------------------------------- once, and only in its window


def test_the_same_post_twice_stores_one_submission(client, visit):
    token, _, data = visit
    first = post(client, f"/s/{token}", data)
    second = post(client, f"/s/{token}", data)
    assert (first.status_code, second.status_code) == (303, 303)
    assert count(Submission) == 1


def test_a_second_form_after_submission_stores_nothing_and_says_already_received(client, visit, open_form):
    token, _, data = visit
    assert post(client, f"/s/{token}", data).status_code == 303
    client.get(f"/s/{token}")  # the thank-you page takes the one-time message
    reference = db.session.scalar(db.select(Submission.reference))

    other = {**data, "idem": "0" * 32}
    response = post(client, f"/s/{token}", other)

    assert response.status_code == 303
    assert count(Submission) == 1
    page, _ = open_form(token)
    html = text_of(page)
    assert page.status_code == 200
    assert "Already received" in html and reference in html
    assert "<form" not in html


def test_an_expired_link_says_so(client, make_assignment):
    _, token = make_assignment(not_before=date.today() - timedelta(days=20), due=date.today() - timedelta(days=1))
    for response in (client.get(f"/s/{token}"), client.post(f"/s/{token}", data={"visit_date": "2020-01-01"})):
        html = text_of(response)
        assert response.status_code == 410
        assert "This link has expired" in html
    assert count(Submission) == 0


def test_a_cancelled_link_says_so(client, make_assignment):
    assignment, token = make_assignment()
    assignment.state = AssignmentState.cancelled
    db.session.commit()
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert "This visit was cancelled" in text_of(response)


def test_a_link_not_open_yet_says_so(client, make_assignment, published):
    start = date.today() + timedelta(days=3)
    assignment, token = make_assignment(not_before=start, due=date.today() + timedelta(days=10))
    response = client.get(f"/s/{token}")
    html = text_of(response)
    assert response.status_code == 200
    assert "Not open yet" in html and f"{start:%-d %B %Y}" in html
    assert "<form" not in html
    db.session.refresh(assignment)
    assert assignment.state == AssignmentState.open
    posted = good_answers(checklist_of(published["store-visit"].latest))
    assert post(client, f"/s/{token}", posted).status_code == 200
    assert count(Submission) == 0


def test_opening_the_link_pins_the_version_and_marks_it_started(client, make_assignment):
    assignment, token = make_assignment()
    assert assignment.version is None
    client.get(f"/s/{token}")
    db.session.refresh(assignment)
    assert assignment.state == AssignmentState.started
    assert assignment.version is not None and assignment.opened_at is not None


# ---------------------------------------------------------------- tampered or odd input, never a 500


@pytest.mark.parametrize("kept", ["9" * 40, "²", "-1", "1e3"])
def test_a_tampered_kept_photo_id_is_refused_not_a_server_error(client, visit, markers, kept):
    token, checklist, data = visit
    photo = photo_question(checklist)
    data[field_name(photo.key, "upload")] = kept

    html = refused(post(client, f"/s/{token}", data), markers, data)

    assert "That photo could not be found. Please choose it again." in block(html, photo.key)


def test_control_characters_are_dropped_from_typed_text(client, visit):
    """PostgreSQL refuses NUL in text; a pasted one must not turn an answer into a 500."""
    token, checklist, data = visit
    text, slot, _ = text_slot(checklist)
    commented = _on_fail_yes_no(checklist)
    photo = photo_question(checklist)
    data[slot_name(slot)] = "Tall,\x00 red scarf\r\nbadge: Sam\x1b"
    data[field_name(commented.key)] = fail_value(commented)
    data[field_name(commented.key, "comment")] = "Mud\x00 by the door"
    data[field_name(photo.key)] = (io.BytesIO(PNG), "rec\x00eipt.png")

    assert post(client, f"/s/{token}", data).status_code == 303

    answers = {a.question_key: a for a in db.session.scalars(db.select(Answer))}
    assert answers[text.key].value == "Tall, red scarf\r\nbadge: Sam"
    assert answers[commented.key].comment == "Mud by the door"
    assert db.session.scalar(db.select(Attachment.original_name)) == "receipt.png"


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "soon", ""])
def test_an_unusable_first_answer_stamp_is_ignored(client, visit, stamp):
    token, _, data = visit
    data["first_answer_at"] = stamp
    assert post(client, f"/s/{token}", data).status_code == 303
    assert db.session.scalar(db.select(Submission.first_answer_at)) is None


@pytest.fixture
def server_in_new_york(monkeypatch):
    """Run the app as on a server whose local zone is not UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_first_answer_stamp_is_stored_in_utc(server_in_new_york, client, visit):
    # The zone is set first: the visit's dates must be New York's too (from 00:00 to 05:00 UTC
    # the days differ, and a visit dated tomorrow is refused).
    token, _, data = visit
    stamp = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
    data["first_answer_at"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # what form.js sends: toISOString()
    assert post(client, f"/s/{token}", data).status_code == 303
    assert db.session.scalar(db.select(Submission.first_answer_at)) == stamp.replace(tzinfo=None)


def test_an_idempotency_key_copied_from_another_link_still_stores_this_visit(client, visit, make_assignment, open_form):
    token, _, data = visit
    assert post(client, f"/s/{token}", data).status_code == 303
    _, other = make_assignment()
    _, hidden = open_form(other)

    response = post(client, f"/s/{other}", {**data, "csrf_token": hidden["csrf_token"]})  # same idem as the first

    assert response.status_code == 303
    keys = db.session.scalars(db.select(Submission.idempotency_key)).all()
    assert len(keys) == 2 and len(set(keys)) == 2 and data["idem"] in keys


def test_a_reference_collision_is_retried_with_another_code(client, visit, make_assignment, open_form, monkeypatch):
    import survey.submissions

    token, _, data = visit
    monkeypatch.setattr(survey.submissions, "new_reference", lambda: "AAA-AAA")
    assert post(client, f"/s/{token}", data).status_code == 303
    _, other = make_assignment()
    _, hidden = open_form(other)
    codes = iter(["AAA-AAA", "BBB-BBB"])
    monkeypatch.setattr(survey.submissions, "new_reference", lambda: next(codes))

    assert post(client, f"/s/{other}", {**data, **hidden}).status_code == 303

    assert sorted(db.session.scalars(db.select(Submission.reference))) == ["AAA-AAA", "BBB-BBB"]
    assert "BBB-BBB" in text_of(client.get(f"/s/{other}"))


def test_a_fresh_link_is_blank_after_another_shopper_typed_and_matches_a_full_render(
        client, app, visit, markers, make_assignment):
    """The blank questions are rendered once and reused: no one's answers may leak into them,
    and the reused copy is the same markup the form itself renders."""
    token, checklist, data = visit
    yes_no, scale, _ = markers
    data["visit_date"] = "not a date"  # refused, so the first shopper's answers are shown again
    refused(post(client, f"/s/{token}", data), markers, data)

    assignment, other = make_assignment()
    fresh = text_of(client.get(f"/s/{other}"))
    assert 'id="summary"' not in fresh
    assert not is_checked(fresh, field_name(yes_no.key), data[field_name(yes_no.key)])
    assert not is_checked(fresh, field_name(scale.key), data[field_name(scale.key)])
    assert " checked" not in fresh and 'value="17"' not in fresh

    version = assignment.version
    with app.test_request_context(f"/s/{other}"):
        form = shopper_forms.form_class(version.id, version.content_hash, checklist)(
            formdata=None, meta={"csrf": False}
        )
        full = render_template(
            "shopper/_sections.html",
            form=form,
            checklist=checklist,
            field_name=field_name,
            hints=shopper_forms.condition_hints(checklist),
        )
    start = fresh.index('<section id="s-')
    assert htmllib.unescape(full.strip()) in fresh[start - 1 :]


def test_a_blank_page_from_the_cache_is_the_full_render_of_its_own_link(client, app, make_assignment, make_branch):
    """A blank form is rendered once and spliced per link: each link must still get its own
    branch (escaped), window, address and keys, byte for byte what a full render gives."""
    from survey.shopper import views as shopper_views

    today = date.today()
    first, first_token = make_assignment()
    client.get(f"/s/{first_token}")  # fills the cache for this version and language
    branch = make_branch("BR-002", name='Tom & Jerry <b>"Outlet"</b>')
    branch.address = "5 <i>Low</i> Rd"
    db.session.commit()
    assignment, token = make_assignment(branch=branch, not_before=today - timedelta(days=3),
                                        due=today + timedelta(days=1))
    other = make_assignment(branch=branch)[1]
    page = client.get(f"/s/{token}").get_data(as_text=True)  # raw: the escaping is under test
    hidden = hidden_fields(page)

    assert "<title>Store visit – Tom &amp; Jerry &lt;b&gt;&#34;Outlet&#34;&lt;/b&gt;</title>" in page
    assert ('<p class="where">Tom &amp; Jerry &lt;b&gt;&#34;Outlet&#34;&lt;/b&gt;, 5 &lt;i&gt;Low&lt;/i&gt; Rd</p>'
            in page)
    assert f'min="{today - timedelta(days=3)}" max="{today}"' in page
    assert f'data-draft="/s/{token}/draft"' in page and first_token not in page
    assert re.fullmatch(r"[0-9a-f]{32}", hidden["idem"]) and hidden["csrf_token"]
    assert hidden_fields(client.get(f"/s/{other}").get_data(as_text=True))["idem"] != hidden["idem"]

    with app.test_request_context(f"/s/{token}"):
        version = db.session.get(type(assignment), assignment.id).version
        checklist = checklist_of(version)
        form = shopper_forms.form_class(version.id, version.content_hash, checklist)(formdata=None,
                                                                                      meta={"csrf": False})
        form.idem.data = hidden["idem"]
        full = shopper_views.render_form(assignment, checklist, form, today,
                                         shopper_views.page_values(assignment, today, hidden["csrf_token"]))
    assert page == full


def test_one_link_is_throttled_on_its_own_and_says_why(limited_client, make_assignment):
    """Sends and draft saves are counted per link (shoppers share addresses): a link posting
    far more than a person does is told to wait, and other links are not affected."""
    from survey.shopper.offline import DRAFT_LIMIT
    from survey.shopper.views import SEND_LIMIT

    _, token = make_assignment()
    _, other = make_assignment()
    hidden = hidden_fields(limited_client.get(f"/s/{token}").get_data(as_text=True))
    sends = int(SEND_LIMIT.split()[0])
    for _ in range(sends):  # incomplete: refused with messages, nothing stored
        assert limited_client.post(f"/s/{token}", data=hidden).status_code == 422
    throttled = limited_client.post(f"/s/{token}", data=hidden)
    assert throttled.status_code == 429 and "Wait a minute and try again." in text_of(throttled)
    other_hidden = hidden_fields(limited_client.get(f"/s/{other}").get_data(as_text=True))
    assert limited_client.post(f"/s/{other}", data=other_hidden).status_code == 422

    headers = {"X-CSRFToken": other_hidden["csrf_token"]}
    for _ in range(int(DRAFT_LIMIT.split()[0])):
        response = limited_client.post(f"/s/{other}/draft", data={"visit_time": "10:00"}, headers=headers)
        assert response.status_code == 204
    assert limited_client.post(f"/s/{other}/draft", data={"visit_time": "10:00"}, headers=headers).status_code == 429
    assert count(Submission) == 0


def test_throttle_counts_keep_no_usable_link_and_a_failing_store_lets_sends_through(
        limited_client, make_assignment, monkeypatch):
    from survey.extensions import limiter
    from survey.models import hash_token

    _, token = make_assignment()
    hidden = hidden_fields(limited_client.get(f"/s/{token}").get_data(as_text=True))
    assert limited_client.post(f"/s/{token}", data=hidden).status_code == 422  # refused: counted
    keys = list(limiter.storage.storage)  # the memory storage's counters
    assert any(hash_token(token) in key for key in keys)
    assert not any(token in key for key in keys)

    def down(*_args, **_kwargs):
        raise ConnectionError("the rate limit store is down")

    monkeypatch.setattr(limiter.limiter, "test", down)
    assert limited_client.post(f"/s/{token}", data=hidden).status_code == 422  # not a 500
    assert limited_client.head(f"/s/{token}").status_code == 200  # a HEAD is a GET without body


@pytest.mark.parametrize("slug, heading, date_label, received", [
    ("store-visit", "Your visit", "Date of your visit", "visit on"),
    ("phone-call", "Your call", "Date of your call", "call on"),
    ("email-inquiry", "Your e-mail", "Date you sent the e-mail", "e-mail sent on"),
])
def test_the_form_names_the_contact_by_its_channel(client, make_assignment, open_form, slug, heading, date_label,
                                                   received):
    """A shopper who phoned or wrote is not asked about their "visit"."""
    assignment, token = make_assignment(slug)
    page, hidden = open_form(token)
    html = text_of(page)
    assert f"<h2>{heading}</h2>" in html and f'<label for="visit_date">{date_label}</label>' in html
    checklist = checklist_of(assignment.version)
    data = {**hidden, **good_answers(checklist)}
    del data["visit_date"]
    refused_page = text_of(post(client, f"/s/{token}", data))
    assert f'<a href="#visit_date">{date_label}</a>' in refused_page  # the summary names it the same way
    data["visit_date"] = date.today().isoformat()
    assert post(client, f"/s/{token}", data).status_code == 303
    assert f"{received} {date.today():%-d %B %Y}" in text_of(client.get(f"/s/{token}"))


def test_a_date_answer_in_the_future_is_refused_beside_it(client, make_assignment, open_form):
    assignment, token = make_assignment("email-inquiry")
    _, hidden = open_form(token)
    checklist = checklist_of(assignment.version)
    data = {**hidden, **good_answers(checklist)}
    data[field_name("reply_date")] = (date.today() + timedelta(days=3)).isoformat()

    response = post(client, f"/s/{token}", data)

    html = text_of(response)
    assert response.status_code == 422
    assert "This date can't be in the future." in block(html, "reply_date")
    assert f'value="{data[field_name("reply_date")]}"' in block(html, "reply_date")  # kept to correct
    assert count(Submission) == 0


def test_a_photo_posted_without_the_pages_token_is_not_stored(client, app, visit):
    """Anyone holding a link could otherwise fill the disk with refused posts."""
    token, checklist, data = visit
    photo = photo_question(checklist)
    for _ in range(3):
        posted = {**data, "csrf_token": "forged", field_name(photo.key): (io.BytesIO(JPEG), "big.jpg")}
        assert post(client, f"/s/{token}", posted).status_code == 422
    folder = Path(app.config["UPLOAD_DIR"])
    assert count(Attachment) == 0
    assert not folder.exists() or not any(folder.iterdir())


def test_a_new_photo_replaces_the_one_waiting_for_the_same_question(client, app, visit, markers):
    token, checklist, data = visit
    photo = photo_question(checklist)
    del data[field_name(markers[0].key)]  # keep the form coming back, so nothing is sent
    for name in ("first.jpg", "second.jpg", "third.jpg"):
        assert post(client, f"/s/{token}", {**data, field_name(photo.key): (io.BytesIO(JPEG), name)}).status_code == 422
    (kept,) = db.session.scalars(db.select(Attachment)).all()
    assert kept.original_name == "third.jpg"
    assert [p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()] == [kept.stored_name]


def test_a_damaged_photo_that_may_carry_its_location_is_refused(client, visit):
    """If the metadata can't be removed, the photo is not stored with it (fail closed)."""
    from .test_images import jpeg

    token, checklist, data = visit
    photo = photo_question(checklist)
    damaged = jpeg()[:-300]  # cut off mid-picture: the parser can't follow it, the EXIF is still there
    assert b"Exif\x00" in damaged

    response = post(client, f"/s/{token}", {**data, field_name(photo.key): (io.BytesIO(damaged), "IMG.jpg")})

    assert response.status_code == 422
    assert "This photo could not be read. Take it again or choose another." in block(text_of(response), photo.key)
    assert count(Attachment) == 0 and count(Submission) == 0
