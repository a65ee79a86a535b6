"""Scoring of one submission, worked by hand against SPEC §4."""

from __future__ import annotations

import textwrap

import pytest

from survey.checklist.conditions import NA
from survey.checklist.loader import load_checklist_text
from survey.checklist.schema import Checklist
from survey.scoring import Incomplete, score, score_outcome

STANDARDS = {
    key: False
    for key in ("speed", "greeting", "communication", "accuracy", "problem_solving", "farewell")
}


def build(text: str) -> Checklist:
    return load_checklist_text(textwrap.dedent(text), "test.yaml", STANDARDS)


def one_question(question: str, on_critical_fail: str = "zero") -> Checklist:
    """Wrap one question (YAML, flush left) in a one-section checklist."""
    head = textwrap.dedent(
        f"""\
        slug: t
        title: T
        channel: visit
        on_critical_fail: {on_critical_fail}
        sections:
          - key: only
            title: Only
            questions:
        """
    )
    return load_checklist_text(
        head + textwrap.indent(textwrap.dedent(question), " " * 6), "test.yaml", STANDARDS
    )


@pytest.fixture
def earned():
    """Return a callable: (question YAML, answer) → (earned, possible, overall score)."""

    def run(question: str, value):
        checklist = one_question(question)
        (key,) = [q.key for _, q in checklist.questions()]
        result = score(checklist, {key: value})
        answer = result.by_key[key]
        return answer.earned, answer.possible, result.score

    return run


# --- each scored type -------------------------------------------------------------------------

YES_NO = """\
- key: greeted
  text: Were you greeted?
  type: yes_no
  standard: greeting
  weight: 3
"""

USED_PHONE = """\
- key: used_phone
  text: Did they use a personal phone?
  type: yes_no
  pass_on: no
  standard: communication
  weight: 2
"""


@pytest.mark.parametrize(
    "question, value, points",
    [
        (YES_NO, "yes", 3.0),       # pass_on defaults to yes: w = 3
        (YES_NO, "no", 0.0),
        (USED_PHONE, "no", 2.0),    # negatively phrased: "no" earns w = 2
        (USED_PHONE, "yes", 0.0),
    ],
)
def test_yes_no(earned, question, value, points):
    got, possible, overall = earned(question, value)
    weight = 3.0 if question is YES_NO else 2.0
    assert (got, possible) == (pytest.approx(points), weight)
    assert overall == pytest.approx(points / weight)


SCALE = """\
- key: politeness
  text: How polite?
  type: scale
  min: 1
  max: 5
  standard: communication
  weight: 2
"""


@pytest.mark.parametrize(
    "value, points",
    [
        (1, 0.0),   # 2 × (1 − 1) / 4
        (2, 0.5),   # 2 × (2 − 1) / 4
        (4, 1.5),   # 2 × (4 − 1) / 4
        (5, 2.0),   # 2 × (5 − 1) / 4
    ],
)
def test_scale(earned, value, points):
    got, possible, overall = earned(SCALE, value)
    assert got == pytest.approx(points)
    assert possible == 2.0
    assert overall == pytest.approx(points / 2)


def test_scale_starting_at_zero(earned):
    question = """\
    - key: cleanliness
      text: How clean?
      type: scale
      min: 0
      max: 10
      standard: accuracy
    """
    got, _, overall = earned(question, 7)
    assert got == pytest.approx(0.7)  # 1 × (7 − 0) / 10
    assert overall == pytest.approx(0.7)


CHOICE = """\
- key: outcome
  text: How was the complaint handled?
  type: choice
  standard: problem_solving
  weight: 2
  options:
    - {key: solved, label: Solved, score: 1}
    - {key: escalated, label: Escalated, score: 0.7}
    - {key: ignored, label: Ignored, score: 0}
"""


@pytest.mark.parametrize(
    "value, points",
    [("solved", 2.0), ("escalated", 1.4), ("ignored", 0.0)],  # 2 × option score
)
def test_choice(earned, value, points):
    got, possible, overall = earned(CHOICE, value)
    assert (got, possible) == (pytest.approx(points), 2.0)
    assert overall == pytest.approx(points / 2)


