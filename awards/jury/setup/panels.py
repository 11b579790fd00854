"""Panels and their jurors: invitations by e-mail, accepting one (with a new account if
needed), the conflicts a (future) juror has with the call's entries, and a seat's settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awards import audit
from awards.auth.models import User
from awards.calls.models import Call, Category
from awards.db import utcnow
from awards.enums import JurorStatus
from awards.i18n import localized
from awards.jury.models import JuryMember, Panel
from awards.jury.setup.common import JurySetupError, _member_snapshot, hash_token
from awards.mail import queue_mail
from awards.nominations.models import Nomination
from awards.policy.conflicts import REASON_LABELS, Person, conflict_kinds, conflicted_entries

# ---- panels and invitations -------------------------------------------------------------------


def create_panel(*, session: Session, actor, call: Call, name: str) -> Panel:
    name = name.strip()
    if session.scalar(select(Panel.id).where(Panel.call_id == call.id, Panel.name == name)):
        raise JurySetupError(_l("This call already has a panel with this name."), field="name")
    panel = Panel(call_id=call.id, name=name)
    session.add(panel)
    session.flush()
    audit.record(session, action="jury.panel_create", object_type="panel", object_id=panel.id,
                 actor=actor, call_id=call.id, after={"name": name})
    return panel


def _categories_of_call(session: Session, call: Call, ids: Iterable[int]) -> list[Category]:
    ids = set(ids)
    if not ids:
        return []
    found = list(session.scalars(select(Category).where(Category.call_id == call.id,
                                                         Category.id.in_(ids))))
    if len(found) != len(ids):
        raise JurySetupError(_l("Choose categories of this call."), field="categories")
    return found


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def account_for_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == _normalise_email(email)))


def _send_invitation(session: Session, *, member: JuryMember, token: str, inviter,
                     language: str) -> None:
    from awards.urls import external_url

    user = account_for_email(session, member.email)
    lang = user.preferred_language if user is not None else language
    panel = member.panel
    queue_mail(
        session, to=member.email, template="jury_invitation", language=lang,
        kind="jury_invitation",
        name=user.display_name if user is not None else "",
        inviter=getattr(inviter, "display_name", "") or "",
        call_title=localized(panel.call, "title", lang),
        panel_name=panel.name,
        is_chair=member.is_chair,
        url=external_url("jury_admin.invitation", token=token),
    )


@dataclass(frozen=True)
class EntryConflict:
    """An entry of the call a (future) juror is in conflict with, and why."""

    nomination: Nomination
    kinds: tuple[str, ...]

    @property
    def reasons(self) -> list[str]:
        return [str(REASON_LABELS[k]) for k in self.kinds]


def _person_for(session: Session, email: str, user: User | None = None) -> Person:
    """Who the conflict rule looks at: the account when there is one, else the bare address
    (an invitee without an account can still be an entry's nominee)."""
    user = user or account_for_email(session, email)
    if user is not None:
        return Person.of(user)
    return Person.of(_Invitee(email))


@dataclass(frozen=True)
class _Invitee:
    email: str
    id: int = 0  # no account: matches no applicant and no declared conflict
    organisation: str = ""


def entry_conflicts(session: Session, call: Call, *, email: str,
                    user: User | None = None) -> list[EntryConflict]:
    """The call's entries the person with this address (or account) is in conflict with: for
    the warning at invitation and on the panel's page."""
    person = _person_for(session, email, user)
    return [EntryConflict(n, tuple(conflict_kinds(session, person, n)))
            for n in conflicted_entries(session, person, call.id)]


def member_conflicts(session: Session, panel: Panel) -> dict[int, list[EntryConflict]]:
    """Per seat of the panel (not left), the entries its juror is in conflict with; an
    account linked after the invitation is looked at as soon as it is."""
    found = {}
    for member in panel.members:
        if member.status in (JurorStatus.LEFT, JurorStatus.DECLINED):
            continue
        conflicts = entry_conflicts(session, panel.call, email=member.email, user=member.user)
        if conflicts:
            found[member.id] = conflicts
    return found


def invite_juror(*, session: Session, actor, panel: Panel, email: str, is_chair: bool = False,
                 category_ids: Iterable[int] = (), language: str = "ru") -> JuryMember:
    """Add a seat on the panel and e-mail a link to accept it. Only the token's SHA-256 is
    kept, so the link cannot be rebuilt from the database. The entries the invitee is in
    conflict with are not a reason to refuse (they will never get them), but the audit record
    lists them and the page warns the administrator (``entry_conflicts``)."""
    email = _normalise_email(email)
    if session.scalar(select(JuryMember.id).where(JuryMember.panel_id == panel.id,
                                                  JuryMember.email == email)):
        raise JurySetupError(_l("This address is already invited to the panel."), field="email")
    categories = _categories_of_call(session, panel.call, category_ids)
    token = secrets.token_urlsafe(32)
    member = JuryMember(panel=panel, email=email, is_chair=is_chair,
                        invite_token_hash=hash_token(token), status=JurorStatus.INVITED,
                        invited_at=utcnow())
    member.categories = categories
    session.add(member)
    session.flush()
    conflicts = entry_conflicts(session, panel.call, email=email)
    audit.record(session, action="jury.member_invite", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=panel.call_id,
                 after={**_member_snapshot(member), "panel_id": panel.id,
                        "conflicts": {str(c.nomination.id): list(c.kinds) for c in conflicts}})
    _send_invitation(session, member=member, token=token, inviter=actor, language=language)
    return member


def resend_invitation(*, session: Session, actor, member: JuryMember,
                      language: str = "ru") -> None:
    """A new link (the old one stops working) for a juror who has not answered yet, or who
    declined and is asked again (the seat is pending once more)."""
    if member.status not in (JurorStatus.INVITED, JurorStatus.DECLINED):
        raise JurySetupError(_l("Only a pending or declined invitation can be sent again."))
    before = member.status.value
    token = secrets.token_urlsafe(32)
    member.invite_token_hash = hash_token(token)
    member.invited_at = utcnow()
    member.status = JurorStatus.INVITED
    session.flush()
    audit.record(session, action="jury.member_reinvite", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 before={"status": before},
                 after={"email": member.email, "status": member.status.value})
    _send_invitation(session, member=member, token=token, inviter=actor, language=language)


def member_for_token(session: Session, token: str) -> JuryMember | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(JuryMember).where(JuryMember.invite_token_hash == hash_token(token)))


