"""Forms of the HQ console: one declarative class per purpose; database checks in ``validate_<field>``."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from ..checklist.base import KEY_RE
from ..flags import LABELS as FLAG_LABELS
from ..hours import HoursError, parse_hours
from . import queries
from .queries import SubmissionFilter
from ..extensions import db
from ..models import Assignment, AssignmentState, Branch, Checklist, Region, ReviewState, Standard, Wave, code_is

#: Region and branch codes go into URLs, file names and CSV cells: keep them plain.
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CODE_HELP = "Letters, digits, '-', '_' or '.'; at most 32 characters."
BRANCH_CSV_HEADER = ("code", "name", "region_code", "address")
#: The optional fifth column of a branches CSV.
HOURS_COLUMN = "opening_hours"
#: Column limits of the Branch model, so a long cell is refused with a message, not by the database.
BRANCH_LIMITS = {"code": 32, "name": 200, "address": 500}
MAX_LINKS_PER_WAVE = 5000
#: What a date box says when what was typed is not a date (instead of WTForms' "Not a valid date value.").
DATE_MESSAGE = "Enter a date, for example 2026-12-31."


def optional_int(value):
    """Coerce a select's value to an int, with the empty choice ("any") as None.

    Anything else is returned as it came, so it matches no choice and the field's
    own message ("Choose a ... from the list") is shown instead of WTForms' one.
    """
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def page_number(asked: str | None) -> int:
    """Read a list's ``?page=``: a page number, or 1 for anything that is none."""
    asked = asked or "1"
    return int(asked) if asked.isascii() and asked.isdigit() and 0 < int(asked) < 10**6 else 1


def options(pairs) -> list[SelectChoice]:
    """Spell select choices the way WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _folded(text: str | None) -> str:
    """Compare names and codes the way people do: case and surrounding spaces don't matter."""
    return (text or "").strip().casefold()


def date_field(label: str, validators=(), **kwargs) -> DateField:
    """A date box whose message for something that is not a date is the app's own."""
    return DateField(label, validators=list(validators), invalid_value_message=DATE_MESSAGE, **kwargs)


# ---------------------------------------------------------------- standards


class StandardForm(FlaskForm):
    """A standard's title and description; ``current`` is the standard being edited, if any."""

    title = StringField(
        "Title", filters=[_strip],
        validators=[DataRequired("Enter a title."), Length(max=200, message="Keep the title under 200 characters.")],
        description="A short name shown in reports, e.g. \u201cSpeed of response\u201d.",
    )
    description = TextAreaField(
        "Description", filters=[_strip],
        validators=[Length(max=2000, message="Keep the description under 2,000 characters.")],
        description="The rule in full, as staff should read it. Optional.",
    )

    def __init__(self, *args, current: Standard | None = None, **kwargs):
        super().__init__(*args, obj=current, **kwargs)
        self.current = current

    def validate_title(self, field) -> None:
        """Two standards with one title would be told apart nowhere (reports print titles)."""
        wanted = _folded(field.data)
        for other in db.session.scalars(db.select(Standard)):
            if other is not self.current and _folded(other.title) == wanted:
                retired = ", retired" if other.retired else ""
                raise ValidationError(f"There is already a standard called \u201c{other.title}\u201d "
                                      f"({other.key}{retired}). Give this one another title.")


class NewStandardForm(StandardForm):
    key = StringField(
        "Key", filters=[_strip],
        validators=[DataRequired("Enter a key."), Length(max=64, message="Keep the key under 64 characters."),
                    Regexp(KEY_RE, message="Use lower_snake_case: a-z, 0-9 and _, starting with a letter.")],
        description="lower_snake_case, e.g. speed. Checklists refer to it; it can never change.",
    )

    def validate_key(self, field) -> None:
        if db.session.scalar(db.select(Standard.id).filter_by(key=field.data)) is not None:
            raise ValidationError(f"A standard with the key \u201c{field.data}\u201d already exists.")


# ---------------------------------------------------------------- regions and branches