MULTI = """\
- key: did
  text: What did they do?
  type: multi
  standard: communication
  weight: 2
  options:
    - {key: smiled, label: Smiled, score: 0.4}
    - {key: named, label: Used your name, score: 0.4}
    - {key: thanked, label: Thanked you, score: 0.3}
    - {key: nothing, label: None of these, score: 0}
"""


@pytest.mark.parametrize(
    "value, points",
    [
        (["smiled"], 0.8),                        # 2 × 0.4
        (["smiled", "thanked"], 1.4),             # 2 × 0.7
        (["smiled", "named"], 1.6),               # 2 × 0.8
        (["smiled", "named", "thanked"], 2.0),    # 2 × min(1, 1.1) — capped
        (["nothing"], 0.0),
    ],
)
def test_multi(earned, value, points):
    got, possible, overall = earned(MULTI, value)
    assert (got, possible) == (pytest.approx(points), 2.0)
    assert overall == pytest.approx(points / 2)


BANDS = """\
- key: seconds
  text: Seconds until greeted
  type: number
  unit: seconds
  standard: speed
  weight: 2
  bands:
    - {max: 30, score: 1}
    - {max: 60, score: 0.5}
    - {score: 0}
"""


@pytest.mark.parametrize(
    "value, points",
    [
        (0.0, 2.0),     # first band
        (30.0, 2.0),    # the edge is inclusive: 30 ≤ 30 → score 1
        (30.5, 1.0),    # 2 × 0.5
        (60.0, 1.0),    # inclusive again
        (61.0, 0.0),    # the last band (no max) catches the rest
        (3600.0, 0.0),
    ],
)
def test_number_bands(earned, value, points):
    got, possible, overall = earned(BANDS, value)
    assert (got, possible) == (pytest.approx(points), 2.0)
    assert overall == pytest.approx(points / 2)


def test_unscored_questions_earn_nothing_and_weigh_nothing():
    checklist = build(
        """\
        slug: t
        title: T
        channel: visit
        sections:
          - key: only
            title: Only
            questions:
              - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting}
              - {key: screener, text: "Drive-thru?", type: yes_no, scored: false}
              - {key: minutes, text: Minutes inside, type: number}
              - {key: notes, text: Notes, type: text}
              - {key: day, text: Day, type: date}
              - {key: clock, text: Time, type: time}
              - {key: receipt, text: Receipt, type: photo, required: false}
              - key: entrance
                text: Entrance used
                type: choice
                options:
                  - {key: front, label: Front}
                  - {key: side, label: Side}
        """
    )
    answers = {
        "greeted": "yes", "screener": "no", "minutes": 12.0, "notes": "fine",
        "day": "2026-01-05", "clock": "10:15", "receipt": None, "entrance": "side",
    }
    result = score(checklist, answers)
    assert result.score == pytest.approx(1.0)  # only greeted counts: 1 / 1
    assert result.sections[0].possible == 1.0
    for key in ("screener", "minutes", "notes", "day", "clock", "entrance"):
        assert result.by_key[key].earned is None and result.by_key[key].possible is None
    assert result.standards == {"greeting": pytest.approx(1.0)}


# --- not applicable ---------------------------------------------------------------------------

NA_CHECKLIST = """\
slug: t
title: T
channel: visit
sections:
  - key: only
    title: Only
    questions:
      - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting}
      - key: price_right
        text: Did you pay the price shown?
        type: yes_no
        standard: accuracy
        weight: 2
        allow_na: true
      - key: farewell
        text: Did they say goodbye?
        type: yes_no
        standard: farewell
        required: false
"""


def test_explicit_na_counts_neither_earned_nor_possible():
    checklist = build(NA_CHECKLIST)
    result = score(checklist, {"greeted": "yes", "price_right": NA, "farewell": "no"})
    # greeted 1/1, price_right N/A, farewell 0/1 → 1 / 2
    assert result.score == pytest.approx(0.5)
    assert result.by_key["price_right"].status == "na"
    assert result.by_key["price_right"].possible is None
    assert "accuracy" not in result.standards


def test_answered_question_counts_where_na_would_not():
    checklist = build(NA_CHECKLIST)
    result = score(checklist, {"greeted": "yes", "price_right": "no", "farewell": "no"})
    # 1 + 0 + 0 over 1 + 2 + 1 = 1/4
    assert result.score == pytest.approx(0.25)


