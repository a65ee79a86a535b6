"""The loader refuses bad checklist files with messages located by file, line and path (SPEC §3).

Each YAML snippet marks the lines an assertion names with a ``# <line>`` comment.
"""

from __future__ import annotations

import textwrap

import pytest

from survey.checklist.loader import (
    ChecklistError,
    dump_yaml,
    LoadError,
    load_checklist_text,
    load_standards_text,
)

FILE = "store-visit.yaml"
STANDARDS = {"speed": False, "greeting": False, "communication": False, "old_speed": True}

#: Lines 1-7 of every small checklist below; its questions start on line 8.
HEAD = """\
slug: store-visit
title: Store visit
channel: visit
sections:
  - key: greeting
    title: Arrival and greeting
    questions:
"""


def checklist(*blocks: str) -> str:
    """Put question YAML blocks (each dedented) under HEAD, so the first starts on line 8."""
    questions = "".join(textwrap.dedent(block) for block in blocks)
    return HEAD + textwrap.indent(questions, " " * 6)


def doc(text: str) -> str:
    return textwrap.dedent(text)


def load(text: str, standards: dict[str, bool] = STANDARDS):
    return load_checklist_text(text, FILE, standards)


def errors(text: str, standards: dict[str, bool] = STANDARDS) -> list[str]:
    """Return every message the author sees for a refused file, in file order."""
    with pytest.raises(ChecklistError) as caught:
        load(text, standards)
    assert str(caught.value) == "\n".join(str(e) for e in caught.value.errors)
    return [str(e) for e in caught.value.errors]


# --- a valid file -----------------------------------------------------------------------------


def test_head_is_counted_right():
    text = checklist(
        """\
        - key: greeted                 # 8
          text: Were you greeted?      # 9
          type: yes_no                 # 10
          standard: speed              # 11
        """
    )
    assert text.splitlines()[7].strip().startswith("- key: greeted")
    loaded = load(text)
    assert [q.key for _, q in loaded.questions()] == ["greeted"]


def test_defaults_are_filled_in():
    loaded = load(
        checklist(
            """\
            - key: greeted
              text: Were you greeted?
              type: yes_no
              standard: speed
            - key: notes
              text: Anything else?
              type: text
            """
        )
    )
    greeted, notes = loaded.sections[0].questions
    assert loaded.language == "en"
    assert loaded.on_critical_fail == "zero"
    assert loaded.sections[0].weight == 1
    assert (greeted.weight, greeted.pass_on, greeted.critical) == (1, "yes", False)
    assert greeted.allow_na is False
    assert greeted.is_required is True
    assert notes.is_required is False


# --- keys -------------------------------------------------------------------------------------


def test_typo_in_a_key_suggests_the_right_one():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          wieght: 2                    # 12
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[0].questions[0].wieght: unknown key (did you mean 'weight'?)"
    ]


def test_typo_at_the_top_level_is_located_too():
    text = doc(
        """\
        slug: store-visit
        titel: Store visit
        channel: visit
        sections:
          - key: greeting
            title: Arrival and greeting
            questions:
              - key: greeted
                text: Were you greeted?
                type: yes_no
                standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:1 title: required key missing",
        "store-visit.yaml:2 titel: unknown key (did you mean 'title'?)",
    ]


def test_key_known_elsewhere_is_not_allowed_on_a_text_question():
    text = checklist(
        """\
        - key: notes
          text: Anything else?
          type: text
          bands: []                    # 11
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].bands: "
        "'bands' is not allowed on a text question"
    ]


def test_question_key_must_be_lower_snake_case():
    text = checklist(
        """\
        - key: Greeted-Fast            # 8
          text: Were you greeted?
          type: yes_no
          standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0].key: "
        "must be lower_snake_case (a-z, 0-9, _; starting with a letter)"
    ]


def test_missing_type_lists_the_types():
    text = checklist(
        """\
        - key: greeted                 # 8
          text: Were you greeted?
          standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0].type: required key missing; "
        "one of yes_no, scale, choice, multi, number, text, date, time, photo"
    ]


