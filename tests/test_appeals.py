"""Appeals (SPEC §8): a branch disputes a counted visit, HQ decides each item; scores worked by hand.

The rescoring example uses test_fix_first's checklist "fx": section desk (weight 3): a (w 1),
b (w 1, N/A allowed), c (w 2, critical, rule zero), r (w 1, N/A allowed); section staff (weight 1,
repeated): s (w 1), t (w 1, N/A allowed).
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from survey import appeals
from survey.checklist.conditions import NA
from survey.extensions import db
from survey.models import (
    Alert,
    Appeal,
    AppealCategory,
    AppealItem,
    ReviewState,
    SectionScore,
    StandardScore,
    Submission,
    SubmissionEvent,
    User,
    utcnow,
)

from reports import queries, service
from reports.periods import make_period

from .conftest import hidden_fields, log_in
from .reports_fixtures import *  # noqa: F401,F403
from .reports_fixtures import PERIOD_END, PERIOD_START
from .test_fix_first import shop, versions  # noqa: F401  (fixtures)


def approx(value):
    return pytest.approx(value, abs=1e-9)


def scores(submission: Submission) -> tuple[float, dict[str, tuple], dict[str, float]]:
    """Read back what is stored: overall, per section (earned, possible, score), per standard."""
    db.session.expire_all()
    fresh = db.session.get(Submission, submission.id)
    sections = {s.section_key: (s.earned, s.possible, s.score)
                for s in db.session.scalars(db.select(SectionScore).filter_by(submission_id=fresh.id))}
    standards = {s.standard_key: s.score
                 for s in db.session.scalars(db.select(StandardScore).filter_by(submission_id=fresh.id))}
    return fresh.score, sections, standards


def item_of(appeal: Appeal, key: str | None, repeat: int = 0) -> AppealItem:
    return next(i for i in appeal.items if i.question_key == key and i.repeat == repeat)


# ---------------------------------------------------------------- scoring again (SPEC §4), by hand


def test_an_upheld_question_in_a_repetition_scores_the_visit_again(versions, shop, make_branch,  # noqa: F811
                                                                   make_user):
    """V1: desk a no, b yes, c yes, r N/A; staff #1 s no t yes, #2 s yes t N/A.

    Before: desk 3/4 = 0.75; staff #1 1/2, #2 1/1 → mean 0.75 (stored earned 2 of 3);
    overall (0.75 x 3 + 0.75 x 1) / 4 = 0.75; communication (s#1 0 + t#1 1 + s#2 1) / 3 = 2/3.
    Staff #1 s upheld as yes: #1 2/2 → staff 1.0 (3 of 3); overall (2.25 + 1) / 4 = 0.8125;
    communication 3/3 = 1. Then a upheld as N/A: desk (b 1 + c 2) / 3 = 1; overall 1.0; greeting gone.
    """
    v1, _ = versions
    hq = make_user("hq@example.com", "hq")
    visit = shop(make_branch("BR-X", "NORTH"), date.today(), v1, {"a": "no", "b": "yes", "c": "yes", "r": NA},
                 [{"s": "no", "t": "yes"}, {"s": "yes", "t": NA}])
    score, sections, standards = scores(visit)
    assert score == approx(0.75)
    assert sections["staff"] == (approx(2), approx(3), approx(0.75))
    assert standards["communication"] == approx(2 / 3)

    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="The comment says she smiled",
                                 questions=["s:1", "a"], user=hq)
    assert appeals.decide(item_of(appeal, "s", 1), upheld=True, reason="Comment confirms", user=hq, answer="yes")
    score, sections, standards = scores(visit)
    assert score == approx(0.8125)
    assert sections["staff"] == (approx(3), approx(3), approx(1.0))
    assert sections["desk"] == (approx(3), approx(4), approx(0.75))
    assert standards["communication"] == approx(1.0)
    assert standards["greeting"] == approx(0.0)

    assert appeals.decide(item_of(appeal, "a"), upheld=True, reason="Greeter was at the fire drill", user=hq,
                          answer=NA)
    score, sections, standards = scores(visit)
    assert score == approx(1.0)
    assert sections["desk"] == (approx(3), approx(3), approx(1.0))
    assert "greeting" not in standards
    db.session.expire_all()
    answers = {(a.question_key, a.repeat): a for a in db.session.get(Submission, visit.id).answers}
    assert (answers["s", 1].value, answers["s", 1].earned) == ("yes", approx(1))
    assert (answers["a", 0].status, answers["a", 0].earned, answers["a", 0].possible) == ("na", None, None)
    appeal = db.session.get(Appeal, appeal.id)
    kept = item_of(appeal, "s", 1)
    assert (kept.shopper_value, kept.shopper_status, kept.hq_value, kept.hq_status) == ("no", "answered", "yes",
                                                                                         "answered")
    assert (kept.score_before, kept.score_after) == (approx(0.75), approx(0.8125))
    assert appeal.state.value == "decided"


def test_an_upheld_critical_question_lifts_the_zero(versions, shop, make_branch, make_user):  # noqa: F811
    """V2: a yes, b no, c no (critical, zero: score 0, computed 0.3125); staff #1 s yes t no.
    c upheld as yes: desk 3/4, staff 1/2, overall (2.25 + 0.5) / 4 = 0.6875, no critical failure."""
    v1, _ = versions
    hq = make_user("hq@example.com", "hq")
    visit = shop(make_branch("BR-X", "NORTH"), date.today(), v1, {"a": "yes", "b": "no", "c": "no", "r": NA},
                 [{"s": "yes", "t": "no"}])
    assert (visit.score, visit.critical_fail) == (0.0, True)
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="ID was checked", questions=["c"],
                                 user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="Receipt shows the check", user=hq, answer="yes")
    score, sections, _ = scores(visit)
    assert score == approx(0.6875)
    assert db.session.get(Submission, visit.id).critical_fail is False


def test_an_upheld_answer_that_fails_a_critical_question_writes_the_visits_alert(known, make_user):
    """Branch A's visit of 10 January (75 %): phone upheld as yes (the critical question, rule zero) → 0 %."""
    hq = make_user("hq@example.com", "hq")
    visit = db.session.scalar(db.select(Submission).where(Submission.branch_id == known.a.id,
                                                          Submission.visit_date == date(2026, 1, 10)))
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 1  # known.critical's, on arrival
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="r", questions=["phone"], user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="Photo shows the phone", user=hq, answer="yes")
    assert scores(visit)[0] == 0.0
    alert = db.session.scalar(db.select(Alert).where(Alert.submission_id == visit.id))
    assert alert is not None and alert.reason == "critical"


