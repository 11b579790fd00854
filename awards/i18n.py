"""Language choice (the signed-in user's preference, then the session, then the browser), and the
site's one way per language to write dates, times, time zones and file sizes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel.numbers import format_decimal
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_translations
from flask_babel import gettext as gettext
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from awards.timeutil import DEFAULT_TZ

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def select_locale() -> Locale:
    """The language as a babel ``Locale``, made once per language (Flask-Babel would parse
    the code again on every request). Outside a request (a command, a scheduled job) a
    message is in the site's default language."""
    config = current_app.config
    if not has_request_context():
        return _locale(config["BABEL_DEFAULT_LOCALE"])
    return _locale(choose_language(session.get("lang"), request.headers.get("Accept-Language", ""),
                                   config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"],
                                   preferred=_preferred_language))


def choose_language(chosen, accept_language: str, languages, default: str,
                    preferred=None) -> str:
    """The page's language code: the one chosen in the session, else the signed-in user's
    (``preferred()``, asked only then), else the browser's best, else ``default``. Also used
    before Flask, by the page cache's front (``awards.cache_front``), for anonymous visitors."""
    if chosen in languages:
        return chosen
    if preferred is not None:
        mine = preferred()
        if mine in languages:
            return mine
    return _browser_language(accept_language, tuple(languages)) or default


def _preferred_language() -> str | None:
    if _may_be_signed_in() and current_user and getattr(current_user, "is_authenticated", False):
        return current_user.preferred_language
    return None


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
    Flask-Babel installs them, on :func:`request_translations`; their text has its nested
    quotes set right (:func:`nest_quotes`)."""
    jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    for name in ("gettext", "_", "ngettext", "pgettext", "npgettext"):
        jinja_env.globals[name] = _with_nested_quotes(jinja_env.globals[name])
    jinja_env.filters["quotes"] = nest_quotes


def _with_nested_quotes(translate):
    @pass_context
    def translated(context, *args, **kwargs):
        return nest_quotes(translate(context, *args, **kwargs))

    return translated


# A quoted name put in quotes: ««Волонтёр года»» or ««Премия «Волонтёр года»»» (up to one more
# level inside), whose outer pair adds nothing.
_DOUBLED_QUOTES = re.compile("«(«(?:[^«»]|«[^«»]*»)*»)»")


def nest_quotes(text):
    """Quotes inside quotes the Russian and Kazakh way: «Премия „Зелёные города“ 2027», not
    «Премия «Зелёные города» 2027». A name that already has its quotes keeps them, without a
    second pair around it: a message's «%(call)s» with the call «Премия «Волонтёр года»» reads
    «Премия „Волонтёр года“». Markup stays Markup (quote marks are no HTML)."""
    source = str(text)
    if source.count("«") < 2:
        return text
    previous = None
    while previous != source:
        previous, source = source, _DOUBLED_QUOTES.sub(r"\1", source)
    out, depth = [], 0
    for char in source:
        if char == "«":
            depth += 1
            out.append("„" if depth > 1 else char)
        elif char == "»" and depth:
            out.append("“" if depth > 1 else char)
            depth -= 1
        else:
            out.append(char)
    result = "".join(out)
    return Markup(result) if isinstance(text, Markup) else result


def best_language(accept, languages: list[str]) -> str | None:
    """Highest-quality browser language by its primary tag: ``kk-KZ`` counts as ``kk``."""
    for value, _quality in accept:  # werkzeug keeps them sorted by quality
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in languages:
            return primary
    return None


# ---- dates, times and time zones -----------------------------------------------------------------
#
# One style per language, from the CLDR patterns Babel carries (no hand-made patterns):
#
# ========  =========================  ===========  =================================
# language  date (CLDR "long")         time         date and time (CLDR "{1}, {0}")
# ========  =========================  ===========  =================================
# kk        2026 ж. 5 қаңтар           10:00        2026 ж. 5 қаңтар, 10:00
# ru        5 января 2026 г.           10:00        5 января 2026 г., 10:00
# en        5 January 2026 (en_GB)     10:00        5 January 2026, 10:00
# ========  =========================  ===========  =================================
#
# English is written the British way (day before month, 24-hour clock, as in kk and ru), so a
# page reads the same in every language. Times carry no seconds: a deadline at 23:59:59 reads
# 23:59. A moment is shown in a zone (the call's, else BABEL_DEFAULT_TIMEZONE) that is never
# repeated after each date: the page says it once, in words ("Times are Almaty time (UTC+5).",
# :func:`timezone_note`, in the footer of base.html), never as a zone id like "Asia/Almaty".

FORMAT_LOCALES = {"en": "en_GB"}
DATE_WIDTH = "long"
TIME_WIDTH = "short"


@lru_cache(maxsize=16)
def _patterns(code: str) -> tuple[Locale, str, str, str]:
    """(locale, date pattern, time pattern, date-and-time pattern) of a language."""
    locale = Locale.parse(FORMAT_LOCALES.get(code, code))
    date_pattern = locale.date_formats[DATE_WIDTH].pattern
    time_pattern = locale.time_formats[TIME_WIDTH].pattern
    if "h" in time_pattern or "a" in time_pattern:  # a 12-hour clock: the 24-hour one instead
        time_pattern = "HH:mm"
    both = locale.datetime_formats[DATE_WIDTH].replace("{1}", date_pattern)
    return locale, date_pattern, time_pattern, both.replace("{0}", time_pattern)


def _language(locale: str | Locale | None) -> str:
    if locale is not None:
        return str(locale).split("_")[0].split("-")[0]
    if has_request_context():
        from flask_babel import get_locale

        current = get_locale()
        if current is not None:
            return current.language
    elif has_app_context():  # a command: the language of force_locale (an e-mail), else English
        forced = getattr(g.get("_flask_babel"), "babel_locale", None)
        if forced is not None:
            return forced.language
    return "en"


def N_(msgid: str) -> str:
    """Babel's keyword: marks a message for extraction, translated later."""
    return msgid


