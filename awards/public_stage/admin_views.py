"""Administrators set up a call's public stage, review flagged votes, moderate comments and close
the stage.

Before the close no screen here shows how many votes an entry has: only the stage's overall
numbers (votes, voters, flagged, annulled), so nobody can leak or steer a running vote."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from awards.boundary import db_int
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import StageKind
from awards.permissions import admin_required
from awards.public_stage import services
from awards.public_stage.forms import (
    KIND_LABELS,
    TIE_RULE_LABELS,
    CloseForm,
    ModerateForm,
    ReasonForm,
    StageForm,
)
from awards.public_stage.models import PublicStage, PublicVote, StageComment
from awards.views_common import actor, check_csrf, form_status, get_or_404, run_action, saved

bp = Blueprint("public_stage_admin", __name__, url_prefix="/admin/public-stage")

@bp.before_request
@admin_required
def _administrators_only():
    return None


@bp.context_processor
def _helpers():
    from flask_babel import lazy_gettext as _l

    return {"KIND_LABELS": KIND_LABELS, "TIE_RULE_LABELS": TIE_RULE_LABELS,
            "FLAG_LABELS": {"disposable_email": _l("Disposable e-mail address"),
                            "burst": _l("Many votes from one network in a short time")}}


def _stage_or_404(call: Call) -> PublicStage:
    stage = services.stage_of(get_db(), call)
    if stage is None:
        abort(404)
    return stage


@bp.route("/<int:call_id>", methods=["GET", "POST"])
def stage(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = services.stage_of(db, call)
    if request.method == "POST" or current is None:
        form = StageForm(timezone=call.timezone)
    else:
        form = StageForm(data=StageForm.initial(current, call.timezone), timezone=call.timezone)
    if form.validate_on_submit():
        if run_action(lambda: services.save_stage(session=db, actor=actor(), call=call,
                                                  values=form.values()),
                      form=form, success=lambda result: _("The public stage is saved.")
                      if result[1] else _("Nothing was changed.")):
            return redirect(url_for(".stage", call_id=call.id), 303)
        current = services.stage_of(db, call)
    now = utcnow()
    numbers = services.overall_numbers(db, current) if current else None
    return render_template(
        "public_stage_admin/stage.html", call=call, stage=current, form=form, numbers=numbers,
        state=services.state(current, now),
        entry_count=len(current.entries) if current else 0,
        pending_comments=len(services.moderation_queue(db, current)) if current else 0,
    ), form_status(form)


@bp.route("/<int:call_id>/entries", methods=["GET", "POST"])
def entries(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            ids = [db_int(v) for v in request.form.getlist("nomination_id")]
        except ValueError:
            abort(400)
        done = run_action(lambda: services.set_entries(session=db, actor=actor(), stage=current,
                                                       nomination_ids=ids),
                          success=saved(_("The entries are saved.")))
        if done:
            return redirect(url_for(".entries", call_id=call.id), 303)
        status = done.status()
    chosen = {e.nomination_id for e in current.entries}
    editable = current.closed_at is None and utcnow() < current.opens_at
    return render_template("public_stage_admin/entries.html", call=call, stage=current,
                           nominations=services.eligible_nominations(db, call), chosen=chosen,
                           editable=editable), status


@bp.get("/<int:call_id>/votes")
def votes(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    return render_template("public_stage_admin/votes.html", call=call, stage=current,
                           votes=services.flagged_votes(db, current),
                           form=ReasonForm(formdata=None),
                           numbers=services.overall_numbers(db, current))


@bp.post("/<int:call_id>/votes/<int:vote_id>/annul")
def annul(call_id: int, vote_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    vote = get_or_404(PublicVote, vote_id)
    if vote.stage_id != current.id:
        abort(404)
    form = ReasonForm()
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        flash(_("Give the reason for annulling the vote."), "error")
        return render_template("public_stage_admin/votes.html", call=call, stage=current,
                               votes=services.flagged_votes(db, current), form=form,
                               failed_vote=vote.id,
                               numbers=services.overall_numbers(db, current)), 400
    run_action(lambda: services.annul_vote(session=db, actor=actor(), vote=vote,
                                           reason=form.reason.data),
               success=_("The vote is annulled."))
    return redirect(url_for(".votes", call_id=call.id), 303)


@bp.get("/<int:call_id>/comments")
def comments(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    return render_template("public_stage_admin/comments.html", call=call, stage=current,
                           queue=services.moderation_queue(db, current),
                           form=ModerateForm(formdata=None))


@bp.post("/<int:call_id>/comments/<int:comment_id>")
def moderate(call_id: int, comment_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    item = get_or_404(StageComment, comment_id)
    if item.stage_id != current.id:
        abort(404)
    form = ModerateForm()
    if not form.validate():
        abort(400)
    approve = form.decision.data == "approve"
    done = run_action(
        lambda: services.moderate_comment(session=db, actor=actor(), comment=item,
                                          approve=approve, reason=form.reason.data or ""),
        success=_("The comment is published.") if approve else _("The comment is rejected."))
    if not done:
        return render_template("public_stage_admin/comments.html", call=call, stage=current,
                               queue=services.moderation_queue(db, current), form=form,
                               failed_comment=item.id), done.status()
    return redirect(url_for(".comments", call_id=call.id), 303)


def _choices_from_form(pending) -> dict[int, list[int]]:
    choices = {}
    for item in pending:
        category = item["category"]
        try:
            choices[category.id] = [db_int(v) for v in
                                   request.form.getlist(f"tied_{category.id}")]
        except ValueError:
            abort(400)
    return choices


@bp.route("/<int:call_id>/close", methods=["GET", "POST"])
def close(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    form = CloseForm()
    pending = ([] if current.closed_at is not None or current.kind != StageKind.VOTE
               else services.tied_choices_needed(db, current))
    if request.method == "POST" and form.validate():
        choices = _choices_from_form(pending) if pending else None
        done = run_action(
            lambda: services.close_stage(session=db, actor=actor(), stage=current,
                                         choices=choices),
            form=form, success=_("The public stage is closed and its results are published."))
        if done and current.kind == StageKind.VOTE:
            if services.first_round(db, call) is None:
                flash(_("The call has no jury round yet. Create the first round, then add the "
                        "advancing entries from this page."), "warning")
            else:
                flash(_("Entries added to the first jury round: %(n)d.", n=done.value),
                      "success")
        if done:
            return redirect(url_for(".stage", call_id=call.id), 303)
    return render_template("public_stage_admin/close.html", call=call, stage=current, form=form,
                           pending=pending, numbers=services.overall_numbers(db, current),
                           state=services.state(current, utcnow())), form_status(form)


@bp.post("/<int:call_id>/advance")
def advance(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    current = _stage_or_404(call)
    check_csrf()
    run_action(lambda: services.advance_to_first_round(session=db, actor=actor(), stage=current),
               success=lambda added: _("Entries added to the first jury round: %(n)d.",
                                       n=added))
    return redirect(url_for(".stage", call_id=call.id), 303)
