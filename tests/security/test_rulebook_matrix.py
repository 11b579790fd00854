"""The rulebook, cell by cell: role × phase of the call × action, on the page and in the API,
and every surface that shows an entry × blind round × conflict of interest.

Roles: anonymous, the applicant (owns entry E1), another applicant, a juror, a juror in
conflict with E1, the panel's chair (who judges nothing, in conflict with E3), a chair who also
judges, an administrator; in the API the same people with their own token (anonymous: none).
Phases: open, screening, judging, deliberation, results scheduled, published, correcting. The
world (``rulebook_world``) is built once per module and put back into each phase's state
before each block, and again after each write that went through.

The expected answers come from the small tables below (``EXPECT``), written from the product's
rules, not from the policy module, so the test can catch the policy being wrong. Each cell
asks a person to do the action the way they would: a juror their own assignment of E1, anyone
else the juror's; the applicant's nomination E1; the administrator's actions on the round.
An answer is ``OK`` (done: for a write, its effect is in the database), ``ANON`` (the page
sends to the login page, the API answers 401), or the refusal's status (403, 404, 409), and
then nothing changed. The page and the API are asked the same question and must both give
the table's answer; actions with no API endpoint (reopen, recuse, screening, assignment,
import, file download) are asked of the page only."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from awards import create_app
from awards.enums import AssignmentStatus, CallStatus, NominationStatus, ReviewStatus
from awards.jury.models import Assignment, Review, RoundEntry
from awards.nominations.models import Nomination
from awards.ranking.models import Decision
from tests.api_factories import bearer
from tests.conftest import IsolatedClient, csrf_from, login
from tests.factories import arrange, read
from tests.module_database import module_database
from tests.security import rulebook_world as rw
from tests.security.rulebook_world import PHASES, ROLES, RulebookWorld

OK, ANON = "ok", "anon"
O, S, J, D, RS, P, C = PHASES  # noqa: E741  (the phases' initials)
STARTED = frozenset({J, D, RS, P, C})  # the round has opened: its jurors see their entries

ANONYMOUS, APPLICANT, OTHER, JUROR, CONFLICTED, CHAIR, CHAIR_JUROR, ADMIN = ROLES
JURORS = (JUROR, CONFLICTED, CHAIR_JUROR)  # those with assignments of E1


# ---- the expected answers: a function of role and phase per action ---------------------------


def only(phases, refused: int = 409) -> Callable[[CallStatus], Any]:
    """Allowed in ``phases``, refused with ``refused`` in the others."""
    return lambda phase: OK if phase in phases else refused


def own_assignment(phases) -> Callable[[CallStatus], Any]:
    """A juror's own assignment: not there (404) before the round opens; allowed in
    ``phases``; refused by the phase (409) once the round has opened."""
    return lambda phase: 404 if phase not in STARTED else (OK if phase in phases else 409)


@dataclass(frozen=True)
class Row:
    default: Any  # the answer of every signed-in role not named
    roles: dict[str, Any] = field(default_factory=dict)  # role -> answer or phase -> answer

    def answer(self, role: str, phase: CallStatus):
        if role == ANONYMOUS:
            return ANON
        value = self.roles.get(role, self.default)
        return value(phase) if callable(value) else value


JUDGES_IN = own_assignment({J})
EXPECT: dict[str, Row] = {
    # the juror's page of the entry / the API's assignment
    "view_entry": Row(404, {JUROR: own_assignment(STARTED),
                            CHAIR_JUROR: own_assignment(STARTED)}),
    "save_review": Row(404, {JUROR: JUDGES_IN, CHAIR_JUROR: JUDGES_IN}),
    "submit_review": Row(404, {JUROR: JUDGES_IN, CHAIR_JUROR: JUDGES_IN}),
    "reopen_review": Row(404, {JUROR: JUDGES_IN, CHAIR_JUROR: JUDGES_IN}),
    "recuse": Row(404, {JUROR: JUDGES_IN, CHAIR_JUROR: JUDGES_IN}),
    "download_as_juror": Row(404, {JUROR: own_assignment(STARTED),
                                   CHAIR_JUROR: own_assignment(STARTED)}),
    # the applicant's own nomination: anyone else must not learn it exists
    "edit_nomination": Row(404, {APPLICANT: only({O})}),
    # withdrawal: until a decision stands on it (the winner is decided in deliberation) and
    # never once the results are scheduled
    "withdraw_nomination": Row(404, {APPLICANT: only({O, S, J})}),
    "download_as_applicant": Row(404, {APPLICANT: OK, ADMIN: OK}),
    # administration of the call
    "screen": Row(403, {ADMIN: only({S})}),
    "assign": Row(403, {ADMIN: only({S, J})}),
    "import_scores": Row(403, {ADMIN: only({J})}),
    "decide": Row(403, {ADMIN: only({J, D, C})}),
    "advance": Row(403, {ADMIN: only({J})}),
    # the round's ranking: administrators, and the chairs of its panel (scores shown to chairs)
    "see_ranking": Row(403, {ADMIN: OK, CHAIR: OK, CHAIR_JUROR: OK}),
}

# Cells where the application answers otherwise than the table, each with what happens;
# each must still differ (strict), so a fix shows up here as a cell to remove. Empty: none.
KNOWN: dict[tuple[str, str, CallStatus, str], str] = {}


# ---- the world, the clients ------------------------------------------------------------------


@dataclass
class Matrix:
    app: Any
    w: RulebookWorld
    clients: dict[str, Any] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    api: Any = None


def _database(tmp_path_factory, database_template, worker_id):
    return module_database(tmp_path_factory, database_template, worker_id, "rulebook")


@pytest.fixture(scope="module")
def m(tmp_path_factory, database_template, worker_id, cheap_password_hashing):
    url, drop = _database(tmp_path_factory, database_template, worker_id)
    app = create_app({
        "TESTING": True, "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("rulebook-instance")),
        "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_RETRY_BASE_SECONDS": 30,
    })
    app.test_client_class = IsolatedClient
    matrix = Matrix(app, arrange(app, rw.build))
    for role in ROLES:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if role != ANONYMOUS:
            login(client, matrix.w.emails[role])
        matrix.clients[role] = client
        html_page = client.get("/account/login" if role == ANONYMOUS else "/")
        matrix.csrf[role] = csrf_from(html_page.get_data(as_text=True))
    matrix.api = app.test_client()
    yield matrix
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


def reset(m: Matrix, phase: CallStatus, *, blind: bool = False, reviewed=()) -> None:
    arrange(m.app, lambda s: rw.reset(s, m.w, phase, blind=blind, reviewed=reviewed))


# ---- asking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    method: str
    url: str
    data: dict | None = None  # a page's form (the CSRF token is added)
    json: dict | None = None  # an API body


def page(m: Matrix, role: str, ask: Ask):
    client = m.clients[role]
    if ask.method == "GET":
        return client.get(ask.url)
    data = {"csrf_token": m.csrf[role], **(ask.data or {})}
    multipart = any(isinstance(v, tuple) for v in data.values())
    return client.post(ask.url, data=data,
                       content_type="multipart/form-data" if multipart else None)


def api(m: Matrix, role: str, ask: Ask):
    return m.api.open(ask.url, method=ask.method, headers=bearer(m.w.secrets[role]),
                      json=ask.json)


def answer_of(response) -> Any:
    status = response.status_code
    location = urlsplit(response.headers.get("Location", "")).path
    if status in (301, 302, 303) and location == "/account/login":
        return ANON
    if status == 401:
        return ANON
    if status < 400:
        return OK
    return status


def _assignment_of(m: Matrix, role: str) -> int:
    return m.w.assignment.get((role, "E1"), m.w.assignment[(JUROR, "E1")])


def _review_state(m: Matrix, assignment_id: int):
    def q(s):
        review = s.scalar(select(Review).where(Review.assignment_id == assignment_id))
        return None if review is None else review.status
    return read(m.app, q)


def _digest(m: Matrix) -> str:
    from awards.calls.models import Call
    from awards.ranking import services

    return read(m.app, lambda s: services.category_digests(
        s, s.get(Call, m.w.call_id))[m.w.category_id])


def _stored_form(m: Matrix, title: str) -> dict:
    """The nomination page's form as the browser posts it back, with a new title."""
    from awards.enums import FieldType
    from awards.nominations import formbuilder
    from awards.nominations import services as nominations

    def q(s):
        nomination = s.get(Nomination, m.w.entry["E1"])
        fields = nominations.fields_for(nomination)
        files = {formbuilder.field_name(f) for f in fields if f.type == FieldType.FILE}
        data: dict[str, Any] = {}
        for name, value in formbuilder.initial_data(nomination, fields).items():
            if name in files or value is None or value is False:
                continue
            if value is True:
                data[name] = "y"
            elif isinstance(value, list):
                data[name] = [str(v) for v in value]
            else:
                data[name] = str(value)
        title_field = next(f for f in fields if f.key == "title")
        data[formbuilder.field_name(title_field)] = title
        return data
    return read(m.app, q)