def test_unknown_type_lists_the_types():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yesno                  # 10
          standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:10 sections[0].questions[0].type: 'yesno' is not a question type; "
        "use one of yes_no, scale, choice, multi, number, text, date, time, photo"
    ]


def test_a_key_given_twice_in_one_mapping_is_an_error():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          text: Greeted at all?        # 12
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[0].questions[0].text: this key is given twice"
    ]


# --- numbers and ranges -----------------------------------------------------------------------


def test_weight_zero_is_refused_where_it_is_written():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          weight: 0                    # 12
        """
    )
    (message,) = errors(text)
    assert message.startswith("store-visit.yaml:12 sections[0].questions[0].weight: must be > 0")


def test_weight_zero_message_reads_as_in_the_spec():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          weight: 0                    # 12
        """
    )
    assert errors(text) == ["store-visit.yaml:12 sections[0].questions[0].weight: must be > 0"]


def test_section_weight_must_be_positive():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections:
          - key: greeting
            title: Arrival and greeting
            weight: -1                 # 7
            questions:
              - key: greeted
                text: Were you greeted?
                type: yes_no
                standard: speed
        """
    )
    (message,) = errors(text)
    assert message.startswith("store-visit.yaml:7 sections[0].weight: must be > 0")


@pytest.mark.parametrize("low, high", [(5, 1), (3, 3)])
def test_scale_min_must_be_below_max_said_at_the_min_key(low, high):
    text = checklist(
        f"""\
        - key: politeness              # 8
          text: How polite were they?
          type: scale
          min: {low}                     # 11
          max: {high}
          standard: communication
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].min: min must be less than max"
    ]


def test_scale_label_outside_the_range():
    text = checklist(
        """\
        - key: politeness              # 8
          text: How polite were they?
          type: scale
          min: 1
          max: 5
          labels: {1: Rude, 6: Saintly}
          standard: communication
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: label 6 is outside min..max"
    ]


def test_option_score_above_one():
    text = checklist(
        """\
        - key: outcome
          text: How was it handled?
          type: choice
          standard: speed
          options:
            - {key: solved, label: Solved, score: 1.5}     # 13
            - {key: ignored, label: Ignored, score: 0}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:13 sections[0].questions[0].options[0].score: must be <= 1"
    ]


# --- unique keys ------------------------------------------------------------------------------


def test_duplicate_section_key():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections:
          - key: greeting
            title: Arrival and greeting
            questions:
              - key: greeted
                text: Were you greeted?
                type: yes_no
                standard: speed
          - key: greeting              # 12
            title: Greeting again
            questions:
              - key: smiled
                text: Did they smile?
                type: yes_no
                standard: greeting
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[1].key: section key 'greeting' is used twice"
    ]


def test_duplicate_question_key_across_sections():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections:
          - key: greeting
            title: Arrival and greeting
            questions:
              - key: smiled
                text: Did they smile?
                type: yes_no
                standard: greeting
          - key: farewell
            title: Farewell
            questions:
              - key: smiled            # 15
                text: Did they smile when you left?
                type: yes_no
                standard: greeting
        """
    )
    assert errors(text) == [
        "store-visit.yaml:15 sections[1].questions[0].key: "
        "question key 'smiled' is used twice in this checklist"
    ]


# --- options and bands ------------------------------------------------------------------------


def test_choice_with_one_option():
    text = checklist(
        """\
        - key: outcome                 # 8
          text: How was it handled?
          type: choice
          standard: speed
          options:
            - {key: solved, label: Solved, score: 1}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: needs at least two options"
    ]


def test_multi_with_repeated_option_keys():
    text = checklist(
        """\
        - key: did                     # 8
          text: What did they do?
          type: multi
          options:
            - {key: smiled, label: Smiled}
            - {key: smiled, label: Smiled again}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: option keys must be unique (repeated: smiled)"
    ]


def test_options_partly_scored():
    text = checklist(
        """\
        - key: did                     # 8
          text: What did they do?
          type: multi
          standard: greeting
          options:
            - {key: smiled, label: Smiled, score: 0.5}
            - {key: waved, label: Waved}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: either every option has a score or none has"
    ]


