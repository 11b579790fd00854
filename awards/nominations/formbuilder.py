"""The application form of a call, built at request time from its FormFields.

One form serves two buttons. "Save draft" checks only the types of what was typed (a number
must be a number, a choice one of the options) and leaves empty fields alone; "Submit" also
requires the required ones. Every check keeps what the user typed, so a page re-rendered with
errors loses nothing.

Answers are parsed here into the values stored in ``Answer.value``: str, int or float, an ISO
date string, a list of option values, a bool. Files are not touched: the form hands over the
uploaded ``FileStorage`` objects and the service stores them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import (
    BooleanField,
    Field,
    MultipleFileField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import DateInput, EmailInput, FileInput, NumberInput, TelInput, URLInput

from awards.calls.models import FormField
from awards.enums import FieldType, NominatorKind
from awards.forms import BaseForm
from awards.i18n import format_date, localized
from awards.i18n import format_size as size_text
from awards.nominations import authors as authors_mod
from awards.nominations.authors_form import AuthorsField, _author_line, _parse_authors
from awards.nominations.authors_form import authors_formdata as authors_formdata
from awards.nominations.authors_form import row_action_target as row_action_target
from awards.nominations.fields import (
    NOMINEE_COLUMNS,
    allowed_kinds,
    max_upload_bytes,
    nominee_rules,
    question_fields,
    too_many_files_message,
)
from awards.storage import CONTENT_TYPES

ANSWER_PREFIX = "q_"
DEFAULT_MAX_LENGTH = {FieldType.SHORT_TEXT: 500, FieldType.LONG_TEXT: 20000}
URL_MAX_LENGTH = 2000
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]*$")
_DOTTED_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

MSG_REQUIRED = _l("This field is required.")
MSG_FILE_REQUIRED = _l("Please attach a file.")
MSG_TICK = _l("Please tick this box to continue.")


def field_name(field: FormField) -> str:
    return ANSWER_PREFIX + field.key


def form_name(name: str) -> str:
    """The form field for what ``services.missing_fields`` reports: a nominee detail or the
    consent by its own name, a question by its key."""
    if name in NOMINEE_COLUMNS or name == "personal_data_consent":
        return name
    return ANSWER_PREFIX + name


_EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg,.jpeg", "png": ".png", "gif": ".gif",
               "webp": ".webp"}


def accept_attribute(field: FormField) -> str:
    kinds = allowed_kinds(field)
    return ",".join([_EXTENSIONS[k] for k in kinds] + [CONTENT_TYPES[k] for k in kinds])


def file_hint(field: FormField) -> str:
    kinds = ", ".join(k.upper() for k in allowed_kinds(field))
    return str(lazy_ngettext("%(types)s; up to %(size)s; at most %(num)d file.",
                             "%(types)s; up to %(size)s each; at most %(num)d files.",
                             field.file_max_count or 1, types=kinds,
                             size=size_text(max_upload_bytes(field))))


def file_limits(field: FormField, attached: int) -> dict[str, str]:
    """What the browser checks before sending the files of a question (upload.js), as data
    attributes of its input; the server checks the same again, by content. ``{name}`` in a
    message stands for the file's name."""
    kinds = allowed_kinds(field)
    limit = field.file_max_count or 1
    size = max_upload_bytes(field)
    types = ", ".join(k.upper() for k in kinds)
    return {
        "data-max-bytes": str(size),
        "data-max-count": str(limit),
        "data-attached": str(attached),
        "data-types": ",".join(kinds),
        "data-extensions": ",".join(_EXTENSIONS[k] for k in kinds),
        "data-mimes": ",".join(CONTENT_TYPES[k] for k in kinds),
        "data-msg-size": str(_l("The file “%(name)s” is larger than %(limit)s. Choose a "
                                "smaller file; nothing was sent.",
                                name="{name}", limit=size_text(size))),
        "data-msg-type": str(_l("The file “%(name)s” is not an allowed type (%(types)s). "
                                "Choose another file; nothing was sent.",
                                name="{name}", types=types)),
        "data-msg-count": str(too_many_files_message(limit, attached if limit > 1 else 0)),
    }


def is_whole_number(field: FormField) -> bool:
    """A number question that asks for a year (its key says so: ``year``, ``*_year``,
    ``year_*``) takes whole numbers only."""
    key = (field.key or "").lower()
    return key == "year" or key.endswith("_year") or key.startswith("year_")