@dataclass(frozen=True)
class Action:
    """How each role asks for the action on the page (and in the API), and how to tell from
    the database whether it was done."""
    page: Callable[[Matrix, str], Ask]
    api: Callable[[Matrix, str], Ask] | None
    done: Callable[[Matrix, str], bool] | None = None  # None: a read
    reviewed: bool = False  # the roles' reviews of E1 are submitted before asking


def _score_form(m: Matrix, submit: bool) -> dict:
    data = {f"score_{m.w.criteria[k]}": str(v) for k, v in rw.FULL_SCORES.items()}
    return {**data, "version": "", "action": "submit" if submit else "draft"}


def _jury_url(m: Matrix, role: str, tail: str = "") -> str:
    return f"/jury/assignments/{_assignment_of(m, role)}{tail}"


def _api_assignment(m: Matrix, role: str, tail: str = "") -> str:
    return f"/api/v1/assignments/{_assignment_of(m, role)}{tail}"


def _import_csv(m: Matrix) -> tuple:
    lines = ["entry,juror,criterion,score"] + [
        f"{m.w.reference['E3']},{m.w.emails[CHAIR_JUROR]},{k},{v}"
        for k, v in rw.FULL_SCORES.items()]
    return io.BytesIO(("\n".join(lines) + "\n").encode()), "ballots.csv"