def email_matches(member: JuryMember, user) -> bool:
    return _normalise_email(getattr(user, "email", "") or "") == _normalise_email(member.email)


def accept_invitation(*, session: Session, member: JuryMember, user: User) -> None:
    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("This invitation has already been used."))
    if not email_matches(member, user):
        raise JurySetupError(_l("This invitation was sent to another e-mail address."))
    before = _member_snapshot(member)
    member.user_id = user.id
    member.accepted_at = utcnow()
    member.status = JurorStatus.ACTIVE
    session.flush()
    audit.record(session, action="jury.member_accept", object_type="jury_member",
                 object_id=member.id, actor=user, call_id=member.panel.call_id,
                 before=before, after=_member_snapshot(member))


def decline_invitation(*, session: Session, member: JuryMember, reason: str = "",
                       user: User | None = None) -> None:
    """The invitee says no (signed in with the invited address, or through the link alone,
    which reached that address). The seat stays on the panel's page as declined, with the
    reason in the audit record; the administrator may invite again."""
    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("This invitation has already been used."))
    if user is not None and not email_matches(member, user):
        raise JurySetupError(_l("This invitation was sent to another e-mail address."))
    reason = " ".join(reason.split())[:DECLINE_REASON_MAX]
    before = _member_snapshot(member)
    member.status = JurorStatus.DECLINED
    session.flush()
    audit.record(session, action="jury.member_decline", object_type="jury_member",
                 object_id=member.id, actor=user, call_id=member.panel.call_id,
                 before=before, after={**_member_snapshot(member), "reason": reason})


DECLINE_REASON_MAX = 1000


def decline_reasons(session: Session, panel: Panel) -> dict[int, str]:
    """The reason each declined seat of the panel gave (from the audit log: one query)."""
    declined = {m.id for m in panel.members if m.status == JurorStatus.DECLINED}
    if not declined:
        return {}
    events = session.scalars(
        select(audit.AuditEvent).where(
            audit.AuditEvent.action == "jury.member_decline",
            audit.AuditEvent.object_type == "jury_member",
            audit.AuditEvent.object_id.in_([str(i) for i in declined]))
        .order_by(audit.AuditEvent.id))
    return {int(e.object_id): (e.after_data() or {}).get("reason", "") for e in events}


def register_juror(*, session: Session, member: JuryMember, full_name: str, password: str,
                   language: str) -> User:
    """An account for an invited juror who has none. The invitation link reached the address,
    which is what e-mail verification would prove, so the account starts verified."""
    from awards.auth.services import hash_password

    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("This invitation has already been used."))
    if account_for_email(session, member.email) is not None:
        raise JurySetupError(_l("An account with this e-mail already exists: log in to accept "
                                "the invitation."))
    now = utcnow()
    user = User(email=_normalise_email(member.email), password_hash=hash_password(password),
                full_name=full_name.strip(), preferred_language=language,
                email_verified_at=now)
    session.add(user)
    session.flush()
    audit.record(session, action="user.register", object_type="user", object_id=user.id,
                 actor=user, after={"email": user.email, "full_name": user.full_name,
                                    "via": "jury_invitation", "email_verified": True})
    accept_invitation(session=session, member=member, user=user)
    return user


def update_member(*, session: Session, actor, member: JuryMember, is_chair: bool,
                  category_ids: Iterable[int]) -> bool:
    """Chair flag and categories (none = every category). Assignments already made are kept:
    moving them is a separate, previewed decision."""
    before = _member_snapshot(member)
    categories = _categories_of_call(session, member.panel.call, category_ids)
    member.is_chair = is_chair
    member.categories = categories
    after = _member_snapshot(member)
    if before == after:
        return False
    session.flush()
    changed = [k for k in after if before[k] != after[k]]
    audit.record(session, action="jury.member_update", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return True
