"""The site the fuzz suite attacks, and how it judges the answers.

The world is the authorisation matrix's (one of everything a route can point at, an account and
an API token per role), plus a draft nomination of the applicant with long answers and a draft
review of the juror: the saved work a hostile request must never lose. The addresses of every
route come from the matrix's table (``MATRIX``: which ids each role asks for).

What each route reads is found on the site itself, once, before the attack:
  * the query parameters a page reads: every GET page is opened with a request class whose
    argument dictionaries note each name the view asks for;
  * the fields every form posts: the ``<form>`` elements of those pages (input types, the
    options of selects, the values the page fills in), matched to the route they post to.
The JSON API's parameters and bodies come from the OpenAPI document the app serves."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from awards.db import Base, get_db
from awards.enums import ReviewStatus
from awards.jury.models import Assignment, Review, Score
from awards.nominations.models import Answer, Nomination
from tests.conftest import csrf_from, login
from tests.factories import field_of, make_nomination
from tests.security.matrix_world import EMAILS, MatrixWorld, build_world
from tests.security.test_authorisation_matrix import MATRIX, OK, Entry

# The roles the suite attacks as ("visitor" is the anonymous one).
ROLES = ("visitor", "applicant", "juror", "chair", "admin")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SKIPPED_ENDPOINTS = frozenset({"static"})
# Routes that end the client's own session whatever they are sent: each attack on them gets a
# freshly signed-in client.
ENDS_SESSION = frozenset({"auth.logout", "auth.end_other_sessions", "privacy.delete"})

# Text a stack trace or a driver's error would put in a page.
LEAKS = ("Traceback (most recent call last)", "sqlalchemy.exc", "psycopg.errors",
         "sqlite3.", "werkzeug.exceptions", 'File "/', "RecursionError", "UnicodeEncodeError")

DRAFT_DESCRIPTION = ("We cleaned twelve rivers with three hundred volunteers. " * 140)[:8000]
DRAFT_DESCRIPTION = DRAFT_DESCRIPTION.strip()


# ---- recording what a view reads ---------------------------------------------------------------

_reading: list[set[str]] = []


def _note(key: Any) -> None:
    if _reading and isinstance(key, str):
        _reading[-1].add(key)


class _Noting:
    def __getitem__(self, key):
        _note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _note(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        _note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        _note(key)
        return super().getlist(key, type)


class NotingMultiDict(_Noting, MultiDict):
    pass


class NotingImmutableMultiDict(_Noting, ImmutableMultiDict):
    def copy(self):
        return NotingMultiDict(self)


@contextmanager
def reading() -> Iterator[set[str]]:
    """The names of the query and form values the views ask for inside the block."""
    names: set[str] = set()
    _reading.append(names)
    try:
        yield names
    finally:
        _reading.pop()


# ---- forms on the pages ------------------------------------------------------------------------


@dataclass
class FormField:
    """A field as a page's form posts it: ``kind`` is text, hidden, choice, bool, file,
    number or date; ``default`` the values the page filled in."""
    name: str
    kind: str
    default: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)


_INPUT_KINDS = {"hidden": "hidden", "checkbox": "bool", "radio": "choice", "file": "file",
                "number": "number", "range": "number", "date": "date",
                "datetime-local": "date", "time": "date"}
_BUTTONS = {"submit", "button", "reset", "image"}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, dict[str, FormField]]] = []
        self._fields: dict[str, FormField] | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def _add(self, name: str, kind: str) -> FormField:
        assert self._fields is not None
        found = self._fields.get(name)
        if found is None:
            found = self._fields[name] = FormField(name, kind)
        return found

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._fields = {}
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(),
                               self._fields))
            return
        if self._fields is None:
            return
        name = a.get("name")
        if tag == "button" and name:
            self._add(name, "choice").choices.append(a.get("value", ""))
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in _BUTTONS:
                self._add(name, "choice").choices.append(a.get("value", ""))
                return
            f = self._add(name, _INPUT_KINDS.get(kind, "text"))
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("checkbox", "radio"):
                f.choices.append(value)
                if "checked" in a:
                    f.default.append(value)
            elif kind != "file":
                f.default.append(value)
        elif tag == "select" and name:
            self._select = self._add(name, "choice")
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.choices.append(value)
            if "selected" in a:
                self._select.default.append(value)
        elif tag == "textarea" and name:
            self._textarea = self._add(name, "text")
            self._textarea.default.append("")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.default[-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            if self._select is not None and not self._select.default and self._select.choices:
                self._select.default.append(self._select.choices[0])
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.default:
                # A browser drops the one newline right after <textarea>.
                self._textarea.default[-1] = self._textarea.default[-1].removeprefix("\n")
            self._textarea = None


def page_forms(html: str) -> list[tuple[str, str, dict[str, FormField]]]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


# ---- judging an answer -------------------------------------------------------------------------

_MESSAGE_CLASSES = {"error-page", "error", "error-summary", "flash-error", "flash-warning",
                    "flash-info", "notice", "notice-bad", "notice-warn"}


class _MessageParser(HTMLParser):
    """The text of the elements that tell the user what went wrong."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if self.depth:
            self.depth += 1
        elif classes & _MESSAGE_CLASSES or a.get("role") == "alert":
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