def _active_decision(m: Matrix, key: str, kind) -> bool:
    return read(m.app, lambda s: s.scalar(select(Decision.id).where(
        Decision.nomination_id == m.w.entry[key], Decision.kind == kind,
        Decision.revoked_at.is_(None))) is not None)


def _e1(m: Matrix, column):
    return read(m.app, lambda s: s.scalar(select(column).where(
        Nomination.id == m.w.entry["E1"])))


ACTIONS: dict[str, Action] = {
    "view_entry": Action(
        page=lambda m, r: Ask("GET", _jury_url(m, r)),
        api=lambda m, r: Ask("GET", _api_assignment(m, r))),
    "save_review": Action(
        page=lambda m, r: Ask("POST", _jury_url(m, r), data=_score_form(m, False)),
        api=lambda m, r: Ask("PUT", _api_assignment(m, r, "/review"),
                             json={"scores": rw.FULL_SCORES}),
        done=lambda m, r: _review_state(m, _assignment_of(m, r)) == ReviewStatus.DRAFT),
    "submit_review": Action(
        page=lambda m, r: Ask("POST", _jury_url(m, r), data=_score_form(m, True)),
        api=lambda m, r: Ask("POST", _api_assignment(m, r, "/review/submit"),
                             json={"scores": rw.FULL_SCORES}),
        done=lambda m, r: _review_state(m, _assignment_of(m, r)) == ReviewStatus.SUBMITTED),
    "reopen_review": Action(
        page=lambda m, r: Ask("POST", _jury_url(m, r, "/reopen"), data={"version": ""}),
        api=None, reviewed=True,
        done=lambda m, r: _review_state(m, _assignment_of(m, r)) == ReviewStatus.DRAFT),
    "recuse": Action(
        page=lambda m, r: Ask("POST", _jury_url(m, r, "/recuse"),
                              data={"reason": "My cousin", "confirm": "y"}),
        api=None,
        done=lambda m, r: read(m.app, lambda s: s.get(
            Assignment, _assignment_of(m, r)).status) == AssignmentStatus.RECUSED),
    "download_as_juror": Action(
        page=lambda m, r: Ask("GET", _jury_url(m, r, f"/attachments/{m.w.document_id}")),
        api=None),
    "edit_nomination": Action(
        page=lambda m, r: Ask("POST", f"/nominations/{m.w.entry['E1']}/edit",
                              data=_stored_form(m, f"Edited by {r}")),
        api=lambda m, r: Ask("PATCH", f"/api/v1/nominations/{m.w.entry['E1']}",
                             json={"answers": {"title": f"Edited by {r}"}}),
        done=lambda m, r: read(m.app, lambda s: any(
            a.value == f"Edited by {r}" for a in s.get(Nomination, m.w.entry["E1"]).answers))),
    "withdraw_nomination": Action(
        page=lambda m, r: Ask("POST", f"/nominations/{m.w.entry['E1']}/withdraw",
                              data={"reason": "Changed my mind"}),
        api=lambda m, r: Ask("POST", f"/api/v1/nominations/{m.w.entry['E1']}/withdraw",
                             json={"reason": "Changed my mind"}),
        done=lambda m, r: _e1(m, Nomination.status) == NominationStatus.WITHDRAWN),
    "download_as_applicant": Action(
        page=lambda m, r: Ask("GET", f"/nominations/{m.w.entry['E1']}/attachments/"
                                     f"{m.w.document_id}"),
        api=None),
    "screen": Action(
        page=lambda m, r: Ask("POST", f"/admin/screening/nomination/{m.w.entry['E1']}/decision",
                              data={"decision": "ineligible", "reason": "Out of scope",
                                    "version": str(_e1(m, Nomination.version_id))}),
        api=None,
        done=lambda m, r: _e1(m, Nomination.status) == NominationStatus.INELIGIBLE),
    "assign": Action(
        page=lambda m, r: Ask("POST", f"/admin/jury/rounds/{m.w.round_id}/assignments/add",
                              data={"nomination_id": str(m.w.entry["E3"]),
                                    "juror_id": str(m.w.user_ids[CHAIR_JUROR])}),
        api=None,
        done=lambda m, r: read(m.app, lambda s: s.scalar(select(Assignment.id).where(
            Assignment.round_id == m.w.round_id, Assignment.nomination_id == m.w.entry["E3"],
            Assignment.juror_id == m.w.user_ids[CHAIR_JUROR])) is not None)),
    "import_scores": Action(
        page=lambda m, r: Ask("POST", f"/admin/ranking/rounds/{m.w.round_id}/import",
                              data={"file": _import_csv(m)}),
        api=None,
        done=lambda m, r: read(m.app, lambda s: s.scalar(
            select(Review.id).join(Assignment).where(
                Assignment.round_id == m.w.round_id, Assignment.nomination_id == m.w.entry["E3"],
                Assignment.juror_id == m.w.user_ids[CHAIR_JUROR])) is not None)),
    "decide": Action(
        page=lambda m, r: Ask("POST", f"/admin/ranking/rounds/{m.w.round_id}/decisions",
                              data={"nomination_id": str(m.w.entry["E2"]),
                                    "award_level_id": str(m.w.laureate_id),
                                    "digest": _digest(m)}),
        api=lambda m, r: Ask("POST", f"/api/v1/calls/{m.w.slug}/decisions",
                             json={"kind": "award", "round_id": m.w.round_id,
                                   "nomination_id": m.w.entry["E2"],
                                   "award_level_id": m.w.laureate_id}),
        done=lambda m, r: _active_decision(m, "E2", "award")),
    "advance": Action(
        page=lambda m, r: Ask("POST", f"/admin/ranking/rounds/{m.w.round_id}/advance",
                              data={"mode": "chosen", "nomination_ids": str(m.w.entry["E2"]),
                                    "digests": f"{m.w.category_id}:{_digest(m)}"}),
        api=lambda m, r: Ask("POST", f"/api/v1/calls/{m.w.slug}/decisions",
                             json={"kind": "advance", "round_id": m.w.round_id,
                                   "nomination_ids": [m.w.entry["E2"]]}),
        done=lambda m, r: read(m.app, lambda s: s.scalar(select(RoundEntry.id).where(
            RoundEntry.round_id == m.w.next_round_id,
            RoundEntry.nomination_id == m.w.entry["E2"])) is not None)),
    "see_ranking": Action(
        page=lambda m, r: Ask("GET", f"/admin/ranking/rounds/{m.w.round_id}"),
        api=lambda m, r: Ask("GET", f"/api/v1/rounds/{m.w.round_id}/ranking")),
}


