from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Form, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."),
                                             Email("Enter a valid e-mail address."), Length(max=254)],
                       description="The address your account was created with.")
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                            Length(max=200)],
                            description="The one you logged in with.")
    new = PasswordField("New password", validators=[
        DataRequired("Enter a new password."),
        Length(min=8, max=200, message="Use 8 to 200 characters.")],
        description="At least 8 characters; a few unrelated words are easy to remember and hard to guess.")
    confirm = PasswordField("New password again", validators=[
        DataRequired("Type the new password again."), EqualTo("new", message="The two new passwords differ.")])


class _AddressForm(Form):
    """The login form's e-mail field alone, so other ways in (``flask user create``) apply its rule."""

    email = LoginForm.email


def email_problem(address: str) -> str | None:
    """Return why the login form would refuse this address (its own words), or None if it takes it."""
    form = _AddressForm(data={"email": address})
    return None if form.validate() else " ".join(form.email.errors)


class DeliveryChoiceForm(FlaskForm):
    """A manager's own choice of the monthly e-mail of their reports (survey/delivery.py)."""

    monthly = BooleanField("E-mail me my reports every month",
                           description="Your regions' and branches' PDFs for the month before, on the day HQ set.")