@pytest.mark.parametrize("second_max", [30, 20])
def test_band_max_must_increase(second_max):
    text = checklist(
        f"""\
        - key: seconds                 # 8
          text: Seconds until greeted
          type: number
          standard: speed
          bands:
            - {{max: 30, score: 1}}
            - {{max: {second_max}, score: 0.5}}
            - {{score: 0}}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: band max values must be strictly increasing"
    ]


def test_band_without_max_before_the_last():
    text = checklist(
        """\
        - key: seconds                 # 8
          text: Seconds until greeted
          type: number
          standard: speed
          bands:
            - {score: 1}
            - {score: 0}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: only the last band may leave out max"
    ]


def test_last_band_with_a_max():
    text = checklist(
        """\
        - key: seconds                 # 8
          text: Seconds until greeted
          type: number
          standard: speed
          bands:
            - {score: 1}
            - {max: 30, score: 0}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0]: "
        "the last band has no max (it catches everything above)"
    ]


# --- show_if ----------------------------------------------------------------------------------

SCREENER = """\
- key: raised                  # 8
  text: Did you raise the complaint?
  type: yes_no
  scored: false
"""


def test_show_if_pointing_at_a_later_question():
    text = checklist(
        """\
        - key: outcome
          text: How was it handled?
          type: yes_no
          standard: speed
          show_if: {question: raised, equals: yes}     # 12
        - key: raised
          text: Did you raise the complaint?
          type: yes_no
          scored: false
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[0].questions[0].show_if.question: "
        "'raised' is not a question earlier in this checklist"
    ]


def test_show_if_pointing_at_a_missing_question():
    text = checklist(
        SCREENER,
        """\
        - key: outcome
          text: How was it handled?
          type: yes_no
          standard: speed
          show_if: {question: riased, equals: yes}     # 16
        """
    )
    assert errors(text) == [
        "store-visit.yaml:16 sections[0].questions[1].show_if.question: "
        "'riased' is not a question earlier in this checklist"
    ]


def test_section_show_if_pointing_at_a_question_of_its_own_section():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections:
          - key: complaint
            title: Complaint
            show_if: {question: raised, equals: yes}   # 7
            questions:
              - key: raised
                text: Did you raise the complaint?
                type: yes_no
                scored: false
        """
    )
    assert errors(text) == [
        "store-visit.yaml:7 sections[0].show_if.question: "
        "'raised' is not a question earlier in this checklist"
    ]


def test_show_if_with_a_value_a_yes_no_cannot_take():
    text = checklist(
        SCREENER,
        """\
        - key: outcome
          text: How was it handled?
          type: yes_no
          standard: speed
          show_if: {question: raised, equals: maybe}   # 16
        """
    )
    assert errors(text) == [
        "store-visit.yaml:16 sections[0].questions[1].show_if.equals: "
        "'maybe' is not an answer 'raised' can take (no, yes)"
    ]


def test_show_if_with_a_value_outside_the_scale():
    text = checklist(
        """\
        - key: politeness
          text: How polite were they?
          type: scale
          min: 1
          max: 5
          standard: communication
        - key: why_rude
          text: What made them rude?
          type: text
          show_if: {question: politeness, in: [1, 7]}  # 17
        """
    )
    assert errors(text) == [
        "store-visit.yaml:17 sections[0].questions[1].show_if.in: "
        "'7' is not an answer 'politeness' can take (1, 2, 3, 4, 5)"
    ]


def test_show_if_with_an_option_a_choice_does_not_have():
    text = checklist(
        """\
        - key: outcome
          text: How was it handled?
          type: choice
          options:
            - {key: solved, label: Solved}
            - {key: ignored, label: Ignored}
        - key: what_next
          text: What did they promise?
          type: text
          show_if: {question: outcome, equals: escalated}  # 17
        """
    )
    assert errors(text) == [
        "store-visit.yaml:17 sections[0].questions[1].show_if.equals: "
        "'escalated' is not an answer 'outcome' can take (ignored, solved)"
    ]


def test_show_if_above_on_a_yes_no():
    text = checklist(
        SCREENER,
        """\
        - key: outcome
          text: How was it handled?
          type: yes_no
          standard: speed
          show_if: {question: raised, above: 3}        # 16
        """
    )
    assert errors(text) == [
        "store-visit.yaml:16 sections[0].questions[1].show_if: "
        "above/below need a scale or number question; 'raised' is yes_no"
    ]


def test_show_if_needs_exactly_one_comparison():
    text = checklist(
        SCREENER,
        """\
        - key: outcome
          text: How was it handled?
          type: yes_no
          standard: speed
          show_if: {question: raised}                  # 16
        """
    )
    assert errors(text) == [
        "store-visit.yaml:16 sections[0].questions[1].show_if: "
        "give exactly one of equals, in, above, below"
    ]


# --- standards --------------------------------------------------------------------------------


def test_unknown_standard():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: sped               # 11
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].standard: unknown standard 'sped'"
    ]


def test_retired_standard():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: old_speed          # 11
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].standard: "
        "standard 'old_speed' is retired; pick another"
    ]


def test_scored_question_without_standard():
    text = checklist(
        """\
        - key: greeted                 # 8
          text: Were you greeted?
          type: yes_no
        """
    )
    assert errors(text) == [
        "store-visit.yaml:8 sections[0].questions[0].standard: "
        "a scored question must name a standard"
    ]


def test_unscored_question_naming_a_standard():
    text = checklist(
        """\
        - key: raised
          text: Did you raise the complaint?
          type: yes_no
          scored: false
          standard: speed              # 12
        - key: seconds
          text: Seconds until greeted
          type: number
          standard: speed              # 16
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[0].questions[0].standard: "
        "this question is not scored (scored: false), so it names no standard",
        "store-visit.yaml:16 sections[0].questions[1].standard: "
        "this question is not scored (a number without bands), so it names no standard",
    ]