@pytest.mark.parametrize("blank", [None, ""])
def test_optional_scored_question_left_blank_is_na(blank):
    checklist = build(NA_CHECKLIST)
    result = score(checklist, {"greeted": "no", "price_right": "yes", "farewell": blank})
    # greeted 0/1, price_right 2/2, farewell N/A → 2 / 3
    assert result.score == pytest.approx(2 / 3)
    assert result.by_key["farewell"].status == "na"


def test_optional_question_missing_from_the_answers_is_na():
    checklist = build(NA_CHECKLIST)
    result = score(checklist, {"greeted": "no", "price_right": "yes"})
    assert result.score == pytest.approx(2 / 3)
    assert result.by_key["farewell"].status == "na"


# --- show_if ----------------------------------------------------------------------------------

SHOW_IF = """\
slug: t
title: T
channel: visit
sections:
  - key: start
    title: Start
    questions:
      - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting}
      - {key: briefed, text: "Complaint in your briefing?", type: yes_no, scored: false}
  - key: complaint
    title: Complaint
    weight: 2
    show_if: {question: briefed, equals: yes}
    questions:
      - {key: raised, text: "Could you raise it?", type: yes_no, scored: false}
      - key: apologised
        text: Did they apologise?
        type: yes_no
        standard: problem_solving
        show_if: {question: raised, equals: yes}
      - key: outcome
        text: How was it handled?
        type: choice
        standard: problem_solving
        weight: 3
        show_if: {question: raised, in: [yes]}
        options:
          - {key: solved, label: Solved, score: 1}
          - {key: ignored, label: Ignored, score: 0}
  - key: follow_up
    title: Follow-up
    questions:
      - key: promised_call
        text: Did they promise a call back?
        type: yes_no
        standard: farewell
        show_if: {question: apologised, equals: yes}
      - {key: thanked, text: "Thanked?", type: yes_no, standard: farewell}
"""


def test_shown_questions_count():
    checklist = build(SHOW_IF)
    answers = {
        "greeted": "yes", "briefed": "yes", "raised": "yes", "apologised": "yes",
        "outcome": "ignored", "promised_call": "no", "thanked": "yes",
    }
    result = score(checklist, answers)
    start, complaint, follow_up = result.sections
    assert start.score == pytest.approx(1.0)        # 1 / 1
    assert complaint.score == pytest.approx(0.25)   # (1 + 0) / (1 + 3)
    assert follow_up.score == pytest.approx(0.5)    # (0 + 1) / 2
    # (1 × 1 + 2 × 0.25 + 1 × 0.5) / (1 + 2 + 1) = 2 / 4
    assert result.score == pytest.approx(0.5)


def test_question_hidden_by_its_parent_answer_is_dropped():
    checklist = build(SHOW_IF)
    # The complaint could not be raised, but a form without JavaScript still sends the children.
    answers = {
        "greeted": "yes", "briefed": "yes", "raised": "no", "apologised": "no",
        "outcome": "ignored", "promised_call": "no", "thanked": "yes",
    }
    result = score(checklist, answers)
    assert result.by_key["apologised"].status == "hidden"
    assert result.by_key["outcome"].status == "hidden"
    assert result.by_key["outcome"].earned is None
    # The complaint section has nothing applicable: it leaves the overall mean.
    assert result.sections[1].score is None
    # Chained: promised_call's parent (apologised) is hidden, so it is hidden too.
    assert result.by_key["promised_call"].status == "hidden"
    # start 1/1 (weight 1), follow_up 1/1 (weight 1) → 1
    assert result.score == pytest.approx(1.0)
    assert "problem_solving" not in result.standards


def test_whole_section_hidden_hides_its_questions_and_their_children():
    checklist = build(SHOW_IF)
    answers = {
        "greeted": "no", "briefed": "no", "raised": "yes", "apologised": "yes",
        "outcome": "solved", "promised_call": "yes", "thanked": "yes",
    }
    result = score(checklist, answers)
    for key in ("raised", "apologised", "outcome", "promised_call"):
        assert result.by_key[key].status == "hidden", key
    assert result.sections[1].score is None
    # start 0/1 (weight 1), follow_up: thanked 1/1 (weight 1) → (0 + 1) / 2
    assert result.score == pytest.approx(0.5)


