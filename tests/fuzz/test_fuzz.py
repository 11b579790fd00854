"""The fuzz suite: hostile values to every route, as every role, and what must hold whatever
is sent.

For every route of the URL map (pages and the JSON API) Hypothesis builds requests from what
the route reads (see ``site.py``: the query names its view asks for, the fields of the forms
that post to it, the parameters and bodies of the OpenAPI document) and fills some of them with
hostile values (``hostile.py``): NUL and other control characters, long and odd Unicode,
numbers no column holds, wrong types, deep JSON, malformed multipart, path traversal. Each
request goes to the route as a visitor, the applicant, a juror, the panel's chair and an
administrator, each on their own ids. Every answer must be:

  * no server error and nothing of a stack trace;
  * a refusal that says what was wrong: an error page or a form with its message; in the API
    a problem document with a title and a detail;
  * nothing already saved lost: after a refused change no row is gone, and the applicant's
    draft, their submitted nomination and the juror's draft review are as they were.

Two tests attack the saved work head-on: a draft saved with some answers poisoned keeps every
other answer, and a review saved with hostile scores (page and API) keeps its scores.

Deterministic: derandomized, no example database, no shrinking (a failure prints the request
and the app's traceback). The examples per route are budgeted to about a minute of CPU per
database, both workers together (half a minute each on two cores); a route whose every answer
is expensive (a PDF) gets fewer."""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from awards import create_app
from awards.boundary import has_control
from tests.api_factories import bearer
from tests.fuzz import hostile
from tests.fuzz.site import (
    ENDS_SESSION,
    ROLES,
    WRITE_METHODS,
    FormField,
    Saved,
    Site,
    allowed_roles,
    build_path,
    lost,
    page_forms,
    saved,
    url_values,
    verdict,
)
from tests.security.test_authorisation_matrix import MATRIX

pytestmark = pytest.mark.fuzz

# Examples per route; each example is sent as every role. The API answers faster than a page
# and its bodies have more shapes to try, so it gets more. AWARDS_FUZZ_EXAMPLES=40 (pages; the
# API twice that) digs deeper in a run of one's own; make test keeps the default.
EXAMPLES = int(os.environ.get("AWARDS_FUZZ_EXAMPLES", "4"))
API_EXAMPLES = 2 * EXAMPLES
# Routes whose every answer is expensive (a PDF is drawn) get fewer.
FEWER = {"certificates.download": 1, "privacy.export": 2, "ranking.export": 2,
         "api.docs": 2}

SETTINGS = settings(
    derandomize=True, database=None, deadline=None, phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck), print_blob=False, max_examples=EXAMPLES,
)

# Query names every page is tried with besides those its view reads.
GENERIC_QUERY = ("page", "next", "q", "lang", "id")
NOT_FUZZED = frozenset({"static"})


