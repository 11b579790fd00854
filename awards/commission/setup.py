"""Setting up a commission round from the administrators' pages: the round with its panel, its
rules (``services.configure``) and its members (invited, made chair, removed). Every change
is refused once the ballot is open (``Action.COMMISSION_CONFIGURE``), and each is audited by
the service that makes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from awards import policy
from awards.calls.models import Call
from awards.commission import services
from awards.commission.services import CommissionError, NotAllowed, _require
from awards.enums import RoundKind
from awards.jury import setup as jury_setup
from awards.jury.models import JuryMember, Round

COMMISSION_KINDS = (RoundKind.COMMISSION, RoundKind.VOTE)


def commission_rounds(session: Session, call: Call) -> list[Round]:
    return list(session.scalars(select(Round).where(
        Round.call_id == call.id, Round.kind.in_(COMMISSION_KINDS))
        .order_by(Round.position, Round.id)))


def create_round(*, session: Session, actor, call: Call, panel_id: int | None,
                 names: Mapping[str, str], values: Mapping[str, Any]) -> Round:
    """A commission round with its rules; ``panel_id`` None gives it a new, empty panel named
    after the round (its members are invited next)."""
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    if panel_id is None:
        name = next((names[k] for k in ("ru", "kk", "en") if names.get(k)), "")
        panel = jury_setup.create_panel(session=session, actor=actor, call=call,
                                        name=name or str(_l("Commission")))
        panel_id = panel.id
    return services.create_round(session=session, actor=actor, call=call, panel_id=panel_id,
                                 names=names, values=values)


def _configurable(session: Session, actor, round_: Round) -> None:
    _require(session, actor, policy.Action.COMMISSION_CONFIGURE, round_)
    if round_.panel_id is None:
        raise CommissionError(_l("Choose the commission's panel first."))


def invite_member(*, session: Session, actor, round: Round, email: str,
                  is_chair: bool = False, language: str = "ru") -> JuryMember:
    """Invite a member to the commission (a seat on the round's panel, accepted through the
    link e-mailed to them); only before the ballot opens."""
    _configurable(session, actor, round)
    if not email or "@" not in email:
        raise CommissionError(_l("Enter the member's e-mail address."), field="email")
    try:
        return jury_setup.invite_juror(session=session, actor=actor, panel=round.panel,
                                       email=email, is_chair=is_chair, language=language)
    except jury_setup.JurySetupError as exc:
        raise CommissionError(exc.message, field=exc.field) from None


def set_chair(*, session: Session, actor, round: Round, member: JuryMember,
              is_chair: bool) -> bool:
    """Make a member the commission's chair, or not; only before the ballot opens."""
    _configurable(session, actor, round)
    if member.panel_id != round.panel_id:
        raise NotAllowed(policy.Decision(False, _l("Not found."), 404))
    return jury_setup.update_member(session=session, actor=actor, member=member,
                                    is_chair=is_chair,
                                    category_ids=[c.id for c in member.categories])


def remove_member(*, session: Session, actor, round: Round, member: JuryMember) -> JuryMember:
    """Take a member off the commission (their seat on the round's panel ends, audited as the
    panel's ``jury.member_leave``); only before the ballot opens, when the members who vote
    are fixed."""
    _configurable(session, actor, round)
    if member.panel_id != round.panel_id:
        raise NotAllowed(policy.Decision(False, _l("Not found."), 404))
    try:
        jury_setup.remove_member(session=session, actor=actor, member=member)
    except jury_setup.JurySetupError as exc:
        raise CommissionError(exc.message) from None
    return member


def members(session: Session, round_: Round) -> list[JuryMember]:
    """Every seat on the round's panel, the chair first (active, invited and those who left)."""
    if round_.panel_id is None:
        return []
    return list(session.scalars(select(JuryMember).where(JuryMember.panel_id == round_.panel_id)
                                .order_by(JuryMember.is_chair.desc(), JuryMember.email)))


def move_round(*, session: Session, actor, round: Round, action: str):
    """Open or close a commission round from the jury's pages: the same as the chair's buttons
    (the members are fixed at the opening, every ballot is sealed with the close's time)."""
    if action == "open":
        return services.open_ballot(session=session, actor=actor, round=round)
    if action == "close":
        return services.close_ballot(session=session, actor=actor, round=round)
    raise CommissionError(_l("This change of status is not allowed."))
