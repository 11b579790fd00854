"""Pages for a call's rounds (list, new, edit, open and close through a confirmation page) and
each round's rubric."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from awards.commission import services as commission
from awards.commission import setup as commission_setup
from awards.db import get_db, utcnow
from awards.enums import AssignmentStatus, NominationStatus
from awards.forms import CSRFOnlyForm
from awards.jury import setup
from awards.jury.admin_forms import CriterionForm, RoundForm
from awards.jury.admin_views.common import bp, call_or_404, round_or_404
from awards.jury.models import Assignment, Criterion, Panel, Round, RoundEntry
from awards.nominations.models import Nomination
from awards.policy import Action
from awards.views_common import actor, check_csrf, form_status, run_action, saved

# ---- rounds -----------------------------------------------------------------------------------


@bp.get("/calls/<int:call_id>/rounds")
def rounds(call_id: int):
    """The jury home of a call: its rounds and panels."""
    db = get_db()
    call = call_or_404(call_id)
    entry_counts = dict(db.execute(
        select(RoundEntry.round_id, func.count(RoundEntry.id))
        .join(Round, Round.id == RoundEntry.round_id).where(Round.call_id == call.id)
        .group_by(RoundEntry.round_id)).all())
    assignment_counts = dict(db.execute(
        select(Assignment.round_id, func.count(Assignment.id))
        .join(Round, Round.id == Assignment.round_id)
        .where(Round.call_id == call.id, Assignment.status == AssignmentStatus.ACTIVE)
        .group_by(Assignment.round_id)).all())
    panels = db.scalars(select(Panel).where(Panel.call_id == call.id)
                        .options(selectinload(Panel.members)).order_by(Panel.id)).all()
    eligible = db.scalar(select(func.count(Nomination.id)).where(
        Nomination.call_id == call.id, Nomination.status == NominationStatus.ELIGIBLE)) or 0
    frozen = setup.refusal(db, actor(), Action.SET_UP_ROUND, call)
    return render_template("jury_admin/rounds.html", call=call, rounds=call.rounds,
                           panels=panels, entry_counts=entry_counts,
                           assignment_counts=assignment_counts, eligible=eligible,
                           frozen=str(frozen.reason) if frozen is not None else None)


@bp.route("/calls/<int:call_id>/rounds/new", methods=["GET", "POST"])
def round_new(call_id: int):
    db = get_db()
    call = call_or_404(call_id)
    form = RoundForm(panels=call.panels)
    if form.validate_on_submit() and (done := run_action(
            lambda: setup.create_round(session=db, actor=actor(), call=call,
                                       values=form.values(call.timezone)),
            form=form, success=_("The round is created. Now set up its rubric."))):
        return redirect(url_for(".rubric", round_id=done.value.id))
    return render_template("jury_admin/round_form.html", form=form, call=call, round=None), \
        form_status(form)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
def round_edit(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    call = rnd.call
    # A commission round opens and closes only through its ballot (round_move, the chair).
    statuses = ([rnd.status] if commission.is_commission_round(rnd)
                else setup.allowed_round_statuses(rnd.status))
    options = {"panels": call.panels, "statuses": statuses}
    if request.method == "POST":
        form = RoundForm(**options)
    else:
        form = RoundForm(data=RoundForm.initial(rnd), **options)
    if form.validate_on_submit() and run_action(
            lambda: setup.update_round(session=db, actor=actor(), round=rnd,
                                       values=form.values(call.timezone)),
            form=form, success=saved(_("The round is saved."))):
        return redirect(url_for(".rounds", call_id=call.id))
    return render_template("jury_admin/round_form.html", form=form, call=call, round=rnd), \
        form_status(form)


ROUND_MOVE_LABELS = {
    "open": _l("Open the round"),
    "close": _l("Close the round"),
}


@bp.route("/rounds/<int:round_id>/status/<action>", methods=["GET", "POST"])
def round_move(round_id: int, action: str):
    """Open or close a round. GET shows what will happen and what blocks it (the confirmation
    page, which changes nothing); POST, with its CSRF token, does it."""
    if action not in setup.ROUND_MOVES:
        abort(404)
    db = get_db()
    rnd = round_or_404(round_id)
    done = None
    if request.method == "POST":
        check_csrf()
        if commission.is_commission_round(rnd):  # the ballot's own opening and close
            move, success = commission_setup.move_round, (
                _("The ballot is open: members can vote now.") if action == "open"
                else _("The ballot is closed and counted."))
        else:
            move, success = setup.move_round, (
                _("The round is open: its jurors can review their entries.")
                if action == "open" else _("The round is closed: its reviews are final."))
        done = run_action(lambda: move(session=db, actor=actor(), round=rnd, action=action),
                          success=success, show=False)
        if done:
            return redirect(url_for(".rounds", call_id=rnd.call_id), code=303)
    summary = setup.preview_round_move(session=db, actor=actor(), round=rnd, action=action)
    status = summary.status if summary.blockers else 200
    if done is not None:
        # Whatever refused the step is what the page now says blocks it.
        summary.blockers = summary.blockers or [done.error.message]
        status = done.status(409)
    return render_template(
        "jury_admin/round_move.html", call=rnd.call, round=rnd, summary=summary,
        label=ROUND_MOVE_LABELS[action], form=CSRFOnlyForm(formdata=None),
        now_utc=utcnow()), status


# ---- rubric -----------------------------------------------------------------------------------


def _criterion_or_404(rnd: Round, criterion_id: int) -> Criterion:
    criterion = get_db().get(Criterion, criterion_id)
    if criterion is None or rnd.rubric_id is None or criterion.rubric_id != rnd.rubric_id:
        abort(404)
    return criterion


@bp.get("/rounds/<int:round_id>/rubric")
def rubric(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    reviews = setup.rubric_review_count(db, rnd.rubric) if rnd.rubric else 0
    return render_template("jury_admin/rubric.html", call=rnd.call, round=rnd,
                           rubric=rnd.rubric, reviews=reviews)


@bp.route("/rounds/<int:round_id>/rubric/criteria/new", methods=["GET", "POST"])
def criterion_new(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    form = CriterionForm()
    if form.validate_on_submit() and run_action(
            lambda: setup.add_criterion(session=db, actor=actor(), round=rnd,
                                        values=form.values()),
            form=form, success=_("The criterion is added.")):
        return redirect(url_for(".rubric", round_id=rnd.id))
    return render_template("jury_admin/criterion_form.html", form=form, call=rnd.call,
                           round=rnd, criterion=None), form_status(form)


@bp.route("/rounds/<int:round_id>/rubric/criteria/<int:criterion_id>/edit",
          methods=["GET", "POST"])
def criterion_edit(round_id: int, criterion_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    criterion = _criterion_or_404(rnd, criterion_id)
    if request.method == "POST":
        form = CriterionForm()
    else:
        form = CriterionForm(data=CriterionForm.initial(criterion))
    if form.validate_on_submit() and run_action(
            lambda: setup.update_criterion(session=db, actor=actor(), criterion=criterion,
                                           values=form.values()),
            form=form, success=saved(_("The criterion is saved."))):
        return redirect(url_for(".rubric", round_id=rnd.id))
    return render_template("jury_admin/criterion_form.html", form=form, call=rnd.call,
                           round=rnd, criterion=criterion), form_status(form)


@bp.post("/rounds/<int:round_id>/rubric/criteria/<int:criterion_id>/delete")
def criterion_delete(round_id: int, criterion_id: int):
    check_csrf()
    db = get_db()
    rnd = round_or_404(round_id)
    criterion = _criterion_or_404(rnd, criterion_id)
    done = run_action(lambda: setup.delete_criterion(session=db, actor=actor(),
                                                     criterion=criterion),
                      success=_("The criterion is deleted."))
    return redirect(url_for(".rubric", round_id=rnd.id)), 302 if done else 303