class _CodedForm(FlaskForm):
    """A form for something with a unique code; ``current`` is the row being edited, if any."""

    model: type = Region

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, obj=current, **kwargs)
        self.current = current

    def validate_code(self, field) -> None:
        found = self.same_code(field.data)
        if found is not None:
            raise ValidationError(f"The code \u201c{field.data}\u201d is already used by {found.name}"
                                  + (f" ({found.code})." if found.code != field.data else "."))

    def same_code(self, code: str):
        """Return another row with this code whatever the case, or None: codes are stored in
        capitals (``east`` as ``EAST``), older ones may not be."""
        return next((r for r in db.session.scalars(db.select(self.model).where(code_is(self.model.code, code)))
                     if r is not self.current), None)


def code_field(what: str, example: str, upper: bool = False) -> StringField:
    return StringField(
        "Code", filters=[_upper if upper else _strip],
        validators=[DataRequired(f"Enter the {what}'s code."),
                    Length(max=32, message="Keep the code to 32 characters."),
                    Regexp(CODE_RE, message=f"Use only letters, digits, '-', '_' or '.' (e.g. {example}).")],
        description=f"Short and unique, e.g. {example}. {CODE_HELP}" + (" Stored in capitals." if upper else ""),
    )


class RegionForm(_CodedForm):
    model = Region
    code = code_field("region", "NORTH", upper=True)
    name = StringField("Name", filters=[_strip],
                       validators=[DataRequired("Enter the region's name."),
                                   Length(max=200, message="Keep the name under 200 characters.")],
                       description="As managers know it, e.g. North.")

    def validate_name(self, field) -> None:
        wanted = _folded(field.data)
        found = next((r for r in db.session.scalars(db.select(Region))
                      if r is not self.current and _folded(r.name) == wanted), None)
        if found is not None:
            raise ValidationError(f"There is already a region called \u201c{found.name}\u201d ({found.code}). "
                                  "Give this one another name.")


class BranchForm(_CodedForm):
    model = Branch
    code = code_field("branch", "BR-014", upper=True)
    name = StringField("Name", filters=[_strip],
                       validators=[DataRequired("Enter the branch's name."), Length(max=200)],
                       description="As it appears on reports, e.g. Harbour Street.")
    region_id = SelectField("Region", coerce=optional_int,
                            validators=[InputRequired("Choose the region this branch belongs to.")],
                            invalid_choice_message="Choose one of the listed regions.",
                            description="Every branch belongs to exactly one region.")
    address = TextAreaField("Address", filters=[_strip],
                            validators=[Length(max=500, message="Keep the address under 500 characters.")],
                            description="Where a shopper goes. Optional.")
    opening_hours = StringField(
        "Opening hours", filters=[_strip], validators=[Length(max=500, message="Keep the hours under 500 characters.")],
        description="Optional, e.g. \u201cMo-Fr 09:00-18:00; Sa 09:00-13:00\u201d. A visit or call outside "
                    "them is flagged for review.")

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, current=current, **kwargs)
        regions = db.session.scalars(db.select(Region).order_by(Region.code)).all()
        self.region_id.choices = options([("", "Choose a region")] + [
            (r.id, f"{r.name} ({r.code})" + ("" if r.active else " \u2013 inactive"))
            for r in regions if r.active or (current is not None and r.id == current.region_id)
        ])

    def validate_region_id(self, field) -> None:
        if field.data is None:
            raise ValidationError("Choose the region this branch belongs to.")

    def validate_opening_hours(self, field) -> None:
        if field.data:
            try:
                parse_hours(field.data)
            except HoursError as exc:
                raise ValidationError(str(exc)) from None


