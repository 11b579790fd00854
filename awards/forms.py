"""The one form base: WTForms with session-bound CSRF and messages in the page's language."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import current_app, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import FileField, Form, MultipleFileField, SelectMultipleField, StringField
from wtforms.csrf.session import SessionCSRF
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation, ValidationError

from awards.boundary import MSG_CONTROL, has_control, strip_control

MSG_NOT_TEXT = _l("This field takes text, not a file.")
MSG_NOT_A_FILE = _l("This field takes a file: choose one with the button.")


class _Meta(DefaultMeta):
    csrf = True
    csrf_class = SessionCSRF

    @property
    def csrf_secret(self) -> bytes:
        return current_app.config["SECRET_KEY"].encode()

    @property
    def csrf_context(self):
        return session

    @property
    def csrf_time_limit(self) -> timedelta:
        return timedelta(seconds=current_app.config["WTF_CSRF_TIME_LIMIT"])

    @property
    def locales(self) -> list[str]:
        return [str(get_locale())]

    cache_translations = True

    def render_field(self, field, render_kw):
        # Many small forms share a page (language switch, logout): no duplicate ids. The token
        # of a form does not change once built, so one rendering serves all its buttons.
        if field.type == "CSRFTokenField":
            if render_kw:
                return super().render_field(field, {"id": False, **render_kw})
            html = getattr(field, "_awards_html", None)
            if html is None:
                html = field._awards_html = super().render_field(field, {"id": False})
            return html
        return super().render_field(field, render_kw)


class BaseForm(Form):
    Meta = _Meta

    def __init__(self, formdata=None, *, read_request: bool = True, **kwargs):
        """``read_request=False``: the form shows ``data`` only, even on a POST (the page
        answered to a request whose body could not be read)."""
        wrong_kind: dict[str, object] = {}
        if (formdata is None and read_request
                and request.method in {"POST", "PUT", "PATCH", "DELETE"}):
            formdata, wrong_kind = self._posted()
        super().__init__(formdata=formdata, **kwargs)
        if formdata is not None:
            for field in self:
                if field.name in wrong_kind:
                    _refuse(field, wrong_kind[field.name])
                elif field.type != "CSRFTokenField" and _holds_control(field):
                    _refuse(field, MSG_CONTROL)

    def _posted(self):
        """The posted form with its files, each where it belongs: a file sent for a text
        field, or text for a file field (no browser does either), never reaches the field;
        the field says so instead (name -> message)."""
        file_fields = {name for name, unbound in self._unbound_fields
                       if issubclass(unbound.field_class, FileField)}
        formdata = request.form.copy()
        wrong_kind = {}
        for name in file_fields & set(formdata):
            if any(formdata.poplist(name)):
                wrong_kind[name] = MSG_NOT_A_FILE
        for name, storage in request.files.items(multi=True):
            if name in file_fields:
                formdata.add(name, storage)
            else:
                wrong_kind[name] = MSG_NOT_TEXT
        return formdata, wrong_kind

    def is_submitted(self) -> bool:
        return request.method in {"POST", "PUT", "PATCH", "DELETE"}

    def validate_on_submit(self, extra_validators=None) -> bool:
        return self.is_submitted() and self.validate(extra_validators=extra_validators)


def _holds_control(field) -> bool:
    # Text only: an uploaded file's name is made safe where the file is stored.
    return any(isinstance(value, str) and has_control(value)
               for value in getattr(field, "raw_data", None) or ())


def _refuse(field, message) -> None:
    """The input boundary for forms: a field whose posted text holds a control character (or
    that was sent the wrong kind of value) is not validated (nor saved); it shows the text
    without those characters and says why. The other fields of the form are checked and kept
    as usual (a draft saves them)."""
    raw = [strip_control(v) if isinstance(v, str) else v for v in field.raw_data or ()]
    field.raw_data = raw
    texts = [v for v in raw if isinstance(v, str)]
    if isinstance(field, FileField):
        field.data = [] if isinstance(field, MultipleFileField) else None
    elif isinstance(field, SelectMultipleField):
        # The data of a multiple choice is a list of coerced values (ids), never text.
        field.data = [value for value in map(_coerced(field.coerce), texts)
                      if value is not None]
    elif isinstance(field, StringField):
        field.data = texts[0] if texts else None
    else:
        # A number, a date, a choice: no value (the field shows the text as it was sent);
        # never the refused text where the form expects a date or an id.
        field.data = [] if isinstance(field.data, list) else None

    def _stop(form) -> None:
        raise StopValidation(message)

    field.pre_validate = _stop


def _coerced(coerce):
    def convert(text: str):
        try:
            return coerce(text)
        except (ValueError, TypeError):
            return None

    return convert


class CSRFOnlyForm(BaseForm):
    """For buttons that post an action with no fields (logout, language, confirmations)."""


def csrf_token_valid(token: str | None) -> bool:
    """The CSRF check of :class:`CSRFOnlyForm` (same token, secret, session and time limit)
    without building a form, for the busiest POST of the site, the public vote."""
    csrf = SessionCSRF()
    csrf.form_meta = _Meta()
    try:
        csrf.validate_csrf_token(None, SimpleNamespace(data=token, gettext=str))
    except (ValidationError, KeyError):  # KeyError: no CSRF secret in this session yet
        return False
    return True

