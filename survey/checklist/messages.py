"""Every rule a checklist can break, by code: how a file's author reads it, and how HQ's editor says it.

The validator (``base``, ``types``, ``schema``, ``rules``, ``loader``) reports a code and
its parameters; the words come from this one table. The first column is what ``flask
checklist validate`` prints after ``file:line path:`` (tests pin it); the second, when
given, is how the editor says it beside a field, to someone who never sees the file.
Codes that pydantic itself raises (``missing``, ``greater_than``, ``float_parsing``, ...)
keep pydantic's names; those without a row here are worded from pydantic's own message.
"""

from __future__ import annotations

from typing import Any

#: code → (the file's words, the editor's words or None for the same).
MESSAGES: dict[str, tuple[str, str | None]] = {
    # keys and names
    "not_snake_case": ("must be lower_snake_case (a-z, 0-9, _; starting with a letter)", None),
    "not_slug": ("must be lower-case letters, digits and hyphens", None),
    "language_code": ("must be a language code such as en or de", None),
    "key_missing": ("required key missing", None),
    "unknown_key": ("unknown key{hint}", None),
    "key_not_allowed": ("'{name}' is not allowed here", None),
    "key_not_allowed_on_type": ("'{name}' is not allowed on a {kind} question", None),
    "type_missing": ("required key missing; one of {types}", None),
    "type_unknown": ("'{given}' is not a question type; use one of {types}", None),
    "critical_value": ("must be true, false, zero or flag", None),
    # numbers (pydantic's own codes)
    "greater_than": ("must be > {limit}", "must be more than {limit}"),
    "greater_than_equal": ("must be >= {limit}", "must be {limit} or more"),
    "less_than": ("must be < {limit}", "must be less than {limit}"),
    "less_than_equal": ("must be <= {limit}", "must be {limit} or less"),
    "float_parsing": (
        "must be a valid number, unable to parse string as a number",
        "must be a number, such as 2 or 0.5",
    ),
    "int_parsing": ("must be a valid integer, unable to parse string as an integer", "must be a whole number"),
    "int_from_float": ("must be a valid integer, got a number with a fractional part", "must be a whole number"),
    "string_too_short": ("must have at least 1 character", "must not be empty"),
    # question types
    "min_not_below_max": ("min must be less than max", None),
    "scale_too_long": ("a scale may have at most 21 points", None),
    "scale_label_outside": ("label {point} is outside min..max", None),
    "options_too_few": ("needs at least two options", None),
    "options_repeated": ("option keys must be unique (repeated: {keys})", None),
    "options_mixed_scores": ("either every option has a score or none has", None),
    "bands_empty": ("bands: give at least one band, or leave bands out", None),
    "bands_last_max": ("the last band has no max (it catches everything above)", None),
    "bands_open_middle": ("only the last band may leave out max", None),
    "bands_order": ("band max values must be strictly increasing", None),
    # keys for real programmes (SPEC §3)
    "repeat_min_over_max": ("repeat: min must not be above max", None),
    "outcome_standards_uncounted": ("standards go only with score: 0 (an outcome that counts)", None),
    "outcome_key_twice": ("outcome key '{key}' is used twice", None),
    "bonus_and_deduction": ("give a bonus or a deduction, not both", None),
    "adjustment_weight": ("a bonus or deduction has no weight: it adds or takes percentage points", None),
    "adjustment_critical": ("a bonus or deduction can't be critical", None),
    "visit_not_a_question": ("'{key}' is not a question of this checklist", None),
    "visit_wrong_type": ("'{key}' is a {type} question; visit.{part} names a {part} question", None),
    "visit_conditional": ("'{key}' is asked only under a condition; the visit's {part} is always asked", None),
    "visit_optional": ("'{key}' is optional; the visit's {part} must be required", None),
    "visit_repeated": ("'{key}' is in a repeated section; the visit's {part} is asked once", None),
    "repeat_upload": ("a {type} question can't be in a repeated section; ask for the file once, after it", None),
    "show_if_into_repeat": ("'{question}' is inside the repeated section '{section}'; only a question of that "
                            "section may depend on it", None),
    # show_if
    "show_if_one_comparison": ("give exactly one of equals, in, above, below", None),
    "show_if_in_empty": ("in: needs at least one value", None),
    "show_if_not_earlier": ("'{question}' is not a question earlier in this checklist", None),
    "show_if_not_numeric": ("above/below need a scale or number question; '{question}' is {type}", None),
    "show_if_untestable": ("'{question}' is a {type} question; show_if can't test it", None),
    "show_if_bad_value": ("'{value}' is not an answer '{question}' can take ({allowed})", None),
    # the whole checklist
    "section_key_twice": ("section key '{key}' is used twice", None),
    "question_key_twice": ("question key '{key}' is used twice in this checklist", None),
    "standard_missing": ("a scored question must name a standard", None),
    "standard_unknown": ("unknown standard '{standard}'", "there is no standard “{standard}”; pick one from the list"),
    "standard_retired": (
        "standard '{standard}' is retired; pick another",
        "the standard “{title}” is retired; pick another",
    ),
    "standard_on_unscored": ("this question is not scored ({why}), so it names no standard", None),
    "critical_on_unscored": ("only a scored question can be critical ({why})", None),
    "comment_on_unscored": ("comment goes on scored questions only ({why})", None),
    "standard_key_twice": ("'{key}' is used twice", None),
    # YAML and files
    "yaml_invalid": ("not valid YAML: {problem}", None),
    "yaml_alias_loop": ("an alias refers to the block it stands in; that would never end", None),
    "yaml_key_not_text": ("a key must be plain text", None),
    "yaml_key_twice": ("this key is given twice", None),
    "yaml_merge_key": ("merge keys (<<) are not supported; write the keys out", None),
    "yaml_tag": ("the tag {tag} is not allowed; write a plain value", None),
    "yaml_too_deep": ("nested more than {depth} levels deep", None),
    "yaml_bool": ("YAML reads {raw} as true/false; put it in quotes ('{raw}') if you mean the text", None),
    "yaml_date": ("YAML reads {raw} as a date; put it in quotes ('{raw}')", None),
    "yaml_number": ("YAML reads {raw} as the number {value}; put it in quotes ('{raw}')", None),
    "yaml_surprising_number": ("YAML 1.1 reads {raw} as the number {value}; put it in quotes ('{raw}') if you "
                               "mean the text, or write {value}", None),
    "file_empty": ("the file is empty", None),
    "file_too_large": ("the file is too large or repeats aliases too often", None),
    "file_not_mapping": ("a checklist file is a mapping with slug, title, channel and sections", None),
    "not_utf8": ("not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8", None),
    "standards_not_checklist": (
        "this is a standards catalogue, not a checklist; import it on the command line with flask checklist import",
        None,
    ),
    "slug_reserved": ("“{slug}” is the name of an editor page; pick another slug", None),
    "import_raced": (
        "someone else published or started editing this checklist at the same moment, so nothing "
        "was imported. Look at the checklist's page, then import again",
        None,
    ),
}