def test_every_action_has_expectations():
    assert set(ACTIONS) == set(EXPECT)


def _cell(m: Matrix, phase: CallStatus, name: str, role: str, surface: str):
    """Ask one cell: the answer, and None when it is the table's, else what went wrong."""
    action = ACTIONS[name]
    ask = (action.page if surface == "page" else action.api)(m, role)
    response = (page if surface == "page" else api)(m, role, ask)
    if response.status_code >= 500:
        reset(m, phase, reviewed=JURORS if action.reviewed else ())
        return None, f"{response.status_code} (a server error)"
    got = answer_of(response)
    done = action.done(m, role) if action.done is not None else None
    if done or (action.done is not None and got == OK):
        reset(m, phase, reviewed=JURORS if action.reviewed else ())
    expected = EXPECT[name].answer(role, phase)
    if done is not None:
        if got == OK and not done:
            got = f"{response.status_code} but nothing changed"
        elif got != OK and done:
            got = f"{got} but it was done"
    if got == expected:
        return got, None
    where = response.headers.get("Location", "")
    return got, f"got {got}{' -> ' + where if where else ''}, expected {expected}"


def _run_phase(m: Matrix, phase: CallStatus) -> list[str]:
    failures = []
    for name, action in ACTIONS.items():
        reset(m, phase, reviewed=JURORS if action.reviewed else ())
        surfaces = ("page", "api") if action.api is not None else ("page",)
        for role in ROLES:
            allowed = {}
            for surface in surfaces:
                where = f"{phase.value:>18} {name:<22} {role:<17} {surface}"
                got, problem = _cell(m, phase, name, role, surface)
                allowed[surface] = got == OK
                if (name, role, phase, surface) in KNOWN:
                    allowed.pop(surface)
                    if problem is None:
                        failures.append(f"{where}: now as expected; remove it from KNOWN")
                elif problem is not None:
                    failures.append(f"{where}: {problem}")
            if len(set(allowed.values())) > 1:
                failures.append(f"{phase.value:>18} {name:<22} {role:<17} the page and the API "
                                f"disagree: {allowed}")
    return failures


