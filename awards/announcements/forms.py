"""The administrator's form for a news post: texts in three languages, address, call, images and
the publication time. It checks what the submitted values alone can show; uniqueness and the
status rules belong to the services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from awards.calls.forms import SLUG_RE, TIMEZONES, LocalDateTimeField, _lang_label, _offset
from awards.forms import BaseForm
from awards.timeutil import DEFAULT_TZ, local_to_utc, utc_to_local_naive

LANGS = ("kk", "ru", "en")
IMAGE_TYPES = ["png", "jpeg", "webp", "gif"]
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not among the choices: the select then says "not a valid choice"


def _text_field(cls, label, code: str, *, max_length: int | None = None, rows: int | None = None):
    validators = [Optional()]
    if max_length:
        validators.append(Length(max=max_length))
    render_kw: dict[str, Any] = {"lang": code}
    if rows:
        render_kw["rows"] = rows
    return cls(_lang_label(label, code), filters=[_strip], validators=validators,
               render_kw=render_kw)


def has_file(field) -> bool:
    return bool(getattr(field.data, "filename", None))


class AnnouncementForm(BaseForm):
    title_kk = _text_field(StringField, _l("Title"), "kk", max_length=300)
    title_ru = _text_field(StringField, _l("Title"), "ru", max_length=300)
    title_en = _text_field(StringField, _l("Title"), "en", max_length=300)
    summary_kk = _text_field(TextAreaField, _l("Summary"), "kk", max_length=1000, rows=3)
    summary_ru = _text_field(TextAreaField, _l("Summary"), "ru", max_length=1000, rows=3)
    summary_en = _text_field(TextAreaField, _l("Summary"), "en", max_length=1000, rows=3)
    body_kk = _text_field(TextAreaField, _l("Text (Markdown)"), "kk", max_length=50000, rows=14)
    body_ru = _text_field(TextAreaField, _l("Text (Markdown)"), "ru", max_length=50000, rows=14)
    body_en = _text_field(TextAreaField, _l("Text (Markdown)"), "en", max_length=50000, rows=14)
    slug = StringField(
        _l("Address name"), filters=[_strip],
        validators=[Optional(), Length(max=80),
                    Regexp(SLUG_RE, message=_l("Use lower-case Latin letters, digits and "
                                               "hyphens, e.g. nominations-open-2027."))],
        description=_l("Part of the post's address. Leave it empty to make it from the title "
                       "(Cyrillic is written in Latin letters). Changing it breaks links "
                       "already shared."))
    call_id = SelectField(_l("Call"), coerce=_int_or_none, validate_choice=True,
                          description=_l("The post is listed on the call's page."))
    cover = FileField(_l("Cover image"),
                      description=_l("PNG, JPEG, WebP or GIF, up to 5 MB. Shown above the "
                                     "text and in the news list."))
    remove_cover = BooleanField(_l("Remove the cover image"))
    # A cover chosen before a preview or a refused save (awards.announcements.pending).
    pending_cover = HiddenField()
    image = FileField(_l("Add an image for the text"),
                      description=_l("PNG, JPEG, WebP or GIF, up to 5 MB. After saving, copy "
                                     "its Markdown line into the text where it should appear."))
    image_alt = StringField(_l("Description of the image (for people who cannot see it)"),
                            filters=[_strip], validators=[Optional(), Length(max=300)])
    publish_at = LocalDateTimeField(
        _l("Publication date and time"), validators=[Optional()],
        description=_l("Used by “Schedule”: the post appears by itself at this time."))
    timezone = SelectField(_l("Time zone of the publication time"), default=DEFAULT_TZ,
                           validators=[DataRequired()])
    version = HiddenField()

    def __init__(self, *args, calls=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.call_id.choices = [SelectChoice("", _l("— no call —"))] + [
            SelectChoice(call.id, label) for call, label in calls]
        self.timezone.choices = [SelectChoice(name, f"{name} ({_offset(name)})")
                                 for name in TIMEZONES]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"title_{c}").data for c in LANGS):
            self.title_ru.errors.append(_l("Enter the title in at least one language."))
            ok = False
        for code in LANGS:
            texts = (getattr(self, f"summary_{code}").data, getattr(self, f"body_{code}").data)
            if any(texts) and not getattr(self, f"title_{code}").data:
                getattr(self, f"title_{code}").errors.append(
                    _l("This language has a text but no title; add the title."))
                ok = False
        return ok

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"slug": self.slug.data or "", "call_id": self.call_id.data}
        for name in ("title", "summary", "body"):
            for code in LANGS:
                values[f"{name}_{code}"] = getattr(self, f"{name}_{code}").data or ""
        return values

    def publish_at_utc(self):
        if not self.publish_at.data:
            return None
        return local_to_utc(self.publish_at.data, self.timezone.data or DEFAULT_TZ)

    def expected_version(self) -> str | None:
        return self.version.data or None

    @staticmethod
    def initial(announcement) -> dict[str, Any]:
        from awards.announcements.services import version_of

        data = {name: getattr(announcement, name) for name in (
            "slug", "call_id",
            *(f"{n}_{c}" for n in ("title", "summary", "body") for c in LANGS))}
        data["publish_at"] = utc_to_local_naive(announcement.publish_at, DEFAULT_TZ)
        data["timezone"] = DEFAULT_TZ
        data["version"] = version_of(announcement)
        return data