def test_a_denied_item_changes_no_score_and_a_decision_lands_once(known, make_user):
    hq = make_user("hq@example.com", "hq")
    visit = known.critical
    appeal = appeals.open_appeal(visit, category=AppealCategory.circumstances, reason="Power cut",
                                 questions=["phone"], user=hq)
    item = appeal.items[0]
    assert appeals.decide(item, upheld=False, reason="No sign of a power cut", user=hq)
    # A second decision on the same item (another HQ tab) changes nothing.
    assert not appeals.decide(item, upheld=True, reason="late", user=hq, answer="no")
    score, _, _ = scores(visit)
    assert score == 0.0
    events = db.session.scalars(db.select(SubmissionEvent.action).filter_by(submission_id=visit.id)).all()
    assert events == ["appealed", "appeal denied"]


def test_the_whole_visit_upheld_is_rejected_and_leaves_the_reports(known, make_user):
    hq = make_user("hq@example.com", "hq")
    visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id)
                              .order_by(Submission.visit_date).limit(1))
    period = make_period(PERIOD_START, PERIOD_END)
    assert len(queries.visits(period.start, period.end, branch_id=known.c.id)) == 2
    appeal = appeals.open_appeal(visit, category=AppealCategory.shopper, reason="Wrong branch", questions=None,
                                 user=hq)
    assert appeals.decide(appeal.items[0], upheld=True, reason="The receipt is from BR-D", user=hq)
    db.session.expire_all()
    assert db.session.get(Submission, visit.id).review == ReviewState.rejected
    assert len(queries.visits(period.start, period.end, branch_id=known.c.id)) == 1
    actions = db.session.scalars(db.select(SubmissionEvent.action).filter_by(submission_id=visit.id)).all()
    assert actions == ["appealed", "appeal upheld", "rejected"]