def test_critical_on_a_text_question():
    text = checklist(
        """\
        - key: notes
          text: Describe the employee
          type: text
          critical: true               # 11
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].critical: "
        "'critical' is not allowed on a text question"
    ]


def test_critical_and_comment_on_an_unscored_choice():
    text = checklist(
        """\
        - key: visit_kind
          text: Which entrance did you use?
          type: choice
          critical: true               # 11
          comment: on_fail             # 12
          options:
            - {key: front, label: Front}
            - {key: side, label: Side}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:11 sections[0].questions[0].critical: "
        "only a scored question can be critical (its options carry no score)",
        "store-visit.yaml:12 sections[0].questions[0].comment: "
        "comment goes on scored questions only (its options carry no score)",
    ]


# --- YAML 1.1 surprises -----------------------------------------------------------------------


def test_bare_yes_and_no_are_answers_where_answers_belong():
    loaded = load(
        checklist(
            """\
            - key: used_phone
              text: Did they use a personal phone?
              type: yes_no
              pass_on: no
              standard: communication
            - key: what_app
              text: Was it a call?
              type: yes_no
              standard: communication
              show_if: {question: used_phone, equals: yes}
            - key: how_long
              text: Was it long?
              type: yes_no
              standard: communication
              show_if: {question: used_phone, in: [yes]}
            """
        )
    )
    used_phone, what_app, how_long = loaded.sections[0].questions
    assert used_phone.pass_on == "no"
    assert what_app.show_if.equals == "yes"
    assert how_long.show_if.in_ == ["yes"]
    assert how_long.show_if.values() == ["yes"]


