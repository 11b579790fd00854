"""Forms of the results administration. They check what was typed and hand it to
``awards.results.services``; they never write to the database."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FileField, HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from awards.calls.forms import LocalDateTimeField
from awards.forms import BaseForm
from awards.timeutil import local_to_utc

LANG_LABELS = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}
CITATION_MAX = 1000
NOTE_MAX = 2000


class StateForm(BaseForm):
    """An action button that must not act on a page older than the current state."""

    state = HiddenField(validators=[DataRequired()])


class PublishForm(StateForm):
    mode = RadioField(_l("When"), choices=[SelectChoice("now", _l("Publish now")),
                                           SelectChoice("schedule", _l("Publish at a set time"))],
                      default="now", validators=[InputRequired()])
    scheduled_for = LocalDateTimeField(_l("Publication time"), validators=[Optional()])
    note_kk = TextAreaField(_l("Correction note (Kazakh)"),
                            validators=[Optional(), Length(max=NOTE_MAX)],
                            render_kw={"lang": "kk", "rows": 3})
    note_ru = TextAreaField(_l("Correction note (Russian)"),
                            validators=[Optional(), Length(max=NOTE_MAX)],
                            render_kw={"lang": "ru", "rows": 3})
    note_en = TextAreaField(_l("Correction note (English)"),
                            validators=[Optional(), Length(max=NOTE_MAX)],
                            render_kw={"lang": "en", "rows": 3})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.mode.data == "schedule" and not self.scheduled_for.data \
                and not self.scheduled_for.errors:
            self.scheduled_for.errors = [_l("Enter the date and time of publication.")]
            ok = False
        return ok

    def when(self, timezone: str) -> datetime | None:
        if self.mode.data != "schedule":
            return None
        return local_to_utc(self.scheduled_for.data, timezone)

    def notes(self) -> dict[str, str]:
        return {lang: getattr(self, f"note_{lang}").data or "" for lang in ("kk", "ru", "en")}


class RescheduleForm(StateForm):
    scheduled_for = LocalDateTimeField(_l("New publication time"), validators=[
        InputRequired(message=_l("Enter the date and time of publication."))])


class CorrectionForm(StateForm):
    reason = TextAreaField(_l("Why do the results need a correction?"), validators=[
        DataRequired(message=_l("Say why the results need a correction.")),
        Length(max=NOTE_MAX)], render_kw={"rows": 3})


class CitationForm(BaseForm):
    text_kk = TextAreaField(_l("Citation (Kazakh)"), validators=[Optional(),
                            Length(max=CITATION_MAX)], render_kw={"lang": "kk", "rows": 4})
    text_ru = TextAreaField(_l("Citation (Russian)"), validators=[Optional(),
                            Length(max=CITATION_MAX)], render_kw={"lang": "ru", "rows": 4})
    text_en = TextAreaField(_l("Citation (English)"), validators=[Optional(),
                            Length(max=CITATION_MAX)], render_kw={"lang": "en", "rows": 4})
    photo = FileField(_l("Photo (PNG, JPEG or WebP)"),
                      render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_photo = BooleanField(_l("Remove the photo"))

    def values(self) -> dict[str, str]:
        return {lang: getattr(self, f"text_{lang}").data or "" for lang in ("kk", "ru", "en")}

    def upload(self):
        storage = self.photo.data
        if storage is None or not getattr(storage, "filename", ""):
            return None
        return storage