def _routes() -> list[tuple[str, str]]:
    """Every (method, endpoint) of the app's URL map."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x",
                          "INSTANCE_PATH": instance})
        routes = sorted({(method, rule.endpoint) for rule in app.url_map.iter_rules()
                         if rule.endpoint not in NOT_FUZZED
                         for method in rule.methods - {"HEAD", "OPTIONS"}})
        app.extensions["awards_db"]["engine"].dispose()
    return routes


def _late(key: tuple[str, str]) -> bool:
    """Writes that remove or end what other routes read (a removal, a withdrawal, a
    publication, the end of a session): attacked after everything else."""
    method, endpoint = key
    entry = MATRIX.get(key)
    return method in WRITE_METHODS and (
        endpoint in ENDS_SESSION or (entry is not None and entry.late > 0))


def _order(key: tuple[str, str]) -> tuple[int, str, str]:
    entry = MATRIX.get(key)
    return (entry.late if entry else 0, key[1], key[0])


ROUTES = _routes()
PAGES = [k for k in ROUTES if not k[1].startswith("api.")]
API = [k for k in ROUTES if k[1].startswith("api.")]


def _ids(keys):
    return [pytest.param(m, e, id=f"{m} {e}") for m, e in keys]


# ---- requests ----------------------------------------------------------------------------------


@dataclass
class Attack:
    """One hostile request, as it is sent to every role."""
    target: str  # form, query, path, raw
    path_poison: tuple[str, str] | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    form: dict[str, list[Any]] = field(default_factory=dict)
    csrf: str = "valid"  # valid, missing or a hostile text
    raw: tuple[str, bytes] | None = None  # content type, body
    json: Any = None

    def describe(self) -> str:
        parts = [self.target]
        if self.path_poison:
            parts.append(f"path {self.path_poison[0]}={self.path_poison[1][:80]!r}")
        if self.query:
            parts.append(f"query {[(k, v[:60]) for k, v in self.query]!r}")
        if self.form:
            parts.append("form " + repr({k: [_short(v) for v in vs]
                                         for k, vs in self.form.items()}))
        if self.csrf != "valid":
            parts.append(f"csrf={self.csrf[:40]!r}")
        if self.raw:
            parts.append(f"raw {self.raw[0]!r} {self.raw[1][:120]!r}")
        if self.json is not None:
            parts.append(f"json {_short(self.json)}")
        return "; ".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + f"...({len(text)} chars)"


def _file(value: tuple[bytes, str, str | None]):
    content, name, kind = value
    return (io.BytesIO(content), name, kind) if kind else (io.BytesIO(content), name)


def _field_values(f: FormField) -> st.SearchStrategy[list[Any]]:
    """Hostile values for one field: text (also where a file or a choice is expected), a file
    (also where text is expected), several values for one name."""
    files = st.lists(hostile.hostile_file(), min_size=1, max_size=2)
    texts = hostile.form_values()
    if f.kind == "file":
        return st.one_of(files, texts)
    if f.kind in ("choice", "bool") and f.choices:
        return st.one_of(texts, st.lists(st.sampled_from(f.choices), min_size=2, max_size=3),
                         files)
    return st.one_of(texts, files)


@st.composite
def page_attack(draw, rule: Rule, method: str, fields: dict[str, FormField],
                query_names: list[str]) -> Attack:
    writes = method in WRITE_METHODS
    targets = ["form", "form", "raw", "query", "path"] if writes else ["query", "query", "path"]
    if not rule.arguments:
        targets = [t for t in targets if t != "path"]
    target = draw(st.sampled_from(targets))
    attack = Attack(target)
    names = sorted(n for n in fields if n != "csrf_token")
    if target == "path":
        name = draw(st.sampled_from(sorted(rule.arguments)))
        attack.path_poison = (name, draw(hostile.url_text()))
    elif target == "query":
        chosen = draw(st.lists(st.sampled_from(query_names), min_size=1, max_size=3,
                               unique=True))
        for name in chosen:
            attack.query.extend((name, v) for v in draw(hostile.form_values(hostile.url_text())))
        if draw(st.booleans()):
            attack.query.append((draw(hostile.url_text()), draw(hostile.url_text())))
    elif target == "raw":
        attack.raw = draw(hostile.malformed_multipart("{csrf}", names[0] if names else "x"))
    if writes and target != "raw":
        poisoned = set(draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
                       if names and target == "form" else [])
        for name in names:
            values = draw(_field_values(fields[name])) if name in poisoned \
                else list(fields[name].default)
            if values:
                attack.form[name] = values
        if target == "form" and draw(st.integers(0, 9)) == 0:
            attack.form[draw(hostile.hostile_text())] = draw(hostile.form_values())
        attack.csrf = draw(st.sampled_from(["valid"] * 8 + ["missing", "hostile"]))
        if attack.csrf == "hostile":
            attack.csrf = draw(hostile.hostile_text())
    return attack


def _send_page(site: Site, role: str, attack: Attack, *, rule: Rule, method: str):
    client, csrf = site.client(role, fresh=rule.endpoint in ENDS_SESSION)
    path = build_path(rule, url_values(rule, method, role, site.world), attack.path_poison)
    kwargs: dict[str, Any] = {"method": method, "query_string": attack.query or None}
    if attack.raw is not None:
        content_type, body = attack.raw
        kwargs.update(data=body.replace(b"{csrf}", csrf.encode()), content_type=content_type)
    elif method in WRITE_METHODS:
        data: dict[str, Any] = {}
        for name, values in attack.form.items():
            data[name] = [_file(v) if isinstance(v, tuple) else v for v in values]
        if attack.csrf == "valid":
            data["csrf_token"] = csrf
        elif attack.csrf != "missing":
            data["csrf_token"] = attack.csrf
        kwargs["data"] = data
    return path, client.open(path, **kwargs)


# ---- judging -----------------------------------------------------------------------------------


def _judge_all(site: Site, method: str, endpoint: str, attack: Attack, send) -> list[str]:
    """Send ``attack`` as every role; what went wrong, if anything. The roles the route must
    refuse (the authorisation matrix says who) go first and are checked together: nothing
    saved may change. Then each role it lets in, checked one by one: a change it refuses
    (4xx) must change nothing either."""
    failures: list[str] = []
    writes = method in WRITE_METHODS
    allowed = allowed_roles(method, endpoint)
    refused = [r for r in ROLES if r not in allowed]
    before = saved(site) if writes else None

    def fail(roles: str, path: str, problem: str) -> None:
        trace = site.errors.take()
        failures.append(f"{roles:>9} {method} {path}: {problem}\n"
                        f"          sent: {attack.describe()}" + (f"\n{trace}" if trace else ""))

    def judged(response, path: str) -> str | None:
        # An exception logged while answering anything but 500 was swallowed somewhere.
        return verdict(response, path) or (
            f"answered {response.status_code} but logged an error" if site.errors.records
            else None)

    answered = []
    for role in refused:
        path, response = send(role)
        answered.append((role, path, response.status_code))
        if problem := judged(response, path):
            fail(role, path, problem)
    if writes and answered:
        # Whatever they were answered (a 403, the login page), these roles may not change
        # anything saved.
        after = saved(site)
        if change := lost(before, after):
            fail(", ".join(role for role, _, _ in answered), answered[0][1],
                 f"may not write here (answered {[s for _, _, s in answered]}), yet {change}")
        before = after
    for role in allowed:
        path, response = send(role)
        problem = judged(response, path)
        if problem is None and writes:
            after = saved(site)
            if response.status_code >= 400:
                problem = lost(before, after)
            before = after
        if problem:
            fail(role, path, problem)
    return failures


def _rules(site: Site, method: str, endpoint: str) -> list[Rule]:
    return [r for r in site.rules(method) if r.endpoint == endpoint]


# ---- what was found once, replayed first on every run ---------------------------------------

PDF = (b"%PDF-1.4\n%%EOF", "letter.pdf", "application/pdf")


def _files_for_text(fields: dict[str, FormField]) -> list[Attack]:
    """A file where every text field is, text where every file field is (a file in a text
    field answered 500 on every form of the site: the form handed the file to the field)."""
    if not fields:
        return []
    form = {name: [PDF] if f.kind != "file" else ["not a file"]
            for name, f in fields.items() if name != "csrf_token"}
    return [Attack("form", form=form)] if form else []


def _control_in_choices(fields: dict[str, FormField]) -> list[Attack]:
    """A control character in every field that is not free text (a multiple choice of ids
    kept the refused text as its data, and the page answered 500 drawing the ticks; a date
    kept it too, and the call's form answered 500 comparing it with another date)."""
    form = {name: ["a\x14b", "\u202eevil\u202c"] for name, f in fields.items()
            if f.kind in ("choice", "bool", "date", "number") and name != "csrf_token"}
    return [Attack("form", form=form)] if form else []


def _odd_digits(fields: dict[str, FormField], query_names: list[str]) -> list[Attack]:
    """Digits that are not ASCII where numbers and ids are read: "²" passes ``str.isdigit()``
    and ``int()`` refuses it (500 from the screening filter and bulk decision, a review's and
    a reopening's version, the references added to a round)."""
    attacks = [Attack("query", query=[(name, "²") for name in query_names]
                      + [(name, "١٢:٣") for name in query_names])]
    form = {name: ["²", "²:1", "1:²"] for name, f in fields.items()
            if f.kind in ("text", "hidden", "choice", "bool", "number") and name != "csrf_token"}
    if form:
        attacks.append(Attack("form", form=form))
    return attacks


DEEP = b"[" * 1000 + b"]" * 1000

# (method, endpoint) -> attacks that once answered 500 or refused without a word; a form
# attack sends the page's form with these values in it.
REGRESSIONS: dict[tuple[str, str], list[Attack]] = {
    # The screening list passed a query result to dict(): 500 on every list page. Before
    # that, a NUL in the search and an absurd page number answered 500 too.
    ("GET", "screening.list"): [Attack("query", query=[("q", "river")]),
                                Attack("query", query=[("q", "a\x00b")]),
                                Attack("query", query=[("page", "99999999999999999999")])],
    # An expired advance form answered 400 with nothing on the page saying why; so did its
    # confirmation page for a value no browser sends.
    ("POST", "ranking.advance"): [Attack("form", csrf="missing"),
                                  Attack("form", form={"mode": ["\x00"]})],
    ("GET", "ranking.confirm_advance"): [Attack("query", query=[("mode", "sideways")])],
    # A refused date kept the text as its value, and the form compared it with the other.
    ("POST", "admin.call_edit"): [Attack("form", form={"opens_at": ["a\x00b"]})],
    ("POST", "admin.call_new"): [Attack("form", form={"opens_at": ["a\x00b"],
                                                      "closes_at": ["2030-01-01T10:00"]})],
    # A NUL answered 500 on PostgreSQL (and lost the rest of the draft's save).
    ("POST", "nominations.save"): [Attack("form", form={"nominee_name": ["a\x00b"]})],
    ("POST", "auth.profile"): [Attack("form", form={"full_name": ["x\x00"]})],
    ("POST", "auth.login"): [Attack("form", form={"email": ["a\x00@example.com"]})],
    ("GET", "calls.show"): [Attack("path", path_poison=("slug", "abc\x00def"))],
    # JSON nested a thousand levels deep: RecursionError.
    ("PUT", "api.save_review"): [Attack("raw", raw=("application/json", DEEP))],
    ("POST", "api.create_nomination"): [Attack("raw", raw=("application/json", DEEP))],
}


def _with_page_values(attacks: list[Attack], fields: dict[str, FormField]) -> list[Attack]:
    defaults = {n: list(f.default) for n, f in fields.items()
                if f.default and n != "csrf_token"}
    return [replace(a, form={**defaults, **a.form}) if a.target == "form" else a
            for a in attacks]


def _attack_rule(site: Site, method: str, rule: Rule, strategy, send,
                 regressions: list[Attack], examples: int = EXAMPLES) -> list[str]:
    """Hypothesis's examples of ``strategy``, each sent as every role by ``send(role,
    attack)``, after the ``regressions``; the failures of all of them (each example runs to
    the end, so one run shows every role and route that fails)."""
    failures: list[str] = []

    def attack_route(attack: Attack) -> None:
        failures.extend(_judge_all(site, method, rule.endpoint, attack,
                                   lambda role: send(role, attack)))

    for attack in reversed(regressions):
        attack_route = example(attack=attack)(attack_route)
    attack_route = given(attack=strategy)(attack_route)
    settings(SETTINGS, max_examples=FEWER.get(rule.endpoint, examples))(attack_route)()
    return failures


def _attack_page(site: Site, method: str, endpoint: str) -> None:
    rules = _rules(site, method, endpoint)
    assert rules, f"{method} {endpoint}: no such route"
    fields = site.forms.get(endpoint, {}) if method in WRITE_METHODS else {}
    names = sorted(site.args.get(endpoint, set()) | set(GENERIC_QUERY))
    regressions = _with_page_values(REGRESSIONS.get((method, endpoint), []), fields)
    regressions = regressions + _odd_digits(fields, names)
    if method in WRITE_METHODS:
        regressions = regressions + _with_page_values(
            _files_for_text(fields) + _control_in_choices(fields), fields)
    failures = [problem for rule in rules for problem in _attack_rule(
        site, method, rule, page_attack(rule, method, fields, names),
        partial(_send_page, site, rule=rule, method=method), regressions)]
    assert not failures, "\n" + "\n".join(dict.fromkeys(failures))


# ---- the JSON API ------------------------------------------------------------------------------


def _operation(site: Site, rule: Rule, method: str) -> dict[str, Any]:
    """The route's operation in the OpenAPI document (``{name}`` for each variable)."""
    path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
    return site.openapi.get("paths", {}).get(path, {}).get(method.lower(), {})


def _resolve(site: Site, schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return site.openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def _known(site: Site) -> dict[str, Any]:
    """Values of the world for properties by name, so a body gets past "no such call" to
    the checks of the values poisoned beside them."""
    w = site.world
    return {"call": w.open_slug, "category": "social", "round_id": w.round_id,
            "nomination_id": w.entry_id, "award_level_id": w.level_id,
            "nomination_ids": [w.entry_id], "answers": {"title": "Clean rivers", "years": 5},
            "scores": {"impact": 7, "originality": 6.5}, "comments": {"impact": "Clear."}}


def _plain(site: Site, schema: dict[str, Any], depth: int = 0) -> Any:
    """A value of the schema's own type, for the properties left unpoisoned."""
    schema = _resolve(site, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [] if depth > 2 else [_plain(site, schema.get("items", {}), depth + 1)]
    if kind == "object" or "properties" in schema:
        if depth > 2:
            return {}
        known = _known(site)
        return {k: known[k] if k in known else _plain(site, v, depth + 1)
                for k, v in schema.get("properties", {}).items()}
    return "Plain text"


def _poison(draw, value: Any) -> Any:
    """``value`` with a hostile value in it: in place of it, or deeper inside an object."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: _poison(draw, value[key])}
    return draw(hostile.hostile_json_value())


@st.composite
def api_attack(draw, site: Site, rule: Rule, method: str, operation: dict[str, Any]) -> Attack:
    body_schema = (operation.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("schema"))
    query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    targets = ["body", "body", "raw", "query", "path"] if body_schema else ["query", "path"]
    if not rule.arguments:
        targets = [t for t in targets if t != "path"]
    target = draw(st.sampled_from(targets))
    attack = Attack(target)
    if target == "path":
        name = draw(st.sampled_from(sorted(rule.arguments)))
        attack.path_poison = (name, draw(hostile.url_text()))
    elif target == "query":
        names = [p["name"] for p in query] + ["page", "size", "\x00"]
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3,
                                  unique=True)):
            attack.query.extend((name, v) for v in draw(hostile.form_values(hostile.url_text())))
    elif target == "raw":
        body = draw(st.sampled_from(hostile.RAW_JSON_BODIES))
        kind = draw(st.sampled_from(["application/json"] * 4 + [
            "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-7",
            "multipart/form-data; boundary=x"]))
        attack.raw = (kind, body)
    if body_schema and target != "raw":
        schema = _resolve(site, body_schema)
        body = _plain(site, schema)
        if target == "body" and isinstance(body, dict):
            properties = sorted(schema.get("properties", {})) or ["x"]
            for name in draw(st.lists(st.sampled_from(properties), min_size=1, unique=True)):
                body[name] = _poison(draw, body.get(name))
            if draw(st.integers(0, 4)) == 0:
                body[draw(hostile.hostile_text())] = draw(hostile.hostile_json_value())
        attack.json = body
    return attack


def _send_api(site: Site, role: str, attack: Attack, *, rule: Rule, method: str):
    path = build_path(rule, url_values(rule, method, role, site.world), attack.path_poison)
    headers = bearer(site.world.secrets.get(role))
    kwargs: dict[str, Any] = {"method": method, "headers": headers,
                              "query_string": attack.query or None}
    if attack.raw is not None:
        kwargs.update(content_type=attack.raw[0], data=attack.raw[1])
    elif attack.json is not None:
        kwargs.update(content_type="application/json", data=hostile.dumps(attack.json))
    return path, site.api.open(path, **kwargs)


def _attack_api(site: Site, method: str, endpoint: str) -> None:
    rules = _rules(site, method, endpoint)
    assert rules, f"{method} {endpoint}: no such route"
    failures = [problem for rule in rules for problem in _attack_rule(
        site, method, rule, api_attack(site, rule, method, _operation(site, rule, method)),
        partial(_send_api, site, rule=rule, method=method),
        REGRESSIONS.get((method, endpoint), []), API_EXAMPLES)]
    assert not failures, "\n" + "\n".join(dict.fromkeys(failures))


# ---- the tests ---------------------------------------------------------------------------------


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_form_is_found(site):
    """Every form class of the app (each ``BaseForm``) has all its fields among those found
    for some route, so the attacks reach each field of each form; discovery that silently
    found nothing would attack nothing."""
    from wtforms.fields.core import UnboundField

    from awards.forms import BaseForm

    found = [set(fields) for fields in site.forms.values()] + list(site.args.values())
    missed = []
    for form in sorted(_subclasses(BaseForm), key=lambda c: (c.__module__, c.__name__)):
        names = {n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField)}
        names.discard("csrf_token")
        if names and not any(names <= fields for fields in found):
            missed.append(f"{form.__module__}.{form.__name__}: {sorted(names)}")
    assert len(site.forms) >= 50, sorted(site.forms)
    assert not missed, "forms whose fields no route was found to read:\n" + "\n".join(missed)


@pytest.mark.parametrize(("method", "endpoint"),
                         _ids(sorted((k for k in PAGES if not _late(k)), key=_order)))
def test_page_route(site, method, endpoint):
    _attack_page(site, method, endpoint)


@pytest.mark.parametrize(("method", "endpoint"),
                         _ids(sorted((k for k in API if not _late(k)), key=_order)))
def test_api_route(site, method, endpoint):
    _attack_api(site, method, endpoint)


# ---- saved work, head-on -----------------------------------------------------------------------


def _draft_form(site: Site) -> dict[str, FormField]:
    client = site.clients["applicant"]
    html = client.get(f"/nominations/{site.draft_id}/edit").get_data(as_text=True)
    for action, method, fields in page_forms(html):
        if method == "POST" and action.endswith(f"/nominations/{site.draft_id}/edit"):
            return fields
    raise AssertionError("the draft's edit page has no form")


def _draft_values(site: Site) -> dict[str, Any]:
    from awards.db import get_db
    from awards.nominations.models import Nomination

    with site.app.app_context():
        n = get_db().get(Nomination, site.draft_id)
        values: dict[str, Any] = {name: getattr(n, name) for name in (
            "nominee_name", "nominee_email", "nominee_phone", "organisation_name")}
        values.update({f"q_{a.field.key}": sorted(a.value) if isinstance(a.value, list)
                       else a.value for a in n.answers})
        return values


@st.composite
def draft_save(draw, fields: dict[str, FormField]) -> dict[str, list[Any]]:
    names = sorted(n for n, f in fields.items() if (n != "csrf_token" and f.kind != "choice")
                   or n.startswith("q_"))
    poisoned = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    form = {n: list(f.default) for n, f in fields.items() if n != "csrf_token" and f.default}
    for name in poisoned:
        form[name] = draw(_field_values(fields[name]))
    return form


def test_a_refused_draft_save_keeps_every_other_answer(site):
    """The applicant saves the draft with some answers poisoned: a poisoned text holding a
    control character is refused and the stored answer stays; every answer sent as the page
    showed it (the 8,000-character description among them) stays as it was; an answer that
    changed holds what was sent for it."""
    client, csrf = site.client("applicant")
    path = site.app.url_map.bind("localhost").build("nominations.save",
                                                   {"nomination_id": site.draft_id})

    @settings(SETTINGS, max_examples=3 * EXAMPLES)
    @given(data=st.data())
    def save(data) -> None:
        fields = _draft_form(site)
        form = data.draw(draft_save(fields))
        before = _draft_values(site)
        response = client.post(path, data={**{k: [_file(v) if isinstance(v, tuple) else v
                                                   for v in vs] for k, vs in form.items()},
                                           "csrf_token": csrf})
        problem = verdict(response, path)
        assert problem is None, f"{problem}\n{site.errors.take()}\nsent {_short(form)}"
        assert response.status_code in (303, 400, 409, 413), response.status_code
        after = _draft_values(site)
        for name, old in before.items():
            sent, new = form.get(name), after.get(name)
            if sent is None or sent == fields.get(name, FormField(name, "")).default:
                assert new == old, f"{name} lost: {_short(old)} -> {_short(new)}"
            elif any(isinstance(v, str) and has_control(v) for v in sent):
                assert new == old, f"{name} changed by a refused value {_short(sent)}"
            elif isinstance(old, str) and new != old:
                # Changed: to what was sent (as the form cleans text), or emptied by it. A
                # file whose name breaks the part's header arrives as text: its content.
                texts = [_clean(v if isinstance(v, str) else v[0].decode("utf-8", "replace"))
                         for v in sent]
                assert _clean(new or "") in texts, \
                    f"{name}: {_short(old)} became {_short(new)}; sent {_short(sent)}"

    save()


def _clean(text: str) -> str:
    """Text as compared after a save: the forms strip it and may fold runs of white space
    (a NEL, U+0085, among them) into one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _review(site: Site) -> dict[str, Any]:
    from tests.fuzz.site import _review as review_of

    with site.app.app_context():
        from awards.db import get_db

        return review_of(get_db(), site.review_id)


def _bounds(site: Site) -> dict[int, tuple[float, float, float]]:
    from sqlalchemy import select

    from awards.db import get_db
    from awards.jury.models import Criterion, Review

    with site.app.app_context():
        session = get_db()
        rubric_id = session.get(Review, site.review_id).assignment.round.rubric_id
        return {c.id: (c.min_score, c.max_score, c.step) for c in session.scalars(
            select(Criterion).where(Criterion.rubric_id == rubric_id))}


def _within(value: float | None, bounds: tuple[float, float, float]) -> bool:
    if value is None:
        return True
    low, high, step = bounds
    steps = (value - low) / step if step else 0
    return low <= value <= high and math.isclose(steps, round(steps), abs_tol=1e-6)


def _check_review(site: Site, before: dict, status: int, sent: Any) -> None:
    after = _review(site)
    if status >= 400:
        assert after == before, f"refused ({status}) but the review changed: {before} -> " \
                                f"{after}; sent {_short(sent)}"
    bounds = _bounds(site)
    for criterion, value in after["scores"].items():
        assert _within(value, bounds[criterion]), f"stored score {value} outside {bounds}"


def test_a_refused_review_save_keeps_the_scores(site):
    """The juror saves the draft review with hostile scores and comments, on the page and
    through the API: a refused save changes nothing; an accepted one stores only scores within
    each criterion's range and step."""
    client, csrf = site.client("juror")
    assignment = site.world.juror_assignment_id
    path = site.app.url_map.bind("localhost").build("jury.save", {"assignment_id": assignment})
    api_path = f"/api/v1/assignments/{assignment}/review"
    headers = bearer(site.world.secrets["juror"])

    @settings(SETTINGS, max_examples=3 * EXAMPLES)
    @given(data=st.data(), api=st.booleans())
    def save(data, api) -> None:
        before = _review(site)
        if api:
            criteria = [f"c{n}" for n in range(3)] + ["impact", "originality", "scale"]
            body = {"scores": data.draw(st.dictionaries(st.sampled_from(criteria),
                                                        hostile.hostile_json_value(),
                                                        max_size=3)),
                    "comments": data.draw(hostile.hostile_json_value()),
                    "overall_comment": data.draw(hostile.hostile_json_value())}
            response = site.api.put(api_path, headers=headers, data=hostile.dumps(body),
                                    content_type="application/json")
            problem, sent, where = verdict(response, api_path), body, api_path
        else:
            html = client.get(path).get_data(as_text=True)
            fields = next(f for a, m, f in page_forms(html)
                          if m == "POST" and a.endswith(path))
            names = sorted(n for n in fields if n.startswith(("score_", "comment_"))
                           or n in ("overall_comment", "private_note"))
            form = {n: list(f.default) for n, f in fields.items()
                    if f.kind != "choice" and n != "csrf_token"}
            for name in data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True)):
                form[name] = data.draw(hostile.form_values())
            response = client.post(path, data={**form, "csrf_token": csrf})
            problem, sent, where = verdict(response, path), form, path
        assert problem is None, f"{where}: {problem}\n{site.errors.take()}\nsent {_short(sent)}"
        _check_review(site, before, response.status_code, sent)

    save()


# ---- last: the writes that remove or end things ------------------------------------------------


@pytest.mark.parametrize(("method", "endpoint"),
                         _ids(sorted((k for k in PAGES if _late(k)), key=_order)))
def test_page_route_that_removes(site, method, endpoint):
    _attack_page(site, method, endpoint)


@pytest.mark.parametrize(("method", "endpoint"),
                         _ids(sorted((k for k in API if _late(k)), key=_order)))
def test_api_route_that_removes(site, method, endpoint):
    _attack_api(site, method, endpoint)


def test_the_verdict_tells_a_clear_refusal_from_a_silent_one(site):
    """Sanity of the harness: a poisoned path reaches the app encoded and gets its error page,
    which passes; a refusal that says nothing, a problem without a detail, a stack trace and
    a server error do not."""
    rule = _rules(site, "GET", "calls.show")[0]
    path = build_path(rule, {"slug": site.world.open_slug}, ("slug", "abc\x00def"))
    assert path.endswith("/abc%00def")
    page = site.clients["visitor"].get(path)
    assert page.status_code == 404 and verdict(page, path) is None

    def answer(body: str, status: int, kind: str = "text/html") -> Response:
        return Response(body, status=status, mimetype=kind)

    assert "says nothing" in verdict(answer("<main><p>No.</p></main>", 400), "/calls/x")
    assert verdict(answer('<p class="error">Enter a name.</p>', 400), "/calls/x") is None
    assert "without a message" in verdict(answer('{"title": "Bad request"}', 400,
                                                 "application/problem+json"), "/api/v1/calls")
    assert "not a problem" in verdict(answer("<p>No</p>", 404), "/api/v1/calls/x")
    assert "Traceback" in verdict(answer("Traceback (most recent call last):", 200), "/")
    assert "503" in verdict(answer("", 503), "/")


def test_the_loss_check_sees_a_lost_answer_or_row():
    """Sanity of the harness: the check run after every refused change notices an answer of
    the draft gone, a score changed and a row deleted."""
    before = Saved(counts={"answers": 12, "scores": 2}, draft={"answers": {1: "A", 2: "B"}},
                   own={"nominee_name": "Aigerim"}, review={"scores": {1: 7.0, 2: 6.5}})
    assert lost(before, replace(before)) is None
    assert "draft" in lost(before, replace(before, draft={"answers": {1: "A"}}))
    assert "review" in lost(before, replace(before, review={"scores": {1: 7.0, 2: 9.0}}))
    assert "rows gone" in lost(before, replace(before, counts={"answers": 11, "scores": 2}))
