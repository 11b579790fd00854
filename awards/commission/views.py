"""The commission's pages: a member's ballot (phone-sized), the receipt shown once and its
check, the chair's page (open, close, who has voted, and after the close the totals, the
protocol and the outcome), and the ballot list after the close (JSON and CSV)."""

from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from awards import policy
from awards.auth.models import User
from awards.boundary import whole_number
from awards.commission import services, wording
from awards.commission.models import BallotMethod
from awards.db import get_db, utcnow
from awards.enums import RoundStatus, VoteChoice
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


def _round(round_id: int) -> Round:
    round_ = get_or_404(Round, round_id)
    if not services.is_commission_round(round_):
        abort(404)
    return round_


def _allowed(action: policy.Action, round_: Round) -> policy.Decision:
    return policy.allows(viewer(), action, round_, now=utcnow())


def _member_or_chair(round_: Round) -> None:
    """A 404 for anyone who is neither on the commission nor an administrator."""
    if viewer().is_admin or viewer().seat(round_) is not None:
        return
    abort(404)


@bp.get("/")
@login_required
def index():
    db = get_db()
    rounds = list(db.scalars(
        select(Round).join(JuryMember, JuryMember.panel_id == Round.panel_id)
        .where(JuryMember.user_id == current_user.id, Round.kind.in_(["commission", "vote"]))
        .order_by(Round.id.desc())))
    return render_template("commission/index.html", rounds=rounds)


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@login_required
def ballot(round_id: int):
    db = get_db()
    round_ = _round(round_id)
    _member_or_chair(round_)
    box = services.box_of(db, round_)
    voted = box is not None and services.has_voted(db, box, current_user.id)
    may_vote = _allowed(policy.Action.COMMISSION_VOTE, round_)
    member = services.member_ballot(db, viewer(), round_) if may_vote and not voted else None
    errors: list[str] = []
    if request.method == "POST":
        check_csrf()
        choices, rankings = _read_ballot(box, member, errors)
        if not errors:
            outcome = run_action(lambda: services.cast_ballot(
                session=db, actor=actor(), round=round_, choices=choices, rankings=rankings),
                show=False)
            if outcome:
                response = Response(render_template(
                    "commission/receipt.html", round=round_,
                    receipt=services.format_receipt(outcome.value)))
                response.headers["Cache-Control"] = "private, no-store"
                return response
            errors.append(str(outcome.error.message))
            status = outcome.status()
            return render_template("commission/ballot.html", round=round_, box=box,
                                   member=member, voted=voted, may_vote=may_vote,
                                   errors=errors, labels=_labels(), form=request.form,
                                   is_chair=_chair_ok(round_)), status
        return render_template("commission/ballot.html", round=round_, box=box, member=member,
                               voted=voted, may_vote=may_vote, errors=errors, labels=_labels(),
                               form=request.form, is_chair=_chair_ok(round_)), 400
    return render_template("commission/ballot.html", round=round_, box=box, member=member,
                           voted=voted, may_vote=may_vote, errors=errors, labels=_labels(),
                           form={}, is_chair=_chair_ok(round_))


def _chair_ok(round_: Round) -> bool:
    return bool(viewer().is_admin or viewer().is_chair_of(round_))


def _read_ballot(box, member, errors: list[str]):
    """The form's fields as the service takes them; unreadable input is an error message."""
    if member is None:
        return None, None
    if box.method == BallotMethod.RANKED:
        rankings = {}
        for category, entries in member.categories:
            placed = []
            for entry in entries:
                value = request.form.get(f"rank-{category.id}-{entry.id}", "").strip()
                if not value:
                    continue
                if not 1 <= (whole_number(value) or 0) <= len(entries):
                    errors.append(_("Give each entry a place from 1 to %(n)d, or leave it empty.",
                                    n=len(entries)))
                    return None, None
                placed.append((int(value), entry.id))
            places = [p for p, _n in placed]
            if len(set(places)) != len(places):
                errors.append(_("Two entries of “%(category)s” have the same place.",
                                category=localized(category, "name")))
                return None, None
            rankings[category.id] = [n for _p, n in sorted(placed)]
        return None, rankings
    choices = {}
    for entry in member.entries:
        value = request.form.get(f"choice-{entry.id}", "")
        if value not in {c.value for c in VoteChoice}:
            errors.append(_("Choose yes, no or abstain for every entry."))
            return None, None
        choices[entry.id] = value
    return choices, None