def test_above_and_below_on_a_number_and_in_on_a_multi():
    checklist = build(
        """\
        slug: t
        title: T
        channel: visit
        sections:
          - key: only
            title: Only
            questions:
              - {key: waited, text: Minutes waited, type: number}
              - key: apologised_for_wait
                text: Did they apologise for the wait?
                type: yes_no
                standard: communication
                show_if: {question: waited, above: 5}
              - key: did
                text: What did they do?
                type: multi
                options:
                  - {key: smiled, label: Smiled}
                  - {key: named, label: Used your name}
              - key: name_right
                text: Did they get your name right?
                type: yes_no
                standard: accuracy
                show_if: {question: did, equals: named}
              - key: quick_thanks
                text: Did they thank you for coming?
                type: yes_no
                standard: farewell
                show_if: {question: waited, below: 5}
        """
    )
    answers = {"apologised_for_wait": "no", "name_right": "yes", "quick_thanks": "no"}
    # 5 is neither above 5 nor below 5 (strict): both hidden; "named" is among the selection.
    result = score(checklist, {**answers, "waited": 5.0, "did": ["smiled", "named"]})
    assert result.by_key["apologised_for_wait"].status == "hidden"
    assert result.by_key["quick_thanks"].status == "hidden"
    assert result.by_key["name_right"].status == "answered"
    assert result.score == pytest.approx(1.0)  # name_right 1 / 1
    # 7 > 5 shows the apology question; without "named" the name question hides.
    result = score(checklist, {**answers, "waited": 7.0, "did": ["smiled"]})
    assert result.by_key["apologised_for_wait"].status == "answered"
    assert result.by_key["name_right"].status == "hidden"
    assert result.score == pytest.approx(0.0)  # apologised_for_wait 0 / 1


def test_nothing_applicable_at_all_has_no_score():
    checklist = build(NA_CHECKLIST)
    result = score(checklist, {"greeted": NA, "price_right": NA, "farewell": None})
    assert result.score is None
    assert result.computed_score is None
    assert not result.critical_fail


def test_a_required_question_left_blank_is_refused_not_read_as_na():
    """The form refuses a blank required answer; the scorer does too, whatever path the answers took."""
    checklist = build(NA_CHECKLIST)
    with pytest.raises(Incomplete) as caught:
        score(checklist, {"greeted": None, "price_right": "yes", "farewell": None})
    assert caught.value.slots == ["greeted"]
    assert score(checklist, {"greeted": "yes", "price_right": "yes", "farewell": None}).score == 1.0


# --- sections and standards -------------------------------------------------------------------

WEIGHTS = """\
slug: t
title: T
channel: visit
sections:
  - key: arrival
    title: Arrival
    weight: 3
    questions:
      - {key: fast, text: "Greeted fast?", type: yes_no, standard: speed, weight: 2}
      - {key: warm, text: "Warm greeting?", type: yes_no, standard: greeting}
  - key: till
    title: Till
    questions:
      - {key: quick_till, text: "Quick at the till?", type: yes_no, standard: speed}
      - {key: thanked, text: "Thanked?", type: yes_no, standard: farewell, weight: 3}
  - key: extras
    title: Extras
    weight: 5
    questions:
      - {key: bag, text: "Offered a bag?", type: yes_no, standard: farewell, allow_na: true}
"""


def test_section_weights_make_the_overall_a_weighted_mean():
    checklist = build(WEIGHTS)
    answers = {"fast": "yes", "warm": "no", "quick_till": "no", "thanked": "yes", "bag": "no"}
    result = score(checklist, answers)
    arrival, till, extras = result.sections
    assert arrival.score == pytest.approx(2 / 3)    # (2 + 0) / (2 + 1)
    assert till.score == pytest.approx(3 / 4)       # (0 + 3) / (1 + 3)
    assert extras.score == pytest.approx(0.0)       # 0 / 1
    # (3 × 2/3 + 1 × 3/4 + 5 × 0) / (3 + 1 + 5) = 2.75 / 9
    assert result.score == pytest.approx(2.75 / 9)


def test_standard_score_pools_questions_across_sections():
    checklist = build(WEIGHTS)
    answers = {"fast": "yes", "warm": "no", "quick_till": "no", "thanked": "yes", "bag": "no"}
    result = score(checklist, answers)
    assert result.standards == {
        "speed": pytest.approx(2 / 3),      # fast 2/2 + quick_till 0/1 → 2 / 3
        "greeting": pytest.approx(0.0),     # warm 0/1
        "farewell": pytest.approx(3 / 4),   # thanked 3/3 + bag 0/1 → 3 / 4
    }