# ---- parsing: raw text → stored value ---------------------------------------------------------


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_number(raw: str, field: FormField) -> int | float:
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_l("Enter a number.")) from None
    if not number.is_finite():
        raise ValidationError(_l("Enter a number."))
    whole = number == number.to_integral_value()
    if not whole and is_whole_number(field):
        raise ValidationError(_l("Enter a whole number (a year), for example 2020."))
    value: int | float = int(number) if whole else float(number)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(_l("Enter a number."))
    if field.min_value is not None and value < field.min_value:
        raise ValidationError(_l("Enter a number of at least %(min)s.",
                                 min=_number_text(field.min_value)))
    if field.max_value is not None and value > field.max_value:
        raise ValidationError(_l("Enter a number of at most %(max)s.",
                                 max=_number_text(field.max_value)))
    return value


def parse_date(raw: str) -> str:
    text = raw.strip()
    try:
        dotted = _DOTTED_DATE_RE.match(text)
        if dotted:
            day, month, year = (int(part) for part in dotted.groups())
            return date(year, month, day).isoformat()
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError(_l("Enter a date, for example 2026-11-30.")) from None


def parse_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid e-mail address.")) from None


def parse_url(raw: str) -> str:
    text = raw.strip()
    parts = urlsplit(text)
    if (parts.scheme.lower() not in ("http", "https") or not parts.netloc
            or any(ch.isspace() or ord(ch) < 0x20 for ch in text) or len(text) > URL_MAX_LENGTH):
        raise ValidationError(_l("Enter a web address starting with http:// or https://."))
    return text


def parse_phone(raw: str) -> str:
    text = " ".join(raw.split())
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE_RE.match(text) or not 5 <= digits <= 15:
        raise ValidationError(_l("Enter a phone number, for example +7 701 123 45 67."))
    return text


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


class _Answer:
    """Validates one question and leaves the parsed value in ``form.parsed[field.id]``.

    An empty answer is an error only when the form is final (Submit); it then stops the chain,
    so "required" and a type error never show together."""

    def __init__(self, definition: FormField, *, required: bool):
        self.definition = definition
        self.required = required
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form: NominationFormBase, field: Field) -> None:
        definition = self.definition
        kind = definition.type
        raw = field.data
        if kind == FieldType.FILE:
            return  # checked by the service, which knows the files already stored
        if kind == FieldType.AUTHORS:
            form.parsed[definition.id] = _parse_authors(definition, field, form.final,
                                                        self.required)
            return
        if kind == FieldType.CHECKBOX:
            value: Any = bool(raw)
        elif kind == FieldType.MULTIPLE_CHOICE:
            value = [str(v) for v in (raw or []) if str(v) != ""]
        else:
            value = (raw or "").strip() if isinstance(raw, str) else raw
        if _is_empty(value):
            form.parsed[definition.id] = None
            if self.required and form.final:
                raise StopValidation(MSG_TICK if kind == FieldType.CHECKBOX else MSG_REQUIRED)
            raise StopValidation()
        if kind in (FieldType.SHORT_TEXT, FieldType.LONG_TEXT):
            limit = definition.max_length or DEFAULT_MAX_LENGTH[kind]
            if len(value) > limit:
                raise ValidationError(_l("Use at most %(n)d characters (now %(m)d).", n=limit,
                                         m=len(value)))
        elif kind == FieldType.NUMBER:
            value = parse_number(value, definition)
        elif kind == FieldType.DATE:
            value = parse_date(value)
        elif kind == FieldType.EMAIL:
            value = parse_email(value)
        elif kind == FieldType.URL:
            value = parse_url(value)
        elif kind == FieldType.PHONE:
            value = parse_phone(value)
        elif kind == FieldType.SINGLE_CHOICE:
            if value not in definition.option_values():
                raise ValidationError(_l("Choose one of the options."))
        elif kind == FieldType.MULTIPLE_CHOICE:
            allowed = definition.option_values()
            if any(v not in allowed for v in value):
                raise ValidationError(_l("Choose only from the options given."))
            value = [v for v in allowed if v in value]  # form order, no duplicates
        form.parsed[definition.id] = value


class _Nominee:
    """The same for a nominee detail; the value goes to ``form.nominee[name]``."""

    def __init__(self, name: str, *, required: bool, parse=None, limit: int = 300):
        self.name = name
        self.required = required
        self.parse = parse
        self.limit = limit
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form: NominationFormBase, field: Field) -> None:
        value = " ".join((field.data or "").split())
        if not value:
            form.nominee[self.name] = ""
            if self.required and form.final:
                raise StopValidation(MSG_REQUIRED)
            raise StopValidation()
        if len(value) > self.limit:
            raise ValidationError(_l("Use at most %(n)d characters (now %(m)d).", n=self.limit,
                                     m=len(value)))
        form.nominee[self.name] = self.parse(value) if self.parse else value


def _consent_check(form: NominationFormBase, field: Field) -> None:
    if form.final and not field.data:
        raise StopValidation(_l("Please accept the consent to submit the nomination."))


