"""Publishing a call's results: citations and photos of the winners, versioned publications
(now or at a set time), corrections, the outcome e-mails and the winners' certificates.

A publication freezes everything its page shows in ``snapshot``; nothing published is ever
edited. Publishing moves the call from deliberation to "published" (or "results scheduled"
until the publication time), which freezes everything that led to the results; a correction
moves the call to "correcting" (while the current version stays public), then publishes the
next version with a note. The phase moves are the lifecycle's (``awards.lifecycle``): its guard
for publishing is this page's checklist. Services take keyword-only arguments, flush and audit;
the caller commits.

Every action carries a *state token* of what the administrator saw (the call's status and
version, the publications, the active awards); it is recomputed under a lock on the call row,
so a double submit or two administrators at once get ``StaleResults`` (409), never a second
publication."""

from __future__ import annotations

import hashlib
import json
import secrets
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, lifecycle, policy
from awards.auth.models import User
from awards.calls.models import Call, Category
from awards.db import utcnow
from awards.enums import CallStatus, DecisionKind, NominationStatus, PublicationStatus
from awards.i18n import localized
from awards.mail import PENDING, OutgoingMail, queue_mail
from awards.nominations.authors import public_authors, work_title
from awards.nominations.models import Nomination
from awards.ranking.models import Decision
from awards.refusals import Refusal
from awards.results.models import Certificate, Citation, Publication
from awards.results.recipients import diploma_recipients

LANGS = ("kk", "ru", "en")
# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
PHOTO_TYPES = ["png", "jpeg", "webp"]
PHOTO_MAX_BYTES = 5 * 1024 * 1024
MAIL_KIND_PREFIX = "results:"
# Outcomes are sent for entries that took part; drafts and withdrawn entries did not.
NOT_IN_COMPETITION = (NominationStatus.DRAFT, NominationStatus.WITHDRAWN)


# ---- refusals ---------------------------------------------------------------------------------


class ResultsError(Refusal):
    """A request refused by a rule; nothing was changed. ``status`` is the HTTP answer and
    ``field`` the form field the message belongs to, if any."""

    status = 400

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class StaleResults(ResultsError):
    status = 409


class PhaseRefused(ResultsError):
    """Not in this phase of the call (the policy's reason), or not ready for the move (the
    lifecycle's reasons)."""

    status = 409

    def __init__(self, message, *, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


# ---- small helpers ----------------------------------------------------------------------------


def new_certificate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``K7Q2M9XD4HTR`` -> ``K7Q2-M9XD-4HTR`` (stored without dashes)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def texts(obj: Any, field_name: str) -> dict[str, str]:
    return {lang: getattr(obj, f"{field_name}_{lang}", "") or "" for lang in LANGS}


def pick(value: dict[str, str] | None, lang: str) -> str:
    """The text of a frozen {kk, ru, en} dict in ``lang``, falling back like ``localized``."""
    if not value:
        return ""
    for code in (lang, "ru", "en", "kk"):
        if value.get(code):
            return value[code]
    return ""


def recipient_name(nomination: Nomination) -> str:
    return nomination.nominee_name or nomination.organisation_name or ""


def visible_clause(now: datetime):
    return or_(Publication.status != PublicationStatus.SCHEDULED,
               Publication.scheduled_for <= now)


def anchor_for(nomination_id: int) -> str:
    return f"winner-{nomination_id}"


# ---- reading ----------------------------------------------------------------------------------


def publications_of(session: Session, call: Call) -> list[Publication]:
    return list(session.scalars(select(Publication).where(Publication.call_id == call.id)
                                .order_by(Publication.version)))


def current_publication(session: Session, call: Call, now: datetime) -> Publication | None:
    """The newest version the public can read at ``now``."""
    return session.scalar(
        select(Publication).where(Publication.call_id == call.id, visible_clause(now))
        .order_by(Publication.version.desc()).limit(1))


def pending_publication(session: Session, call: Call, now: datetime) -> Publication | None:
    """A version scheduled for later (there is at most one)."""
    return session.scalar(
        select(Publication).where(Publication.call_id == call.id,
                                  Publication.status == PublicationStatus.SCHEDULED,
                                  Publication.scheduled_for > now)
        .order_by(Publication.version.desc()).limit(1))


def publication_version(session: Session, call: Call, version: int) -> Publication | None:
    return session.scalar(select(Publication).where(Publication.call_id == call.id,
                                                    Publication.version == version))


def visible_calls(session: Session, now: datetime) -> list[tuple[Call, Publication]]:
    """Each call with results the public can read, with its current version; newest first."""
    rows = session.execute(
        select(Call, Publication).join(Publication, Publication.call_id == Call.id)
        .where(visible_clause(now))
        .options(selectinload(Call.programme))
        .order_by(Call.year.desc(), Call.id.desc(), Publication.version.desc())).all()
    out: dict[int, tuple[Call, Publication]] = {}
    for call, publication in rows:
        out.setdefault(call.id, (call, publication))
    return list(out.values())


def photo_is_public(session: Session, call: Call, photo_name: str, now: datetime) -> str | None:
    """The content type of a photo shown by a visible version of the call, else None."""
    for publication in session.scalars(select(Publication).where(
            Publication.call_id == call.id, visible_clause(now))):
        for category in publication.snapshot.get("categories", []):
            for entry in category.get("winners", []):
                if entry.get("photo") == photo_name:
                    return entry.get("photo_type") or "application/octet-stream"
    return None


def valid_certificate(session: Session, nomination_id: int, now: datetime) -> Certificate | None:
    """The certificate an entry holds now: its publication visible and not revoked."""
    return session.scalar(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Certificate.nomination_id == nomination_id, visible_clause(now),
               or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now))
        .order_by(Certificate.id.desc()).limit(1))


