"""Language choice: the signed-in user's preference, then the session, then the browser."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from babel import Locale
from flask import current_app, g, request, session
from flask_babel import format_date as babel_format_date
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import format_time as babel_format_time
from flask_babel import get_translations
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def select_locale() -> Locale:
    """The language as a babel ``Locale``, made once per language (Flask-Babel would parse
    the code again on every request)."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return _locale(chosen)
    if _may_be_signed_in() and current_user and getattr(current_user, "is_authenticated", False):
        if current_user.preferred_language in languages:
            return _locale(current_user.preferred_language)
    return _locale(_browser_language(request.headers.get("Accept-Language", ""),
                                     tuple(languages))
                   or current_app.config["BABEL_DEFAULT_LOCALE"])


_LOCALES: dict[str, Locale] = {}


def _locale(code: str) -> Locale:
    found = _LOCALES.get(code)
    if found is None:
        found = _LOCALES[code] = Locale.parse(code)
    return found


@lru_cache(maxsize=1024)
def _browser_language(header: str, languages: tuple[str, ...]) -> str | None:
    """:func:`best_language` of an ``Accept-Language`` header, remembered per header: a few
    hundred different headers come from all the browsers of a country."""
    return best_language(parse_accept_header(header, LanguageAccept), list(languages))


def _may_be_signed_in() -> bool:
    """Whether the request can have a signed-in user: one already known to this request (an
    API token's owner), a login in the session or a "keep me logged in" cookie. Without any,
    there is no preference to read, and no user is loaded for nothing (a public vote)."""
    return "_login_user" in g or "_user_id" in session or current_app.config.get(
        "REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def request_translations():
    """Flask-Babel's ``get_translations()``, remembered for the request while its locale stays
    the same (``force_locale`` changes it, for an e-mail in the recipient's language). Asked
    for every ``_()`` of a template, it walked Flask's context nine times a call, about as
    long as rendering the rest of a page's text."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    known = getattr(state, "awards_translations", None)
    if known is not None and locale is not None and known[0] is locale:
        return known[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    if state is not None:
        state.awards_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def install_template_gettext(jinja_env) -> None:
    """The templates' ``_()``, ``ngettext()``, ``pgettext()`` and ``npgettext()``, as
    Flask-Babel installs them, on :func:`request_translations`."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)


def best_language(accept, languages: list[str]) -> str | None:
    """Highest-quality browser language by its primary tag: ``kk-KZ`` counts as ``kk``."""
    for value, _quality in accept:  # werkzeug keeps them sorted by quality
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in languages:
            return primary
    return None


def format_dt(value: datetime | None, fmt: str = "medium") -> str:
    """Dates are always shown in the service's time zone (Asia/Almaty by default)."""
    if value is None:
        return ""
    if fmt == "medium":
        # Babel's medium datetime carries seconds ("12:00:00"), which nobody reads on a page.
        return f"{babel_format_date(value, 'medium')}, {babel_format_time(value, 'short')}"
    return babel_format_datetime(value, fmt)


def localized(obj, field: str, lang: str | None = None) -> str:
    """Pick ``<field>_<lang>`` from a model with kk/ru/en columns, falling back sensibly."""
    from flask_babel import get_locale

    lang = lang or str(get_locale())
    order = [lang, "ru", "en", "kk"]
    for code in order:
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return value
    return ""
