"""Anonymous public pages served from a shared cache (Flask-Caching: Redis in production).

A view decorated with ``public_page`` is rendered once per address, query, language and host
and then served from the cache to every anonymous visitor, until the first of:

- **a write**: any commit that changes a table public pages read replaces the content version
  (session events: ``after_flush`` and ``do_orm_execute`` note the tables written,
  ``after_commit`` bumps), so no service has to remember the cache. An entry remembers the
  version it was built at and is ignored once the version moved;
- **a scheduled moment**: an entry built before a publication time, a deadline, the opening or
  closing of a public stage or a scheduled post expires at that instant, to the microsecond
  (``next_change``), so an embargo is never broken by the cache nor kept after its end;
- ``CACHE_PAGE_SECONDS``: the longest life of any entry (the countdowns move).

Keys also hold a fingerprint of the code, templates and translations, so a new deploy never
serves the pages of the one before.

Who never gets or fills a shared entry: a logged-in user, a session holding anything but the
language (a voter, a flashed message, a pending login), a non-GET request. A page that carries
a CSRF token or sets a cookie is never stored: shared pages are rendered without the
per-visitor token (``shared_page()`` in templates), and the language switch accepts an
anonymous same-origin post without one (``awards.http_cache.same_origin``).

HTTP: shared pages carry an ETag, Last-Modified and ``Cache-Control: public, max-age, s-maxage``
(both cut to the entry's remaining life), and answer 304 to a matching ``If-None-Match``.
Everything else is ``private, no-store`` (``awards.http_cache``).

A hit for an anonymous visitor is normally answered before Flask by ``awards.cache_front``,
from the same entry under the same key (``page_key``), with the headers the application gave
the page when it was built; the decorator answers the requests the front leaves to it."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from datetime import datetime
from functools import cache, partial, wraps
from pathlib import Path

import click
from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    make_response,
    request,
    session,
)
from flask.cli import AppGroup
from flask_babel import get_locale
from flask_caching import Cache
from flask_caching.backends import NullCache
from flask_login import current_user
from sqlalchemy import Table, TextClause, event, func, select, union_all
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from awards import metrics
from awards.config import ConfigError
from awards.db import WROTE, utcnow
from awards.sessions import send_cookie_only_if_changed

log = logging.getLogger(__name__)

EXTENSION = "awards_page_cache"
VERSION_KEY = "content-version"
VARY = "Cookie, Accept-Language"
HEADER = "X-Page-Cache"  # hit, miss (built here) or bypass (not shared): for benchmarks and logs

# What an anonymous visitor's session may hold for a page to be shared: the chosen language,
# the CSRF secret of a form seen elsewhere, and Flask-Login's and Flask's own markers.
SHAREABLE_SESSION_KEYS = frozenset({"lang", "csrf", "_fresh", "_permanent"})

# Tables no public page reads: writes to them leave every cached page valid. Any other table
# (one added later included) makes the pages stale when written.
PRIVATE_TABLES = frozenset({
    "audit_events", "outgoing_mail", "users", "api_tokens",
    # The vote's running totals are never shown; the close freezes them into the stage.
    "voters", "public_votes", "comment_reports",
    "nomination_versions", "nomination_status_changes", "reference_counters",
    "rubrics", "criteria", "rounds", "round_entries", "panels", "jury_members", "conflicts",
    "assignments", "reviews", "scores",
    # Published results are a snapshot; the decisions behind them are not read again.
    "decisions",
    # The commission's ballot: no public page reads it.
    "commission_ballot_boxes", "commission_participation", "commission_ballots",
})

_CHANGED = "awards_changed_tables"
_UNKNOWN = "*"  # a statement whose table is not known (plain SQL): counts as public
_SHARED = "_awards_shared_page"
_BUMPED = "_awards_page_bumped"
_CSRF_MARK = b'name="csrf_token"'
# Set in the WSGI environ by the front (``awards.cache_front``): it is there, and stores a new
# entry itself, with the answer's final headers, once the application has answered.
FRONT = "awards.page_front"
PENDING = "awards.page_pending"

page_cache = Cache()


# ---- configuration --------------------------------------------------------------------------


def backend_config(app: Flask) -> dict:
    """Flask-Caching settings from ``CACHE_URL`` (or ``CACHE_REDIS_URL``); a ``CACHE_TYPE``
    set in the configuration is used as it is."""
    config = app.config
    common = {"CACHE_DEFAULT_TIMEOUT": int(config["CACHE_PAGE_SECONDS"]),
              "CACHE_KEY_PREFIX": config.get("CACHE_KEY_PREFIX") or "awards:"}
    if config.get("CACHE_TYPE"):
        return {**common, "CACHE_TYPE": config["CACHE_TYPE"]}
    url = str(config.get("CACHE_URL") or config.get("CACHE_REDIS_URL") or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    if url.startswith("simple://"):
        return {**common, "CACHE_TYPE": "SimpleCache"}
    if url.startswith("filesystem://"):
        folder = url.removeprefix("filesystem://") or str(Path(app.instance_path) / "page-cache")
        return {**common, "CACHE_TYPE": "FileSystemCache", "CACHE_DIR": folder}
    if url in ("null://", "none", "off") or (not url and config["ENV"] != "development"):
        # Off by default outside development: a cache in each host's memory or disk would
        # serve pages another host has already changed. Production sets a Redis URL.
        return {**common, "CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    if not url:
        # `make run`: one machine, and the folder is shared by all its worker processes.
        return {**common, "CACHE_TYPE": "FileSystemCache",
                "CACHE_DIR": str(Path(app.instance_path) / "page-cache")}
    raise ConfigError(f"AWARDS_CACHE_URL must start with redis://, rediss://, unix://, "
                      f"simple://, filesystem:// or be null://, not {url!r}")


class PageCache:
    """The backend as the pages use it: one round trip per lookup (version and entry)."""

    def __init__(self, app: Flask):
        self.backend = app.extensions["cache"][page_cache]
        self.enabled = not isinstance(self.backend, NullCache)
        self.max_seconds = int(app.config["CACHE_PAGE_SECONDS"])
        self.max_age = int(app.config["CACHE_HTTP_MAX_AGE"])
        self.shared_max_age = int(app.config["CACHE_HTTP_SHARED_MAX_AGE"])

    def lookup(self, key: str) -> tuple[str | None, dict | None]:
        """(the content version, the entry stored under ``key``), or (None, None) when the
        backend cannot be reached (the page is then rendered and not stored)."""
        try:
            version, entry = self.backend.get_many(VERSION_KEY, key)
            if version is None:
                # First use, or the backend lost the key: a new random version, so that no
                # entry stored before can ever match it again.
                self.backend.add(VERSION_KEY, secrets.token_hex(8), timeout=0)
                version, entry = self.backend.get(VERSION_KEY), None
        except Exception:
            log.warning("the page cache could not be read", exc_info=True)
            return None, None
        return version, entry if isinstance(entry, dict) else None

    def store(self, key: str, entry: dict, seconds: int) -> None:
        try:
            self.backend.set(key, entry, timeout=seconds)
        except Exception:
            log.warning("the page cache could not be written", exc_info=True)

    def bump(self) -> None:
        try:
            self.backend.set(VERSION_KEY, secrets.token_hex(8), timeout=0)
        except Exception:
            # The entries keep their version: they stay served until CACHE_PAGE_SECONDS.
            log.error("the page cache's content version could not be changed", exc_info=True)


def init_app(app: Flask) -> None:
    page_cache.init_app(app, config=backend_config(app))
    app.extensions[EXTENSION] = pages = PageCache(app)
    if pages.enabled:
        code_fingerprint()  # once per process, before the first request
    app.jinja_env.globals["shared_page"] = shared_page
    _listen_once()


def _pages() -> PageCache | None:
    return current_app.extensions.get(EXTENSION)


def shared_page() -> bool:
    """For templates: this page is being rendered for everyone (no per-visitor token)."""
    return bool(g.get(_SHARED))


# ---- which writes make the pages stale --------------------------------------------------------


def _note(session: Session, table: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(table)


def _flushed(session: Session, _flush_context) -> None:
    changed = session.info.setdefault(_CHANGED, set())
    for collection in (session.new, session.dirty, session.deleted):
        for obj in collection:
            changed.add(getattr(type(obj), "__tablename__", _UNKNOWN))


_WRITTEN = re.compile(r'^\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_READ = re.compile(r"^\s*SELECT\b", re.IGNORECASE)


def _statement(state) -> None:
    if state.is_select:
        return
    statement = state.statement
    mapper = state.bind_mapper
    if mapper is not None:
        table = mapper.local_table.name
    elif isinstance(getattr(statement, "table", None), Table):
        table = statement.table.name
    elif isinstance(statement, TextClause):
        # Plain SQL: the audit log's chain lock ("UPDATE audit_events ... WHERE 0", "SELECT
        # pg_advisory_xact_lock") must not make every audited action look public.
        if _READ.match(statement.text):
            return
        written = _WRITTEN.match(statement.text)
        table = written.group(1) if written else _UNKNOWN
    else:
        table = _UNKNOWN
    _note(state.session, table)


# Other caches versioned by the same writes (``awards.ranking.cache``): called after each
# commit with the set of tables it wrote.
COMMIT_WATCHERS: list = []


def _committed(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    for watcher in COMMIT_WATCHERS if changed else ():
        watcher(changed)
    if changed and not changed <= PRIVATE_TABLES:
        content_changed()


def _rolled_back(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_CHANGED, None)


_listening = False


def _listen_once() -> None:
    # On the Session class: every session of the process, a command's or a restore's too.
    global _listening
    if _listening:
        return
    event.listen(Session, "after_flush", _flushed)
    event.listen(Session, "do_orm_execute", _statement)
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_soft_rollback", _rolled_back)
    _listening = True


def content_changed() -> None:
    """Every cached page is stale from now on (called after a commit that changed a public
    table; also for anything else that changes public pages without the ORM)."""
    if not has_app_context():
        return
    if has_request_context():
        g.setdefault(_BUMPED, True)
    pages = _pages()
    if pages is not None and pages.enabled:
        pages.bump()


cache_cli = AppGroup("cache", help="The page cache of the public pages.")


@cache_cli.command("clear")
def clear_command() -> None:
    """Make every cached public page and stored ranking stale (after a change made outside
    the site, in SQL)."""
    pages = _pages()
    if pages is None or not pages.enabled:
        click.echo("no page cache is configured (AWARDS_CACHE_URL)")
        return
    content_changed()
    for watcher in COMMIT_WATCHERS:  # what else follows the commits: the stored rankings
        watcher({_UNKNOWN})
    click.echo("every cached public page and stored ranking is stale")


# ---- when an entry must end -----------------------------------------------------------------


def next_change(db: Session, now: datetime) -> datetime | None:
    """The first moment at or after ``now`` at which a public page changes by the clock alone:
    a call opening or closing, results going public, a public stage opening or closing, a
    scheduled post appearing."""
    from awards.announcements.models import Announcement
    from awards.calls.models import Call
    from awards.public_stage.models import PublicStage
    from awards.results.models import Publication

    columns = (Call.opens_at, Call.closes_at, Publication.scheduled_for, PublicStage.opens_at,
               PublicStage.closes_at, Announcement.publish_at)
    moments = union_all(*(select(func.min(column).label("at")).where(column >= now)
                          for column in columns)).subquery()
    return db.scalar(select(func.min(moments.c.at)))


def _expiry(now: datetime, max_seconds: int) -> float:
    """When an entry built at ``now`` ends (a POSIX timestamp)."""
    from awards.db import get_db

    end = now.timestamp() + max_seconds
    moment = next_change(get_db(), now)
    if moment is not None:
        end = min(end, moment.timestamp())
    return end


# ---- the decorator --------------------------------------------------------------------------


def public_page(view=None, *, unless=None):
    """Serve the view's page from the shared cache to anonymous visitors (see the module's
    docstring). ``unless``: a callable; when it answers True the request is not shared (a
    certificate look-up with a code, for instance)."""
    if view is None:
        return partial(public_page, unless=unless)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _shareable(unless):
            return _bypass(view, args, kwargs)
        return _shared(view, args, kwargs)

    wrapper.public_page = True
    wrapper.public_page_unless = unless  # the front leaves such pages to the application
    return wrapper


def _shareable(unless) -> bool:
    if request.method not in ("GET", "HEAD") or (unless is not None and unless()):
        return False
    # Without loading the user: a login in the session or a "keep me logged in" cookie.
    if "_user_id" in session or current_app.config.get(
            "REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        return False
    if not SHAREABLE_SESSION_KEYS.issuperset(session.keys()):
        return False
    return not current_user.is_authenticated


def _bypass(view, args, kwargs):
    response = make_response(view(*args, **kwargs))
    response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers[HEADER] = "bypass"
    return response


@cache
def code_fingerprint() -> str:
    """What the pages are built with (code, templates, compiled translations): entries of
    another deploy are never served, whichever worker starts first."""
    from awards import ROOT

    digest = hashlib.sha256()
    for folder, pattern in ((ROOT / "awards", "*.py"), (ROOT / "templates", "*"),
                            (ROOT / "awards" / "translations", "*.mo")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def page_key(scheme: str, host: str, full_path: str, language: str) -> str:
    """The entry's key: address, query, language and the code's fingerprint (the front
    computes it from the WSGI environ, the decorator from Flask's request)."""
    raw = f"{scheme}://{host}{full_path}|{language}"
    return (f"page:{code_fingerprint()}:"
            + hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:40])


