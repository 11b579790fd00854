"""Administrator forms for programmes, calls, categories, award levels and application-form
questions. They validate what can be checked from the submitted values alone and turn them into
the ``values`` mappings the services take; uniqueness and status rules are the services'."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from awards.boundary import whole_number
from awards.enums import FieldType, NominatorKind
from awards.forms import BaseForm
from awards.lifecycle import PHASE_LABELS
from awards.nominations.authors import DEFAULT_MAX_AUTHORS, MAX_AUTHORS_LIMIT
from awards.timeutil import DEFAULT_TZ, local_to_utc, utc_to_local_naive

LANGS = ("kk", "ru", "en")
MB = 1024 * 1024

# The phases' names live with the state machine; kept here under their old name for the pages
# that import them from the forms.
CALL_STATUS_LABELS = PHASE_LABELS

NOMINATOR_KIND_LABELS = {
    NominatorKind.SELF: _l("Self-nomination"),
    NominatorKind.OTHER: _l("Another person nominates"),
    NominatorKind.ORGANISATION: _l("An organisation nominates"),
}

FIELD_TYPE_LABELS = {
    FieldType.SHORT_TEXT: _l("Short text"),
    FieldType.LONG_TEXT: _l("Long text"),
    FieldType.NUMBER: _l("Number"),
    FieldType.DATE: _l("Date"),
    FieldType.EMAIL: _l("E-mail"),
    FieldType.URL: _l("Web address (URL)"),
    FieldType.PHONE: _l("Phone"),
    FieldType.SINGLE_CHOICE: _l("Single choice"),
    FieldType.MULTIPLE_CHOICE: _l("Multiple choice"),
    FieldType.CHECKBOX: _l("Checkbox (consent)"),
    FieldType.FILE: _l("File upload"),
    FieldType.AUTHORS: _l("Authors (an author or an author collective)"),
}

FILE_TYPE_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}

# Kazakhstan keeps one offset (UTC+5) since March 2024, but its zone names stay distinct; the
# neighbours are for international editions.
TIMEZONES = (
    "Asia/Almaty", "Asia/Aqtobe", "Asia/Aqtau", "Asia/Atyrau", "Asia/Oral", "Asia/Qostanay",
    "Asia/Qyzylorda", "Asia/Bishkek", "Asia/Tashkent", "Europe/Moscow", "UTC",
)

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
KEY_RE = r"^[a-z][a-z0-9_]*$"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _lang_label(text, code: str):
    names = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}
    return _l("%(what)s (%(language)s)", what=text, language=names[code])


def _slug_field(label, max_length: int = 80) -> StringField:
    return StringField(
        label, filters=[_strip],
        validators=[DataRequired(), Length(max=max_length),
                    Regexp(SLUG_RE, message=_l("Use lower-case Latin letters, digits and "
                                               "hyphens, e.g. volunteer-of-the-year-2027."))],
        description=_l("Part of the page address: lower-case Latin letters, digits and hyphens."),
    )


def _key_field(label, max_length: int, description) -> StringField:
    return StringField(
        label, filters=[_strip],
        validators=[DataRequired(), Length(max=max_length),
                    Regexp(KEY_RE, message=_l("Start with a Latin letter; then use lower-case "
                                              "Latin letters, digits and underscores."))],
        description=description,
    )


def _kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind.value, label) for kind, label in NOMINATOR_KIND_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock time in the call's zone; shown with seconds only when they are not zero,
    so a deadline of 23:59:59 survives being opened and saved again."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                                     "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if not self.data:
            return ""
        fmt = "%Y-%m-%dT%H:%M:%S" if self.data.second else "%Y-%m-%dT%H:%M"
        return self.data.strftime(fmt)


def _offset(name: str) -> str:
    """The zone's offset today, e.g. "UTC+05:00", to tell the zones apart in the list."""
    offset = datetime.now(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _ml(field_cls, label, code: str, *, max_length: int | None = None, rows: int | None = None):
    """One language's input of a text kept in kk/ru/en; the ``lang`` attribute gives it the
    right spell-checker and screen-reader voice."""
    validators = [Optional()]
    if max_length:
        validators.append(Length(max=max_length))
    render_kw = {"lang": code}
    if rows:
        render_kw["rows"] = rows
    return field_cls(_lang_label(label, code), filters=[_strip], validators=validators,
                     render_kw=render_kw)


def _text(value) -> str:
    return value or ""


# ---- programmes -------------------------------------------------------------------------------


class ProgrammeForm(BaseForm):
    slug = _slug_field(_l("Address name"))
    name_kk = _ml(StringField, _l("Name"), "kk", max_length=300)
    name_ru = _ml(StringField, _l("Name"), "ru", max_length=300)
    name_en = _ml(StringField, _l("Name"), "en", max_length=300)
    description_kk = _ml(TextAreaField, _l("Description"), "kk")
    description_ru = _ml(TextAreaField, _l("Description"), "ru")
    description_en = _ml(TextAreaField, _l("Description"), "en")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"name_{c}").data for c in LANGS):
            self.name_ru.errors.append(_l("Enter the name in at least one language."))
            ok = False
        return ok

    def values(self) -> dict[str, Any]:
        values = {"slug": self.slug.data}
        for code in LANGS:
            values[f"name_{code}"] = _text(getattr(self, f"name_{code}").data)
            values[f"description_{code}"] = _text(getattr(self, f"description_{code}").data)
        return values

    @staticmethod
    def initial(programme) -> dict[str, Any]:
        return {name: getattr(programme, name) for name in (
            "slug", *(f"name_{c}" for c in LANGS), *(f"description_{c}" for c in LANGS))}


