"""Publishing a call's results (now or at a set time), the confirmation page's preview, the
outcome e-mails, moving or withdrawing a scheduled version, opening a correction and
settling the versions whose time has come."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, lifecycle, policy
from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, PublicationStatus
from awards.i18n import localized
from awards.mail import PENDING, OutgoingMail, queue_mail
from awards.nominations.models import Nomination
from awards.results.common import (
    LANGS,
    MAIL_KIND_PREFIX,
    NOT_IN_COMPETITION,
    PhaseRefused,
    ResultsError,
    pick,
    recipient_name,
)
from awards.results.issuing import issue_certificates
from awards.results.models import Certificate, Publication
from awards.results.reading import current_publication, pending_publication, publications_of
from awards.results.winners import (
    CategoryWinners,
    build_snapshot,
    decided_winners,
    lock_state,
    snapshot_winners,
)

# ---- publishing -------------------------------------------------------------------------------


def publish_refusal(session: Session, actor, call: Call, *,
                    now: datetime) -> policy.Decision | None:
    """Why ``actor`` may not publish the call's results in its phase now (None when they may):
    the policy's ``Action.PUBLISH``, asked by the service and by the pages that show or hide
    the publish form. Without an actor (a command run on the server, a preview) only the phase
    is asked."""
    viewer = policy.Viewer(session, actor)
    if actor is None:
        viewer.is_admin = True
    decision = policy.allows(viewer, policy.Action.PUBLISH, call, now=now)
    return None if decision.ok else decision


def publish(*, session: Session, actor, call: Call, scheduled_for: datetime | None,
            notes: dict[str, str] | None = None, token: str | None,
            now: datetime | None = None) -> Publication:
    """Publish the call's decided awards as the next version, now (``scheduled_for`` None) or
    at ``scheduled_for`` (UTC). Freezes the decisions (call status "published"), issues the
    certificates and queues the outcome e-mails to go at the publication time."""
    now = now or utcnow()
    lock_state(session, call, token)
    notes = {lang: (notes or {}).get(lang, "").strip() for lang in LANGS}
    refused = publish_refusal(session, actor, call, now=now)
    if refused is not None:
        raise PhaseRefused(refused.reason, status=refused.status)
    if scheduled_for is not None and scheduled_for <= now:
        raise ResultsError(_l("The publication time must be in the future. To publish at "
                              "once, choose “Publish now”."), field="scheduled_for")
    groups = decided_winners(session, call)
    winners = [w for g in groups for w in g.winners]
    if not winners:
        raise ResultsError(_l("Nothing is decided yet: award at least one entry on the ranking "
                              "page before publishing."))
    action = "schedule" if scheduled_for else "publish"
    blocked = lifecycle.blockers(session, call, action, now)
    if blocked:
        raise PhaseRefused(_l("The results cannot be published yet: %(reasons)s",
                              reasons=" ".join(str(r) for r in blocked)))
    previous = publications_of(session, call)
    if previous and not all(notes.values()):
        raise ResultsError(_l("A correction must say what was corrected and why, in Kazakh, "
                              "Russian and English."), field="note_kk")
    when = scheduled_for or now
    publication = Publication(
        call_id=call.id, version=(previous[-1].version + 1) if previous else 1,
        status=PublicationStatus.SCHEDULED if scheduled_for else PublicationStatus.PUBLISHED,
        scheduled_for=when, published_at=None if scheduled_for else now,
        note_kk=notes["kk"], note_ru=notes["ru"], note_en=notes["en"],
        snapshot=build_snapshot(call, groups), created_by_id=actor.id)
    session.add(publication)
    session.flush()
    issued, revoked = issue_certificates(session, call, publication, winners, when)
    publication.snapshot = {**publication.snapshot,
                            "revoked_certificates": [c.id for c in revoked]}
    if not scheduled_for:
        _supersede_older(session, call, publication)
    changed = _changed_nominations(previous[-1] if previous else None, publication)
    mails = _queue_outcome_mails(session, call, publication, only=changed)
    lifecycle.advance(session=session, call=call, action=action, actor=actor, now=now,
                      via="results", check=False)
    session.flush()
    event = audit.record(session, action="results.publish", object_type="publication",
                         object_id=publication.id, actor=actor, call_id=call.id,
                         after={"version": publication.version,
                                "scheduled_for": publication.scheduled_for.isoformat(),
                                "now": scheduled_for is None, "winners": len(winners),
                                "certificates_issued": [c.code for c in issued],
                                "certificates_revoked": [c.code for c in revoked],
                                "mails": len(mails), "note_en": notes["en"]})
    # The audit log's head at publication, shown with the results for anyone to keep: a later
    # rewrite or truncation of the log no longer matches it (`audit verify --against`).
    publication.snapshot = {**publication.snapshot,
                            "audit_head": {"id": event.id, "hash": event.hash}}
    session.flush()
    return publication


def _supersede_older(session: Session, call: Call, publication: Publication) -> None:
    session.execute(update(Publication).where(
        Publication.call_id == call.id, Publication.version < publication.version,
        Publication.status != PublicationStatus.SUPERSEDED)
        .values(status=PublicationStatus.SUPERSEDED)
        .execution_options(synchronize_session="fetch"))


def _changed_nominations(old: Publication | None, new: Publication) -> set[int] | None:
    """Entries whose outcome differs between two versions; None for a first publication
    (everyone hears)."""
    if old is None:
        return None
    return _changed_between(old.snapshot, new.snapshot)


def _changed_between(old: dict[str, Any], new: dict[str, Any]) -> set[int]:
    def awards(snapshot: dict[str, Any]) -> dict[int, tuple]:
        return {w["nomination_id"]: (w["award_level_id"], w["name"])
                for w in snapshot_winners(snapshot)}

    a, b = awards(old), awards(new)
    return {n for n in set(a) | set(b) if a.get(n) != b.get(n)}


def _outcome_recipients(session: Session, call: Call,
                        only: set[int] | None) -> dict[int, list[Nomination]]:
    """The entries each applicant hears about (applicants whose account was erased hear
    nothing: there is nobody to write to)."""
    nominations = list(session.scalars(
        select(Nomination).where(Nomination.call_id == call.id,
                                 Nomination.status.not_in(NOT_IN_COMPETITION),
                                 Nomination.applicant_id.is_not(None))
        .options(selectinload(Nomination.applicant), selectinload(Nomination.category))
        .order_by(Nomination.applicant_id, Nomination.id)))
    by_applicant: dict[int, list[Nomination]] = {}
    for n in nominations:
        if (only is None or n.id in only) and n.applicant is not None \
                and getattr(n.applicant, "deleted_at", None) is None:
            by_applicant.setdefault(n.applicant_id, []).append(n)
    return by_applicant


@dataclass
class Preview:
    """What publishing now (or at ``scheduled_for``) would do, for the confirmation page."""

    groups: list[CategoryWinners]
    blockers: list[str]
    version: int
    is_correction: bool
    applicants: int
    entries: int
    winners: int


def preview(session: Session, call: Call, *, now: datetime) -> Preview:
    groups = decided_winners(session, call)
    previous = publications_of(session, call)
    only = None
    if previous:
        only = _changed_between(previous[-1].snapshot, build_snapshot(call, groups))
    recipients = _outcome_recipients(session, call, only)
    action = "publish"
    blocked = lifecycle.blockers(session, call, action, now) \
        if publish_refusal(session, None, call, now=now) is None else []
    return Preview(groups=groups, blockers=[str(b) for b in blocked],
                   version=(previous[-1].version + 1) if previous else 1,
                   is_correction=bool(previous), applicants=len(recipients),
                   entries=sum(len(v) for v in recipients.values()),
                   winners=sum(len(g.winners) for g in groups))


def _queue_outcome_mails(session: Session, call: Call, publication: Publication,
                         only: set[int] | None) -> list[OutgoingMail]:
    """One message per applicant, in their language, listing each of their entries' outcome;
    held back until the publication time."""
    from awards.urls import external_url

    won = {w["nomination_id"]: w for w in snapshot_winners(publication.snapshot)}
    by_applicant = _outcome_recipients(session, call, only)
    if not by_applicant:
        return []
    correction = publication.version > 1
    # Also called outside a request (seeding, commands): links are built on BASE_URL anyway.
    with nullcontext() if has_request_context() else current_app.test_request_context():
        results_url = external_url("results.show", slug=call.slug)
        mine_url = external_url("nominations.mine") \
            if "nominations.mine" in current_app.view_functions else results_url
    default_language = current_app.config["BABEL_DEFAULT_LOCALE"]
    mails = []
    for entries in by_applicant.values():
        applicant: User = entries[0].applicant
        language = applicant.preferred_language or default_language
        rows = [{"reference": n.reference or f"#{n.id}", "nominee": recipient_name(n),
                 "category": localized(n.category, "name", language),
                 "award": pick(won[n.id]["award"], language) if n.id in won else ""}
                for n in entries]
        winner = any(r["award"] for r in rows)
        template = "result_winner" if winner else "result_other"
        mail = queue_mail(
            session, to=applicant.email, template=template, language=language,
            kind=f"{MAIL_KIND_PREFIX}{publication.id}:{'winner' if winner else 'other'}",
            name=applicant.display_name, call_title=localized(call, "title", language),
            entries=rows, url=results_url, mine_url=mine_url, correction=correction,
            note=getattr(publication, f"note_{language}", "") or publication.note_ru)
        mail.next_attempt_at = publication.scheduled_for
        mails.append(mail)
    session.flush()
    return mails


def _mails_of(session: Session, publication: Publication) -> list[OutgoingMail]:
    prefix = f"{MAIL_KIND_PREFIX}{publication.id}:"
    return list(session.scalars(select(OutgoingMail).where(
        OutgoingMail.kind.like(prefix + "%"), OutgoingMail.status == PENDING)))


def _not_live(publication: Publication, now: datetime) -> None:
    if publication.status != PublicationStatus.SCHEDULED or publication.is_visible_at(now):
        raise ResultsError(_l("This version is already public: it cannot be withdrawn or "
                              "moved. Publish a correction instead."))


def reschedule(*, session: Session, actor, publication: Publication, scheduled_for: datetime,
               token: str | None, now: datetime | None = None) -> Publication:
    """Move a version that is not public yet; its certificates and e-mails move with it."""
    now = now or utcnow()
    call = publication.call
    lock_state(session, call, token)
    _not_live(publication, now)
    if scheduled_for <= now:
        raise ResultsError(_l("The publication time must be in the future. To publish at "
                              "once, choose “Publish now”."), field="scheduled_for")
    before = publication.scheduled_for
    publication.scheduled_for = scheduled_for
    for cert in publication.certificates:
        cert.issued_at = scheduled_for
    revoked_ids = publication.snapshot.get("revoked_certificates", [])
    if revoked_ids:
        session.execute(update(Certificate).where(Certificate.id.in_(revoked_ids))
                        .values(revoked_at=scheduled_for))
    for mail in _mails_of(session, publication):
        mail.next_attempt_at = scheduled_for
    session.flush()
    audit.record(session, action="results.reschedule", object_type="publication",
                 object_id=publication.id, actor=actor, call_id=call.id,
                 before={"scheduled_for": before.isoformat()},
                 after={"scheduled_for": scheduled_for.isoformat()})
    return publication


def withdraw(*, session: Session, actor, publication: Publication, token: str | None,
             now: datetime | None = None) -> None:
    """Take back a version that is not public yet: its certificates and unsent e-mails go, the
    certificates it would have revoked stay valid, and the call is back in deliberation (or in
    its correction, when an earlier version is public)."""
    now = now or utcnow()
    call = publication.call
    lock_state(session, call, token)
    _not_live(publication, now)
    if call.status == CallStatus.RESULTS_SCHEDULED:
        earlier = len(publications_of(session, call)) > 1
        lifecycle.advance(session=session, call=call, actor=actor, now=now, via="results",
                          action="unschedule_correction" if earlier else "unschedule")
    revoked_ids = publication.snapshot.get("revoked_certificates", [])
    if revoked_ids:
        session.execute(update(Certificate).where(Certificate.id.in_(revoked_ids))
                        .values(revoked_at=None))
    mails = _mails_of(session, publication)
    if mails:
        session.execute(delete(OutgoingMail).where(OutgoingMail.id.in_([m.id for m in mails])))
    data = {"version": publication.version,
            "scheduled_for": publication.scheduled_for.isoformat(),
            "certificates": [c.code for c in publication.certificates],
            "mails_cancelled": len(mails)}
    publication_id = publication.id
    session.delete(publication)
    session.flush()
    audit.record(session, action="results.withdraw", object_type="publication",
                 object_id=publication_id, actor=actor, call_id=call.id, before=data,
                 after={"withdrawn": True})


def correct_refusal(session: Session, actor, call: Call, *,
                    now: datetime) -> ResultsError | None:
    """Why ``actor`` may not open a correction of the call's results now (None when they may),
    as the refusal to raise: the policy's ``Action.CORRECT``, then a public version to correct
    and none scheduled after it. Asked by the service and by the page that shows the
    correction form, so the two cannot disagree."""
    decision = policy.allows(policy.Viewer(session, actor), policy.Action.CORRECT, call, now=now)
    if not decision.ok:
        return PhaseRefused(decision.reason, status=decision.status)
    if current_publication(session, call, now) is None:
        return ResultsError(_l("A correction can be opened only for results that are public."))
    if pending_publication(session, call, now) is not None:
        return ResultsError(_l("A version is scheduled and not public yet: withdraw it or "
                               "change its time instead of opening a correction."))
    return None


def open_correction(*, session: Session, actor, call: Call, reason: str, token: str | None,
                    now: datetime | None = None) -> None:
    """Let the decisions be changed again while the current version stays public."""
    now = now or utcnow()
    lock_state(session, call, token)
    refused = correct_refusal(session, actor, call, now=now)
    if refused is not None:
        raise refused
    reason = reason.strip()
    if not reason:
        raise ResultsError(_l("Say why the results need a correction."), field="reason")
    lifecycle.advance(session=session, call=call, action="correct", actor=actor, now=now,
                      reason=reason, via="results")
    audit.record(session, action="results.correction_open", object_type="call",
                 object_id=call.id, actor=actor, call_id=call.id, after={"reason": reason})


def settle_due(*, session: Session, now: datetime | None = None) -> list[Publication]:
    """Record as published the versions whose time has come (they are already visible; this
    keeps the statuses truthful for exports and the admin pages), and bring their calls'
    phase up to date (results scheduled -> published)."""
    now = now or utcnow()
    due = list(session.scalars(select(Publication).where(
        Publication.status == PublicationStatus.SCHEDULED, Publication.scheduled_for <= now)
        .order_by(Publication.call_id, Publication.version)))
    for publication in due:
        publication.status = PublicationStatus.PUBLISHED
        publication.published_at = publication.scheduled_for
        session.flush()
        _supersede_older(session, publication.call, publication)
        audit.record(session, action="results.went_live", object_type="publication",
                     object_id=publication.id, actor=None, call_id=publication.call_id,
                     after={"version": publication.version,
                            "published_at": publication.scheduled_for.isoformat()})
        lifecycle.sync(session, publication.call, now)
    session.flush()
    return due