def _key() -> str:
    return page_key(request.scheme, request.host, request.full_path, str(get_locale()))


def public_cache_control(pages: PageCache, expires: float, stamp: float) -> str:
    left = max(0, math.floor(expires - stamp))
    return (f"public, max-age={min(pages.max_age, left)}, "
            f"s-maxage={min(pages.shared_max_age, left)}")


def valid(entry: dict | None, version: str | None, stamp: float) -> bool:
    return entry is not None and entry.get("version") == version and stamp < entry["expires"]


def _shared(view, args, kwargs):
    setattr(g, _SHARED, True)
    # A permanent session (the chosen language) is not re-sent on every shared page: a page
    # that sets a cookie cannot be kept by a shared proxy.
    send_cookie_only_if_changed()
    pages = _pages()
    key = _key()
    version, entry = pages.lookup(key) if pages.enabled else (None, None)
    now = utcnow()
    stamp = now.timestamp()
    if valid(entry, version, stamp):
        metrics.cache_hit()
        response = current_app.response_class(entry["body"], status=200,
                                              headers=entry["headers"])
        if not entry.get("final") and FRONT in request.environ:
            # Stored without the answer's final headers: the front completes it once.
            request.environ[PENDING] = (key, entry, math.ceil(entry["expires"] - stamp))
        return _public(response, entry, stamp, "hit")

    if pages.enabled:
        metrics.cache_miss()
    _fresh_snapshot()
    response = make_response(view(*args, **kwargs))
    if not _storable(response):
        response.headers.setdefault("Cache-Control", "private, no-store")
        response.headers[HEADER] = "miss"
        return response
    body = response.get_data()
    expires = _expiry(now, pages.max_seconds)
    entry = {"version": version, "expires": expires, "endpoint": request.endpoint,
             "etag": f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"',
             "last_modified": http_date(now),
             "headers": [(k, v) for k, v in response.headers.items()
                         if k.lower() not in ("content-length", "set-cookie", "vary")],
             "body": body}
    # Whole seconds for the backend, rounded up: the entry's own expiry is what ends it, so a
    # page built in the last second before a scheduled moment is still shared until then.
    seconds = math.ceil(expires - stamp)
    if version is not None and seconds >= 1 and not g.get(_BUMPED):
        if FRONT in request.environ:
            request.environ[PENDING] = (key, entry, seconds)  # stored with the final headers
        else:
            pages.store(key, entry, seconds)
    return _public(response, entry, stamp, "miss")