def test_bare_yes_in_a_section_show_if():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections:
          - key: start
            title: Start
            questions:
              - key: raised
                text: Did you raise the complaint?
                type: yes_no
                scored: false
          - key: complaint
            title: Complaint
            show_if: {question: raised, equals: no}
            questions:
              - key: why_not
                text: Why not?
                type: text
        """
    )
    assert load(text).sections[1].show_if.equals == "no"


def test_bare_no_as_an_option_key_or_label_must_be_quoted():
    text = checklist(
        """\
        - key: smiled
          text: Did they smile?
          type: choice
          standard: greeting
          options:
            - {key: 'yes', label: 'Yes', score: 1}
            - {key: no, label: No, score: 0}   # 14
        """
    )
    assert errors(text) == [
        "store-visit.yaml:14 sections[0].questions[0].options[1].key: "
        "YAML reads no as true/false; put it in quotes ('no') if you mean the text",
        "store-visit.yaml:14 sections[0].questions[0].options[1].label: "
        "YAML reads No as true/false; put it in quotes ('No') if you mean the text",
    ]


def test_quoted_yes_and_no_are_fine_as_options():
    loaded = load(
        checklist(
            """\
            - key: smiled
              text: Did they smile?
              type: choice
              standard: greeting
              options:
                - {key: 'yes', label: 'Yes', score: 1}
                - {key: "no", label: "No", score: 0}
            """
        )
    )
    options = loaded.sections[0].questions[0].options
    assert [(o.key, o.label) for o in options] == [("yes", "Yes"), ("no", "No")]


def test_bare_yes_as_a_title_must_be_quoted():
    text = doc(
        """\
        slug: store-visit
        title: Yes                     # 2
        channel: visit
        sections:
          - key: greeting
            title: Greeting
            questions:
              - key: greeted
                text: Were you greeted?
                type: yes_no
                standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:2 title: "
        "YAML reads Yes as true/false; put it in quotes ('Yes') if you mean the text"
    ]


def test_sexagesimal_time_in_a_label_says_what_yaml_made_of_it():
    text = checklist(
        """\
        - key: arrived
          text: When did the queue clear?
          type: choice
          options:
            - {key: early, label: 4:00}   # 12
            - {key: late, label: '5:00'}
        """
    )
    assert errors(text) == [
        "store-visit.yaml:12 sections[0].questions[0].options[0].label: "
        "YAML reads 4:00 as the number 240; put it in quotes ('4:00')"
    ]


def test_date_in_a_text_must_be_quoted():
    text = checklist(
        """\
        - key: greeted
          text: 2026-01-01             # 9
          type: yes_no
          standard: speed
        """
    )
    assert errors(text) == [
        "store-visit.yaml:9 sections[0].questions[0].text: "
        "YAML reads 2026-01-01 as a date; put it in quotes ('2026-01-01')"
    ]


# --- many errors, broken YAML -----------------------------------------------------------------


def test_every_field_error_in_a_file_is_reported_at_once():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          wieght: 2                    # 12
        - key: politeness              # 13
          text: How polite were they?
          type: scale
          min: 5
          max: 1
          standard: communication
        - key: outcome
          text: How was it handled?
          type: choice
          standard: speed
          options:
            - {key: solved, label: Solved, score: 1}
            - {key: no, label: Nothing, score: 0}   # 25
        - key: seconds
          text: Seconds until greeted
          type: number
          standard: speed
          weight: 0                    # 30
        """
    )
    found = errors(text)
    assert [m.split(" ", 1)[0] for m in found] == [
        "store-visit.yaml:12",
        "store-visit.yaml:16",
        "store-visit.yaml:25",
        "store-visit.yaml:30",
    ]
    assert "did you mean 'weight'" in found[0]
    assert found[1].endswith("sections[0].questions[1].min: min must be less than max")
    assert "put it in quotes ('no')" in found[2]
    assert "sections[0].questions[3].weight: must be > 0" in found[3]


def test_field_errors_and_reference_errors_are_reported_together():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: speed
          weight: 0                    # 12
        - key: smiled
          text: Did they smile?
          type: yes_no
          standard: smiling            # 16
        - key: greeted                 # 17
          text: Greeted again?
          type: yes_no
          standard: speed
        """
    )
    found = errors(text)
    assert [m.split(" ", 1)[0] for m in found] == [
        "store-visit.yaml:12",
        "store-visit.yaml:16",
        "store-visit.yaml:17",
    ]


def test_bad_value_in_a_union_field_is_located_at_the_key_itself():
    text = checklist(
        """\
        - key: greeted                 # 8
          text: Were you greeted?
          type: yes_no
          standard: speed
          critical: sometimes          # 12
        """
    )
    found = errors(text)
    assert found
    where = "store-visit.yaml:12 sections[0].questions[0].critical: "
    assert all(m.startswith(where) for m in found), found