@pytest.mark.parametrize("phase", [pytest.param(p, id=p.value) for p in PHASES])
def test_rulebook(m, phase):
    """Each role × action in this phase of the call: the table's answer on the page and in
    the API alike."""
    failures = _run_phase(m, phase)
    assert not failures, "\n" + "\n".join(failures)


# ---- surfaces: a blind round shows no identity, a conflict hides the entry --------------------


def _text(response) -> str:
    body = response.get_data()
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        decoded = body.decode("latin-1")
    return html.unescape(decoded) + "\n" + "\n".join(f"{k}: {v}" for k, v in
                                                      response.headers.items())


def _leaks(text_: str, values) -> list[str]:
    return [v for v in values if v.lower() in text_.lower()]


def _surfaces(m: Matrix, role: str) -> dict[str, Ask]:
    """Every surface that shows an entry, as this role would reach it."""
    w = m.w
    rid = w.round_id
    asks = {
        "jury dashboard": Ask("GET", "/jury/"),
        "API assignments": Ask("GET", "/api/v1/assignments"),
        "ranking page": Ask("GET", f"/admin/ranking/rounds/{rid}"),
        "ranking API": Ask("GET", f"/api/v1/rounds/{rid}/ranking"),
        "CSV export": Ask("GET", f"/admin/ranking/rounds/{rid}/export.csv"),
        "CSV scores export": Ask("GET", f"/admin/ranking/rounds/{rid}/export.csv?what=scores"),
        "XLSX export": Ask("GET", f"/admin/ranking/rounds/{rid}/export.xlsx"),
    }
    for key in w.entry:
        asks[f"explanation of {key}"] = Ask("GET", f"/admin/ranking/rounds/{rid}/entries/"
                                                   f"{w.entry[key]}")
        assignment = w.assignment.get((role, key))
        if assignment is not None:
            asks[f"score page of {key}"] = Ask("GET", f"/jury/assignments/{assignment}")
            asks[f"panel page of {key}"] = Ask("GET", f"/jury/assignments/{assignment}/panel")
            asks[f"API assignment of {key}"] = Ask("GET", f"/api/v1/assignments/{assignment}")
            asks[f"file of {key}"] = Ask("GET", f"/jury/assignments/{assignment}/attachments/"
                                                f"{w.document_id}")
    return asks