def test_an_answer_that_would_open_unanswered_questions_is_refused(known, make_user):
    hq = make_user("hq@example.com", "hq")
    appeal = appeals.open_appeal(known.critical, category=AppealCategory.scoring, reason="x", questions=["phone"],
                                 user=hq)
    question = appeals.question_of(known.critical, "phone")
    assert appeals.read_answer(question, "") == (None, "Give the answer that should count, or N/A.")
    assert appeals.read_answer(question, "maybe")[1].startswith("That is not an answer this question takes")
    assert appeals.read_answer(question, "__na__") == (NA, None)
    assert appeals.read_answer(question, "no") == ("no", None)
    assert appeal.items[0].decision is None


# ---------------------------------------------------------------- over HTTP: the manager


@pytest.fixture
def north(client, known, make_user):
    make_user("north@example.com", "manager", ("NORTH",))
    make_user("south@example.com", "manager", ("SOUTH",))
    return log_in(client, "north@example.com")


def appeal_url(visit: Submission) -> str:
    return f"/reports/visits/{visit.reference}/appeal"


GOOD = {"category": "scoring", "reason": "The comment says the phone was a customer's", "scope": "questions",
        "questions": ["phone"]}


def test_a_manager_appeals_a_question_and_the_visit_page_shows_it(north, known):
    page = north.get(f"/reports/visits/{known.critical.reference}").get_data(as_text=True)
    assert "Appeal this visit" in page and "Review history" in page
    form = north.get(appeal_url(known.critical)).get_data(as_text=True)
    assert "Scoring error" in form and "Wrong branch, wrong time" in form and "an outage, a delivery" in form
    response = north.post(appeal_url(known.critical), data=GOOD)
    assert response.status_code == 302
    page = north.get(f"/reports/visits/{known.critical.reference}").get_data(as_text=True)
    assert "Appealed by north@example.com" in page and "Scoring error" in page
    branch = north.get("/reports/branches/BR-B?from=2026-01-01&to=2026-06-30").get_data(as_text=True)
    assert '<span class="tag">appealed</span>' in branch
    assert "Did they use a phone while serving you?" in page and "waiting for HQ" in page
    assert "Appeal this visit" not in page
    appeal = db.session.scalar(db.select(Appeal))
    assert [(i.question_key, i.shopper_value) for i in appeal.items] == [("phone", "yes")]


def test_a_second_appeal_is_refused_with_a_clear_message(north, known):
    assert north.post(appeal_url(known.critical), data=GOOD).status_code == 302
    again = north.post(appeal_url(known.critical), data={**GOOD, "scope": "whole"})
    assert again.status_code == 409
    assert "appealed already" in again.get_data(as_text=True)
    assert "appealed already" in north.get(appeal_url(known.critical)).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Appeal.id))) == 1


def test_after_the_window_the_appeal_is_refused_with_a_clear_message(app, north, known):
    visit = db.session.get(Submission, known.critical.id)
    visit.submitted_at = utcnow() - timedelta(days=14, hours=1)
    db.session.commit()
    late = north.post(appeal_url(visit), data=GOOD)
    assert late.status_code == 409
    assert "within 14 days of its arrival" in late.get_data(as_text=True)
    assert "Appeal this visit" not in north.get(f"/reports/visits/{visit.reference}").get_data(as_text=True)
    app.config["SURVEY_APPEAL_DAYS"] = 30  # the window is a setting
    assert north.post(appeal_url(visit), data=GOOD).status_code == 302