_VOID = re.compile(r"<(?:br|img|input|meta|link|hr|source|wbr)\b[^>]*>", re.IGNORECASE)


def page_messages(html: str) -> list[str]:
    parser = _MessageParser()
    parser.feed(_VOID.sub(" ", html))
    return [" ".join(t.split()) for t in parser.texts if t.strip()]


def is_api(path: str) -> bool:
    return path == "/api/v1" or path.startswith("/api/")


def verdict(response, path: str) -> str | None:
    """None when the answer is acceptable for hostile input: no server error, nothing of a
    stack trace, and a refusal that says what was wrong (an error page or a form with a message;
    a problem document with a title and a detail in the API)."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    kind = response.mimetype or ""
    body = ""
    if kind.startswith("text/") or "json" in kind or "xml" in kind:
        body = response.get_data(as_text=True)
        for leak in LEAKS:
            if leak in body:
                return f"answered {status} showing {leak!r}"
    if status < 400:
        return None
    if is_api(path):
        if kind != "application/problem+json":
            return f"answered {status} as {kind or 'no type'}, not a problem document"
        problem = response.get_json(silent=True) or {}
        if not problem.get("title") or not (problem.get("detail") or problem.get("errors")):
            return f"answered {status} with a problem without a message: {body[:200]}"
        return None
    if getattr(getattr(response, "request", None), "method", "GET") == "HEAD":
        return None
    if kind != "text/html":
        return f"answered {status} as {kind or 'no type'}, not an HTML page"
    if not page_messages(body):
        return f"answered {status} with a page that says nothing about what was wrong"
    return None


class ErrorLog(logging.Handler):
    """Keeps the tracebacks the app logs, to show with a failure."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(logging.Formatter().formatException(record.exc_info))

    def take(self) -> str:
        text_, self.records = "\n".join(self.records[-1:]), []
        return text_


# ---- the world -------------------------------------------------------------------------------


@dataclass
class Site:
    app: Flask
    world: MatrixWorld
    errors: ErrorLog
    clients: dict[str, Any] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    api: Any = None
    draft_id: int = 0
    review_id: int = 0
    # what each route reads: endpoint -> query names; endpoint -> form fields it is posted
    args: dict[str, set[str]] = field(default_factory=dict)
    forms: dict[str, dict[str, FormField]] = field(default_factory=dict)
    openapi: dict[str, Any] = field(default_factory=dict)

    def rules(self, method: str | None = None) -> list[Rule]:
        return [r for r in self.app.url_map.iter_rules()
                if r.endpoint not in SKIPPED_ENDPOINTS
                and (method is None or method in r.methods)]

    def client(self, role: str, *, fresh: bool = False):
        if fresh:
            client = signed_in(self.app, role)
            return client, csrf_of(client, role)
        return self.clients[role], self.csrf[role]