class BranchImportForm(FlaskForm):
    file = FileField(
        "Branches file (CSV)",
        validators=[FileRequired("Choose a CSV file to upload.")],
        description="UTF-8 CSV with the header code,name,region_code,address and, optionally, a fifth "
        "column opening_hours (e.g. \u201cMo-Fr 09:00-18:00; Sa 09:00-13:00\u201d). Branches are matched by "
        "code, whatever its case (codes are stored in capitals): new codes are added, known ones updated. "
        "If any row is wrong, nothing is imported.",
    )

    def __init__(self, *args, max_bytes: int = 1024 * 1024, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.rows: list[BranchRow] = []

    def validate_file(self, field) -> None:
        data = field.data.stream.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ValidationError(
                f"The file is larger than {self.max_bytes // 1024:,} KB. Split it and upload each part."
            )
        known = set(db.session.scalars(db.select(Region.code)))
        rows, problems = parse_branch_csv(data, known)
        if problems:
            field.errors.extend(problems)
            raise ValidationError("Nothing was imported: fix the file and upload it again.")
        self.rows = rows


@dataclass(frozen=True)
class BranchRow:
    line: int
    code: str
    name: str
    region_code: str
    address: str
    #: None when the file has no opening_hours column (the branch's hours are left as they are).
    opening_hours: str | None = None


def parse_branch_csv(data: bytes, region_codes: set[str]) -> tuple[list[BranchRow], list[str]]:
    """Read a branches CSV; return its rows and one message per problem, each with its line number."""
    if not data.strip():
        return [], ["The file is empty."]
    if b"\x00" in data:
        return [], [
            "This is not a CSV file (it holds binary data). Save the sheet as \u201cCSV UTF-8\u201d and upload that."
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return [], [f"Line {line}: the file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d and upload it again."]
    known_regions = {_folded(c): c for c in region_codes}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    rows: list[BranchRow] = []
    first_seen: dict[str, int] = {}
    header_checked = False
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"Line {line}: this is not valid CSV ({exc}). Check the quotes on that line.")
            break
        start, line = line, reader.line_num + 1
        if not header_checked:
            header_checked = True
            found = tuple(cell.strip().lower() for cell in record)
            with_hours = found == (*BRANCH_CSV_HEADER, HOURS_COLUMN)
            if found != BRANCH_CSV_HEADER and not with_hours:
                semicolons = len(record) == 1 and ";" in record[0]
                hint = " Separate the columns with commas, not semicolons." if semicolons else ""
                return [], [f"Line {start}: the header must be exactly {','.join(BRANCH_CSV_HEADER)} "
                            f"(found \u201c{','.join(record)[:120]}\u201d).{hint}"]
            continue
        if not any(cell.strip() for cell in record):
            continue  # a blank line, often at the end of a file saved by a spreadsheet
        if len(record) != len(BRANCH_CSV_HEADER) + with_hours:
            names = ", ".join(BRANCH_CSV_HEADER + ((HOURS_COLUMN,) if with_hours else ()))
            problems.append(f"Line {start}: expected {len(BRANCH_CSV_HEADER) + with_hours} values ({names}), "
                            f"found {len(record)}.")
            continue
        code, name, region_code, address = (cell.strip() for cell in record[:4])
        hours = record[4].strip() if with_hours else None
        code = code.upper()  # stored in capitals, as the form stores them
        row_problems = []
        if not code:
            row_problems.append("the code is empty")
        elif len(code) > BRANCH_LIMITS["code"]:
            row_problems.append(f"the code is longer than {BRANCH_LIMITS['code']} characters")
        elif not CODE_RE.match(code):
            row_problems.append(
                f"the code \u201c{code}\u201d has characters other than letters, digits, '-', '_' or '.'"
            )
        elif code in first_seen:
            row_problems.append(f"the code {code} is already on line {first_seen[code]}")
        if not name:
            row_problems.append("the name is empty")
        elif len(name) > BRANCH_LIMITS["name"]:
            row_problems.append(f"the name is longer than {BRANCH_LIMITS['name']} characters")
        if not region_code:
            row_problems.append("the region_code is empty")
        elif _folded(region_code) not in known_regions:
            row_problems.append(f"unknown region \u201c{region_code[:40]}\u201d")
        else:
            region_code = known_regions[_folded(region_code)]  # "north" names the region NORTH
        if len(address) > BRANCH_LIMITS["address"]:
            row_problems.append(f"the address is longer than {BRANCH_LIMITS['address']} characters")
        if hours:
            try:
                parse_hours(hours)
            except HoursError as exc:
                row_problems.append(f"opening hours {exc}")
        if code and code not in first_seen:
            first_seen[code] = start
        if row_problems:
            problems.append(f"Line {start}: " + "; ".join(row_problems) + ".")
        else:
            rows.append(BranchRow(start, code, name, region_code, address, hours))
    if not header_checked:
        problems.append("The file is empty.")
    elif not rows and not problems:
        problems.append("The file has no branches below its header.")
    return rows, problems


# ---------------------------------------------------------------- waves and assignments


class WaveForm(FlaskForm):
    name = StringField(
        "Wave name",
        filters=[_strip],
        validators=[DataRequired("Give the wave a name."), Length(max=200)],
        description="Unique, e.g. 2026 Q4. Reports and the submissions list filter by it.",
    )
    checklist_id = SelectField(
        "Checklist",
        coerce=optional_int,
        validators=[InputRequired("Choose a checklist.")],
        invalid_choice_message="Choose one of the published checklists.",
        description="Shoppers fill its latest published version.",
    )
    branch_ids = SelectMultipleField(
        "Branches",
        coerce=int,
        invalid_choice_message="Pick branches from the list (inactive ones can't get links).",
        description="Tick single branches, a whole region, or both.",
    )
    region_ids = SelectMultipleField(
        "Whole regions",
        coerce=int,
        invalid_choice_message="Pick regions from the list.",
        description="Every active branch of the region.",
    )
    visits = IntegerField(
        "Visits per branch",
        default=1,
        validators=[
            InputRequired("Enter how many visits each branch gets."),
            NumberRange(1, 50, "Enter a number from 1 to 50."),
        ],
        description="One link per visit.",
    )
    not_before = date_field(
        "First day",
        validators=[InputRequired("Enter the first day of the window.")],
        description="Links can't be used before this day.",
    )
    due = date_field(
        "Due",
        validators=[InputRequired("Enter the last day of the window.")],
        description="Links expire after this day.",
    )

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or date.today()
        checklists = db.session.scalars(db.select(Checklist).order_by(Checklist.title)).all()
        self.checklist_id.choices = options([("", "Choose a checklist")] + [
            (c.id, f"{c.title} (v{c.latest.number})") for c in checklists if c.latest is not None
        ])
        self.branches = db.session.scalars(
            db.select(Branch).join(Region).where(Branch.active, Region.active).order_by(Region.code, Branch.code)
        ).all()
        self.regions = db.session.scalars(db.select(Region).where(Region.active).order_by(Region.code)).all()
        self.branch_ids.choices = options((b.id, f"{b.code} {b.name}") for b in self.branches)
        self.region_ids.choices = options((r.id, r.name) for r in self.regions)

    def validate_name(self, field) -> None:
        if db.session.scalar(db.select(Wave.id).filter_by(name=field.data)) is not None:
            raise ValidationError(f"A wave called \u201c{field.data}\u201d already exists. Choose another name.")

    def validate_branch_ids(self, field) -> None:
        if not field.data and not self.region_ids.data:
            raise ValidationError("Pick at least one branch, or a whole region.")
        if self.visits.data and len(self.picked_branches()) * self.visits.data > MAX_LINKS_PER_WAVE:
            raise ValidationError(f"That makes more than {MAX_LINKS_PER_WAVE:,} links; split the wave.")

    def validate_due(self, field) -> None:
        if field.data is None:
            return
        if self.not_before.data is not None and field.data < self.not_before.data:
            raise ValidationError(
                f"The window ends before it starts: choose a day on or after {self.not_before.data.isoformat()}."
            )
        if field.data < self.today:
            raise ValidationError("That day has passed; the links would be expired already.")

    def picked_branches(self) -> list[Branch]:
        """Return the branches picked singly or by region, each once, in region and code order."""
        ids = set(self.branch_ids.data or [])
        regions = set(self.region_ids.data or [])
        return [b for b in self.branches if b.id in ids or b.region_id in regions]


class ExtendForm(FlaskForm):
    due = date_field("New due date", validators=[InputRequired("Enter the new last day.")],
                     description="A day after the current due date; the link stays usable until the end of it.")

    def __init__(self, *args, assignment: Assignment, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignment = assignment
        self.today = today or date.today()

    def validate_due(self, field) -> None:
        if field.data is None:  # not a date: the field already says so
            return
        if self.assignment.state in (AssignmentState.submitted, AssignmentState.cancelled):
            raise ValidationError(f"This link is {self.assignment.state.value}; it can't be extended.")
        if field.data < self.assignment.not_before:
            raise ValidationError(f"The window would end before it starts ({self.assignment.not_before.isoformat()}).")
        if field.data < self.today:
            raise ValidationError("That day has passed; choose today or a later day.")
        if field.data <= self.assignment.due:
            same = "already the due date" if field.data == self.assignment.due else "before the current due date"
            raise ValidationError(f"That is {same} ({self.assignment.due.isoformat()}): extending means a later "
                                  "day. To end the link early, cancel it.")


# ---------------------------------------------------------------- submissions review


class DecisionForm(FlaskForm):
    """A review decision; ``shown`` is the state the page showed, so a decision taken on a
    page that another decision has since overtaken changes nothing."""

    shown = HiddenField()

    def shown_state(self) -> ReviewState | None:
        try:
            return ReviewState(self.shown.data)
        except ValueError:
            return None


def _decision_text(label: str, word: str, required: str | None, description: str, **kwargs) -> TextAreaField:
    """The one text box of a decision: a note or a reason, required (with ``required`` as the
    message) or optional, at most 2,000 characters."""
    first = DataRequired(required) if required else Optional()
    return TextAreaField(label, filters=[_strip], description=description, **kwargs, validators=[
        first, Length(max=2000, message=f"Keep the {word} under 2,000 characters.")])


# Ids of their own: a submission's page holds several decision forms at once.
class ApproveForm(DecisionForm):
    reason = _decision_text("Note", "note", None, "Optional; kept with the audit trail.", id="approve_note")


class ReturnForm(DecisionForm):
    reason = _decision_text(
        "Note to the shopper", "note", "Write a note: the shopper sees it on top of their answers.",
        "What to check or add, e.g. \u201cthe receipt photo is unreadable; please take it again\u201d.",
        id="return_note")


class RejectForm(DecisionForm):
    reason = _decision_text("Reason for rejecting", "reason", "Give a reason: it is kept for the audit trail.",
                            "Why this visit must not count, e.g. \u201cshopper visited the wrong branch\u201d.")


class RestoreForm(DecisionForm):
    reason = _decision_text("Reason for restoring", "reason", None, "Optional; kept with the audit trail.",
                            id="restore_reason")


def percent(form, field) -> None:
    """Accept a number from 0 to 100, with one message whatever is wrong with it."""
    if field.data is None or not field.data.is_finite() or not 0 <= field.data <= 100:
        field.errors[:] = []
        raise StopValidation("Enter a percentage from 0 to 100, e.g. 75.")


STATE_CHOICES = options([("", "All"), ("counted", "Counted"), ("pending", "Waiting for review"),
                         ("returned", "Returned to the shopper"), ("rejected", "Rejected")])


class SubmissionFilterForm(FlaskForm):
    """The filters of the submissions list; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    wave = SelectField("Wave", coerce=optional_int, validators=[Optional()],
                       invalid_choice_message="Choose a wave from the list.", description="")
    region = SelectField("Region", coerce=optional_int, validators=[Optional()],
                         invalid_choice_message="Choose a region from the list.", description="")
    # A code typed, not a select: a chain's 2,000 branches as options were 110 KB of every page
    # (bench/chain_pages.py). The branches of the chosen region are offered as suggestions.
    branch = StringField("Branch code", filters=[_strip],
                         validators=[Optional(), Length(max=32, message="A branch's code has at most 32 characters.")],
                         description="e.g. BR-014; choose a region to pick from its branches.")
    checklist = SelectField("Checklist", coerce=optional_int, validators=[Optional()],
                            invalid_choice_message="Choose a checklist from the list.", description="")
    date_from = date_field("Visited from", validators=[Optional()], description="")
    date_to = date_field("Visited to", validators=[Optional()], description="")
    score_min = DecimalField("Score at least (%)", places=None, validators=[Optional(), percent], description="")
    score_max = DecimalField("Score at most (%)", places=None, validators=[Optional(), percent], description="")
    critical = BooleanField("Critical failures only", description="")
    flag = SelectField("Trust flag", choices=options([("", "Any")] + list(FLAG_LABELS.items())), default="",
                       validators=[Optional()], invalid_choice_message="Choose a flag from the list.", description="")
    state = SelectField("State", choices=STATE_CHOICES, default="", validators=[Optional()],
                        invalid_choice_message="Choose a state from the list.", description="")

    def __init__(self, *args, only: tuple[str, ...] | None = None, **kwargs):
        """``only``: the filters a page shows (the review queue has three); the others are left out,
        with their choices unread: a chain's 2,000 branches for a select the queue never shows."""
        super().__init__(*args, **kwargs)
        for name in [f.name for f in self if only is not None and f.name not in only]:
            delattr(self, name)
        if "wave" in self:
            self.wave.choices = options(
                [("", "All waves")]
                + [
                    (w.id, w.name)
                    for w in db.session.scalars(db.select(Wave).order_by(Wave.created_at.desc(), Wave.id.desc()))
                ]
            )
        if "region" in self:
            self.region.choices = options(
                [("", "All regions")]
                + [(r.id, r.name) for r in db.session.scalars(db.select(Region).order_by(Region.code))]
            )
        #: The branch whose code was typed, once validated.
        self.branch_id: int | None = None
        if "checklist" in self:
            self.checklist.choices = options(
                [("", "All checklists")]
                + [(c.id, c.title) for c in db.session.scalars(db.select(Checklist).order_by(Checklist.title))]
            )

    def criteria(self) -> SubmissionFilter:
        """Return the (validated) filters as plain values for ``queries.submissions_page``."""
        def data(name: str):
            return self[name].data if name in self else None

        score_min, score_max = data("score_min"), data("score_max")
        return SubmissionFilter(
            wave=data("wave"),
            region=data("region"),
            branch=self.branch_id,
            checklist=data("checklist"),
            date_from=data("date_from"),
            date_to=data("date_to"),
            score_min=float(score_min) if score_min is not None else None,
            score_max=float(score_max) if score_max is not None else None,
            critical=bool(data("critical")),
            state=data("state") or "",
            flag=data("flag") or "",
        )

    def validate_branch(self, field) -> None:
        if field.errors:  # too long to be a code: that message is enough
            return
        found = queries.branch_with_code(field.data)
        if found is None:
            raise ValidationError(f"No branch has the code \u201c{field.data}\u201d. "
                                  "Enter a branch's code, e.g. BR-014.")
        self.branch_id = found

    def branch_suggestions(self) -> list[tuple[str, str]]:
        """Return ``(code, name)`` of the chosen region's branches, for the branch box to offer; none
        without a region (a chain's region has tens, its network thousands)."""
        if "region" not in self or not isinstance(self.region.data, int) or self.region.errors:
            return []
        return queries.region_branch_codes(self.region.data)

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("This day is before \u201cVisited from\u201d.")

    def validate_score_max(self, field) -> None:
        if field.data is not None and self.score_min.data is not None and field.data < self.score_min.data:
            raise ValidationError("This is below \u201cScore at least\u201d.")


ALERT_STATE_CHOICES = options([("", "All"), ("attention", "Failed or unknown"), ("pending", "Waiting"),
                               ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"),
                               ("unknown", "Unknown"), ("cancelled", "Cancelled")])
ALERT_REASON_CHOICES = options([("", "All"), ("critical", "Critical failure"), ("low_score", "Low score")])


class AlertFilterForm(FlaskForm):
    """The filters of the alerts list; read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    state = SelectField("State", choices=ALERT_STATE_CHOICES, default="", validators=[Optional()],
                        invalid_choice_message="Choose a state from the list.", description="")
    reason = SelectField("Reason", choices=ALERT_REASON_CHOICES, default="", validators=[Optional()],
                         invalid_choice_message="Choose a reason from the list.", description="")
    region = SelectField("Region", coerce=optional_int, validators=[Optional()],
                         invalid_choice_message="Choose a region from the list.", description="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = options(
            [("", "All regions")]
            + [(r.id, r.name) for r in db.session.scalars(db.select(Region).order_by(Region.code))]
        )


class SendAgainForm(FlaskForm):
    """HQ's "Send again" button: its CSRF token only."""


class DeliverySettingsForm(FlaskForm):
    """HQ's settings of the monthly delivery (survey/delivery.py)."""

    enabled = BooleanField("Send the monthly delivery",
                           description="Off: nothing goes out on its own; `flask report deliver` still works.")
    day = IntegerField("Day of the month", validators=[
        InputRequired("Enter the day of the month, 1 to 28."),
        NumberRange(1, 28, "Enter a day from 1 to 28 (every month has it).")],
        description="Last month's reports go out on this day (or the first minute a worker runs after it).")
    limit_mb = DecimalField("Largest attachments (MB)", places=1, validators=[
        InputRequired("Enter a size in MB, e.g. 10."),
        NumberRange(0, 50, "Enter a size from 0 to 50 MB.")],
        description="When a manager's PDFs together are larger, the e-mail links to them instead (open after "
                    "logging in).")
    language = SelectField("Language of the e-mail", choices=options([("en", "English"), ("de", "German")]),
                           invalid_choice_message="Choose a language from the list.")