def test_a_visit_that_does_not_count_cannot_be_appealed(north, known):
    visit = db.session.scalar(db.select(Submission).where(Submission.review == ReviewState.rejected))
    response = north.post(appeal_url(visit), data=GOOD)
    assert response.status_code == 409
    assert "Only a visit that counts in reports can be appealed." in response.get_data(as_text=True)


def test_another_regions_visit_is_a_404(client, north, known):
    south_visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id).limit(1))
    assert north.get(appeal_url(south_visit)).status_code == 404
    assert north.post(appeal_url(south_visit), data={**GOOD, "questions": ["greet"]}).status_code == 404
    assert db.session.scalar(db.select(db.func.count(Appeal.id))) == 0


def test_no_csrf_token_no_appeal(client, north, known):
    response = client.post(appeal_url(known.critical), data=GOOD)
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Appeal.id))) == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"category": ""}, "Choose what went wrong."),
    ({"category": "bribery"}, "Choose what went wrong from the list."),
    ({"reason": "   "}, "Say why: HQ decides on what you write."),
    ({"reason": "x" * 2001}, "Keep it under 2,000 characters."),
    ({"scope": ""}, "Choose the whole visit or some of its questions."),
    ({"questions": []}, "Tick the questions you dispute, or choose the whole visit."),
    ({"questions": ["note"]}, "Choose the questions from the list."),
    ({"questions": ["greet:7"]}, "Choose the questions from the list."),
])
def test_bad_input_is_explained_beside_the_field_and_kept(north, known, change, message):
    data = {**GOOD, **change}
    response = north.post(appeal_url(known.critical), data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in body and "The appeal was not sent" in body
    if change.get("reason", "").strip() == "" and "reason" not in change:
        assert "The comment says the phone was a customer&#39;s" in body  # what was typed stays
    assert db.session.scalar(db.select(db.func.count(Appeal.id))) == 0


# ---------------------------------------------------------------- over HTTP: HQ


@pytest.fixture
def hq_client(app, make_user):
    make_user("hq@example.com", "hq")
    return log_in(app.test_client(), "hq@example.com")


def decide_url(appeal: Appeal, item: AppealItem) -> str:
    return f"/hq/appeals/{appeal.id}/items/{item.id}"


def test_hq_sees_the_queue_decides_with_na_and_reports_follow(north, hq_client, known):
    north.post(appeal_url(known.critical), data=GOOD)
    home = hq_client.get("/hq/").get_data(as_text=True)
    assert "1</strong> appeal open" in home
    queue = hq_client.get("/hq/appeals").get_data(as_text=True)
    assert known.critical.reference in queue and "Scoring error" in queue
    appeal = db.session.scalar(db.select(Appeal))
    page = hq_client.get(f"/hq/appeals/{appeal.id}").get_data(as_text=True)
    assert "The shopper answered <strong>Yes</strong>" in page
    prefix = f"i{appeal.items[0].id}-"

    empty = hq_client.post(decide_url(appeal, appeal.items[0]), data={})
    assert empty.status_code == 422
    body = empty.get_data(as_text=True)
    assert "Choose to uphold or deny." in body and "Give a reason" in body
    no_answer = hq_client.post(decide_url(appeal, appeal.items[0]),
                               data={prefix + "decision": "upheld", prefix + "reason": "Right"})
    assert no_answer.status_code == 422
    assert "Give the answer that should count, or N/A." in no_answer.get_data(as_text=True)
    assert "Right" in no_answer.get_data(as_text=True)
    wrong = hq_client.post(decide_url(appeal, appeal.items[0]),
                           data={prefix + "decision": "upheld", prefix + "reason": "Right", prefix + "answer": "x"})
    assert "That is not an answer this question takes" in wrong.get_data(as_text=True)

    done = hq_client.post(decide_url(appeal, appeal.items[0]),
                          data={prefix + "decision": "upheld", prefix + "reason": "Not the staff's phone",
                                prefix + "answer": "__na__"})
    assert done.status_code == 302
    # Without phone: front 1, service polite 1 → 100 %, no critical failure.
    page = north.get(f"/reports/visits/{known.critical.reference}").get_data(as_text=True)
    assert "Answer that counts now: <strong>N/A</strong>; the shopper answered Yes." in page
    assert "Visit score 0.0 % → <strong>100.0 %</strong>" in page
    assert "Appeal upheld" in page and "“Not the staff&#39;s phone”" in page
    hq_page = hq_client.get(f"/hq/submissions/{known.critical.id}").get_data(as_text=True)
    assert "Appealed" in hq_page, hq_page[hq_page.find("appeal-h") - 100:hq_page.find("appeal-h") + 900]
    assert "HQ's answer N/A replaced the shopper's yes" in hq_page
    again = hq_client.post(decide_url(appeal, appeal.items[0]),
                           data={prefix + "decision": "denied", prefix + "reason": "Changed my mind"})
    assert again.status_code == 302
    assert "upheld already" in hq_client.get(f"/hq/appeals/{appeal.id}").get_data(as_text=True)
    assert "0</strong> appeals open" in hq_client.get("/hq/").get_data(as_text=True)
    assert known.critical.reference in hq_client.get("/hq/appeals?state=decided").get_data(as_text=True)
    data = service.branch_report("BR-B", PERIOD_START, PERIOD_END)
    assert [(v["reference"], v["appealed"], v["score"]) for v in data["visits"]] == [
        (known.critical.reference, True, approx(100.0))]


def test_an_item_of_another_appeal_is_a_404(north, hq_client, known):
    north.post(appeal_url(known.critical), data=GOOD)
    appeal = db.session.scalar(db.select(Appeal))
    assert hq_client.post(f"/hq/appeals/{appeal.id}/items/{appeal.items[0].id + 1}",
                          data={}).status_code == 404
    assert hq_client.get(f"/hq/appeals/{appeal.id + 1}").status_code == 404


def test_the_rates_per_branch_and_category(north, hq_client, known, make_user):
    """Period 1 Jan – 30 Jun 2026. BR-B: 1 visit, appealed (scoring), upheld. BR-A: 4 visits, one
    appealed (shopper), denied. BR-C: 2 visits, one appealed (circumstances), still open."""
    hq = make_user("hq2@example.com", "hq")
    a_visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.a.id, review=ReviewState.counted)
                                .where(Submission.visit_date == date(2026, 1, 10)))
    c_visit = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id).limit(1))
    b = appeals.open_appeal(known.critical, category=AppealCategory.scoring, reason="r", questions=["phone"],
                            user=hq)
    a = appeals.open_appeal(a_visit, category=AppealCategory.shopper, reason="r", questions=None, user=hq)
    appeals.open_appeal(c_visit, category=AppealCategory.circumstances, reason="r", questions=["greet"], user=hq)
    appeals.decide(b.items[0], upheld=True, reason="ok", user=hq, answer="no")
    appeals.decide(a.items[0], upheld=False, reason="no", user=hq)
    branches, total, categories = appeals_rates(date(2026, 1, 1), date(2026, 6, 30))
    assert total == 3  # A, B, C had visits (D none)
    assert {r.code: (r.visits, r.appeals, r.decided, r.upheld) for r in branches} == {
        "BR-A": (4, 1, 1, 0), "BR-B": (1, 1, 1, 1), "BR-C": (2, 1, 0, 0)}
    assert {c["key"]: (c["appeals"], c["decided"], c["upheld"]) for c in categories} == {
        "scoring": (1, 1, 1), "shopper": (1, 1, 0), "circumstances": (1, 0, 0)}
    page = hq_client.get("/hq/appeals/rates?date_from=2026-01-01&date_to=2026-06-30").get_data(as_text=True)
    assert "100.0 %" in page and "25.0 %" in page and "50.0 %" in page
    only_july = hq_client.get("/hq/appeals/rates?date_from=2026-07-01&date_to=2026-07-31").get_data(as_text=True)
    assert "BR-B" not in only_july
    bad = hq_client.get("/hq/appeals/rates?date_from=2026-07-01&date_to=2026-06-01")
    assert bad.status_code == 400 and "The end comes before the start" in bad.get_data(as_text=True)
    assert hq_client.get("/hq/appeals/rates?date_from=soon").status_code == 400


