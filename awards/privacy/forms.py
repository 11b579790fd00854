"""Deleting the account asks for the password again and an explicit confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired

from awards.forms import BaseForm


class DeleteAccountForm(BaseForm):
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(message=_l("Enter your password."))],
        description=_l("Entered again so that nobody who finds your session open can erase "
                       "your account."),
    )
    confirm = BooleanField(
        _l("I understand that my account is deleted for good and cannot be restored."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