def test_recursive_alias_is_refused_with_a_located_error():
    text = doc(
        """\
        slug: store-visit
        title: Store visit
        channel: visit
        sections: &loop
          - *loop
        """
    )
    assert errors(text)


def test_invalid_yaml_is_located():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted: really?    # 9
          type: yes_no
        """
    )
    assert errors(text) == [
        "store-visit.yaml:9: not valid YAML: mapping values are not allowed here"
    ]


def test_empty_file():
    assert errors("") == ["store-visit.yaml:1: the file is empty"]


def test_errors_carry_file_line_and_path():
    text = checklist(
        """\
        - key: greeted
          text: Were you greeted?
          type: yes_no
          standard: sped               # 11
        """
    )
    with pytest.raises(ChecklistError) as caught:
        load(text)
    assert caught.value.errors == [
        LoadError(FILE, 11, "sections[0].questions[0].standard", "unknown standard 'sped'")
    ]


# --- the standards catalogue ------------------------------------------------------------------


def test_standards_file_loads():
    catalogue = load_standards_text(
        doc(
            """\
            standards:
              - key: speed
                title: Speed of response
                description: Greet within 30 seconds.
              - key: old_speed
                title: Old speed rule
                retired: yes
            """
        ),
        "standards.yaml",
    )
    assert [(s.key, s.retired) for s in catalogue.standards] == [
        ("speed", False),
        ("old_speed", True),
    ]


def test_standards_file_with_a_duplicate_key():
    text = doc(
        """\
        standards:
          - key: speed
            title: Speed of response
          - key: greeting
            title: Greeting
          - key: speed                 # 6
            title: Speed again
        """
    )
    with pytest.raises(ChecklistError) as caught:
        load_standards_text(text, "standards.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "standards.yaml:6 standards[2].key: 'speed' is used twice"
    ]


def test_standards_file_with_a_typo():
    text = doc(
        """\
        standards:
          - key: speed
            title: Speed of response
            descripton: Greet within 30 seconds.   # 4
        """
    )
    with pytest.raises(ChecklistError) as caught:
        load_standards_text(text, "standards.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "standards.yaml:4 standards[0].descripton: unknown key (did you mean 'description'?)"
    ]


# --- keys for real programmes (SPEC §3) ---------------------------------------------------------

REAL = """\
slug: store-visit
title: Store visit
channel: visit
visit: {date: visit_day, time: visit_at}
outcomes:
  - {key: closed, label: The shop was closed, score: 0, standards: [speed]}
  - {key: could_not_go, label: I could not go, score: none}
sections:
  - key: when
    title: When
    questions:
      - {key: visit_day, text: Day of your visit, type: date}
      - {key: visit_at, text: Time of your visit, type: time}
  - key: staff
    title: Each employee you met
    weight: 2
    repeat: {min: 1, max: 5, label: "Employee {n}", add: Add another employee}
    questions:
      - {key: greeted, text: "Were you greeted?", type: yes_no, standard: speed}
      - {key: rude, text: "What happened?", type: text, show_if: {question: greeted, equals: no}}
  - key: shop
    title: The shop
    questions:
      - {key: extra, text: "Offered something extra?", type: yes_no, bonus: 5, standard: communication}
      - {key: eating, text: "Anyone eating at the counter?", type: yes_no, pass_on: no, deduction: 10}
      - {key: polite, text: "Polite?", type: yes_no, standard: communication}
