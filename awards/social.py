"""What a page shared as a link needs: its absolute address (on BASE_URL, as a messenger
fetching it sees the site), the plain share links to the messengers' own pages (no script of
theirs is loaded) and the Open Graph locale of the page's language. Template globals
``page_url``, ``share_links`` and ``og_locale`` (registered in ``awards.templating``)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from babel.core import Locale, UnknownLocaleError, get_global
from flask import current_app, request
from flask_babel import get_locale

from awards.i18n import FORMAT_LOCALES
from awards.urls import external_url

DEFAULT_OG_LOCALE = "ru_RU"


def page_url() -> str:
    """The requested page's absolute address (its route with the same values), on BASE_URL."""
    if request.endpoint and request.url_rule is not None:
        return external_url(request.endpoint, **(request.view_args or {}))
    return current_app.config["BASE_URL"].rstrip("/") + request.path


def share_links(url: str, text: str) -> list[tuple[str, str, str]]:
    """(network key, name, address) of each messenger's share page for ``url``."""
    u, t = quote(url, safe=""), quote(text, safe="")
    return [
        ("telegram", "Telegram", f"https://t.me/share/url?url={u}&text={t}"),
        ("whatsapp", "WhatsApp", f"https://wa.me/?text={quote(text + ' ' + url, safe='')}"),
        ("facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
        ("x", "X", f"https://x.com/intent/post?url={u}&text={t}"),
    ]


def og_locale(language: str | None = None) -> str:
    """``kk`` -> ``kk_KZ``, ``ru`` -> ``ru_RU``, ``en`` -> ``en_GB``: the locale the site
    formats the language (by default the page's) in (``awards.i18n.FORMAT_LOCALES``), with its
    likely country."""
    return _og_locale(language or str(get_locale()))


@lru_cache(maxsize=16)
def _og_locale(language: str) -> str:
    try:
        locale = Locale.parse(FORMAT_LOCALES.get(language, language))
        if not locale.territory:
            locale = Locale.parse(get_global("likely_subtags").get(locale.language,
                                                                    locale.language))
    except (ValueError, TypeError, UnknownLocaleError):
        return DEFAULT_OG_LOCALE
    if not locale.territory:
        return DEFAULT_OG_LOCALE
    return f"{locale.language}_{locale.territory}"