class NominationFormBase(BaseForm):
    """Subclassed per request by ``build_form``; ``final`` is set by the view before
    validating (True for Submit and for changes to a nomination already submitted)."""

    final = False
    questions: ClassVar[list[FormField]] = []
    nominee_fields: ClassVar[list[str]] = []
    asks_consent = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parsed: dict[int, Any] = {}
        self.nominee: dict[str, str] = {}

    def validate_as(self, *, final: bool) -> bool:
        self.final = final
        self.parsed = {}
        self.nominee = {}
        return self.validate()

    @property
    def csrf_failed(self) -> bool:
        return bool(self.meta.csrf and self["csrf_token"].errors)

    def question(self, definition: FormField) -> Field:
        return self[field_name(definition)]

    def valid_answers(self) -> dict[int, Any]:
        """Parsed answers that passed their type checks (files excluded). An emptied answer is
        included (as None) even when Submit then reports it as required: the draft keeps
        what was typed, and that includes clearing a field."""
        return dict(self.parsed)

    def valid_nominee(self) -> dict[str, str]:
        return dict(self.nominee)

    def uploads(self) -> dict[int, list]:
        """Files chosen in this request per file question (a file input left empty sends a
        part without a name, which is not a file)."""
        chosen = {}
        for q in self.questions:
            if q.type != FieldType.FILE:
                continue
            files = [f for f in (self.question(q).data or [])
                     if getattr(f, "filename", None)]
            if files:
                chosen[q.id] = files
        return chosen

    def add_error(self, name: str, message) -> None:
        field = self[name]
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        if message not in field.errors:
            field.errors.append(message)


NOMINEE_LABELS = {
    "nominee_name": _l("Nominee's full name"),
    "nominee_email": _l("Nominee's e-mail"),
    "nominee_phone": _l("Nominee's phone"),
    "organisation_name": _l("Name of the nominating organisation"),
}


def nominee_hint(name: str, nominator_kind: str):
    if name == "nominee_email" and nominator_kind != NominatorKind.SELF:
        return _l("We will ask the nominee by e-mail to confirm the nomination.")
    if name == "nominee_phone":
        return _l("In international format, for example +7 701 123 45 67.")
    if name == "nominee_name" and nominator_kind == NominatorKind.ORGANISATION:
        return _l("The person (or author collective) the organisation nominates.")
    return ""


def _widget_field(definition: FormField, label: str, description: str, validator: _Answer):
    kind = definition.type
    common = {"label": label, "description": description, "validators": [validator]}
    if kind == FieldType.SHORT_TEXT:
        return StringField(**common)
    if kind == FieldType.LONG_TEXT:
        return TextAreaField(**common)
    if kind == FieldType.NUMBER:
        render_kw = ({"step": "1", "inputmode": "numeric"} if is_whole_number(definition)
                     else {"step": "any", "inputmode": "decimal"})
        if definition.min_value is not None:
            render_kw["min"] = _number_text(definition.min_value)
        if definition.max_value is not None:
            render_kw["max"] = _number_text(definition.max_value)
        return StringField(widget=NumberInput(), render_kw=render_kw, **common)
    if kind == FieldType.DATE:
        return StringField(widget=DateInput(), **common)
    if kind == FieldType.EMAIL:
        return StringField(widget=EmailInput(), **common)
    if kind == FieldType.URL:
        return StringField(widget=URLInput(), **common)
    if kind == FieldType.PHONE:
        return StringField(widget=TelInput(), **common)
    options = [SelectChoice(str(o.get("value")), localized(_OptionLabel(o), "label"))
               for o in definition.options or []]
    if kind == FieldType.SINGLE_CHOICE:
        return SelectField(choices=[SelectChoice("", _l("— choose —")), *options],
                           validate_choice=False, **common)
    if kind == FieldType.MULTIPLE_CHOICE:
        return SelectMultipleField(choices=options, validate_choice=False, **common)
    if kind == FieldType.CHECKBOX:
        return BooleanField(**common)
    if kind == FieldType.AUTHORS:
        return AuthorsField(definition=definition, **common)
    if kind == FieldType.FILE:
        # One file: the input picks one, and a new one replaces the file attached.
        multiple = (definition.file_max_count or 1) > 1
        return MultipleFileField(widget=FileInput(multiple=multiple),
                                 render_kw={"accept": accept_attribute(definition)}, **common)
    raise ValueError(f"unknown field type {kind}")


class _OptionLabel:
    """Lets ``localized`` read an option dict like a model with label_<lang> columns."""

    def __init__(self, option: dict):
        self._option = option

    def __getattr__(self, name: str):
        return self._option.get(name, "")


