"""Forms of the reports pages: the period picker (a GET form, so a chosen period is a shareable link)
and the action forms."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from .periods import DAY_RE, Period, PeriodError, parse_period


class PeriodForm(FlaskForm):
    """Pick the period every download link on the page covers."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    start = StringField("From", name="from", widget=DateInput(), validators=[Optional()],
                        description="First visit day to include (default: 12 months before 'To').")
    end = StringField("To", name="to", widget=DateInput(), validators=[Optional()],
                      description="Last visit day to include (default: today).")

    period: Period | None = None

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            self.period = parse_period(self.start.data, self.end.data)
        except PeriodError as exc:
            (self.start if exc.field == "from" else self.end).errors.append(str(exc))
            return False
        return True


#: The longest text an action keeps (the columns' size).
TEXT_MAX = 2000


def read_day(text: str | None) -> date | None:
    """Read ``YYYY-MM-DD`` (what a date control sends); None when it is not a real date."""
    text = (text or "").strip()
    try:
        return date.fromisoformat(text) if DAY_RE.match(text) else None
    except ValueError:  # 2026-02-30
        return None


class ActionForm(FlaskForm):
    """Open or change an action: what will be done, by whom, by when (SPEC §8)."""

    what = TextAreaField("What will be done", validators=[
        DataRequired("Say what will be done."),
        Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters.")],
        description="One concrete step, e.g. “Role-play the greeting at Monday's briefing”.")
    owner = StringField("Who will do it", validators=[
        DataRequired("Name the person who will do it."),
        Length(max=200, message="Keep the name under 200 characters.")],
        description="A name or a role, e.g. “Sam, deputy manager”.")
    due = StringField("Done by", widget=DateInput(), validators=[DataRequired("Give the date it should be done by.")],
                      description="The date, as YYYY-MM-DD.")

    #: Today, and a date that may stay although it has passed (an overdue action's, when edited).
    today: date
    keep: date | None = None

    def __init__(self, *args, today: date, keep: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.keep = today, keep

    def validate_due(self, field) -> None:
        day = read_day(field.data)
        if day is None:
            raise ValidationError(f"“{field.data.strip()[:40]}” is not a date: write it as YYYY-MM-DD, "
                                  f"e.g. {self.today.isoformat()}.")
        if day < self.today and day != self.keep:
            raise ValidationError("That date has passed: choose today or a later day.")
        field.day = day


class DoneForm(FlaskForm):
    """Mark an action done, saying what was done."""

    note = TextAreaField("What was done", validators=[
        DataRequired("Say what was done, so the next reader knows."),
        Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters.")])


class DropForm(FlaskForm):
    """Drop an action, optionally saying why."""

    note = TextAreaField("Why it is dropped (optional)", validators=[
        Optional(), Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters.")])


class AppealForm(FlaskForm):
    """Dispute a visit (SPEC §8): a category, a reason, and the whole visit or some of its questions."""

    category = RadioField("What went wrong", validators=[InputRequired("Choose what went wrong.")],
                          choices=[], validate_choice=False)
    reason = TextAreaField("Why the visit should not stand as scored", validators=[
        DataRequired("Say why: HQ decides on what you write."),
        Length(max=TEXT_MAX, message=f"Keep it under {TEXT_MAX:,} characters.")],
        description="What happened, e.g. “the comment says the floor was clean, the answer says no”.")
    scope = RadioField("What you dispute", choices=[
        SelectChoice("whole", "The whole visit"),
        SelectChoice("questions", "Some of its questions (tick them below)")],
                       validators=[InputRequired("Choose the whole visit or some of its questions.")])
    questions = SelectMultipleField("Questions you dispute", choices=[], validate_choice=False,
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, categories: list[tuple[str, str]], questions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(value, label) for value, label in categories]
        self.questions.choices = [SelectChoice(value, label) for value, label in questions]

    def validate_category(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose what went wrong from the list.")

    def validate_questions(self, field) -> None:
        if self.scope.data != "questions":
            return
        if not field.data:
            raise ValidationError("Tick the questions you dispute, or choose the whole visit.")
        if any(value not in {choice.value for choice in field.choices} for value in field.data):
            raise ValidationError("Choose the questions from the list.")
