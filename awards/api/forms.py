"""The token form on the profile page (a session-authenticated HTML form, so it has CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length

from awards.api.tokens import EXPIRY_CHOICES, MAX_NAME_LENGTH
from awards.forms import BaseForm

NEVER = "never"


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class TokenForm(BaseForm):
    name = StringField(
        _l("Token name"), filters=[_strip],
        validators=[InputRequired(_l("Give the token a name.")), Length(max=MAX_NAME_LENGTH)],
        description=_l("What the token is for, e.g. \"reporting script\"."))
    # Radio buttons: four choices read at a glance.
    expires_in = RadioField(
        _l("Expires"),
        choices=[SelectChoice(str(days), lazy_ngettext("in %(num)d day", "in %(num)d days",
                                                       days)) for days in EXPIRY_CHOICES]
        + [SelectChoice(NEVER, _l("never"))],
        default="90")