def _fresh_snapshot() -> None:
    """End a read-only transaction begun before the version was read: the page must show data
    at least as new as the version it is stored under."""
    db = g.get("_db_session")
    if db is not None and db.in_transaction() and not db.info.get(WROTE) \
            and not (db.new or db.dirty or db.deleted):
        db.commit()


def _storable(response) -> bool:
    """A page for everyone: a complete 200 whose view set no caching or cookie of its own,
    left the session shareable, wrote nothing public and shows no CSRF token."""
    if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
        return False
    if "Cache-Control" in response.headers or "Set-Cookie" in response.headers:
        return False
    if not SHAREABLE_SESSION_KEYS.issuperset(session.keys()) or g.get(_BUMPED):
        return False
    return _CSRF_MARK not in response.get_data()


def _public(response, entry: dict, stamp: float, outcome: str):
    headers = response.headers
    headers["ETag"] = entry["etag"]
    headers["Last-Modified"] = entry["last_modified"]
    if session.modified:
        # This answer sets a cookie (a first visit's session): for this browser only.
        headers["Cache-Control"] = "private, no-cache"
    else:
        headers["Cache-Control"] = public_cache_control(_pages(), entry["expires"], stamp)
    headers["Vary"] = VARY
    headers[HEADER] = outcome
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
        return response.make_conditional(request)
    return response
