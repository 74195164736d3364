"""Staff forms: signing in, changing one's password, filtering the audit trail."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..web.validators import NoControlCharacters
from . import passwords

no_control_characters = NoControlCharacters("Remove the invisible control characters.")


class LoginForm(FlaskForm):
    email = StringField(
        "Email", validators=[DataRequired(), Length(max=254), no_control_characters]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(
                min=passwords.MIN_LENGTH,
                max=passwords.MAX_LENGTH,
                message=f"Use {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH}"
                " characters.",
            ),
        ],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two do not match.")],
    )


class AuditFilterForm(FlaskForm):
    """The audit filters, read from the query string (a GET search changes nothing: no CSRF)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[], default="")
    user = StringField(
        "User email contains", validators=[Optional(), Length(max=254), no_control_characters]
    )
    # Whole days in the clinic's time zone (screening.web.clinic_time).
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To (inclusive)", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