def test_section_with_nothing_applicable_leaves_the_overall_mean():
    checklist = build(WEIGHTS)
    answers = {"fast": "yes", "warm": "no", "quick_till": "no", "thanked": "yes", "bag": NA}
    result = score(checklist, answers)
    assert result.sections[2].score is None
    # (3 × 2/3 + 1 × 3/4) / (3 + 1) = 2.75 / 4 — the extras' weight 5 is gone
    assert result.score == pytest.approx(2.75 / 4)
    assert result.standards["farewell"] == pytest.approx(1.0)  # thanked 3/3, bag N/A


def test_answer_results_carry_section_and_standard():
    checklist = build(WEIGHTS)
    answers = {"fast": "yes", "warm": "no", "quick_till": "no", "thanked": "yes", "bag": "no"}
    result = score(checklist, answers)
    thanked = result.by_key["thanked"]
    assert (thanked.section_key, thanked.standard, thanked.earned, thanked.possible) == (
        "till", "farewell", 3.0, 3.0
    )
    assert [q.key for q in result.questions] == ["fast", "warm", "quick_till", "thanked", "bag"]


# --- critical questions -----------------------------------------------------------------------

CRITICAL = """\
slug: t
title: T
channel: visit
on_critical_fail: {rule}
sections:
  - key: greeting
    title: Greeting
    questions:
      - {{key: greeted, text: "Greeted?", type: yes_no, standard: greeting}}
  - key: service
    title: Service
    weight: 3
    questions:
      - key: used_phone
        text: Did they use a personal phone?
        type: yes_no
        pass_on: no
        standard: communication
        critical: {critical}
        allow_na: true
      - {{key: polite, text: "Polite?", type: yes_no, standard: communication}}
"""


def critical(rule: str = "zero", on_question: str = "true") -> Checklist:
    return build(CRITICAL.format(rule=rule, critical=on_question))


FAILING = {"greeted": "yes", "used_phone": "yes", "polite": "yes"}
# greeting 1/1; service (0 + 1) / 2 = 0.5; overall (1 × 1 + 3 × 0.5) / 4 = 0.625


def test_critical_zero_sets_overall_to_zero_and_keeps_the_rest():
    result = score(critical(on_question="zero"), FAILING)
    assert result.critical_fail is True
    assert result.overridden is True
    assert result.score == 0.0
    assert result.computed_score == pytest.approx(0.625)
    assert [s.score for s in result.sections] == [pytest.approx(1.0), pytest.approx(0.5)]
    assert result.standards["communication"] == pytest.approx(0.5)
    assert result.by_key["used_phone"].critical_fail is True
    assert result.by_key["used_phone"].critical_rule == "zero"


def test_critical_flag_keeps_the_score():
    result = score(critical(on_question="flag"), FAILING)
    assert result.critical_fail is True
    assert result.overridden is False
    assert result.score == pytest.approx(0.625)
    assert result.by_key["used_phone"].critical_rule == "flag"


def test_critical_true_follows_the_checklist_default_zero():
    result = score(critical(rule="zero", on_question="true"), FAILING)
    assert result.critical_fail is True
    assert result.score == 0.0


def test_critical_true_follows_a_checklist_flag():
    result = score(critical(rule="flag", on_question="true"), FAILING)
    assert result.critical_fail is True
    assert result.score == pytest.approx(0.625)
    assert result.by_key["used_phone"].critical_rule == "flag"


def test_question_zero_overrides_a_checklist_flag():
    result = score(critical(rule="flag", on_question="zero"), FAILING)
    assert result.critical_fail is True
    assert result.score == 0.0


def test_critical_question_passed_is_no_failure():
    result = score(critical(), {**FAILING, "used_phone": "no"})
    # greeting 1; service (1 + 1) / 2 = 1 → 1
    assert result.critical_fail is False
    assert result.score == pytest.approx(1.0)
    assert result.by_key["used_phone"].critical_fail is False


def test_critical_question_na_is_no_failure():
    result = score(critical(), {**FAILING, "used_phone": NA})
    # greeting 1/1; service polite 1/1 → 1
    assert result.critical_fail is False
    assert result.score == pytest.approx(1.0)