def valid_certificates(session: Session, nomination_id: int,
                       now: datetime) -> list[Certificate]:
    """Every certificate an entry holds now (one per author of a collective, the
    organisation's), in the order they were issued."""
    return list(session.scalars(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Certificate.nomination_id == nomination_id, visible_clause(now),
               or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now))
        .order_by(Certificate.id)))


@dataclass
class Outcome:
    publication: Publication
    award: dict[str, str] | None  # the award level's names; None: not awarded
    certificate: Certificate | None = None
    certificates: list[Certificate] = field(default_factory=list)


def outcomes_for(session: Session, nominations: list[Nomination],
                 now: datetime) -> dict[int, Outcome]:
    """What the applicant may see of each entry's result: only entries of calls whose results
    are visible now, and only entries that took part."""
    out: dict[int, Outcome] = {}
    by_call: dict[int, Publication | None] = {}
    for nomination in nominations:
        if nomination.status in NOT_IN_COMPETITION:
            continue
        if nomination.call_id not in by_call:
            by_call[nomination.call_id] = current_publication(session, nomination.call, now)
        publication = by_call[nomination.call_id]
        if publication is None:
            continue
        award = None
        for category in publication.snapshot.get("categories", []):
            for entry in category.get("winners", []):
                if entry["nomination_id"] == nomination.id:
                    award = entry["award"]
        certificates = valid_certificates(session, nomination.id, now) if award else []
        certificate = certificates[-1] if certificates else None
        out[nomination.id] = Outcome(publication, award, certificate, certificates)
    return out


# ---- the decided winners, before publication --------------------------------------------------


@dataclass
class Winner:
    decision: Decision
    nomination: Nomination
    citation: Citation | None

    @property
    def award_names(self) -> dict[str, str]:
        level = self.decision.award_level
        if level is not None:
            names = texts(level, "name")
            if any(names.values()):
                return names
            return dict.fromkeys(LANGS, level.key)
        return texts(self.decision.category, "name")

    @property
    def level_position(self) -> int:
        level = self.decision.award_level
        return level.position if level is not None else 10_000


@dataclass
class CategoryWinners:
    category: Category
    winners: list[Winner] = field(default_factory=list)


def award_decisions(session: Session, call: Call) -> list[Decision]:
    return list(session.scalars(
        select(Decision).where(Decision.call_id == call.id, Decision.revoked_at.is_(None),
                               Decision.kind == DecisionKind.AWARD)
        .options(selectinload(Decision.nomination), selectinload(Decision.award_level),
                 selectinload(Decision.category))
        .order_by(Decision.id).execution_options(populate_existing=True)))


def decided_winners(session: Session, call: Call) -> list[CategoryWinners]:
    decisions = award_decisions(session, call)
    citations = {c.nomination_id: c for c in session.scalars(select(Citation).where(
        Citation.nomination_id.in_([d.nomination_id for d in decisions])))} if decisions else {}
    groups = [CategoryWinners(c) for c in call.categories]
    index = {g.category.id: g for g in groups}
    for d in decisions:
        group = index.get(d.category_id)
        if group is not None:
            group.winners.append(Winner(d, d.nomination, citations.get(d.nomination_id)))
    for group in groups:
        group.winners.sort(key=lambda w: (w.level_position, recipient_name(w.nomination),
                                          w.nomination.id))
    return groups


