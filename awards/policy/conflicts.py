"""Conflicts of interest, found as well as declared.

A person is in conflict with an entry when they submitted it, when it nominates them (its
nominee's e-mail is theirs), when they are one of its authors (an author's e-mail is theirs, or
an author's name in any language is their full name), when it comes from the organisation named
in their profile, or when a conflict was declared by them or recorded by an administrator.
The same rule is one SQL condition (for lists, the assigner and the ranking) and one Python
check (for a single entry), so a list and a page can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from awards.jury.models import Conflict
from awards.nominations.authors import NominationAuthor
from awards.nominations.models import Nomination


def _norm(value: str | None) -> str:
    """As the SQL condition compares: trimmed and lower-cased (``lower(trim(x))``)."""
    return (value or "").strip().lower()


@dataclass(frozen=True)
class Person:
    """What the conflict rule needs of a user: id, e-mail and declared organisation."""

    id: int
    email: str = ""
    organisation: str = ""
    # The full name, to match the entries' authors by (an author often gives no e-mail).
    name: str = ""

    @classmethod
    def of(cls, user) -> Person:
        return cls(id=user.id, email=_norm(getattr(user, "email", "")),
                   organisation=_norm(getattr(user, "organisation", "")),
                   name=_norm(getattr(user, "full_name", "")))


_AUTHOR_NAMES = (NominationAuthor.name_kk, NominationAuthor.name_ru, NominationAuthor.name_en)


def _authors_where(*conditions):
    return Nomination.id.in_(select(NominationAuthor.nomination_id).where(*conditions))


def _named_author(name: str):
    """An author whose name, in any language, is ``name`` (trimmed, lower-cased)."""
    return or_(*(and_(column != "", func.lower(func.trim(column)) == name)
                 for column in _AUTHOR_NAMES))


def conflict_condition(person: Person) -> ColumnElement[bool]:
    """True for the nominations ``person`` is in conflict with (a WHERE clause on
    ``Nomination``)."""
    parts = [
        # Never NULL: an entry without an applicant is nobody's own (NOT NULL hid it from all).
        func.coalesce(Nomination.applicant_id, 0) == person.id,
        Nomination.id.in_(select(Conflict.nomination_id).where(Conflict.user_id == person.id)),
    ]
    if person.email:
        parts.append(func.lower(func.trim(Nomination.nominee_email)) == person.email)
        # Every author of a collective counts as the nominee does (stored lower-cased).
        parts.append(_authors_where(NominationAuthor.email == person.email))
    if person.name:
        parts.append(_authors_where(_named_author(person.name)))
    if person.organisation:
        parts.append(and_(Nomination.organisation_name != "",
                          func.lower(func.trim(Nomination.organisation_name))
                          == person.organisation))
    return or_(*parts) if parts else false()


def conflicted_ids(session: Session, person: Person, call_id: int) -> frozenset[int]:
    """The ids of the call's nominations ``person`` is in conflict with."""
    rows = session.scalars(select(Nomination.id).where(
        Nomination.call_id == call_id, conflict_condition(person)))
    return frozenset(rows)


def conflict_pairs(session: Session, people: Iterable[Person],
                   call_id: int) -> set[tuple[int, int]]:
    """(person id, nomination id) for every nomination of the call each person is in conflict
    with: ``conflict_condition`` for many people at once, in two queries whatever their number
    (each nomination's e-mail and organisation are normalised once, not once per person)."""
    people = list(people)
    if not people:
        return set()
    ids = {p.id for p in people}
    by_email: dict[str, list[int]] = {}
    by_organisation: dict[str, list[int]] = {}
    for p in people:
        if p.email:
            by_email.setdefault(p.email, []).append(p.id)
        if p.organisation:
            by_organisation.setdefault(p.organisation, []).append(p.id)
    email = func.lower(func.trim(Nomination.nominee_email))
    organisation = func.lower(func.trim(Nomination.organisation_name))
    named = Nomination.organisation_name != ""
    parts = [Nomination.applicant_id.in_(ids)]
    if by_email:
        parts.append(email.in_(list(by_email)))
    if by_organisation:
        parts.append(and_(named, organisation.in_(list(by_organisation))))
    pairs: set[tuple[int, int]] = set()
    for row in session.execute(
            select(Nomination.id, Nomination.applicant_id, email.label("email"),
                   organisation.label("organisation"), named.label("named"))
            .where(Nomination.call_id == call_id, or_(*parts))):
        if row.applicant_id in ids:
            pairs.add((row.applicant_id, row.id))
        pairs.update((p, row.id) for p in by_email.get(row.email, ()))
        if row.named:
            pairs.update((p, row.id) for p in by_organisation.get(row.organisation, ()))
    pairs.update(_author_pairs(session, people, call_id))
    # Declared conflicts are few per person: read them by person, keep this call's.
    pairs.update((row.user_id, row.nomination_id) for row in session.execute(
        select(Conflict.user_id, Conflict.nomination_id, Nomination.call_id)
        .join(Nomination, Nomination.id == Conflict.nomination_id)
        .where(Conflict.user_id.in_(ids))) if row.call_id == call_id)
    return pairs