#: Rules pydantic checks on a whole object, by code → the key they are about: the problem is
#: located there (its line and path), not at the object's first line.
AT_KEY: dict[str, str] = {
    "min_not_below_max": "min",
    "repeat_min_over_max": "min",
    "outcome_standards_uncounted": "standards",
    "adjustment_weight": "weight",
    "adjustment_critical": "critical",
}

#: The editor's words where they depend on what is being edited (code, last key of the path).
IN_PLACE: dict[tuple[str, str], str] = {
    ("greater_than_equal", "score"): "a score is between 0 and 1, such as 0.5",
    ("less_than_equal", "score"): "a score is between 0 and 1, such as 0.5",
    ("too_short", "questions"): "this section has no questions yet: add one, or delete the section",
    ("too_short", "sections"): "the checklist has no sections yet: add one",
}


def for_file(code: str, params: dict[str, Any] | None = None, fallback: str = "") -> str:
    """Word a problem as ``flask checklist validate`` prints it."""
    row = MESSAGES.get(code)
    return row[0].format(**(params or {})) if row else fallback


def for_people(
    code: str, params: dict[str, Any] | None, path: tuple, fallback: str, titles: dict[str, str] | None = None
) -> str:
    """Word a problem for the editor: a sentence beside a field (``titles``: standard key → title)."""
    params = dict(params or {})
    if "standard" in params:
        params.setdefault("title", (titles or {}).get(params["standard"], params["standard"]))
    last = path[-1] if path else ""
    template = IN_PLACE.get((code, last)) if isinstance(last, str) else None
    if template is None:
        row = MESSAGES.get(code)
        template = (row[1] or row[0]) if row else None
    message = template.format(**params) if template else fallback
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "?", "!", ")")) else message + "."
