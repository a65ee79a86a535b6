"""The period picker on the reports page: a GET form, so a chosen period is a shareable link."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional
from wtforms.widgets import DateInput

from .periods import Period, PeriodError, parse_period


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
