from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from awards.auth.services import MIN_PASSWORD_LENGTH
from awards.forms import BaseForm
from awards.i18n import LANGUAGE_NAMES

# Each language is named in itself, so its option carries its own lang attribute.
LANGUAGE_CHOICES = [
    SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()
]


def _strip(value):
    # Phone keyboards add a space after a completed word; it is never meant.
    return value.strip() if isinstance(value, str) else value


def _strong_password(_form, field) -> None:
    value = field.data or ""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    if value.isdigit() or len(set(value)) < 4:
        raise ValidationError(_l("This password is too easy to guess."))


class RegisterForm(BaseForm):
    full_name = StringField(
        _l("Full name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    email = EmailField(
        _l("E-mail"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), _strong_password],
                             description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    accept = BooleanField(
        _l("I agree that my personal data is processed to run the competitions I take part in."),
        validators=[DataRequired(message=_l("Please accept to continue."))],
    )


class LoginForm(BaseForm):
    email = EmailField(
        _l("E-mail"), filters=[_strip], validators=[DataRequired(), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        _l("E-mail"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )


def _new_password_fields():
    # Fresh field objects per form class: WTForms orders fields by creation, and the change
    # form must list the current password first.
    password = PasswordField(_l("New password"), validators=[DataRequired(), _strong_password],
                             description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    return password, confirm


class ResetPasswordForm(BaseForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password, confirm = _new_password_fields()


class ProfileForm(BaseForm):
    full_name = StringField(
        _l("Full name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    organisation = StringField(
        _l("Organisation"), filters=[_strip], validators=[Optional(), Length(max=200)]
    )
    phone = StringField(
        _l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)]
    )
    preferred_language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)