def _gettext(msgid: str, **variables) -> str:
    """``gettext`` where a language is known (a request, ``force_locale``); English in a command,
    where asking Flask-Babel would look for a request."""
    if has_request_context() or (has_app_context() and getattr(
            g.get("_flask_babel"), "babel_locale", None) is not None):
        return gettext(msgid, **variables)
    return msgid % variables


def zone_of(tz: str | tzinfo | None = None) -> ZoneInfo:
    """The zone a moment is shown in: ``tz`` (a name or a zone), else the site's default."""
    if isinstance(tz, ZoneInfo):
        return tz
    if isinstance(tz, str) and tz:
        return _zoneinfo(tz)
    if getattr(tz, "key", None) or getattr(tz, "zone", None):  # another library's zone
        return _zoneinfo(getattr(tz, "key", None) or tz.zone)
    return _zoneinfo((current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context()
                      else None) or DEFAULT_TZ)


@lru_cache(maxsize=64)
def _zoneinfo(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _note_zone(zone: ZoneInfo) -> None:
    """Remember the zone a page's times were shown in, for its one :func:`timezone_note`."""
    if has_request_context():
        zones = g.setdefault("_awards_time_zones", [])
        if zone.key not in zones:
            zones.append(zone.key)


def _moment(value: datetime, zone: ZoneInfo) -> datetime:
    if value.tzinfo is None:  # the database's instants are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def format_date(value: date | datetime | None, tz=None, locale=None) -> str:
    """"5 января 2026 г.": a date, or the date of a moment in the zone ``tz``."""
    if value is None:
        return ""
    babel_locale, pattern, _time, _both = _patterns(_language(locale))
    if isinstance(value, datetime):
        zone = zone_of(tz)
        _note_zone(zone)
        value = _moment(value, zone).date()
    return babel_dates.format_date(value, pattern, locale=babel_locale)


def format_time(value: datetime | time | None, tz=None, locale=None) -> str:
    """"10:00": the wall-clock time of a moment in the zone ``tz``."""
    if value is None:
        return ""
    babel_locale, _date, pattern, _both = _patterns(_language(locale))
    if isinstance(value, datetime):
        zone = zone_of(tz)
        _note_zone(zone)
        value = _moment(value, zone)
    return babel_dates.format_time(value, pattern, locale=babel_locale)


def format_datetime(value: datetime | None, tz=None, locale=None) -> str:
    """"5 января 2026 г., 10:00": a moment in the zone ``tz``."""
    if value is None:
        return ""
    babel_locale, _date, _time, pattern = _patterns(_language(locale))
    zone = zone_of(tz)
    _note_zone(zone)
    return babel_dates.format_datetime(_moment(value, zone), pattern, tzinfo=zone,
                                       locale=babel_locale)


def format_dt(value, fmt: str | None = None, tz=None) -> str:
    """The ``|datetime`` filter: "date", "time", or else the date and time. A CLDR pattern given
    by an older template ("d MMMM y, HH:mm", "yyyy-MM-dd HH:mm") keeps only its meaning (a date,
    a time, or both), so every page shows the one style of its language."""
    if value is None or value == "":
        return ""
    kind = fmt or "datetime"
    if kind not in ("date", "time", "datetime"):
        has_date = any(c in kind for c in "dyML") or kind in ("short", "medium", "long", "full")
        has_time = any(c in kind for c in "Hhkm") or kind in ("short", "medium", "long", "full")
        kind = "datetime" if has_date and has_time else ("time" if has_time else "date")
    if kind == "date" or not isinstance(value, datetime):
        return format_date(value, tz)
    if kind == "time":
        return format_time(value, tz)
    return format_datetime(value, tz)


def utc_offset(zone: ZoneInfo, at: datetime | None = None) -> str:
    """"UTC+5", "UTC+5:30", "UTC−3" (a true minus sign): the zone's offset at ``at`` (now)."""
    offset = (at or datetime.now(UTC)).astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "\u2212"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _city(zone: ZoneInfo, locale=None) -> str:
    code = FORMAT_LOCALES.get(_language(locale), _language(locale))
    try:
        return babel_dates.get_timezone_location(zone, locale=code, return_city=True)
    except (LookupError, ValueError):
        return zone.key.rsplit("/", 1)[-1].replace("_", " ")


def timezone_words(tz=None, at: datetime | None = None, locale=None) -> str:
    """"Almaty, UTC+5": a zone for a reader, where a message already says it is a zone or a
    time ("in the call's time zone: Almaty, UTC+5", "closes on 5 January 2026, 10:00 (Almaty,
    UTC+5)"). The city is CLDR's, in the reader's language."""
    zone = zone_of(tz)
    offset = utc_offset(zone, at)
    if zone.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    return _gettext(N_("%(city)s, %(offset)s"), city=_city(zone, locale), offset=offset)


def timezone_note() -> str:
    """The page's one sentence about its times: the zones its times were shown in (the site's
    zone when it showed none), e.g. "Times are Almaty time (UTC+5)."."""
    names = list(g.get("_awards_time_zones") or []) if has_request_context() else []
    zones = [zone_of(name) for name in names] or [zone_of(None)]
    parts = []
    for zone in zones:
        if zone.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
            parts.append(_gettext(N_("Times are UTC.")))
        else:
            parts.append(_gettext(N_("Times are %(city)s time (%(offset)s)."), city=_city(zone),
                                 offset=utc_offset(zone)))
    return " ".join(parts)


# ---- sizes ---------------------------------------------------------------------------------------

def format_size(n: int | float, locale=None) -> str:
    """"512 B", "1,5 MB" / "1,5 МБ": a file size in binary units, the number written the
    language's way (Babel) and the unit translated."""
    code = FORMAT_LOCALES.get(_language(locale), _language(locale))
    value = float(n)
    units = (N_("%(size)s B"), N_("%(size)s KB"), N_("%(size)s MB"), N_("%(size)s GB"))
    for index, unit in enumerate(units):
        if value < 1024 or index == len(units) - 1:
            pattern = "0" if index == 0 else "0.#"
            return _gettext(unit, size=format_decimal(value, pattern, locale=code))
        value /= 1024
    return ""  # pragma: no cover


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