def warnings_for(groups: list[CategoryWinners], competing: set[int] | None = None) -> list[str]:
    """What stands between the decided winners and a publication: a category without a winner
    (only those with entries in competition, when ``competing`` is given) and each missing
    citation. The results page shows it as its checklist; the lifecycle's guard for publishing
    is the same list."""
    out = []
    for group in groups:
        name = localized(group.category, "name") or group.category.code
        if not group.winners and (competing is None or group.category.id in competing):
            out.append(str(_l("“%(category)s” has no winner.", category=name)))
        for w in group.winners:
            missing = [lang for lang in LANGS
                       if not (w.citation and getattr(w.citation, f"text_{lang}").strip())]
            if missing:
                out.append(str(_l("%(name)s (%(category)s): the citation is missing in "
                                  "%(languages)s.", name=recipient_name(w.nomination),
                                  category=name, languages=", ".join(missing).upper())))
    return out


def competing_categories(session: Session, call: Call) -> set[int]:
    """Categories with at least one entry still in competition (submitted, not refused)."""
    return set(session.scalars(select(Nomination.category_id).where(
        Nomination.call_id == call.id,
        Nomination.status.in_((NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE)))
        .distinct()))


def checklist(session: Session, call: Call,
              groups: list[CategoryWinners] | None = None) -> list[str]:
    groups = decided_winners(session, call) if groups is None else groups
    return warnings_for(groups, competing_categories(session, call))


def publish_blockers(session: Session, call: Call) -> list[str]:
    """The lifecycle's guard for publishing or scheduling: nothing decided, a category with
    entries but no winner, a missing citation. Outside a request (a command, a test's setup)
    in the site's default language."""
    groups = decided_winners(session, call)
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    with nullcontext() if has_request_context() else force_locale(default):
        out = []
        if not any(g.winners for g in groups):
            out.append(str(_l("Nothing is decided yet: award at least one entry on the "
                              "ranking page before publishing.")))
        return out + checklist(session, call, groups)


def build_snapshot(call: Call, groups: list[CategoryWinners]) -> dict[str, Any]:
    categories = []
    for group in groups:
        winners = []
        for w in group.winners:
            n = w.nomination
            level = w.decision.award_level
            winners.append({
                "decision_id": w.decision.id,
                "nomination_id": n.id,
                "reference": n.reference or "",
                "name": recipient_name(n),
                "organisation": n.organisation_name if n.nominee_name else "",
                "work": work_title(n),
                "authors": public_authors(n),
                "award_level_id": level.id if level is not None else None,
                "award_key": level.key if level is not None else "",
                "award": w.award_names,
                "citation": texts(w.citation, "text") if w.citation else dict.fromkeys(LANGS, ""),
                "photo": w.citation.photo_name if w.citation else None,
                "photo_type": w.citation.photo_content_type if w.citation else None,
                "anchor": anchor_for(n.id),
            })
        categories.append({"id": group.category.id, "code": group.category.code,
                           "name": texts(group.category, "name"), "winners": winners})
    return {
        "call": {"id": call.id, "slug": call.slug, "year": call.year,
                 "title": texts(call, "title"), "programme": texts(call.programme, "name")},
        "categories": categories,
    }


def snapshot_winners(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for c in snapshot.get("categories", []) for w in c.get("winners", [])]


# ---- the state token --------------------------------------------------------------------------


def state_token(session: Session, call: Call) -> str:
    """A fingerprint of everything an action on the results page depends on."""
    publications = [(p.id, p.version, str(p.status), p.scheduled_for.isoformat())
                    for p in publications_of(session, call)]
    decisions = sorted((d.id, d.version_id) for d in award_decisions(session, call))
    data = [str(call.status), call.version_id, publications, decisions]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]


def _lock(session: Session, call: Call, token: str | None) -> None:
    """Take the call's row lock (a write that changes nothing), then compare the state with
    what the page showed."""
    # Plain SQL: an ORM-level update would also bump the call's updated_at.
    session.execute(text("UPDATE calls SET year = year WHERE id = :id"), {"id": call.id})
    session.refresh(call)
    if token is not None and token != state_token(session, call):
        raise StaleResults(_l("The results of this call were changed after you opened the page "
                              "(perhaps by another administrator, or by sending the form "
                              "twice). Nothing was done; review the page and try again."))