"""


def test_a_checklist_with_every_key_for_real_programmes_loads_and_exports_back_unchanged():
    loaded = load(REAL)
    staff = loaded.sections[1]
    assert (staff.repeat.min, staff.repeat.max, staff.repeat.heading(3)) == (1, 5, "Employee 3")
    assert [o.counts for o in loaded.outcomes] == [True, False]
    extra, eating = loaded.sections[2].questions[:2]
    assert (extra.kind.adjustment(extra), eating.kind.adjustment(eating)) == (("bonus", 5), ("deduction", 10))
    assert not extra.scored and loaded.scored_standards() == ["speed", "communication"]
    content = loaded.canonical()
    again = load(dump_yaml(content))
    assert again.canonical() == content


@pytest.mark.parametrize(("old", "new", "message"), [
    ("repeat: {min: 1, max: 5,", "repeat: {min: 6, max: 5,",
     "store-visit.yaml:17 sections[1].repeat.min: repeat: min must not be above max"),
    ("{key: extra, text: \"Offered something extra?\", type: yes_no, bonus: 5, standard: communication}",
     "{key: extra, text: \"Offered something extra?\", type: scale, min: 1, max: 5, bonus: 5, standard: communication}",
     "store-visit.yaml:24 sections[2].questions[0].bonus: 'bonus' is not allowed on a scale question"),
    ("deduction: 10}", "deduction: 0}",
     "store-visit.yaml:25 sections[2].questions[1].deduction: must be > 0"),
    ("bonus: 5,", "bonus: 150,",
     "store-visit.yaml:24 sections[2].questions[0].bonus: must be <= 100"),
    ("bonus: 5,", "bonus: 5, weight: 2,",
     "store-visit.yaml:24 sections[2].questions[0].weight: "
     "a bonus or deduction has no weight: it adds or takes percentage points"),
    ("bonus: 5,", "bonus: 5, deduction: 5,",
     "store-visit.yaml:24 sections[2].questions[0]: give a bonus or a deduction, not both"),
    ("{key: polite, text: \"Polite?\", type: yes_no, standard: communication}",
     "{key: polite, text: \"Polite?\", type: yes_no, standard: communication, "
     "show_if: {question: greeted, equals: yes}}",
     "store-visit.yaml:26 sections[2].questions[2].show_if.question: 'greeted' is inside the repeated section "
     "'staff'; only a question of that section may depend on it"),
    ("standards: [speed]", "standards: [sped]",
     "store-visit.yaml:6 outcomes[0].standards[0]: unknown standard 'sped'"),
    ("score: none}", "score: none, standards: [speed]}",
     "store-visit.yaml:7 outcomes[1].standards: standards go only with score: 0 (an outcome that counts)"),
    ("visit: {date: visit_day, time: visit_at}", "visit: {date: visit_at}",
     "store-visit.yaml:4 visit.date: 'visit_at' is a time question; visit.date names a date question"),
    ("visit: {date: visit_day, time: visit_at}", "visit: {date: greeted}",
     "store-visit.yaml:4 visit.date: 'greeted' is a yes_no question; visit.date names a date question"),
    ("{key: visit_day, text: Day of your visit, type: date}",
     "{key: visit_day, text: Day of your visit, type: date, required: false}",
     "store-visit.yaml:4 visit.date: 'visit_day' is optional; the visit's date must be required"),
    ("{key: rude, text: \"What happened?\", type: text,", "{key: rude, text: \"What happened?\", type: photo,",
     "store-visit.yaml:20 sections[1].questions[1].type: a photo question can't be in a repeated section; "
     "ask for the file once, after it"),
])
def test_bad_keys_for_real_programmes_are_located_errors(old, new, message):
    assert old in REAL
    assert errors(REAL.replace(old, new, 1)) == [message]


def test_every_error_is_listed_at_once_unknown_standards_included():
    """A misspelt standard on a question that is broken otherwise is reported in the same pass."""
    text = REAL.replace('{key: polite, text: "Polite?", type: yes_no, standard: communication}',
                        '{key: polite, text: "Polite?", type: yes_no, standard: sped, weight: 0}')
    found = errors(text)
    assert any(m.endswith("sections[2].questions[2].weight: must be > 0") for m in found)
    assert any(m.endswith("sections[2].questions[2].standard: unknown standard 'sped'") for m in found)


@pytest.mark.parametrize(("raw", "value"), [("010", 8), ("0x1F", 31), ("1_000", 1000), ("0b11", 3)])
def test_numbers_yaml_1_1_reads_surprisingly_must_be_quoted(raw, value):
    text = REAL.replace("label: The shop was closed", f"label: {raw}")
    assert errors(text) == [
        f"store-visit.yaml:6 outcomes[0].label: YAML 1.1 reads {raw} as the number {value}; "
        f"put it in quotes ('{raw}') if you mean the text, or write {value}"
    ]