def test_critical_question_hidden_is_no_failure():
    checklist = build(
        """\
        slug: t
        title: T
        channel: visit
        sections:
          - key: only
            title: Only
            questions:
              - {key: bought, text: "Did you buy something?", type: yes_no, scored: false}
              - key: price_right
                text: Did you pay the price shown?
                type: yes_no
                standard: accuracy
                critical: true
                show_if: {question: bought, equals: yes}
              - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting, weight: 2}
        """
    )
    result = score(checklist, {"bought": "no", "price_right": "no", "greeted": "yes"})
    assert result.by_key["price_right"].status == "hidden"
    assert result.critical_fail is False
    assert result.score == pytest.approx(1.0)  # greeted 2 / 2
    result = score(checklist, {"bought": "yes", "price_right": "no", "greeted": "yes"})
    assert result.critical_fail is True
    assert result.score == 0.0
    assert result.computed_score == pytest.approx(2 / 3)  # (0 + 2) / (1 + 2)


def test_critical_partial_credit_is_not_a_failure_but_zero_credit_is():
    checklist = one_question(
        """\
        - key: outcome
          text: How was the complaint handled?
          type: scale
          min: 1
          max: 3
          standard: problem_solving
          critical: flag
        """
    )
    result = score(checklist, {"outcome": 2})  # (2 − 1) / 2 = 0.5 earned: not a failure
    assert (result.critical_fail, result.score) == (False, pytest.approx(0.5))
    result = score(checklist, {"outcome": 1})  # the bottom of the scale earns 0
    assert (result.critical_fail, result.score) == (True, pytest.approx(0.0))
    assert result.overridden is False


# --- keys for real programmes (SPEC §3, §4) -----------------------------------------------------

STAFF = """\
slug: t
title: T
channel: visit
sections:
  - key: arrival
    title: Arrival
    weight: 1
    questions:
      - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting}
  - key: staff
    title: Each employee you met
    weight: 3
    repeat: {min: 1, max: 4, label: "Employee {n}"}
    questions:
      - {key: name_badge, text: "Name badge?", type: yes_no, standard: communication, weight: 1}
      - {key: friendly, text: "Friendly?", type: scale, min: 1, max: 5, standard: greeting, weight: 3}
      - key: rude_reason
        text: What was rude?
        type: text
        show_if: {question: friendly, below: 2}
"""


def test_repetitions_are_scored_each_as_a_section_and_averaged():
    checklist = build(STAFF)
    answers = {"greeted": "yes",
               ("name_badge", 1): "yes", ("friendly", 1): 5,              # (1 + 3) / 4 = 1
               ("name_badge", 2): "no", ("friendly", 2): 1, ("rude_reason", 2): "Ignored me"}  # 0 / 4 = 0
    result = score(checklist, answers, {"staff": 2})
    arrival, staff = result.sections
    assert [r.score for r in staff.repetitions] == [1.0, 0.0]
    assert staff.score == 0.5                                # the mean of the two repetitions
    # Overall: (1 × 1 + 0.5 × 3) / (1 + 3) = 2.5 / 4; the section's weight counts once.
    assert result.score == pytest.approx(0.625)
    # Standards take every answer of every repetition: greeting = (1 + 3 + 0) / (1 + 3 + 3) = 4 / 7.
    assert result.standards["greeting"] == pytest.approx(4 / 7)
    assert result.standards["communication"] == pytest.approx(1 / 2)
    # A show_if inside a repetition reads the same repetition's answer.
    assert result.by_key[("rude_reason", 1)].status == "hidden"
    assert result.by_key[("rude_reason", 2)].status == "answered"
    assert [(r.key, r.repeat) for r in result.questions][:4] == [
        ("greeted", None), ("name_badge", 1), ("friendly", 1), ("rude_reason", 1)]


def test_a_critical_failure_in_any_repetition_is_the_visits():
    checklist = build(STAFF.replace('standard: communication, weight: 1}',
                                    'standard: communication, weight: 1, critical: true}'))
    answers = {"greeted": "yes", ("name_badge", 1): "yes", ("friendly", 1): 5,
               ("name_badge", 2): "no", ("friendly", 2): 5}
    result = score(checklist, answers, {"staff": 2})
    assert result.critical_fail and result.score == 0
    # Computed before the override: arrival 1, staff mean(1, 0.75) = 0.875 → (1 + 3 × 0.875) / 4.
    assert result.computed_score == pytest.approx(3.625 / 4)


