"""The one form base: WTForms with session-bound CSRF and messages in the page's language."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import current_app, request, session
from flask_babel import get_locale
from wtforms import Form
from wtforms.csrf.session import SessionCSRF
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation, ValidationError

from awards.boundary import MSG_CONTROL, has_control, strip_control


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

    def __init__(self, formdata=None, **kwargs):
        if formdata is None and request.method in {"POST", "PUT", "PATCH", "DELETE"}:
            formdata = request.form.copy()
            formdata.update(request.files)
        super().__init__(formdata=formdata, **kwargs)
        if formdata is not None:
            for field in self:
                if field.type != "CSRFTokenField" and _holds_control(field):
                    _refuse_control(field)

    def is_submitted(self) -> bool:
        return request.method in {"POST", "PUT", "PATCH", "DELETE"}

    def validate_on_submit(self, extra_validators=None) -> bool:
        return self.is_submitted() and self.validate(extra_validators=extra_validators)


def _holds_control(field) -> bool:
    # Text only: an uploaded file's name is made safe where the file is stored.
    return any(isinstance(value, str) and has_control(value)
               for value in getattr(field, "raw_data", None) or ())


def _refuse_control(field) -> None:
    """The input boundary for forms: a field whose posted text holds a control character is
    not validated (nor saved); it shows the text without those characters and says why. The
    other fields of the form are checked and kept as usual (a draft saves them)."""
    raw = [strip_control(v) if isinstance(v, str) else v for v in field.raw_data]
    field.raw_data = raw
    texts = [v for v in raw if isinstance(v, str)]
    if isinstance(field.data, list):
        field.data = texts
    elif isinstance(field.data, str) or field.data is None:
        field.data = texts[0] if texts else None

    def _stop(form) -> None:
        raise StopValidation(MSG_CONTROL)

    field.pre_validate = _stop


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