# ---- citations --------------------------------------------------------------------------------


def save_citation(*, session: Session, actor, nomination: Nomination, values: dict[str, str],
                  photo=None, remove_photo: bool = False) -> Citation:
    """Write the citation of an awarded entry. ``photo`` is a stored upload (storage.StoredFile)
    already checked by content. The old photo file is kept: a published version may show it."""
    citation = session.scalar(select(Citation).where(Citation.nomination_id == nomination.id))
    before = None
    if citation is None:
        citation = Citation(nomination_id=nomination.id)
        session.add(citation)
    else:
        before = _citation_data(citation)
    for lang in LANGS:
        setattr(citation, f"text_{lang}", (values.get(lang) or "").strip())
    if photo is not None:
        citation.photo_name = photo.stored_name
        citation.photo_content_type = photo.content_type
    elif remove_photo:
        citation.photo_name = None
        citation.photo_content_type = None
    citation.updated_by_id = getattr(actor, "id", None)
    citation.updated_at = utcnow()
    session.flush()
    audit.record(session, action="results.citation", object_type="citation",
                 object_id=citation.id, actor=actor, call_id=nomination.call_id,
                 before=before, after=_citation_data(citation))
    return citation


def _citation_data(c: Citation) -> dict[str, Any]:
    return {"nomination_id": c.nomination_id, "text_kk": c.text_kk, "text_ru": c.text_ru,
            "text_en": c.text_en, "photo": c.photo_name}


# ---- publishing -------------------------------------------------------------------------------


def _cert_key(nomination_id: int, award_level_id: int | None, name: str) -> tuple:
    return (nomination_id, award_level_id, name)


def _valid_certificates_of(session: Session, call: Call) -> list[Certificate]:
    return list(session.scalars(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Publication.call_id == call.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.id)))


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
    _lock(session, call, token)
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


def issue_certificates(session: Session, call: Call, publication: Publication,
                       winners: list[Winner], when: datetime):
    """New certificates for new or changed awards; earlier ones of removed or changed awards
    are revoked from the moment this version goes live; unchanged ones stay valid."""
    existing = {(_cert_key(c.nomination_id, c.decision.award_level_id if c.decision else None,
                           c.recipient_name)): c
                for c in _valid_certificates_of(session, call)
                if c.publication_id != publication.id}
    kept_keys = set()
    issued = []
    for w in winners:
        # One per author (or the nominee), and the organisation's when the call says so.
        for person in diploma_recipients(w.nomination, recipient_name(w.nomination)):
            key = _cert_key(w.nomination.id, w.decision.award_level_id, person.name)
            if key in existing:
                kept_keys.add(key)
                continue
            cert = Certificate(publication_id=publication.id, decision_id=w.decision.id,
                               nomination_id=w.nomination.id, code=_unique_code(session),
                               recipient_name=person.name, recipient_kind=person.kind,
                               recipient_names=person.names, author_id=person.author_id,
                               award_name=w.award_names, issued_at=when)
            session.add(cert)
            issued.append(cert)
    revoked = []
    for key, cert in existing.items():
        if key not in kept_keys:
            cert.revoked_at = when
            revoked.append(cert)
    session.flush()
    return issued, revoked


def _unique_code(session: Session) -> str:
    while True:
        code = new_certificate_code()
        taken = session.scalar(select(Certificate.id).where(Certificate.code == code))
        pending = any(getattr(o, "code", None) == code for o in session.new)
        if taken is None and not pending:
            return code


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
    _lock(session, call, token)
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
    _lock(session, call, token)
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


def open_correction(*, session: Session, actor, call: Call, reason: str, token: str | None,
                    now: datetime | None = None) -> None:
    """Let the decisions be changed again while the current version stays public."""
    now = now or utcnow()
    _lock(session, call, token)
    if call.status != CallStatus.PUBLISHED or current_publication(session, call, now) is None:
        raise ResultsError(_l("A correction can be opened only for results that are public."))
    if pending_publication(session, call, now) is not None:
        raise ResultsError(_l("A version is scheduled and not public yet: withdraw it or "
                              "change its time instead of opening a correction."))
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
