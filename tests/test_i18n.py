"""The shopper's pages speak the checklist's language: English and German ship."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from survey.catalogue import import_paths
from survey.extensions import db
from survey.i18n import locale_for
from survey.models import AssignmentState, Checklist
from survey.caches import checklist_of
from survey.submissions import create_assignments

from .conftest import CHECKLISTS, ROOT, good_answers, hidden_fields

TRANSLATIONS = ROOT / "survey" / "translations"


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.fixture
def german(published, make_branch, tmp_path):
    """Publish the store visit as a German checklist; return a callable making ``(assignment, token)``."""
    content = yaml.safe_load((CHECKLISTS / "store-visit.yaml").read_text())
    content.update(slug="ladenbesuch", title="Ladenbesuch", language="de")
    path = tmp_path / "ladenbesuch.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True))
    _, errors = import_paths([path])
    assert not errors, errors
    checklist = db.session.scalar(db.select(Checklist).filter_by(slug="ladenbesuch"))
    branch = make_branch()

    def make(due: date | None = None):
        today = date.today()
        (assignment, token), = create_assignments(checklist, branch, 1, not_before=today - timedelta(days=14),
                                                  due=due or today + timedelta(days=14))
        db.session.commit()
        return assignment, token

    return make


# ---------------------------------------------------------------- choosing the locale


@pytest.mark.parametrize("language, locale", [
    ("en", "en_GB"), (None, "en_GB"), ("en-US", "en_US"), ("de", "de"), ("de-AT", "de_AT"), ("fr", "en_GB"),
])
def test_the_checklist_language_picks_the_locale(language, locale):
    assert locale_for(language) == locale


def test_an_english_checklist_is_shown_in_english(client, make_assignment):
    _, token = make_assignment()
    page = text_of(client.get(f"/s/{token}"))
    assert '<html lang="en-GB">' in page
    assert "Send my answers" in page and "Your visit" in page and "Part 1 of" in page
    assert "> Yes</label>" in page and "> No</label>" in page


def test_a_german_checklist_is_shown_in_german(client, german):
    _, token = german()
    page = text_of(client.get(f"/s/{token}"))
    assert '<html lang="de">' in page
    for words in ("Antworten senden", "Speichern und später fertigstellen", "Ihr Besuch", "Teil 1 von 7",
                  "> Ja</label>", "> Nein</label>", "(freiwillig)", "Auf diesem Telefon gespeichert",
                  "{done} von {total} erforderlich", "Sie können einmal senden."):
        assert words in page, words
    assert "Send my answers" not in page and "> Yes</label>" not in page


def test_languages_do_not_leak_from_one_request_to_the_next(client, german, make_assignment):
    _, de_token = german()
    _, en_token = make_assignment()
    assert '<html lang="de">' in text_of(client.get(f"/s/{de_token}"))
    assert '<html lang="en-GB">' in text_of(client.get(f"/s/{en_token}"))
    assert '<html lang="de">' in text_of(client.get(f"/s/{de_token}"))


def test_staff_and_unknown_links_stay_english(client, german):
    german()
    missing = client.get("/s/" + "A" * 32, headers={"Accept-Language": "de"})
    assert missing.status_code == 404
    assert '<html lang="en-GB">' in text_of(missing)
    assert '<html lang="en">' in text_of(client.get("/login", headers={"Accept-Language": "de"}))


# ---------------------------------------------------------------- pages and dates in German


def test_the_closed_pages_speak_german_with_german_dates(client, german):
    assignment, token = german(due=date.today() - timedelta(days=1))
    expired = client.get(f"/s/{token}")
    assert expired.status_code == 410
    page = text_of(expired)
    assert "Dieser Link ist abgelaufen" in page
    assert format_date(assignment.due, "long", locale="de") in page  # "2. November 2026"
    assignment.due = date.today() + timedelta(days=5)
    assignment.state = AssignmentState.cancelled
    db.session.commit()
    assert "Dieser Besuch wurde abgesagt" in text_of(client.get(f"/s/{token}"))


def test_the_received_page_speaks_german(client, german):
    assignment, token = german()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    data = {**hidden_fields(page), **good_answers(checklist_of(assignment.version))}
    assert client.post(f"/s/{token}", data=data).status_code == 303
    thanks = text_of(client.get(f"/s/{token}"))
    assert "Danke – Ihre Antworten sind angekommen" in thanks and "Ihre Referenz" in thanks
    assert f"Besuch am {format_date(date.today(), 'long', locale='de')}" in thanks
    assert "Bereits erhalten" in text_of(client.get(f"/s/{token}"))


def test_validation_messages_speak_german_with_german_dates_and_numbers(client, german):
    """A German shopper's mistakes are explained in German, with German dates, and nothing typed is lost."""
    assignment, token = german()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    checklist = checklist_of(assignment.version)
    data = {**hidden_fields(page), **good_answers(checklist)}
    data["visit_date"] = (assignment.not_before - timedelta(days=1)).isoformat()
    number = next(q for _, q in checklist.questions() if q.type == "number" and q.max is not None)
    data[f"q_{number.key}"] = str(number.max + 0.5)
    data["visit_time"] = "14:05"

    response = client.post(f"/s/{token}", data=data)

    html = text_of(response)
    assert response.status_code == 422
    when = format_date(assignment.not_before, "long", locale="de")
    assert f"Dieser Besuch musste am {when} oder später stattfinden." in html
    limit = format_decimal(number.max, locale="de")  # 3600 is written 3.600 in German
    assert limit == "3.600"
    assert f"Geben Sie eine Zahl von höchstens {limit} ein." in html
    assert 'value="14:05"' in html