def signed_in(app: Flask, role: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if role != "visitor":
        login(client, EMAILS[role])
    return client


def csrf_of(client, role: str) -> str:
    page = "/account/login" if role == "visitor" else "/account/profile"
    return csrf_from(client.get(page).get_data(as_text=True))


def add_saved_work(session: Session, w: MatrixWorld) -> tuple[int, int]:
    """The applicant's draft with long answers, and the juror's draft review."""
    from awards.calls.models import Call

    call = session.get(Call, w.open_call_id)
    draft = make_nomination(session, call=call, applicant_id=w.user_ids["applicant"],
                            nominee_name="Aigerim Sadykova", nominee_phone="+7 701 123 45 67",
                            answers={"title": "Clean rivers", "activity": DRAFT_DESCRIPTION,
                                     "years": 5, "region": "almaty",
                                     "topics": ["nature", "children"]})
    field_of(call, "activity").max_length = 9000
    assignment = session.get(Assignment, w.juror_assignment_id)
    criteria = {c.key: c for c in assignment.round.rubric.criteria}
    review = Review(assignment=assignment, status=ReviewStatus.DRAFT,
                    overall_comment="Strong local impact.", private_note="Ask about year 3.")
    review.scores = [Score(criterion=criteria["impact"], value=7),
                     Score(criterion=criteria["originality"], value=6.5)]
    session.add(review)
    session.flush()
    return draft.id, review.id


def build_site(app: Flask) -> Site:
    from tests.factories import arrange

    errors = ErrorLog()
    logging.getLogger("awards").addHandler(errors)
    app.request_class = type("NotingRequest", (app.request_class,),
                             {"parameter_storage_class": NotingImmutableMultiDict})

    def build(session):
        w = build_world(session, app)
        return w, add_saved_work(session, w)

    world, (draft_id, review_id) = arrange(app, build)
    site = Site(app, world, errors, draft_id=draft_id, review_id=review_id)
    for role in ROLES:
        site.clients[role] = signed_in(app, role)
        if role == "visitor":
            _confirmed_voter(app, site.clients[role])
        site.csrf[role] = csrf_of(site.clients[role], role)
    site.api = app.test_client()
    site.openapi = site.api.get("/api/v1/openapi.json").get_json()
    discover(site)
    return site


def _confirmed_voter(app: Flask, client) -> None:
    """The visitor has confirmed an e-mail address for the public vote (the world's voter), so
    the voter's forms (a comment, a vote) are attacked too."""
    from awards.public_stage.models import Voter
    from awards.public_stage.voters import SESSION_KEY

    with app.app_context():
        voter_id = get_db().scalar(select(Voter.id).where(Voter.email == "voter@example.org"))
    with client.session_transaction() as session:
        session[SESSION_KEY] = voter_id


def close_site(site: Site) -> None:
    logging.getLogger("awards").removeHandler(site.errors)
    site.app.extensions["awards_db"]["engine"].dispose()


# ---- addresses ---------------------------------------------------------------------------------

_PLACEHOLDER = 987654321


def entry_of(method: str, endpoint: str) -> Entry | None:
    return MATRIX.get((method, endpoint))


def url_values(rule: Rule, method: str, role: str, world: MatrixWorld) -> dict[str, Any]:
    entry = entry_of(method, rule.endpoint)
    values = dict(entry.params(world, role)) if entry and entry.params else {}
    for name in rule.arguments:
        values.setdefault(name, _PLACEHOLDER if _is_int(rule, name)
                          else sorted(rule._converters[name].items)[0] if _is_any(rule, name)
                          else "x")
    return values


def _is_int(rule: Rule, name: str) -> bool:
    return type(rule._converters[name]).__name__ in ("IntegerConverter", "NumberConverter")


def _is_any(rule: Rule, name: str) -> bool:
    return type(rule._converters[name]).__name__ == "AnyConverter"


def build_path(rule: Rule, values: dict[str, Any], poison: tuple[str, str] | None = None
               ) -> str:
    """The route's path with ``values``; ``poison`` (name, text) puts hostile text in one
    variable, percent-encoded as a client would send it (even where the route wants a
    number or one of a few words)."""
    values = dict(values)
    if poison is None:
        return rule.build(values, append_unknown=False)[1]
    name, raw = poison
    if _is_any(rule, name):
        marker = str(values[name])  # one of its words, as built
    elif _is_int(rule, name):
        values[name] = _PLACEHOLDER
        marker = str(_PLACEHOLDER)
    else:
        values[name] = "\ufdd0"
        marker = quote("\ufdd0")
    head, found, tail = rule.build(values, append_unknown=False)[1].rpartition(marker)
    assert found, (rule.rule, marker)
    return head + quote(raw.encode("utf-8", "surrogatepass"), safe="") + tail


def allowed_roles(method: str, endpoint: str) -> list[str]:
    entry = entry_of(method, endpoint)
    if entry is None:
        return list(ROLES)
    return [r for r in ROLES if entry.expect.get(r) == OK]


# ---- discovery ---------------------------------------------------------------------------------


def _merge(target: dict[str, FormField], found: dict[str, FormField]) -> None:
    for name, f in found.items():
        known = target.get(name)
        if known is None:
            target[name] = FormField(f.name, f.kind, list(f.default), list(f.choices))
        else:
            known.choices.extend(c for c in f.choices if c not in known.choices)


def discover(site: Site) -> None:
    """Open every page; note the query names the view reads and the forms the page holds (by
    the route they post to); then post to every route once, refused, to learn the fields of
    the forms no page shows."""
    adapter = site.app.url_map.bind("localhost")
    for rule in site.rules("GET"):
        if is_api(rule.rule):
            continue
        roles = allowed_roles("GET", rule.endpoint) or ["admin"]
        # One role a page: a visitor where visitors are let in (the forms of signing in and
        # up), else the most privileged role allowed (who sees the most forms).
        for role in roles[:1] if roles[0] == "visitor" else roles[-1:]:
            path = build_path(rule, url_values(rule, "GET", role, site.world))
            client, _ = site.client(role)
            with reading() as names:
                response = client.get(path)
            site.args.setdefault(rule.endpoint, set()).update(names)
            if response.mimetype != "text/html":
                continue
            for action, method, fields in page_forms(response.get_data(as_text=True)):
                target = urlsplit(action or path).path or path
                try:
                    endpoint, _ = adapter.match(target, method=method)
                except HTTPException:
                    continue
                if method == "GET":
                    site.args.setdefault(endpoint, set()).update(fields)
                else:
                    _merge(site.forms.setdefault(endpoint, {}), fields)
    # Forms no page of this world shows (a voter's comment, a decision in another phase):
    # a post with a token that is not valid builds the view's form (which then refuses it)
    # and so names every field it has.
    for rule in site.rules("POST"):
        if is_api(rule.rule):
            continue
        roles = allowed_roles("POST", rule.endpoint) or ["admin"]
        role = roles[0] if roles[0] == "visitor" else roles[-1]
        client, _ = site.client(role, fresh=rule.endpoint in ENDS_SESSION)
        with reading() as names:
            client.post(build_path(rule, url_values(rule, "POST", role, site.world)),
                        data={"csrf_token": "not-a-valid-token"})
        fields = site.forms.setdefault(rule.endpoint, {})
        for name in sorted(names - set(fields)):
            fields[name] = FormField(name, "text")


# ---- what must never be lost -------------------------------------------------------------------


def _counts(session: Session) -> dict[str, int]:
    tables = sorted(Base.metadata.tables)
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}") AS "{t}"' for t in tables)
    row = session.execute(text(sql)).one()
    return dict(zip(tables, row, strict=True))


