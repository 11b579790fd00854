"""Jury administration through the real pages: permissions, rounds and rubrics, entries,
panels, conflicts, progress and reminders (button and scheduled command).

Pages are requested in English; the database is read in short app contexts of their own. The
helpers at the top build a judging call and are shared with test_assignment.py and
test_jury_invitations.py."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from awards.audit import AuditEvent, verify_chain
from awards.auth.models import User
from awards.auth.services import hash_password
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    ConflictSource,
    JurorStatus,
    NominationStatus,
    ReviewStatus,
    RoundStatus,
)
from awards.jury.models import (
    Assignment,
    Conflict,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    RoundEntry,
    Rubric,
)
from awards.mail import OutgoingMail
from tests.conftest import PASSWORD, get_csrf, login
from tests.factories import arrange, make_call, make_nomination, read
from tests.pages import field_errors, text_of

# ---- shared helpers -----------------------------------------------------------------------------

_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def account(session, email: str, *, name: str = "", admin: bool = False,
            language: str = "en") -> User:
    user = User(email=email, password_hash=password_hash(), full_name=name or email.split("@")[0],
                is_admin=admin, preferred_language=language, email_verified_at=utcnow())
    session.add(user)
    session.flush()
    return user


@dataclass
class World:
    call_id: int
    round_id: int
    panel_id: int
    admin_id: int
    categories: dict[str, int]
    entries: list[int]  # nomination ids in the round, in id order
    jurors: list[int] = field(default_factory=list)  # user ids of active members
    members: list[int] = field(default_factory=list)  # their JuryMember ids
    references: dict[int, str] = field(default_factory=dict)


def build_world(session, *, entries: int = 6, jurors: int = 4, reviews_per_entry: int = 2,
                juror_categories: dict[int, list[str]] | None = None,
                round_status: RoundStatus = RoundStatus.OPEN, in_round: bool = True,
                closes_in: timedelta | None = timedelta(days=5), slug: str = "voy-2026",
                admin_email: str = "admin@example.com") -> World:
    """A call in judging with ``entries`` eligible nominations alternating between its two
    categories (all in the round unless ``in_round`` is false), a panel of ``jurors`` active
    jurors (juror{i}@example.com; categories by code from ``juror_categories``) and an open
    round using that panel."""
    now = utcnow()
    admin = session.scalar(select(User).where(User.email == admin_email)) or \
        account(session, admin_email, name="Dana Admin", admin=True)
    call = make_call(session, slug=slug, status=CallStatus.JUDGING,
                     opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=30))
    cats = {c.code: c.id for c in call.categories}
    default = slug == "voy-2026"
    ref_prefix = "VOY-2026" if default else slug.upper()
    applicant = account(session, f"applicant-{slug}@example.com", name="Applicant")
    nominations = []
    for i in range(entries):
        n = make_nomination(session, call=call, applicant_id=applicant.id,
                            category="social" if i % 2 == 0 else "ecology",
                            status=NominationStatus.ELIGIBLE, nominee_name=f"Nominee {i}",
                            reference=f"{ref_prefix}-{i + 1:05d}")
        nominations.append(n)
    panel = Panel(call_id=call.id, name="Main panel")
    session.add(panel)
    session.flush()
    world = World(call.id, 0, panel.id, admin.id, cats, [n.id for n in nominations],
                  references={n.id: n.reference for n in nominations})
    by_code = {c.code: c for c in call.categories}
    for i in range(jurors):
        email = f"juror{i}@example.com" if default else f"juror{i}.{slug}@example.com"
        user = account(session, email, name=f"Juror {i}")
        member = JuryMember(panel_id=panel.id, user_id=user.id, email=user.email,
                            status=JurorStatus.ACTIVE, accepted_at=now)
        member.categories = [by_code[c] for c in (juror_categories or {}).get(i, [])]
        session.add(member)
        session.flush()
        world.jurors.append(user.id)
        world.members.append(member.id)
    rubric = Rubric(call_id=call.id, name="Round 1")
    rubric.criteria = [Criterion(key="impact", title_en="Impact", min_score=0, max_score=10,
                                 step=1, weight=2, position=1)]
    session.add(rubric)
    session.flush()
    minute = now.replace(second=0, microsecond=0)
    rnd = Round(call_id=call.id, position=1, name_en="First round", name_ru="Первый тур",
                rubric_id=rubric.id, panel_id=panel.id, status=round_status,
                reviews_per_entry=reviews_per_entry, opens_at=minute - timedelta(days=1),
                closes_at=(minute + closes_in) if closes_in is not None else None)
    session.add(rnd)
    session.flush()
    world.round_id = rnd.id
    if in_round:
        for n in nominations:
            session.add(RoundEntry(round_id=rnd.id, nomination_id=n.id))
    session.flush()
    return world


def make_world(app, **kwargs) -> World:
    return arrange(app, lambda s: build_world(s, **kwargs))


def assign_rows(app, round_id: int, pairs, *, review: ReviewStatus | None = None) -> list[int]:
    """Active assignments (juror user id, nomination id), optionally with a review each."""
    def _build(session):
        ids = []
        for juror_id, nomination_id in pairs:
            a = Assignment(round_id=round_id, juror_id=juror_id, nomination_id=nomination_id)
            session.add(a)
            session.flush()
            if review is not None:
                session.add(Review(assignment_id=a.id, status=review,
                                   submitted_at=utcnow() if review == ReviewStatus.SUBMITTED
                                   else None))
            ids.append(a.id)
        session.flush()
        return ids
    return arrange(app, _build)


def active_pairs(app, round_id: int) -> set[tuple[int, int]]:
    return read(app, lambda s: {tuple(row) for row in s.execute(
        select(Assignment.juror_id, Assignment.nomination_id)
        .where(Assignment.round_id == round_id, Assignment.status == AssignmentStatus.ACTIVE))})


def audit_actions(app, prefix: str = "jury.") -> list[str]:
    return read(app, lambda s: list(s.scalars(
        select(AuditEvent.action).where(AuditEvent.action.startswith(prefix))
        .order_by(AuditEvent.id))))


def audit_events(app, action: str) -> list[tuple[object, object]]:
    return read(app, lambda s: [(e.before_data(), e.after_data()) for e in s.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))])


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response), re.S)]


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', text_of(response))
    if match is None:
        match = re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', text_of(response))
    return html.unescape(match.group(1)) if match else None


def post(client, url: str, data: dict | None = None, csrf_url: str = "/", **kw):
    payload = dict(data or {})
    payload.setdefault("csrf_token", get_csrf(client, csrf_url))
    return client.post(url, data=payload, **kw)


def follow(client, response):
    assert response.status_code in (302, 303), text_of(response)[:2000]
    return client.get(response.headers["Location"])


@pytest.fixture(name="client")
def english_client(app):
    """A client whose browser asks for English (other test modules import this fixture)."""
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def as_admin(client):
    login(client, "admin@example.com")
    return client


# ---- permissions --------------------------------------------------------------------------------


def _routes(w: World, ids: dict[str, int]) -> list[tuple[str, str]]:
    r, c, p, m = w.round_id, w.call_id, w.panel_id, w.members[0]
    return [
        ("GET", f"/admin/jury/calls/{c}/rounds"),
        ("GET", f"/admin/jury/calls/{c}/rounds/new"),
        ("POST", f"/admin/jury/calls/{c}/rounds/new"),
        ("GET", f"/admin/jury/rounds/{r}/edit"),
        ("POST", f"/admin/jury/rounds/{r}/edit"),
        ("GET", f"/admin/jury/rounds/{r}/rubric"),
        ("GET", f"/admin/jury/rounds/{r}/rubric/criteria/new"),
        ("POST", f"/admin/jury/rounds/{r}/rubric/criteria/new"),
        ("GET", f"/admin/jury/rounds/{r}/rubric/criteria/{ids['criterion']}/edit"),
        ("POST", f"/admin/jury/rounds/{r}/rubric/criteria/{ids['criterion']}/edit"),
        ("POST", f"/admin/jury/rounds/{r}/rubric/criteria/{ids['criterion']}/delete"),
        ("GET", f"/admin/jury/rounds/{r}/entries"),
        ("POST", f"/admin/jury/rounds/{r}/entries/add-eligible"),
        ("POST", f"/admin/jury/rounds/{r}/entries/add"),
        ("POST", f"/admin/jury/rounds/{r}/assignments/add"),
        ("POST", f"/admin/jury/assignments/{ids['assignment']}/remove"),
        ("GET", f"/admin/jury/rounds/{r}/auto-assign"),
        ("POST", f"/admin/jury/rounds/{r}/auto-assign"),
        ("GET", f"/admin/jury/rounds/{r}/progress"),
        ("POST", f"/admin/jury/rounds/{r}/remind"),
        ("GET", f"/admin/jury/calls/{c}/panels/new"),
        ("POST", f"/admin/jury/calls/{c}/panels/new"),
        ("GET", f"/admin/jury/panels/{p}"),
        ("POST", f"/admin/jury/panels/{p}/invite"),
        ("GET", f"/admin/jury/members/{m}/edit"),
        ("POST", f"/admin/jury/members/{m}/edit"),
        ("POST", f"/admin/jury/members/{m}/resend"),
        ("GET", f"/admin/jury/members/{m}/remove"),
        ("POST", f"/admin/jury/members/{m}/remove"),
        ("GET", f"/admin/jury/calls/{c}/conflicts"),
        ("POST", f"/admin/jury/calls/{c}/conflicts"),
        ("POST", f"/admin/jury/conflicts/{ids['conflict']}/delete"),
    ]


@pytest.fixture
def permission_world(app):
    w = make_world(app, entries=2, jurors=2)
    [assignment] = assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])])

    def _more(session):
        criterion = session.scalar(select(Criterion.id))
        conflict = Conflict(user_id=w.jurors[1], nomination_id=w.entries[1],
                            source=ConflictSource.ADMIN, reason="Relative")
        session.add(conflict)
        account(session, "plain@example.com", name="Plain User")
        session.flush()
        return {"criterion": criterion, "conflict": conflict.id, "assignment": assignment}

    return w, arrange(app, _more)


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("user", 403), ("juror", 403)])
def test_routes_refuse_non_administrators(app, client, permission_world, who, expected):
    w, ids = permission_world
    if who == "user":
        login(client, "plain@example.com")
    elif who == "juror":
        login(client, "juror0@example.com")
    for method, url in _routes(w, ids):
        response = client.open(url, method=method, data={"csrf_token": "x"})
        assert (method, url, response.status_code) == (method, url, expected)
        if expected == 302:
            assert response.headers["Location"].startswith("/account/login?next=")
    assert audit_actions(app) == []


def test_routes_open_for_administrator(app, client, permission_world):
    w, ids = permission_world
    as_admin(client)
    for method, url in _routes(w, ids):
        if method != "GET":
            continue
        response = client.get(url)
        assert (url, response.status_code) == (url, 200)


@pytest.mark.parametrize("route", [0, 2, 4])
def test_changes_without_csrf_are_refused(app, client, permission_world, route):
    w, ids = permission_world
    as_admin(client)
    posts = [(m, u) for m, u in _routes(w, ids) if m == "POST"]
    _method, url = posts[route]
    response = client.post(url, data={})
    assert response.status_code == 400
    assert audit_actions(app) == []


# ---- rounds -------------------------------------------------------------------------------------


def round_form(**overrides) -> dict:
    data = {"name_kk": "Бірінші кезең", "name_ru": "Первый тур", "name_en": "First round",
            "kind": "scoring", "opens_at": "2026-12-01T09:00", "closes_at": "2026-12-10T18:00",
            "reviews_per_entry": "3", "panel_id": "0", "status": "draft",
            "show_scores_to_chairs": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_round_create_stores_call_local_times_and_rubric(app, client):
    w = make_world(app, entries=0, jurors=0)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/rounds/new"
    response = post(client, url, round_form(blind="y", panel_id=str(w.panel_id)), csrf_url=url)
    assert response.status_code == 302
    rnd = read(app, lambda s: s.scalar(select(Round).order_by(Round.id.desc())))
    assert response.headers["Location"] == f"/admin/jury/rounds/{rnd.id}/rubric"
    # Asia/Almaty is UTC+5: 09:00 local is 04:00 UTC.
    assert (rnd.opens_at.isoformat(), rnd.closes_at.isoformat()) == (
        "2026-12-01T04:00:00+00:00", "2026-12-10T13:00:00+00:00")
    assert (rnd.name_kk, rnd.name_ru, rnd.name_en, rnd.blind, rnd.reviews_per_entry,
            rnd.panel_id, rnd.status, rnd.position) == (
        "Бірінші кезең", "Первый тур", "First round", True, 3, w.panel_id, RoundStatus.DRAFT, 2)
    assert rnd.rubric_id is not None
    [(_, after)] = audit_events(app, "jury.round_create")
    assert (after["name_en"], after["blind"], after["opens_at"]) == (
        "First round", True, "2026-12-01T04:00:00+00:00")
    page = client.get(f"/admin/jury/calls/{w.call_id}/rounds")
    assert "First round" in text_of(page)
    edit = client.get(f"/admin/jury/rounds/{rnd.id}/edit")
    assert input_value(edit, "opens_at") == "2026-12-01T09:00"


@pytest.mark.parametrize("overrides, errors", [
    ({"name_kk": "", "name_ru": "", "name_en": ""},
     {"name_ru": "Enter the name in at least one language."}),
    ({"closes_at": "2026-11-30T09:00"},
     {"closes_at": "The closing time must be after the opening time."}),
    ({"reviews_per_entry": "0"}, {"reviews_per_entry": "Number must be between 1 and 50."}),
])
def test_round_create_invalid_keeps_values(app, client, overrides, errors):
    w = make_world(app, entries=0, jurors=0)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/rounds/new"
    response = post(client, url, round_form(**overrides), csrf_url=url)
    assert response.status_code == 400
    assert field_errors(response) == errors
    assert input_value(response, "closes_at") == overrides.get("closes_at", "2026-12-10T18:00")
    assert read(app, lambda s: s.scalar(select(func.count(Round.id)))) == 1
    assert audit_actions(app) == []


def test_round_edit_records_before_and_after(app, client):
    w = make_world(app, entries=0, jurors=0, round_status=RoundStatus.DRAFT)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/edit"
    form = client.get(url)
    data = {"name_en": "Expert round", "name_ru": "Первый тур", "kind": "scoring",
            "opens_at": input_value(form, "opens_at"), "closes_at": input_value(form, "closes_at"),
            "reviews_per_entry": "4", "panel_id": str(w.panel_id), "status": "open",
            "show_scores_to_chairs": "y"}
    response = post(client, url, data, csrf_url=url)
    assert response.status_code == 302
    assert flashes(follow(client, response)) == [("success", "The round is saved.")]
    rnd = read(app, lambda s: s.get(Round, w.round_id))
    assert (rnd.name_en, rnd.reviews_per_entry, rnd.status) == (
        "Expert round", 4, RoundStatus.OPEN)
    [(before, after)] = audit_events(app, "jury.round_update")
    assert (before, after) == (
        {"name_en": "First round", "reviews_per_entry": 2, "status": "draft"},
        {"name_en": "Expert round", "reviews_per_entry": 4, "status": "open"})


def test_round_closed_is_final(app, client):
    w = make_world(app, entries=0, jurors=0, round_status=RoundStatus.CLOSED)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/edit"
    form = client.get(url)
    assert re.findall(r'<option[^>]*value="(\w+)"', text_of(form).split('name="status"')[1]
                      .split("</select>")[0]) == ["closed"]
    response = post(client, url, round_form(status="open", panel_id=str(w.panel_id)),
                    csrf_url=url)
    assert response.status_code == 400
    assert field_errors(response) == {"status": "Not a valid choice."}
    assert read(app, lambda s: s.get(Round, w.round_id).status) == RoundStatus.CLOSED


# ---- rubric -------------------------------------------------------------------------------------


def criterion_form(**overrides) -> dict:
    data = {"key": "originality", "title_en": "Originality", "title_ru": "Оригинальность",
            "title_kk": "Бірегейлік", "description_en": "How new the idea is.",
            "min_score": "0", "max_score": "5", "step": "0.5", "weight": "1.5"}
    data.update(overrides)
    return data


def test_criterion_add_and_edit(app, client):
    w = make_world(app, entries=0, jurors=0)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/rubric/criteria/new"
    response = post(client, url, criterion_form(), csrf_url=url)
    assert response.status_code == 302
    page = follow(client, response)
    assert flashes(page) == [("success", "The criterion is added.")]
    assert "Originality" in text_of(page)
    rows = read(app, lambda s: [(c.key, c.min_score, c.max_score, c.step, c.weight, c.position)
                                for c in s.scalars(select(Criterion).order_by(Criterion.id))])
    assert rows == [("impact", 0, 10, 1, 2, 1), ("originality", 0, 5, 0.5, 1.5, 2)]
    cid = read(app, lambda s: s.scalar(select(Criterion.id).where(Criterion.key == "originality")))
    edit = f"/admin/jury/rounds/{w.round_id}/rubric/criteria/{cid}/edit"
    assert input_value(client.get(edit), "step") == "0.5"
    response = post(client, edit, criterion_form(weight="3", position="7"), csrf_url=edit)
    assert response.status_code == 302
    [(before, after)] = audit_events(app, "jury.criterion_update")
    assert (before, after) == ({"weight": 1.5, "position": 2}, {"weight": 3.0, "position": 7})
    assert audit_actions(app) == ["jury.criterion_create", "jury.criterion_update"]


@pytest.mark.parametrize("overrides, errors", [
    ({"max_score": "0"}, {"max_score": "The highest score must be above the lowest."}),
    ({"step": "0"}, {"step": "The step must be greater than zero."}),
    ({"weight": "-1"}, {"weight": "The weight cannot be negative."}),
    ({"key": "impact"}, {"key": "Another criterion of this rubric already has this key."}),
    ({"key": "Bad Key"}, {"key": "Start with a Latin letter; then use lower-case Latin letters, "
                                 "digits and underscores."}),
    ({"min_score": "abc"}, {"min_score": "Not a valid float value."}),
])
def test_criterion_invalid_shows_message_on_field(app, client, overrides, errors):
    w = make_world(app, entries=0, jurors=0)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/rubric/criteria/new"
    data = criterion_form(**overrides)
    response = post(client, url, data, csrf_url=url)
    assert response.status_code == 400
    assert field_errors(response) == errors
    for name in ("key", "min_score", "max_score", "step", "weight"):
        assert (name, input_value(response, name)) == (name, data[name])
    assert read(app, lambda s: s.scalar(select(func.count(Criterion.id)))) == 1


@pytest.mark.parametrize("action", ["new", "edit", "delete"])
def test_rubric_change_refused_once_reviews_exist(app, client, action):
    w = make_world(app, entries=2, jurors=2)
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0])], review=ReviewStatus.DRAFT)
    cid = read(app, lambda s: s.scalar(select(Criterion.id)))
    as_admin(client)
    base = f"/admin/jury/rounds/{w.round_id}/rubric"
    message = ("Jurors have already started reviewing on this rubric, so its criteria can no "
               "longer change: the scores given so far would no longer mean the same thing.")
    if action == "delete":
        response = post(client, f"{base}/criteria/{cid}/delete", csrf_url=base)
        assert response.status_code == 303
        assert flashes(follow(client, response))[0] == ("error", message)
    else:
        url = f"{base}/criteria/new" if action == "new" else f"{base}/criteria/{cid}/edit"
        response = post(client, url, criterion_form(key="impact" if action == "edit" else "x"),
                        csrf_url=base)
        assert response.status_code == 400
        assert flashes(response) == [("error", message)]
    rows = read(app, lambda s: [(c.key, c.weight) for c in s.scalars(select(Criterion))])
    assert rows == [("impact", 2.0)]
    assert audit_actions(app) == []
    page = client.get(base)
    assert "Jurors have already started reviewing on this rubric (1 reviews)" in text_of(page)


# ---- entries ------------------------------------------------------------------------------------


def test_add_all_eligible_entries_to_first_round(app, client):
    w = make_world(app, entries=4, jurors=0, in_round=False)

    def _extra(session):
        call = session.get(__import__("awards.calls.models", fromlist=["Call"]).Call, w.call_id)
        applicant = session.scalar(select(User).where(User.email.like("applicant-%")))
        for status in (NominationStatus.SUBMITTED, NominationStatus.INELIGIBLE):
            make_nomination(session, call=call, applicant_id=applicant.id, status=status)
    arrange(app, _extra)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/entries"
    response = post(client, f"{url}/add-eligible", csrf_url=url)
    page = follow(client, response)
    assert flashes(page) == [("success", "Entries added: 4.")]
    assert "Entries in the round: 4." in text_of(page)
    ids = read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id))))
    assert ids == w.entries
    again = follow(client, post(client, f"{url}/add-eligible", csrf_url=url))
    assert flashes(again) == [("success", "Entries added: 0.")]
    assert audit_events(app, "jury.entries_add") == [
        (None, {"added": 4, "nomination_ids": w.entries, "all_eligible": True})]


def test_add_chosen_entries_by_reference(app, client):
    w = make_world(app, entries=3, jurors=0, in_round=False)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/entries"
    refs = f"{w.references[w.entries[0]]}\n{w.references[w.entries[2]].lower()}"
    response = post(client, f"{url}/add", {"references": refs}, csrf_url=url)
    assert flashes(follow(client, response)) == [("success", "Entries added: 2.")]
    assert read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id)))) == [
        w.entries[0], w.entries[2]]
    bad = post(client, f"{url}/add", {"references": "VOY-2026-99999"}, csrf_url=url)
    assert bad.status_code == 400
    assert field_errors(bad) == {
        "references": "No nomination of this call has these references: VOY-2026-99999."}


# ---- panels and jurors --------------------------------------------------------------------------


def test_panel_create_and_member_categories_and_chair(app, client):
    w = make_world(app, entries=0, jurors=1)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/panels/new"
    response = post(client, url, {"name": "Experts"}, csrf_url=url)
    panel_id = read(app, lambda s: s.scalar(select(Panel.id).where(Panel.name == "Experts")))
    assert response.headers["Location"] == f"/admin/jury/panels/{panel_id}"
    duplicate = post(client, url, {"name": "Experts"}, csrf_url=url)
    assert field_errors(duplicate) == {"name": "This call already has a panel with this name."}

    edit = f"/admin/jury/members/{w.members[0]}/edit"
    response = post(client, edit, {"is_chair": "y", "categories": [str(w.categories["ecology"])]},
                    csrf_url=edit)
    assert response.status_code == 302
    member = read(app, lambda s: (lambda m: (m.is_chair, [c.code for c in m.categories]))(
        s.get(JuryMember, w.members[0])))
    assert member == (True, ["ecology"])
    [(before, after)] = audit_events(app, "jury.member_update")
    assert (before, after) == ({"is_chair": False, "categories": []},
                               {"is_chair": True, "categories": [w.categories["ecology"]]})
    page = client.get(f"/admin/jury/panels/{w.panel_id}")
    row = text_of(page).split('data-email="juror0@example.com"')[1].split("</tr>")[0]
    assert ("chair" in row, "Environmental Volunteering" in row) == (True, True)


# ---- conflicts ----------------------------------------------------------------------------------


def test_conflicts_list_shows_declared_and_admin_blocks(app, client):
    w = make_world(app, entries=2, jurors=2)

    def _conflicts(session):
        session.add(Conflict(user_id=w.jurors[0], nomination_id=w.entries[0],
                             source=ConflictSource.DECLARED, reason="My cousin"))
        session.add(Conflict(user_id=w.jurors[1], nomination_id=w.entries[1],
                             source=ConflictSource.ADMIN, reason="Same employer",
                             created_by_id=w.admin_id))
    arrange(app, _conflicts)
    as_admin(client)
    page = text_of(client.get(f"/admin/jury/calls/{w.call_id}/conflicts"))
    rows = re.findall(r'<tr data-conflict="\d+">(.*?)</tr>', page, re.S)
    cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
              for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)][:4] for r in rows]
    assert sorted(cells) == sorted([
        ["Juror 0 juror0@example.com", "VOY-2026-00001", "declared by the juror", "My cousin"],
        ["Juror 1 juror1@example.com", "VOY-2026-00002", "blocked by Dana Admin",
         "Same employer"],
    ])
    assert page.count("Remove the block") == 1


def test_conflict_remove_only_admin_blocks(app, client):
    w = make_world(app, entries=2, jurors=2)

    def _conflicts(session):
        declared = Conflict(user_id=w.jurors[0], nomination_id=w.entries[0],
                            source=ConflictSource.DECLARED, reason="My cousin")
        blocked = Conflict(user_id=w.jurors[1], nomination_id=w.entries[1],
                           source=ConflictSource.ADMIN, reason="Same employer")
        session.add_all([declared, blocked])
        session.flush()
        return declared.id, blocked.id
    declared, blocked = arrange(app, _conflicts)
    as_admin(client)
    url = f"/admin/jury/calls/{w.call_id}/conflicts"
    refused = follow(client, post(client, f"/admin/jury/conflicts/{declared}/delete", csrf_url=url))
    assert flashes(refused) == [("error", "Only a block set by an administrator can be removed "
                                          "here; the juror declared this conflict.")]
    done = follow(client, post(client, f"/admin/jury/conflicts/{blocked}/delete", csrf_url=url))
    assert flashes(done) == [("success", "The block is removed. The juror can be assigned to "
                                         "the entry again.")]
    assert read(app, lambda s: list(s.scalars(select(Conflict.id)))) == [declared]
    assert audit_events(app, "jury.conflict_remove") == [
        ({"user_id": w.jurors[1], "nomination_id": w.entries[1], "source": "admin",
          "reason": "Same employer"}, None)]


# ---- progress -----------------------------------------------------------------------------------


def progress_rows(response, table: str) -> list[list[str]]:
    body = text_of(response).split(f'<table id="{table}"')[1].split(">", 1)[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*data-[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_progress_counts_per_juror_and_category(app, client):
    w = make_world(app, entries=4, jurors=3, reviews_per_entry=2)
    j0, j1, j2 = w.jurors
    e = w.entries  # social, ecology, social, ecology
    assign_rows(app, w.round_id, [(j0, e[0]), (j0, e[1])], review=ReviewStatus.SUBMITTED)
    assign_rows(app, w.round_id, [(j0, e[2])], review=ReviewStatus.DRAFT)
    assign_rows(app, w.round_id, [(j1, e[0]), (j1, e[3])])
    [removed] = assign_rows(app, w.round_id, [(j2, e[2])], review=ReviewStatus.SUBMITTED)
    arrange(app, lambda s: setattr(s.get(Assignment, removed), "status",
                                   AssignmentStatus.REMOVED))
    as_admin(client)
    page = client.get(f"/admin/jury/rounds/{w.round_id}/progress")
    assert page.status_code == 200
    assert progress_rows(page, "jurors") == [
        ["Juror 0", "3", "2", "1", "67%"],
        ["Juror 1", "2", "0", "0", "0%"],
        ["Juror 2", "0", "0", "0", "0%"],
    ]
    assert progress_rows(page, "categories") == [
        ["Social Helper", "2", "1", "4", "25%"],
        ["Environmental Volunteering", "2", "1", "4", "25%"],
    ]
    assert "Reviews submitted: 2 of 5." in text_of(page)


def _count_queries(app, client, url) -> tuple[int, int]:
    engine = app.extensions["awards_db"]["engine"]
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response.status_code, len(statements)


def test_progress_query_count_is_constant(app, client):
    counts = []
    for n, slug in ((5, "small"), (40, "large")):
        w = make_world(app, entries=n, jurors=4, reviews_per_entry=2, slug=slug)
        pairs = [(w.jurors[(i + k) % 4], e) for i, e in enumerate(w.entries) for k in range(2)]
        assign_rows(app, w.round_id, pairs[: len(pairs) // 2], review=ReviewStatus.SUBMITTED)
        assign_rows(app, w.round_id, pairs[len(pairs) // 2:])
        counts.append(w.round_id)
    as_admin(client)
    client.get(f"/admin/jury/rounds/{counts[0]}/progress")  # warm up
    small = _count_queries(app, client, f"/admin/jury/rounds/{counts[0]}/progress")
    large = _count_queries(app, client, f"/admin/jury/rounds/{counts[1]}/progress")
    assert small[0] == large[0] == 200
    assert small[1] == large[1]


# ---- reminders ----------------------------------------------------------------------------------


def _pending_world(app, **kwargs) -> World:
    w = make_world(app, entries=4, jurors=3, **kwargs)
    j0, j1, _j2 = w.jurors
    e = w.entries
    assign_rows(app, w.round_id, [(j0, e[0]), (j1, e[1])], review=ReviewStatus.SUBMITTED)
    assign_rows(app, w.round_id, [(j0, e[2])], review=ReviewStatus.DRAFT)
    assign_rows(app, w.round_id, [(j0, e[3]), (j1, e[0])])
    # j2 has nothing pending.
    return w


def test_remind_button_queues_one_mail_per_pending_juror(app, client):
    w = _pending_world(app)
    arrange(app, lambda s: setattr(s.scalar(select(User).where(User.email == "juror1@example.com")),
                                   "preferred_language", "ru"))
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/progress"
    page = follow(client, post(client, f"/admin/jury/rounds/{w.round_id}/remind", csrf_url=url))
    assert flashes(page) == [("success", "Reminders queued: 2.")]
    mails = read(app, lambda s: [
        (m.to_address, m.kind, m.language, m.subject, m.body_text)
        for m in s.scalars(select(OutgoingMail).order_by(OutgoingMail.id))])
    assert [(m[0], m[1], m[2]) for m in mails] == [
        ("juror0@example.com", "jury_reminder", "en"),
        ("juror1@example.com", "jury_reminder", "ru")]
    assert mails[0][3] == "2 reviews are waiting for you"
    assert "you have 2 reviews still to submit" in mails[0][4]
    assert "http://localhost/jury/" in mails[0][4]
    assert "First round" in mails[0][4]
    assert "Первый тур" in mails[1][4]
    assert [a for _b, a in audit_events(app, "jury.remind")] == [
        {"juror_id": w.jurors[0], "pending": 2}, {"juror_id": w.jurors[1], "pending": 1}]


def test_remind_button_refused_for_closed_round(app, client):
    w = make_world(app, entries=1, jurors=1, round_status=RoundStatus.CLOSED)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/progress"
    page = follow(client, post(client, f"/admin/jury/rounds/{w.round_id}/remind", csrf_url=url))
    assert flashes(page) == [("error", "Only jurors of an open round can be reminded.")]
    assert read(app, lambda s: s.scalar(select(func.count(OutgoingMail.id)))) == 0


def outbox_to(app) -> list[str]:
    return read(app, lambda s: list(s.scalars(
        select(OutgoingMail.to_address).order_by(OutgoingMail.id))))


@pytest.mark.parametrize("closes_in, args, reminded", [
    (timedelta(hours=30), [], 2),
    (timedelta(hours=60), [], 0),
    (timedelta(hours=60), ["--due-within-hours", "72"], 2),
    (timedelta(hours=60), ["--round", "{round}"], 2),
    (timedelta(hours=60), ["--round", "{round}", "--due-within-hours", "24"], 0),
])
def test_cli_remind_window(app, runner, closes_in, args, reminded):
    w = _pending_world(app, closes_in=closes_in)
    args = [a.format(round=w.round_id) for a in args]
    result = runner.invoke(args=["awards", "jury", "remind", *args])
    assert result.exit_code == 0, result.output
    assert len(outbox_to(app)) == reminded
    if reminded:
        assert result.output == (f"round {w.round_id}: 2 reminded, 0 already reminded today\n"
                                 "2 reminders queued\n")
    else:
        assert result.output == "no open round closes within the window\n"


def test_cli_remind_once_a_day_per_juror(app, runner):
    w = _pending_world(app, closes_in=timedelta(hours=20))
    first = runner.invoke(args=["awards", "jury", "remind"])
    second = runner.invoke(args=["awards", "jury", "remind"])
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert second.output == (f"round {w.round_id}: 0 reminded, 2 already reminded today\n"
                             "0 reminders queued\n")
    assert outbox_to(app) == ["juror0@example.com", "juror1@example.com"]

    # A reminder from yesterday (in Almaty time) does not count.
    def _age(session):
        from sqlalchemy import update

        from awards.jury.setup import start_of_local_day
        yesterday = start_of_local_day(utcnow(), "Asia/Almaty") - timedelta(minutes=1)
        # The audit log refuses ORM updates; tests move the timestamps with plain SQL.
        session.connection().execute(
            update(AuditEvent.__table__).where(AuditEvent.action == "jury.remind")
            .values(created_at=yesterday))
    arrange(app, _age)
    third = runner.invoke(args=["awards", "jury", "remind"])
    assert third.output == (f"round {w.round_id}: 2 reminded, 0 already reminded today\n"
                            "2 reminders queued\n")
    assert len(outbox_to(app)) == 4


def test_audit_chain_intact_after_jury_changes(app, client):
    w = make_world(app, entries=4, jurors=3)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/rubric/criteria/new"
    post(client, url, criterion_form(), csrf_url=url)
    post(client, f"/admin/jury/rounds/{w.round_id}/remind", csrf_url=url)
    result = read(app, verify_chain)
    assert result.ok is True
    assert json.loads(json.dumps(audit_actions(app))) == ["jury.criterion_create"]
