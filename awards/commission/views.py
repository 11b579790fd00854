"""The commission's pages: a member's ballot (phone-sized), the receipt shown once and its
check, the chair's page (open, close, who has voted, and after the close the totals, the
protocol and the outcome), and the ballot list after the close (JSON and CSV)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from awards import policy
from awards.boundary import whole_number
from awards.commission import services, wording
from awards.commission.models import BallotBox, BallotMethod
from awards.db import get_db, utcnow
from awards.enums import VoteChoice
from awards.errors import render_error
from awards.forms import CSRFOnlyForm
from awards.i18n import format_dt, localized
from awards.jury.models import JuryMember, Round
from awards.views_common import actor, check_csrf, get_or_404, run_action, viewer

bp = Blueprint("commission", __name__, url_prefix="/commission")


@bp.context_processor
def _helpers():
    return {"format_dt": format_dt, "quorum_rule": wording.quorum_rule,
            "quorum_present": wording.quorum_present, "share_number": wording.share_number}


def _labels():
    return {VoteChoice.YES.value: _("Yes"), VoteChoice.NO.value: _("No"),
            VoteChoice.ABSTAIN.value: _("Abstain")}


@bp.errorhandler(policy.Forbidden)
@bp.errorhandler(services.CommissionError)
def _refused(refusal):
    """A page the policy or the service refuses: its reason, with its status (404 for anyone
    not on the commission, 403 for a member on the chair's page)."""
    get_db().rollback()
    return render_error(getattr(refusal, "status", None) or 403, str(refusal.message))


def _round(round_id: int, action: policy.Action = policy.Action.COMMISSION_ENTER) -> Round:
    """The commission round, for someone the policy lets in (members and administrators)."""
    round_ = get_or_404(Round, round_id)
    policy.require(viewer(), action, round_, now=utcnow())
    return round_


def _allowed(action: policy.Action, round_: Round) -> policy.Decision:
    return policy.allows(viewer(), action, round_, now=utcnow())


@bp.get("/")
@login_required
def index():
    db = get_db()
    rounds = list(db.scalars(
        select(Round).join(JuryMember, JuryMember.panel_id == Round.panel_id)
        .where(JuryMember.user_id == current_user.id, Round.kind.in_(["commission", "vote"]))
        .order_by(Round.id.desc())))
    return render_template("commission/index.html", rounds=rounds)


@dataclass
class _Ballot:
    """A member's ballot page: the box, whether they have voted, whether they may, and what
    they vote on."""

    box: BallotBox | None
    voted: bool
    may_vote: policy.Decision
    member: services.MemberBallot | None

    @classmethod
    def of(cls, round_: Round) -> _Ballot:
        db = get_db()
        box = services.box_of(db, round_)
        voted = box is not None and services.has_voted(db, box, current_user.id)
        may_vote = _allowed(policy.Action.COMMISSION_VOTE, round_)
        member = services.member_ballot(db, viewer(), round_) if may_vote and not voted else None
        return cls(box, voted, may_vote, member)

    def page(self, round_: Round, *, errors=(), status: int = 200):
        return render_template(
            "commission/ballot.html", round=round_, box=self.box, member=self.member,
            voted=self.voted, may_vote=self.may_vote, errors=list(errors), labels=_labels(),
            form=request.form if request.method == "POST" else {},
            is_chair=_allowed(policy.Action.COMMISSION_CHAIR, round_).ok), status


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@login_required
def ballot(round_id: int):
    round_ = _round(round_id)
    state = _Ballot.of(round_)
    if request.method == "GET":
        return state.page(round_)
    check_csrf()
    choices, rankings, problem = _read_ballot(state.box, state.member)
    if problem:
        return state.page(round_, errors=[problem], status=400)
    outcome = run_action(lambda: services.cast_ballot(
        session=get_db(), actor=actor(), round=round_, choices=choices, rankings=rankings),
        show=False)
    if not outcome:
        return state.page(round_, errors=[str(outcome.error.message)], status=outcome.status())
    response = Response(render_template("commission/receipt.html", round=round_,
                                        receipt=services.format_receipt(outcome.value)))
    response.headers["Cache-Control"] = "private, no-store"  # shown once, never kept
    return response


def _read_ballot(box, member):
    """The form's fields as the service takes them: (choices, rankings, problem), the problem
    a message when the input cannot be read."""
    if member is None:
        return None, None, None
    if box.method == BallotMethod.RANKED:
        rankings = {}
        for category, entries in member.categories:
            placed = []
            for entry in entries:
                value = request.form.get(f"rank-{category.id}-{entry.id}", "").strip()
                if not value:
                    continue
                if not 1 <= (whole_number(value) or 0) <= len(entries):
                    return None, None, _("Give each entry a place from 1 to %(n)d, or leave "
                                         "it empty.", n=len(entries))
                placed.append((int(value), entry.id))
            places = [p for p, _n in placed]
            if len(set(places)) != len(places):
                return None, None, _("Two entries of “%(category)s” have the same place.",
                                     category=localized(category, "name"))
            rankings[category.id] = [n for _p, n in sorted(placed)]
        return None, rankings, None
    choices = {}
    for entry in member.entries:
        value = request.form.get(f"choice-{entry.id}", "")
        if value not in {c.value for c in VoteChoice}:
            return None, None, _("Choose yes, no or abstain for every entry.")
        choices[entry.id] = value
    return choices, None, None


@bp.route("/rounds/<int:round_id>/receipt", methods=["GET", "POST"])
@login_required
def receipt(round_id: int):
    round_ = _round(round_id)
    code = request.form.get("code", "")
    if request.method == "GET":
        return render_template("commission/check.html", round=round_, code=code, result=None,
                               error=None)
    check_csrf()
    outcome = run_action(lambda: services.check_receipt(
        session=get_db(), actor=viewer(), round=round_, code=code), show=False)
    return render_template("commission/check.html", round=round_, code=code,
                           result=outcome.value, error=outcome.error and outcome.error.message), \
        outcome.status() if not outcome else 200


@bp.get("/rounds/<int:round_id>/chair")
@login_required
def chair(round_id: int):
    round_ = _round(round_id, policy.Action.COMMISSION_CHAIR)
    view = services.chair_view(session=get_db(), actor=viewer(), round=round_)
    return render_template("commission/chair.html", round=round_, **vars(view),
                           labels=_labels(), form=CSRFOnlyForm(),
                           may_run=_allowed(policy.Action.COMMISSION_RUN, round_),
                           may_decide=_allowed(policy.Action.DECIDE, round_))


def _chair_action(round_id: int, service, success):
    """A button of the chair's page: one service call, then back to the page (the flash
    says what happened, or why not)."""
    round_ = _round(round_id)
    check_csrf()
    run_action(lambda: service(session=get_db(), actor=actor(), round=round_),
               success=success)
    return redirect(url_for(".chair", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/open")
@login_required
def open_ballot(round_id: int):
    return _chair_action(round_id, services.open_ballot,
                         _("The ballot is open: members can vote now."))


@bp.post("/rounds/<int:round_id>/close")
@login_required
def close_ballot(round_id: int):
    return _chair_action(round_id, services.close_ballot, _("The ballot is closed and counted."))


@bp.post("/rounds/<int:round_id>/apply")
@login_required
def apply_outcome(round_id: int):
    return _chair_action(round_id, services.apply_outcome, lambda applied: _(
        "%(n)d award decisions recorded from the ballot.", n=len(applied.awarded)))


def _ballot_data(round_id: int) -> dict:
    return services.see_ballots(session=get_db(), actor=viewer(), round=_round(round_id))


@bp.get("/rounds/<int:round_id>/ballots.json")
@login_required
def ballots_json(round_id: int):
    data = _ballot_data(round_id)
    return Response(json.dumps(data, ensure_ascii=False, indent=1),
                    mimetype="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="ballots-round-{round_id}.json"'})


@bp.get("/rounds/<int:round_id>/ballots.csv")
@login_required
def ballots_csv(round_id: int):
    data = _ballot_data(round_id)
    out = io.StringIO()
    writer = csv.writer(out)
    refs = {e["id"]: e["reference"] or str(e["id"]) for e in data["entries"]}
    if data["method"] == BallotMethod.RANKED:
        writer.writerow(["ballot", "category", "place", "entry"])
        for b in data["ballots"]:
            for category, order in sorted(b.get("rankings", {}).items()):
                for place, nid in enumerate(order, start=1):
                    writer.writerow([b["id"], category, place, refs.get(nid, nid)])
    else:
        writer.writerow(["ballot", "entry", "choice"])
        for b in data["ballots"]:
            for nid, choice in sorted(b.get("choices", {}).items(), key=lambda i: int(i[0])):
                writer.writerow([b["id"], refs.get(int(nid), nid), choice])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="ballots-round-{round_id}.csv"'})


@bp.get("/rounds/<int:round_id>/protocol.pdf")
@login_required
def protocol(round_id: int):
    from awards.commission.protocol import render_protocol_pdf

    round_ = _round(round_id)
    count = services.see_count(session=get_db(), actor=viewer(), round=round_)
    asked = request.args.getlist("lang") or ["kk", "ru", "en"]
    languages = [lang for lang in ("kk", "ru", "en") if lang in asked]
    pdf = render_protocol_pdf(session=get_db(), round=round_, count=count,
                              languages=languages or ["ru"])
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'inline; filename="protocol-round-{round_id}.pdf"'})