def _xlsx_text(body: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(" ".join(str(c) for c in row if c is not None)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))


def _ask_surface(m: Matrix, role: str, name: str, ask: Ask):
    return (api if ask.url.startswith("/api/") else page)(m, role, ask)


def _surface_text(response) -> str:
    if response.mimetype and "spreadsheetml" in response.mimetype:
        return _xlsx_text(response.get_data()) + "\n" + _text(response)
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(response.get_data()))
        meta = " ".join(str(v) for v in (reader.metadata or {}).values())
        return meta + "\n" + _text(response)
    return _text(response)


# Who reaches which surface in the round (the others are refused, checked all the same).
REACHES = {
    JUROR: {"jury dashboard", "API assignments", "score page of E1", "score page of E2",
            "score page of E3", "API assignment of E1", "API assignment of E2",
            "API assignment of E3", "file of E1"},
    CONFLICTED: {"jury dashboard", "API assignments", "score page of E2",
                 "API assignment of E2"},
    CHAIR: {"jury dashboard", "API assignments", "ranking page", "ranking API",
            "explanation of E1", "explanation of E2"},
    CHAIR_JUROR: {"jury dashboard", "API assignments", "ranking page", "ranking API",
                  "explanation of E1", "explanation of E2", "explanation of E3",
                  "score page of E1", "score page of E2", "panel page of E1",
                  "panel page of E2", "API assignment of E1", "API assignment of E2",
                  "file of E1"},
}


@pytest.mark.parametrize("phase", [pytest.param(p, id=p.value) for p in (J, P)])
def test_blind_round_shows_no_identity_to_the_jury(m, phase):
    """In a blind round, no surface a juror, a conflicted juror, the chair or a chair who
    judges can reach names the nominee, her e-mail, her organisation, the applicant, an
    identifying answer or the file's original name (nor the PDF's author)."""
    reset(m, phase, blind=True)
    secret = [v for key in m.w.entry for v in m.w.identifying(key)]
    failures = []
    for role, reached in REACHES.items():
        for name, ask in _surfaces(m, role).items():
            response = _ask_surface(m, role, name, ask)
            if name in reached and response.status_code != 200:
                failures.append(f"{role} {name}: {response.status_code}, expected 200")
            if "export" in name and response.status_code != 403:
                failures.append(f"{role} {name}: {response.status_code}, expected 403 (exports "
                                f"are the administrators')")
            if response.status_code >= 500:
                failures.append(f"{role} {name}: {response.status_code}")
            leaked = _leaks(_surface_text(response), secret)
            if leaked:
                failures.append(f"{role} {name} ({response.status_code}) shows {leaked}")
    assert not failures, "\n" + "\n".join(failures)