def option_label(definition: FormField, value: str) -> str:
    for option in definition.options or []:
        if str(option.get("value")) == str(value):
            return localized(_OptionLabel(option), "label") or str(value)
    return str(value)


def build_form(fields: list[FormField], *, nominator_kind: str,
               consent_required: bool, asks_consent: bool, consent_text: bool = True,
               data: dict | None = None, read_request: bool = True) -> NominationFormBase:
    """The form for one nomination: nominee details for its kind of nominator, the applicable
    questions in order, and (before first submission) the call's personal-data consent: the
    box points at the call's consent text, or (a call without one) says what it agrees to."""
    attrs: dict[str, Any] = {}
    rules = nominee_rules(nominator_kind, fields, consent_required=consent_required)
    parsers = {"nominee_email": parse_email, "nominee_phone": parse_phone}
    limits = {"nominee_email": 254, "nominee_phone": 40}
    for name, required in rules.items():
        widget = {"nominee_email": EmailInput(), "nominee_phone": TelInput()}.get(name)
        extra = {"widget": widget} if widget else {}
        attrs[name] = StringField(
            NOMINEE_LABELS[name], description=nominee_hint(name, nominator_kind),
            validators=[_Nominee(name, required=required, parse=parsers.get(name),
                                 limit=limits.get(name, 300))],
            **extra,
        )
    questions = question_fields(fields)
    for q in questions:
        label = localized(q, "label") or q.key
        attrs[field_name(q)] = _widget_field(
            q, label, localized(q, "help"),
            _Answer(q, required=q.required and q.type != FieldType.FILE),
        )
    if asks_consent:
        label = (_l("I have read and accept the consent above") if consent_text else
                 _l("I agree to the processing of the personal data given in this nomination "
                    "to run the prize"))
        attrs["personal_data_consent"] = BooleanField(label, validators=[_consent_check])
    attrs["questions"] = questions
    attrs["nominee_fields"] = list(rules)
    attrs["asks_consent"] = asks_consent
    form_class = type("NominationForm", (NominationFormBase,), attrs)
    return form_class(data=data or {}, read_request=read_request)


def initial_data(nomination, fields: list[FormField]) -> dict[str, Any]:
    """What the form shows on GET: the stored answers in the shape the inputs take."""
    data: dict[str, Any] = {
        name: getattr(nomination, name) for name in NOMINEE_COLUMNS
    }
    for q in question_fields(fields):
        answer = nomination.answer_for(q.id)
        value = answer.value if answer is not None else None
        if q.type == FieldType.FILE or value is None:
            continue
        if q.type == FieldType.NUMBER:
            value = _number_text(value)
        data[field_name(q)] = value
    return data


def display_value(definition: FormField, value: Any) -> str | list[str]:
    """An answer as the reader sees it, in the current language (files excluded)."""
    if value is None or value == "" or value == []:
        return ""
    kind = definition.type
    if kind == FieldType.AUTHORS:
        return [_author_line(definition, row) for row in authors_mod.clean_rows(value)]
    if kind == FieldType.CHECKBOX:
        return str(_l("Yes")) if value else str(_l("No"))
    if kind == FieldType.SINGLE_CHOICE:
        return option_label(definition, value)
    if kind == FieldType.MULTIPLE_CHOICE:
        return [option_label(definition, v) for v in value]
    if kind == FieldType.NUMBER:
        return _number_text(value)
    if kind == FieldType.DATE:
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return str(value)
    return str(value)


@dataclass(frozen=True)
class AnswerRow:
    name: str  # the form field's name, for links to it
    label: str
    value: str | list[str]
    attachments: list = dc_field(default_factory=list)
    is_file: bool = False
    is_long: bool = False
    is_url: bool = False


def answer_rows(nomination, fields: list[FormField]) -> list[AnswerRow]:
    """The nomination as a list of labelled answers in the current language: the nominee
    details, then every question in form order (files with their attachments)."""
    rules = nominee_rules(nomination.nominator_kind, fields,
                          consent_required=nomination.nominee_consent_required)
    names = [*rules, *(["nominee_email"] if "nominee_email" not in rules else [])]
    rows = [AnswerRow(name, str(NOMINEE_LABELS[name]), getattr(nomination, name))
            for name in names if getattr(nomination, name)]
    for q in question_fields(fields):
        label = localized(q, "label") or q.key
        if q.type == FieldType.FILE:
            files = [a for a in nomination.attachments if a.field_id == q.id]
            rows.append(AnswerRow(field_name(q), label, "", attachments=files, is_file=True))
            continue
        answer = nomination.answer_for(q.id)
        rows.append(AnswerRow(field_name(q), label,
                              display_value(q, answer.value if answer is not None else None),
                              is_long=q.type == FieldType.LONG_TEXT,
                              is_url=q.type == FieldType.URL))
    return rows
