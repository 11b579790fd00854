"""Forms of the ranking pages. They check the submitted values and hand them to the services in
``awards.ranking``; they never write to the database."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    FileField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from awards.boundary import whole_number
from awards.forms import BaseForm

MAX_IMPORT_BYTES = 10 * 1024 * 1024


def parse_digests(value: str | None) -> dict[int, str]:
    """``"3:ab12,4:cd34"`` -> {3: "ab12", 4: "cd34"}; malformed parts are ignored (they then
    fail the comparison, which is the safe side)."""
    out: dict[int, str] = {}
    for part in (value or "").split(","):
        key, _, digest = part.partition(":")
        if (number := whole_number(key)) is not None and digest.strip():
            out[number] = digest.strip()
    return out


def format_digests(digests: dict[int, str]) -> str:
    return ",".join(f"{k}:{v}" for k, v in sorted(digests.items()))


class AdvanceForm(BaseForm):
    mode = RadioField(_l("Which entries"),
                      choices=[SelectChoice("top", _l("The top N of each category")),
                               SelectChoice("chosen", _l("The entries ticked above"))],
                      default="top", validators=[InputRequired()])
    top_n = IntegerField(_l("N"), validators=[Optional(), NumberRange(min=1, max=10_000)])
    nomination_ids = SelectMultipleField(_l("Entries"), coerce=int, choices=[],
                                         validate_choice=False, option_widget=CheckboxInput(),
                                         widget=ListWidget(prefix_label=False))
    digests = HiddenField()
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.mode.data == "chosen" and not self.nomination_ids.data:
            self.nomination_ids.errors = [_l("Tick at least one entry.")]
            return False
        return ok


class AwardForm(BaseForm):
    nomination_id = IntegerField(validators=[InputRequired()])
    award_level_id = IntegerField(_l("Award"), validators=[InputRequired(
        message=_l("Choose an award level first: “— none —” awards nothing."))])
    digest = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class RevokeForm(BaseForm):
    digest = HiddenField(validators=[DataRequired()])


class ImportForm(BaseForm):
    file = FileField(_l("CSV file"), validators=[DataRequired(message=_l("Choose a file."))])

    def content(self) -> tuple[bytes, str]:
        storage = self.file.data
        data = storage.read(MAX_IMPORT_BYTES + 1) if storage else b""
        return data, getattr(storage, "filename", "") or ""