def _author_pairs(session: Session, people: list[Person],
                  call_id: int) -> set[tuple[int, int]]:
    """(person id, nomination id) for the authors matched by e-mail or name, in one query."""
    by_email: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for p in people:
        if p.email:
            by_email.setdefault(p.email, []).append(p.id)
        if p.name:
            by_name.setdefault(p.name, []).append(p.id)
    if not (by_email or by_name):
        return set()
    names = [func.lower(func.trim(column)) for column in _AUTHOR_NAMES]
    parts = []
    if by_email:
        parts.append(NominationAuthor.email.in_(list(by_email)))
    if by_name:
        parts += [and_(column != "", name.in_(list(by_name)))
                  for column, name in zip(_AUTHOR_NAMES, names, strict=True)]
    pairs: set[tuple[int, int]] = set()
    for row in session.execute(
            select(NominationAuthor.nomination_id, NominationAuthor.email,
                   *(name.label(f"n{i}") for i, name in enumerate(names)))
            .join(Nomination, Nomination.id == NominationAuthor.nomination_id)
            .where(Nomination.call_id == call_id, or_(*parts))):
        pairs.update((p, row.nomination_id) for p in by_email.get(row.email, ()))
        for value in (row.n0, row.n1, row.n2):
            if value:
                pairs.update((p, row.nomination_id) for p in by_name.get(value, ()))
    return pairs


def conflicts_by_person(session: Session, people: Iterable[Person],
                        call_id: int) -> dict[int, frozenset[int]]:
    """For the assigner: each person's conflicted nominations in the call."""
    return {p.id: conflicted_ids(session, p, call_id) for p in people}


APPLICANT = "applicant"
NOMINEE = "nominee"
AUTHOR = "author"
AUTHOR_NAME = "author_name"
ORGANISATION = "organisation"
DECLARED = "declared"

REASON_LABELS = {
    APPLICANT: _l("submitted this entry"),
    NOMINEE: _l("is the nominee of this entry"),
    AUTHOR: _l("is an author of this entry"),
    AUTHOR_NAME: _l("has the name of an author of this entry"),
    ORGANISATION: _l("belongs to the nominating organisation"),
    DECLARED: _l("declared or recorded conflict"),
}


def conflict_kinds(session: Session, person: Person, nomination: Nomination) -> list[str]:
    """Why ``person`` is in conflict with ``nomination`` (empty when they are not), for the
    warnings at invitation and assignment."""
    kinds = []
    if nomination.applicant_id == person.id:
        kinds.append(APPLICANT)
    if person.email and _norm(nomination.nominee_email) == person.email:
        kinds.append(NOMINEE)
    authors = list(getattr(nomination, "authors", None) or [])
    if person.email and any(_norm(a.email) == person.email for a in authors):
        kinds.append(AUTHOR)
    elif person.name and any(_norm(getattr(a, f"name_{code}")) == person.name
                             for a in authors for code in ("kk", "ru", "en")):
        kinds.append(AUTHOR_NAME)
    if person.organisation and _norm(nomination.organisation_name) == person.organisation:
        kinds.append(ORGANISATION)
    declared = session.scalar(select(Conflict.id).where(
        Conflict.user_id == person.id, Conflict.nomination_id == nomination.id))
    if declared is not None:
        kinds.append(DECLARED)
    return kinds


def conflicted_entries(session: Session, person: Person, call_id: int) -> list[Nomination]:
    """The call's non-draft nominations ``person`` is in conflict with, for the invitation
    warning."""
    from awards.enums import NominationStatus

    return list(session.scalars(select(Nomination).where(
        Nomination.call_id == call_id, Nomination.status != NominationStatus.DRAFT,
        conflict_condition(person)).order_by(Nomination.id)))