def test_the_english_dates_keep_their_day_month_year_order(client, make_assignment):
    assignment, token = make_assignment(due=date.today() - timedelta(days=1))
    assert f"It could be used until {assignment.due:%-d %B %Y}." in text_of(client.get(f"/s/{token}"))


def test_the_draft_endpoint_answers_in_the_links_language(client, german):
    assignment, token = german()
    csrf = hidden_fields(client.get(f"/s/{token}").get_data(as_text=True))["csrf_token"]
    assignment.state = AssignmentState.cancelled
    db.session.commit()
    refused = client.post(f"/s/{token}/draft", data={"visit_time": "10:00"}, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 410
    assert refused.json["error"] == "Dieser Besuch wurde abgesagt, Antworten können nicht mehr gespeichert werden."


# ---------------------------------------------------------------- the catalogues


def extracted_ids() -> set[str]:
    """Extract the translatable strings from the sources, as ``pybabel extract -F babel.cfg`` does."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    return {m[2] if isinstance(m[2], str) else m[2][0]
            for m in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def test_the_template_catalogue_holds_every_string_of_the_sources():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    missing = extracted_ids() - pot
    assert not missing, f"run pybabel extract/update (see babel.cfg); new strings: {sorted(missing)}"


@pytest.mark.parametrize("language", ["de"])
def test_every_string_is_translated_and_compiled(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = [m.id for m in read_po(f) if m.id]
    with open(folder / "messages.po", "rb") as f:
        po = read_po(f)
    untranslated = [m for m in pot if not po.get(m) or not po.get(m).string or po.get(m).fuzzy]
    assert not untranslated, untranslated
    with open(folder / "messages.mo", "rb") as f:
        mo = read_mo(f)
    def text(message):
        return tuple(message.string) if isinstance(message.string, (list, tuple)) else message.string

    stale = [m.id for m in po if m.id and (mo.get(m.id) is None or text(mo.get(m.id)) != text(m))]
    assert not stale, f"run pybabel compile -d survey/translations; stale: {stale}"


def test_placeholders_survive_translation():
    with open(TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po", "rb") as f:
        po = read_po(f)
    names = re.compile(r"%\((\w+)\)s")
    for m in po:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = set(names.findall(ids[-1])) | set(names.findall(ids[0]))
        for s in strings:
            assert set(names.findall(s)) == want, (m.id, s)


def test_translations_are_shipped_with_the_package():
    assert Path(TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