# ---- calls ------------------------------------------------------------------------------------


def _id_or_none(value: Any) -> int | None:
    """A select's id, or None for its empty "choose" option (and anything no row can have:
    not ASCII digits, or too large for the column)."""
    return None if value is None else whole_number(str(value))


class CallForm(BaseForm):
    """Create and edit a call. ``version_id`` only matters when editing; the view removes it
    from the creation form. The phase is not a setting: it moves through ``awards.lifecycle``
    on the call's page."""

    # No programme is preselected on a new call: a call (and its diplomas) under the wrong
    # prize is worse than a question. The empty first choice fails ``InputRequired``.
    programme_id = SelectField(_l("Programme"), coerce=_id_or_none, validators=[InputRequired(
        message=_l("Choose the programme this call belongs to."))])
    slug = _slug_field(_l("Address name"))
    reference_prefix = StringField(
        _l("Reference prefix"), filters=[_upper],
        validators=[DataRequired(), Length(max=10),
                    Regexp(r"^[A-Z0-9]+$", message=_l("Use Latin letters and digits only."))],
        description=_l("Starts every nomination number, e.g. VOY gives VOY-2027-00042. "
                       "Latin letters and digits; stored in upper case."),
    )
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    title_kk = _ml(StringField, _l("Title"), "kk", max_length=300)
    title_ru = _ml(StringField, _l("Title"), "ru", max_length=300)
    title_en = _ml(StringField, _l("Title"), "en", max_length=300)
    rules_kk = _ml(TextAreaField, _l("Rules"), "kk")
    rules_ru = _ml(TextAreaField, _l("Rules"), "ru")
    rules_en = _ml(TextAreaField, _l("Rules"), "en")
    consent_text_kk = _ml(TextAreaField, _l("Personal data consent text"), "kk")
    consent_text_ru = _ml(TextAreaField, _l("Personal data consent text"), "ru")
    consent_text_en = _ml(TextAreaField, _l("Personal data consent text"), "en")
    timezone = SelectField(
        _l("Time zone of the call"), default=DEFAULT_TZ, validators=[DataRequired()],
        description=_l("Opening and closing times are typed and shown in this zone."))
    opens_at = LocalDateTimeField(
        _l("Opens at"), validators=[InputRequired(message=_l("Enter the opening date and time."))],
        description=_l("Local time in the call's time zone."))
    closes_at = LocalDateTimeField(
        _l("Closes at"),
        validators=[InputRequired(message=_l("Enter the closing date and time."))],
        description=_l("The last moment a nomination is accepted, local time in the call's "
                       "time zone (e.g. 30 November, 23:59)."))
    allowed_nominator_kinds = MultiCheckboxField(
        _l("Who may nominate"),
        choices=_kind_choices(),
    )
    requires_nominee_consent = BooleanField(
        _l("The nominee must give consent before screening"),
        description=_l("When someone else nominates, the nominee receives an e-mail and must "
                       "agree before the entry is screened."))
    has_public_stage = BooleanField(
        _l("The call has a public stage (online vote or public discussion)"))
    organisation_certificate = BooleanField(
        _l("The nominating organisation also receives a diploma"),
        description=_l("Each author of an awarded entry receives a diploma; with this, the "
                       "organisation that nominated the entry receives one too."))
    version_id = HiddenField()

    def __init__(self, *args, programmes=(), editing=False, current_timezone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_id.choices = ([] if editing else [
            SelectChoice("", _l("— choose a programme —"))]) + [
            SelectChoice(p.id, label) for p, label in programmes]
        zones = list(TIMEZONES)
        if current_timezone and current_timezone not in zones:
            zones.insert(0, current_timezone)  # a call set up elsewhere keeps its own zone
        self.timezone.choices = [SelectChoice(name, f"{name} ({_offset(name)})")
                                 for name in zones]
        if not editing:
            del self.version_id

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        programme = getattr(self, "programme_id", None)  # a copy keeps its call's
        if programme is not None and programme.data is None and not programme.errors:
            # Something posted that names no option (other digits, a number too large).
            programme.errors = [_l("Choose the programme this call belongs to.")]
            ok = False
        if not any(getattr(self, f"title_{c}").data for c in LANGS):
            self.title_ru.errors.append(
                _l("Enter the title in at least one language (Russian is the default)."))
            ok = False
        if not self.allowed_nominator_kinds.data:
            self.allowed_nominator_kinds.errors.append(
                _l("Allow at least one kind of nominator."))
            ok = False
        opens, closes = self.opens_at.data, self.closes_at.data
        if opens and closes and not self.timezone.errors:
            if local_to_utc(closes, self.timezone.data) <= local_to_utc(opens, self.timezone.data):
                self.closes_at.errors.append(_l("The closing time must be after the opening "
                                                "time."))
                ok = False
        return ok

    def expected_version(self) -> int | None:
        raw = self.version_id.data if self.version_id is not None else None
        return None if raw is None else whole_number(str(raw))

    def values(self) -> dict[str, Any]:
        tz = self.timezone.data
        values: dict[str, Any] = {
            "programme_id": self.programme_id.data,
            "slug": self.slug.data,
            "reference_prefix": self.reference_prefix.data,
            "year": self.year.data,
            "timezone": tz,
            "opens_at": local_to_utc(self.opens_at.data, tz),
            "closes_at": local_to_utc(self.closes_at.data, tz),
            # In the order of the enum, whatever order the browser sent them in.
            "allowed_nominator_kinds": [k.value for k in NominatorKind
                                        if k.value in self.allowed_nominator_kinds.data],
            "requires_nominee_consent": bool(self.requires_nominee_consent.data),
            "has_public_stage": bool(self.has_public_stage.data),
            "organisation_certificate": bool(self.organisation_certificate.data),
        }
        for prefix in ("title", "rules", "consent_text"):
            for code in LANGS:
                values[f"{prefix}_{code}"] = _text(getattr(self, f"{prefix}_{code}").data)
        return values

    @staticmethod
    def initial(call) -> dict[str, Any]:
        data = {name: getattr(call, name) for name in (
            "programme_id", "slug", "reference_prefix", "year", "timezone",
            "requires_nominee_consent", "has_public_stage", "organisation_certificate",
            "version_id",
            *(f"{p}_{c}" for p in ("title", "rules", "consent_text") for c in LANGS))}
        data["opens_at"] = utc_to_local_naive(call.opens_at, call.timezone)
        data["closes_at"] = utc_to_local_naive(call.closes_at, call.timezone)
        data["allowed_nominator_kinds"] = list(call.allowed_nominator_kinds or [])
        return data


class CloneCallForm(BaseForm):
    year = IntegerField(_l("Year of the new edition"),
                        validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    slug = _slug_field(_l("Address name of the new call"))
    title_kk = _ml(StringField, _l("Title"), "kk", max_length=300)
    title_ru = _ml(StringField, _l("Title"), "ru", max_length=300)
    title_en = _ml(StringField, _l("Title"), "en", max_length=300)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        programme = getattr(self, "programme_id", None)  # a copy keeps its call's
        if programme is not None and programme.data is None and not programme.errors:
            # Something posted that names no option (other digits, a number too large).
            programme.errors = [_l("Choose the programme this call belongs to.")]
            ok = False
        if not any(getattr(self, f"title_{c}").data for c in LANGS):
            self.title_ru.errors.append(
                _l("Enter the title in at least one language (Russian is the default)."))
            ok = False
        return ok

    def titles(self) -> dict[str, str]:
        return {code: _text(getattr(self, f"title_{code}").data) for code in LANGS}

    @staticmethod
    def initial(call) -> dict[str, Any]:
        year = call.year + 1
        data: dict[str, Any] = {"year": year}
        data["slug"] = (call.slug.replace(str(call.year), str(year))
                        if str(call.year) in call.slug else f"{call.slug}-{year}")
        for code in LANGS:
            data[f"title_{code}"] = getattr(call, f"title_{code}").replace(str(call.year),
                                                                          str(year))
        return data


# ---- categories and award levels --------------------------------------------------------------


class CategoryForm(BaseForm):
    code = StringField(
        _l("Code"), filters=[_strip],
        validators=[DataRequired(), Length(max=40),
                    Regexp(SLUG_RE, message=_l("Use lower-case Latin letters, digits and "
                                               "hyphens, e.g. environment."))],
        description=_l("Short and unique within the call: lower-case Latin letters, digits, "
                       "hyphens."))
    name_kk = _ml(StringField, _l("Name"), "kk", max_length=300)
    name_ru = _ml(StringField, _l("Name"), "ru", max_length=300)
    name_en = _ml(StringField, _l("Name"), "en", max_length=300)
    description_kk = _ml(TextAreaField, _l("Description"), "kk")
    description_ru = _ml(TextAreaField, _l("Description"), "ru")
    description_en = _ml(TextAreaField, _l("Description"), "en")
    winners_count = IntegerField(
        _l("Number of winners"), default=1,
        validators=[InputRequired(), NumberRange(min=0, max=1000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"name_{c}").data for c in LANGS):
            self.name_ru.errors.append(_l("Enter the name in at least one language."))
            ok = False
        return ok

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"code": self.code.data,
                                  "winners_count": self.winners_count.data}
        for code in LANGS:
            values[f"name_{code}"] = _text(getattr(self, f"name_{code}").data)
            values[f"description_{code}"] = _text(getattr(self, f"description_{code}").data)
        return values

    @staticmethod
    def initial(category) -> dict[str, Any]:
        return {name: getattr(category, name) for name in (
            "code", "winners_count", *(f"name_{c}" for c in LANGS),
            *(f"description_{c}" for c in LANGS))}


class AwardLevelForm(BaseForm):
    key = _key_field(_l("Key"), 40, _l("Short and unique within the category, e.g. winner, "
                                       "laureate, special_mention."))
    name_kk = _ml(StringField, _l("Name"), "kk", max_length=200)
    name_ru = _ml(StringField, _l("Name"), "ru", max_length=200)
    name_en = _ml(StringField, _l("Name"), "en", max_length=200)
    count = IntegerField(_l("How many can receive it"), default=1,
                         validators=[InputRequired(), NumberRange(min=1, max=1000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"name_{c}").data for c in LANGS):
            self.name_ru.errors.append(_l("Enter the name in at least one language."))
            ok = False
        return ok

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"key": self.key.data, "count": self.count.data}
        for code in LANGS:
            values[f"name_{code}"] = _text(getattr(self, f"name_{code}").data)
        return values

    @staticmethod
    def initial(level) -> dict[str, Any]:
        return {name: getattr(level, name) for name in (
            "key", "count", *(f"name_{c}" for c in LANGS))}


# ---- application form questions ---------------------------------------------------------------

# Typed answers, which may have a length limit.
TEXT_TYPES = {FieldType.SHORT_TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.URL,
              FieldType.PHONE}
CHOICE_TYPES = {FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE}


def parse_options(text: str) -> list[dict[str, str]]:
    """One option per line: ``value | label ru | label kk | label en``. Only the value is
    needed; a missing label takes the Russian one, and that the value. Raises ValueError
    with a message for the administrator."""
    options = []
    seen = set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 4:
            raise ValueError(_l("Line %(n)d has more than four parts.", n=number))
        value = parts[0]
        if not value:
            raise ValueError(_l("Line %(n)d has no value before the first |.", n=number))
        if len(value) > 100:
            raise ValueError(_l("Line %(n)d: the value is longer than 100 characters.", n=number))
        if value in seen:
            raise ValueError(_l("The value “%(value)s” appears twice.", value=value))
        seen.add(value)
        parts += [""] * (4 - len(parts))
        ru = parts[1] or value
        options.append({"value": value, "label_ru": ru, "label_kk": parts[2] or ru,
                        "label_en": parts[3] or ru})
    return options


def format_options(options: list[dict[str, Any]] | None) -> str:
    lines = []
    for option in options or []:
        parts = [str(option.get("value", "")), option.get("label_ru", ""),
                 option.get("label_kk", ""), option.get("label_en", "")]
        lines.append(" | ".join(p or "" for p in parts))
    return "\n".join(lines)


def _number(value) -> float | None:
    return None if value is None else float(value)


def _decimal(value: float | None) -> Decimal | None:
    # "1900", not "1900.0", when the form shows a stored float again.
    return None if value is None else Decimal(f"{value:g}")


class FormFieldForm(BaseForm):
    """One question. Which of the type-specific settings apply depends on ``field_type``, given
    by the view (chosen when the question is added, fixed afterwards)."""

    key = _key_field(_l("Key"), 60, _l("Unique within the call; used in exports. Lower-case "
                                       "Latin letters, digits and underscores, e.g. "
                                       "work_title."))
    label_kk = _ml(StringField, _l("Question"), "kk", max_length=300)
    label_ru = _ml(StringField, _l("Question"), "ru", max_length=300)
    label_en = _ml(StringField, _l("Question"), "en", max_length=300)
    help_kk = _ml(TextAreaField, _l("Help text"), "kk", rows=3)
    help_ru = _ml(TextAreaField, _l("Help text"), "ru", rows=3)
    help_en = _ml(TextAreaField, _l("Help text"), "en", rows=3)
    required = BooleanField(_l("Required"))
    category_id = SelectField(_l("Applies to category"), coerce=str)
    nominator_kinds = MultiCheckboxField(
        _l("Applies to nominators"),
        choices=_kind_choices(),
        description=_l("Leave all unticked to ask every kind of nominator."))
    is_identifying = BooleanField(
        _l("Identifies the nominee (hidden from jurors in blind rounds)"))
    is_public = BooleanField(_l("Shown on the nominee's public profile"))
    # Type-specific settings.
    max_length = IntegerField(_l("Maximum length, characters"),
                              validators=[Optional(), NumberRange(min=1, max=100000)],
                              description=_l("Leave empty for no limit."))
    min_value = DecimalField(_l("Minimum"), places=None, validators=[Optional()],
                             description=_l("Leave empty for no minimum."))
    max_value = DecimalField(_l("Maximum"), places=None, validators=[Optional()],
                             description=_l("Leave empty for no maximum."))
    options = TextAreaField(
        _l("Options"), render_kw={"rows": 8},
        description=_l("One option per line: value | label in Russian | label in Kazakh | "
                       "label in English. Only the value is required; a missing label takes "
                       "the Russian one. Example: almaty | Алматы | Алматы | Almaty"))
    file_types = MultiCheckboxField(
        _l("Allowed file types"),
        choices=[SelectChoice(value, label) for value, label in FILE_TYPE_LABELS.items()])
    file_max_mb = DecimalField(_l("Maximum size of one file, MB"), places=None,
                               validators=[Optional()])
    file_max_count = IntegerField(_l("Maximum number of files"), default=1,
                                  validators=[Optional(), NumberRange(min=1, max=50)])
    # Stored in the question's max_value (nominations.authors).
    max_authors = IntegerField(_l("Maximum number of authors"), default=DEFAULT_MAX_AUTHORS,
                               validators=[Optional(), NumberRange(min=1, max=MAX_AUTHORS_LIMIT)])

    TYPE_SETTINGS: ClassVar[dict] = {
        **dict.fromkeys(TEXT_TYPES, ("max_length",)),
        FieldType.NUMBER: ("min_value", "max_value"),
        FieldType.SINGLE_CHOICE: ("options",),
        FieldType.MULTIPLE_CHOICE: ("options",),
        FieldType.FILE: ("file_types", "file_max_mb", "file_max_count"),
        FieldType.AUTHORS: ("max_authors", "options"),
    }

    def __init__(self, *args, field_type: FieldType, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.field_type = FieldType(field_type)
        self.category_id.choices = [SelectChoice("", _l("All categories"))] + [
            SelectChoice(str(c.id), label) for c, label in categories]
        self._parsed_options: list[dict[str, str]] = []

    def settings(self) -> tuple[str, ...]:
        """The names of the type-specific inputs the page shows."""
        return self.TYPE_SETTINGS.get(self.field_type, ())

    def max_upload_mb(self) -> float:
        return current_app.config["MAX_CONTENT_LENGTH"] / MB

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(getattr(self, f"label_{c}").data for c in LANGS):
            self.label_ru.errors.append(_l("Enter the question in at least one language."))
            ok = False
        kind = self.field_type
        if kind == FieldType.NUMBER:
            low, high = self.min_value.data, self.max_value.data
            if low is not None and high is not None and low > high:
                self.max_value.errors.append(_l("The maximum must not be below the minimum."))
                ok = False
        if kind == FieldType.AUTHORS:
            try:
                self._parsed_options = parse_options(self.options.data)
            except ValueError as exc:
                self.options.errors.append(exc.args[0])
                ok = False
            if self.max_authors.data is None:
                self.max_authors.errors.append(_l("Enter the maximum number of authors."))
                ok = False
        if kind in CHOICE_TYPES:
            try:
                self._parsed_options = parse_options(self.options.data)
            except ValueError as exc:
                self.options.errors.append(exc.args[0])
                ok = False
            else:
                if not self._parsed_options:
                    self.options.errors.append(_l("Enter at least one option."))
                    ok = False
        if kind == FieldType.FILE:
            if not self.file_types.data:
                self.file_types.errors.append(_l("Allow at least one file type."))
                ok = False
            size = self.file_max_mb.data
            limit = self.max_upload_mb()
            if size is None:
                self.file_max_mb.errors.append(_l("Enter the maximum size."))
                ok = False
            elif not 0 < size <= limit:
                self.file_max_mb.errors.append(
                    _l("Enter a size above 0 and at most %(limit)s MB.", limit=f"{limit:g}"))
                ok = False
            if self.file_max_count.data is None:
                self.file_max_count.errors.append(_l("Enter the maximum number of files."))
                ok = False
        return ok

    def values(self) -> dict[str, Any]:
        kind = self.field_type
        category = self.category_id.data
        values: dict[str, Any] = {
            "key": self.key.data,
            "type": kind,
            "required": bool(self.required.data),
            "category_id": int(category) if category else None,
            "nominator_kinds": [k.value for k in NominatorKind
                                if k.value in self.nominator_kinds.data] or None,
            # Authors are people: never shown in a blind round.
            "is_identifying": bool(self.is_identifying.data) or kind == FieldType.AUTHORS,
            "is_public": bool(self.is_public.data),
            # Settings of other types are cleared, so a question never carries stale limits.
            "max_length": self.max_length.data if kind in TEXT_TYPES else None,
            "min_value": _number(self.min_value.data) if kind == FieldType.NUMBER else None,
            "max_value": (_number(self.max_value.data) if kind == FieldType.NUMBER
                          else float(self.max_authors.data) if kind == FieldType.AUTHORS
                          else None),
            "options": self._parsed_options if kind in (*CHOICE_TYPES, FieldType.AUTHORS) else [],
            "file_types": ([t for t in FILE_TYPE_LABELS if t in self.file_types.data]
                           if kind == FieldType.FILE else []),
            "file_max_bytes": (int(self.file_max_mb.data * MB)
                               if kind == FieldType.FILE else None),
            "file_max_count": self.file_max_count.data if kind == FieldType.FILE else 1,
        }
        for code in LANGS:
            values[f"label_{code}"] = _text(getattr(self, f"label_{code}").data)
            values[f"help_{code}"] = _text(getattr(self, f"help_{code}").data)
        return values

    @staticmethod
    def initial(form_field) -> dict[str, Any]:
        data = {name: getattr(form_field, name) for name in (
            "key", "required", "is_identifying", "is_public", "max_length", "file_max_count",
            *(f"label_{c}" for c in LANGS), *(f"help_{c}" for c in LANGS))}
        data["category_id"] = str(form_field.category_id or "")
        data["nominator_kinds"] = list(form_field.nominator_kinds or [])
        data["options"] = format_options(form_field.options)
        # Older data may say "jpg"; uploads treat it as "jpeg", and so does the checkbox.
        data["file_types"] = ["jpeg" if t == "jpg" else t for t in form_field.file_types or []]
        data["min_value"] = _decimal(form_field.min_value)
        data["max_value"] = _decimal(form_field.max_value)
        if form_field.type == FieldType.AUTHORS:
            data["max_authors"] = int(form_field.max_value or DEFAULT_MAX_AUTHORS)
        data["file_max_mb"] = (_decimal(round(form_field.file_max_bytes / MB, 3))
                               if form_field.file_max_bytes else None)
        return data