def test_blind_file_is_served_under_a_neutral_name_without_its_author(m):
    reset(m, J, blind=True)
    response = page(m, JUROR, Ask("GET", f"/jury/assignments/{m.w.assignment[(JUROR, 'E1')]}"
                                         f"/attachments/{m.w.document_id}"))
    assert response.status_code == 200
    assert re.search(r'filename="?Attachment 1\.pdf', response.headers["Content-Disposition"])
    assert rw.ENTRIES["E1"][0] not in _surface_text(response)


def test_identity_shown_where_the_round_is_not_blind(m):
    """The control: the same surfaces do name the entries when the round is not blind, and
    administrators see them in blind rounds too, so the checks above look for the right
    strings."""
    reset(m, J, blind=False)
    nominee = rw.ENTRIES["E1"][0]
    for role, name in ((JUROR, "score page of E1"), (CHAIR_JUROR, "ranking page"),
                       (CHAIR_JUROR, "explanation of E1"), (JUROR, "file of E1")):
        response = _ask_surface(m, role, name, _surfaces(m, role)[name])
        assert response.status_code == 200, (role, name)
        shown = _surface_text(response)
        assert nominee in shown or rw.FILE_NAME in shown, (role, name)
    reset(m, J, blind=True)
    for name in ("ranking page", "CSV export", "XLSX export", "explanation of E1"):
        response = _ask_surface(m, ADMIN, name, _surfaces(m, ADMIN)[name])
        assert response.status_code == 200, name
        assert nominee in _surface_text(response), name


@pytest.mark.parametrize("blind", [False, True], ids=["open round", "blind round"])
def test_conflicted_people_never_meet_the_entry(m, blind):
    """The conflicted juror never meets E1, the chair never meets E3: not in lists, pages,
    explanations, exports or the API, not even by its reference."""
    reset(m, J, blind=blind)
    failures = []
    for role, key in ((CONFLICTED, "E1"), (CHAIR, "E3")):
        values = m.w.everything(key)
        for name, ask in _surfaces(m, role).items():
            response = _ask_surface(m, role, name, ask)
            if response.status_code >= 500:
                failures.append(f"{role} {name}: {response.status_code}")
            leaked = _leaks(_surface_text(response), values)
            if leaked:
                failures.append(f"{role} {name} ({response.status_code}) shows {leaked}")
        # Its own pages are not found, on the page and in the API.
        own = m.w.assignment.get((role, key))
        asks = [Ask("GET", f"/admin/ranking/rounds/{m.w.round_id}/entries/{m.w.entry[key]}")]
        if own is not None:
            asks += [Ask("GET", f"/jury/assignments/{own}"),
                     Ask("GET", f"/api/v1/assignments/{own}"),
                     Ask("GET", f"/jury/assignments/{own}/attachments/{m.w.document_id}")]
        for ask in asks:
            response = _ask_surface(m, role, ask.url, ask)
            # A juror who does not chair reads no ranking page at all (403, whichever entry).
            expected = 403 if role == CONFLICTED and "/admin/" in ask.url else 404
            if response.status_code != expected:
                failures.append(f"{role} {ask.url}: {response.status_code}, expected "
                                f"{expected}")
    assert not failures, "\n" + "\n".join(failures)


def test_reminders_to_jurors_name_no_entry(m):
    """The only e-mail jurors get about their entries (the reminder) names none of them."""
    from awards.mail import OutgoingMail

    reset(m, J, blind=True)
    before = read(m.app, lambda s: s.scalar(select(OutgoingMail.id).order_by(
        OutgoingMail.id.desc()).limit(1))) or 0
    response = page(m, ADMIN, Ask("POST", f"/admin/jury/rounds/{m.w.round_id}/remind"))
    assert response.status_code in (302, 303)
    mails = read(m.app, lambda s: [(x.to_address, x.subject + "\n" + x.body_text)
                                   for x in s.scalars(select(OutgoingMail).where(
                                       OutgoingMail.id > before))])
    assert {to for to, _ in mails} >= {m.w.emails[JUROR], m.w.emails[CHAIR_JUROR]}
    secret = [v for key in m.w.entry for v in m.w.everything(key) + m.w.identifying(key)]
    assert [(to, _leaks(body, secret)) for to, body in mails if _leaks(body, secret)] == []