def appeals_rates(start, end):
    from survey.hq.appeals import rates
    return rates(start, end, 1)


def test_the_visit_page_shows_flags_and_history(north, known):
    # The known visits were sent today for days long past: each is flagged late on arrival.
    page = north.get(f"/reports/visits/{known.critical.reference}").get_data(as_text=True)
    assert "Trust flags" in page and "<strong>Sent late</strong>" in page
    assert "No decision: the visit counted on arrival." in page


def test_hidden_fields_of_the_form(north, known):
    fields = hidden_fields(north.get(appeal_url(known.critical)).get_data(as_text=True))
    assert "csrf_token" in fields


def race(app, *calls) -> list:
    """Run each call in its own thread and app context, all released at once; return their results."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n, call):
        try:
            start.wait()
            with app.app_context():
                results[n] = call()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 (asserted below)
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_questions_of_one_visit_decided_at_once_are_both_scored(app, versions, shop, make_branch,  # noqa: F811
                                                                    make_user):
    """The same visit as the first test: s#1 upheld as yes and a upheld as N/A, by two HQ people at the
    same moment, end where the two decisions one after the other ended: 1.0."""
    v1, _ = versions
    hq_id = make_user("hq@example.com", "hq").id
    visit = shop(make_branch("BR-X", "NORTH"), date.today(), v1, {"a": "no", "b": "yes", "c": "yes", "r": NA},
                 [{"s": "no", "t": "yes"}, {"s": "yes", "t": NA}])
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="r", questions=["s:1", "a"],
                                 user=db.session.get(User, hq_id))
    ids = {(i.question_key, i.repeat): i.id for i in appeal.items}

    def decide(key, answer):
        return lambda: appeals.decide(db.session.get(AppealItem, ids[key]), upheld=True, reason="ok",
                                      user=db.session.get(User, hq_id), answer=answer)

    assert race(app, decide(("s", 1), "yes"), decide(("a", 0), NA)) == [True, True]
    score, sections, standards = scores(visit)
    assert score == approx(1.0)
    assert sections["staff"][2] == approx(1.0) and sections["desk"][2] == approx(1.0)


def test_one_item_decided_twice_at_once_lands_once(app, known, make_user):
    hq_id = make_user("hq@example.com", "hq").id
    appeal = appeals.open_appeal(known.critical, category=AppealCategory.scoring, reason="r", questions=["phone"],
                                 user=db.session.get(User, hq_id))
    item_id = appeal.items[0].id

    def decide(upheld):
        return lambda: appeals.decide(db.session.get(AppealItem, item_id), upheld=upheld, reason="r",
                                      user=db.session.get(User, hq_id), answer="no" if upheld else None)

    results = race(app, decide(True), decide(False))
    assert sorted(results) == [False, True]
    db.session.expire_all()
    events = db.session.scalars(db.select(SubmissionEvent.action).filter_by(submission_id=known.critical.id)).all()
    assert len([e for e in events if e.startswith("appeal ")]) == 1


def test_the_queue_and_the_rates_are_paged_oldest_appeal_first(hq_client, known, make_user, monkeypatch):
    from survey.hq import appeals as hq_appeals
    monkeypatch.setattr(hq_appeals, "PAGE_SIZE", 1)
    hq = make_user("hq2@example.com", "hq")
    later = db.session.scalar(db.select(Submission).filter_by(branch_id=known.c.id).limit(1))
    appeals.open_appeal(known.critical, category=AppealCategory.scoring, reason="r", questions=None, user=hq,
                        now=utcnow() - timedelta(hours=2))
    appeals.open_appeal(later, category=AppealCategory.scoring, reason="r", questions=None, user=hq)
    first = hq_client.get("/hq/appeals").get_data(as_text=True)
    assert known.critical.reference in first and later.reference not in first and "Page 1 of 2" in first
    second = hq_client.get("/hq/appeals?page=2").get_data(as_text=True)
    assert later.reference in second and known.critical.reference not in second
    rates = hq_client.get("/hq/appeals/rates?date_from=2026-01-01&date_to=2026-06-30&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in rates and "date_from=2026-01-01" in rates


@pytest.fixture
def email_visit(published, make_branch, make_visit):
    """An e-mail inquiry that got no reply: every question about the reply is hidden (``show_if``)."""
    from survey.caches import checklist_of
    from survey.checklist.conditions import slots

    checklist = published["email-inquiry"]
    content = checklist_of(checklist.latest)
    given = {}
    for _, _, q, slot in slots(content):
        raw = q.kind.best_answer(q, date.today())
        if raw is not None:
            given[slot] = q.kind.parse(q, raw)[0]
    given["got_reply"] = "no"
    return make_visit(make_branch("BR-E", "NORTH"), date.today(), checklist=checklist, by_slot=given), content


def test_hqs_answer_for_a_number_or_a_multi_question_is_read_as_the_shopper_form_reads_it(email_visit):
    _, content = email_visit
    questions = {q.key: q for _, q in content.questions()}
    hours, extras = questions["hours_to_reply"], questions["extras"]
    assert appeals.read_answer(hours, "6") == (6, None)
    assert appeals.read_answer(hours, "900")[1].startswith("That is not an answer this question takes")
    assert appeals.read_answer(hours, ["", "__na__"]) == (NA, None)
    assert appeals.read_answer(hours, ["6", "__na__"]) == (None, "N/A goes alone: untick the other answers.")
    assert appeals.read_answer(extras, ["useful_link", "next_steps"]) == (["next_steps", "useful_link"], None)
    assert appeals.read_answer(extras, ["bribe"])[1].startswith("That is not an answer this question takes")


def test_an_answer_that_would_ask_unanswered_questions_is_refused_and_nothing_changes(email_visit, make_user):
    visit, _ = email_visit
    hq = make_user("hq@example.com", "hq")
    before = scores(visit)
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="They did reply",
                                 questions=["got_reply"], user=hq)
    with pytest.raises(appeals.AppealRefused, match="questions the shopper never answered"):
        appeals.decide(appeal.items[0], upheld=True, reason="Reply found", user=hq, answer="yes")
    assert scores(visit) == before
    assert db.session.get(AppealItem, appeal.items[0].id).decision is None


def test_over_http_the_refused_answer_is_explained_beside_it(email_visit, hq_client, make_user):
    visit, _ = email_visit
    appeal = appeals.open_appeal(visit, category=AppealCategory.scoring, reason="They did reply",
                                 questions=["got_reply"], user=make_user("hq2@example.com", "hq"))
    prefix = f"i{appeal.items[0].id}-"
    response = hq_client.post(decide_url(appeal, appeal.items[0]), data={
        prefix + "decision": "upheld", prefix + "reason": "Reply found", prefix + "answer": "yes"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "That answer would ask questions the shopper never answered" in body and "Reply found" in body
