"""Conflicts of interest, found as well as declared.

A person is in conflict with an entry when they submitted it, when it nominates them (its
nominee's e-mail is theirs), when it comes from the organisation named in their profile, or when
a conflict was declared by them or recorded by an administrator. The same rule is one SQL
condition (for lists, the assigner and the ranking) and one Python check (for a single entry),
so a list and a page can never disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from awards.jury.models import Conflict
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

    @classmethod
    def of(cls, user) -> Person:
        return cls(id=user.id, email=_norm(getattr(user, "email", "")),
                   organisation=_norm(getattr(user, "organisation", "")))


def conflict_condition(person: Person) -> ColumnElement[bool]:
    """True for the nominations ``person`` is in conflict with (a WHERE clause on
    ``Nomination``)."""
    parts = [
        Nomination.applicant_id == person.id,
        Nomination.id.in_(select(Conflict.nomination_id).where(Conflict.user_id == person.id)),
    ]
    if person.email:
        parts.append(func.lower(func.trim(Nomination.nominee_email)) == person.email)
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
    # Declared conflicts are few per person: read them by person, keep this call's.
    pairs.update((row.user_id, row.nomination_id) for row in session.execute(
        select(Conflict.user_id, Conflict.nomination_id, Nomination.call_id)
        .join(Nomination, Nomination.id == Conflict.nomination_id)
        .where(Conflict.user_id.in_(ids))) if row.call_id == call_id)
    return pairs


def conflicts_by_person(session: Session, people: Iterable[Person],
                        call_id: int) -> dict[int, frozenset[int]]:
    """For the assigner: each person's conflicted nominations in the call."""
    return {p.id: conflicted_ids(session, p, call_id) for p in people}


APPLICANT = "applicant"
NOMINEE = "nominee"
ORGANISATION = "organisation"
DECLARED = "declared"

REASON_LABELS = {
    APPLICANT: _l("submitted this entry"),
    NOMINEE: _l("is the nominee of this entry"),
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