def _nomination(session: Session, nomination_id: int) -> dict[str, Any]:
    n = session.get(Nomination, nomination_id)
    answers = session.execute(select(Answer.field_id, Answer.value)
                              .where(Answer.nomination_id == nomination_id)).all()
    return {"status": n.status, "nominee_name": n.nominee_name,
            "nominee_email": n.nominee_email, "nominee_phone": n.nominee_phone,
            "organisation_name": n.organisation_name, "category_id": n.category_id,
            "answers": dict(answers)}


def _review(session: Session, review_id: int) -> dict[str, Any]:
    r = session.get(Review, review_id)
    if r is None:
        return {}
    scores = session.execute(select(Score.criterion_id, Score.value)
                             .where(Score.review_id == review_id)).all()
    return {"status": r.status, "comment": r.overall_comment, "note": r.private_note,
            "scores": dict(scores)}


@dataclass
class Saved:
    counts: dict[str, int]
    draft: dict[str, Any]
    own: dict[str, Any]
    review: dict[str, Any]


def saved(site: Site) -> Saved:
    with site.app.app_context():
        session = get_db()
        return Saved(_counts(session), _nomination(session, site.draft_id),
                     _nomination(session, site.world.own_nomination_id),
                     _review(session, site.review_id))


def lost(before: Saved, after: Saved) -> str | None:
    """What a refused request changed of the saved work: rows gone, or the draft, the
    submitted nomination or the draft review altered."""
    gone = {t: (before.counts[t], after.counts[t]) for t in before.counts
            if after.counts[t] < before.counts[t]}
    if gone:
        return f"rows gone: {gone}"
    for name in ("draft", "own", "review"):
        if getattr(before, name) != getattr(after, name):
            return f"{name} changed: {getattr(before, name)} -> {getattr(after, name)}"
    return None