ADJUSTED = """\
slug: t
title: T
channel: visit
sections:
  - key: only
    title: Only
    questions:
      - {key: greeted, text: "Greeted?", type: yes_no, standard: greeting}
      - {key: thanked, text: "Thanked?", type: yes_no, standard: greeting, weight: 3}
      - {key: upsell, text: "Offered something extra?", type: yes_no, bonus: 10}
      - {key: eating, text: "Anyone eating at the counter?", type: yes_no, pass_on: no, deduction: 25}
      - {key: locked, text: "Was the door locked in opening hours?", type: yes_no, pass_on: no, critical: zero,
         standard: accuracy}
"""


@pytest.mark.parametrize(("greeted", "thanked", "upsell", "eating", "overall"), [
    # The section holds greeted (1), thanked (3) and the critical locked (1, answered "no": passes).
    # (1 + 3 + 1) / 5 = 100 %; + 10 bonus → 110, held at 100.
    ("yes", "yes", "yes", "no", 1.0),
    # (0 + 3 + 1) / 5 = 80 %; + 10 − 25 = 65 %.
    ("no", "yes", "yes", "yes", 0.65),
    # (1 + 0 + 1) / 5 = 40 %; no bonus, − 25 → 15 %.
    ("yes", "no", "no", "yes", 0.15),
    # (0 + 0 + 1) / 5 = 20 %; − 25 → −5, held at 0.
    ("no", "no", "no", "yes", 0.0),
])
def test_bonus_and_deductions_move_the_overall_within_0_and_100(greeted, thanked, upsell, eating, overall):
    checklist = build(ADJUSTED)
    result = score(checklist, {"greeted": greeted, "thanked": thanked, "upsell": upsell, "eating": eating,
                               "locked": "no"})
    assert result.score == pytest.approx(overall)
    # Outside every section and standard score.
    assert result.sections[0].possible == 4 + 1  # greeted, thanked and the critical one; not upsell or eating
    assert set(result.standards) == {"greeting", "accuracy"}
    assert result.by_key["upsell"].adjustment == (10.0 if upsell == "yes" else 0.0)
    assert result.by_key["eating"].adjustment == (-25.0 if eating == "yes" else 0.0)


def test_a_zero_critical_failure_sets_0_after_a_bonus():
    checklist = build(ADJUSTED)
    result = score(checklist, {"greeted": "yes", "thanked": "yes", "upsell": "yes", "eating": "no",
                               "locked": "yes"})
    # (1 + 3 + 0) / 5 = 80 % + 10 = 90 % computed; the door was locked: 0.
    assert result.computed_score == pytest.approx(0.9)
    assert result.score == 0 and result.overridden


def test_a_hidden_or_na_bonus_counts_neither_way():
    checklist = build(ADJUSTED.replace("bonus: 10}", "bonus: 10, allow_na: true}"))
    result = score(checklist, {"greeted": "no", "thanked": "yes", "upsell": NA, "eating": "no", "locked": "no"})
    assert result.by_key["upsell"].status == "na" and result.by_key["upsell"].adjustment is None
    assert result.score == pytest.approx(4 / 5)  # (0 + 3 + 1) / 5, nothing added


def test_an_outcome_scores_0_on_its_standards_only():
    checklist = build("""\
        slug: t
        title: T
        channel: call
        outcomes:
          - {key: no_answer, label: Nobody answered three calls, score: 0, standards: [speed]}
          - {key: all_standards, label: Line dead, score: 0}
          - {key: could_not_call, label: I could not call, score: none}
        sections:
          - key: only
            title: Only
            questions:
              - {key: rings, text: "Answered within three rings?", type: yes_no, standard: speed}
              - {key: polite, text: "Polite?", type: yes_no, standard: communication}
        """)
    result = score_outcome(checklist, checklist.outcome("no_answer"))
    assert (result.score, result.standards, result.sections, result.outcome) == (0.0, {"speed": 0.0}, [], "no_answer")
    # Without a list: every standard the checklist scores.
    assert score_outcome(checklist, checklist.outcome("all_standards")).standards == {"speed": 0.0,
                                                                                     "communication": 0.0}
    assert not checklist.outcome("could_not_call").counts