@bp.route("/rounds/<int:round_id>/receipt", methods=["GET", "POST"])
@login_required
def receipt(round_id: int):
    db = get_db()
    round_ = _round(round_id)
    _member_or_chair(round_)
    result, error = None, None
    if request.method == "POST":
        check_csrf()
        outcome = run_action(lambda: services.check_receipt(
            session=db, actor=viewer(), round=round_, code=request.form.get("code")),
            show=False)
        if outcome:
            result = outcome.value
        else:
            error = outcome.error.message
            return render_template("commission/check.html", round=round_, result=None,
                                   error=error, code=request.form.get("code", "")), \
                outcome.status()
    return render_template("commission/check.html", round=round_, result=result, error=error,
                           code=request.form.get("code", ""))


@bp.get("/rounds/<int:round_id>/chair")
@login_required
def chair(round_id: int):
    db = get_db()
    round_ = _round(round_id)
    if not _chair_ok(round_):
        _member_or_chair(round_)
        return render_error(403, str(_("Only the commission's chair may do this.")))
    box = services.box_of(db, round_)
    voted_ids = set(services.participants(db, box)) if box else set()
    members = services.active_members(db, round_)
    roster = [] if box is None else [
        (u, u.id in voted_ids) for u in db.scalars(select(User).where(
            User.id.in_(box.member_ids or [-1])).order_by(User.full_name, User.email))]
    count = laureate_map = undecided = None
    entries = {e.id: e for e in services.entries_of(db, round_)}
    if round_.status == RoundStatus.CLOSED:
        count = services.see_count(session=db, actor=viewer(), round=round_)
        laureate_map, undecided = services.laureates(db, round_, count)
    return render_template("commission/chair.html", round=round_, box=box, members=members,
                           roster=roster, voted=len(voted_ids), count=count, entries=entries,
                           laureates=laureate_map, undecided=undecided, labels=_labels(),
                           form=CSRFOnlyForm(),
                           may_run=_allowed(policy.Action.COMMISSION_RUN, round_),
                           may_decide=_allowed(policy.Action.DECIDE, round_))


@bp.post("/rounds/<int:round_id>/open")
@login_required
def open_ballot(round_id: int):
    round_ = _round(round_id)
    _member_or_chair(round_)
    check_csrf()
    run_action(lambda: services.open_ballot(session=get_db(), actor=actor(), round=round_),
               success=_("The ballot is open: members can vote now."))
    return redirect(url_for(".chair", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/close")
@login_required
def close_ballot(round_id: int):
    round_ = _round(round_id)
    _member_or_chair(round_)
    check_csrf()
    run_action(lambda: services.close_ballot(session=get_db(), actor=actor(), round=round_),
               success=_("The ballot is closed and counted."))
    return redirect(url_for(".chair", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/apply")
@login_required
def apply_outcome(round_id: int):
    round_ = _round(round_id)
    _member_or_chair(round_)
    check_csrf()
    run_action(lambda: services.apply_outcome(session=get_db(), actor=actor(), round=round_),
               success=lambda applied: _(
                   "%(n)d award decisions recorded from the ballot.", n=len(applied.awarded)))
    return redirect(url_for(".chair", round_id=round_.id))


def _ballot_data(round_id: int) -> dict:
    round_ = _round(round_id)
    _member_or_chair(round_)
    outcome = run_action(lambda: services.see_ballots(session=get_db(), actor=viewer(),
                                                      round=round_), show=False)
    if not outcome:
        abort(outcome.status(403), str(outcome.error.message))
    return outcome.value


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

    db = get_db()
    round_ = _round(round_id)
    _member_or_chair(round_)
    outcome = run_action(lambda: services.see_count(session=db, actor=viewer(), round=round_),
                         show=False)
    if not outcome:
        abort(outcome.status(403))
    languages = [lang for lang in ("kk", "ru", "en")
                 if lang in (request.args.getlist("lang") or ["kk", "ru", "en"])]
    pdf = render_protocol_pdf(session=db, round=round_, count=outcome.value,
                              languages=languages or ["ru"])
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'inline; filename="protocol-round-{round_id}.pdf"'})
