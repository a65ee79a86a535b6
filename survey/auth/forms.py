from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."),
                                             Email("Enter a valid e-mail address."), Length(max=254)],
                       description="The address your account was created with.")
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
