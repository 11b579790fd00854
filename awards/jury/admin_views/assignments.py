"""Pages for a round's entries and assignments: adding entries, assigning by hand, the
automatic assignment (previewed, then saved), progress and reminders."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from awards.boundary import page_number
from awards.db import get_db
from awards.enums import AssignmentStatus
from awards.i18n import localized
from awards.jury import setup
from awards.jury.admin_forms import AddEntriesForm, AssignmentForm, AutoAssignForm
from awards.jury.admin_views.common import (
    PAGE_SIZE,
    bp,
    frozen_notice,
    juror_choices,
    round_or_404,
)
from awards.jury.models import Assignment, Round, RoundEntry
from awards.nominations.models import Nomination
from awards.views_common import actor, check_csrf, run_action

# ---- entries and manual assignment ------------------------------------------------------------


def _render_entries(rnd: Round, *, add_form=None, status=200):
    db = get_db()
    page = page_number(request.args.get("page")) or 1
    total = db.scalar(select(func.count(RoundEntry.id)).where(RoundEntry.round_id == rnd.id)) or 0
    entries = db.scalars(
        select(RoundEntry).where(RoundEntry.round_id == rnd.id)
        .options(selectinload(RoundEntry.nomination).selectinload(Nomination.category))
        .order_by(RoundEntry.nomination_id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [e.nomination_id for e in entries]
    assignments: dict[int, list[Assignment]] = {i: [] for i in ids}
    for a in db.scalars(
        select(Assignment).where(Assignment.round_id == rnd.id,
                                 Assignment.nomination_id.in_(ids),
                                 Assignment.status == AssignmentStatus.ACTIVE)
        .options(selectinload(Assignment.juror), selectinload(Assignment.review))
        .order_by(Assignment.id)
    ):
        assignments[a.nomination_id].append(a)
    members = setup.active_jurors(db, rnd.panel_id)
    is_first = (first := setup.first_round(db, rnd.call)) is not None and first.id == rnd.id
    # Conflicts of the panel's jurors and of those already assigned (who may have left): a
    # conflicted pair is never offered, and one assigned before the conflict was known is
    # shown as such.
    people = {m.user_id: m.user for m in members}
    people.update({a.juror_id: a.juror for items in assignments.values() for a in items})
    conflicts = setup.conflict_reasons(
        db, setup.conflicted_pairs(db, rnd, people.values(), ids))
    choices = juror_choices(members)
    offered = {i: [(uid, label) for uid, label in choices if (uid, i) not in conflicts]
               for i in ids}
    return render_template(
        "jury_admin/entries.html", call=rnd.call, round=rnd, entries=entries, total=total,
        page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), assignments=assignments,
        jurors=choices, offered=offered, is_first=is_first, conflicts=conflicts,
        after_vote=is_first and setup.vote_closed(db, rnd.call),
        frozen=frozen_notice(rnd),
        add_form=add_form or AddEntriesForm(formdata=MultiDict()),
    ), status


@bp.get("/rounds/<int:round_id>/entries")
def entries(round_id: int):
    return _render_entries(round_or_404(round_id))


@bp.post("/rounds/<int:round_id>/entries/add-eligible")
def entries_add_eligible(round_id: int):
    check_csrf()
    db = get_db()
    rnd = round_or_404(round_id)
    run_action(lambda: setup.add_entries(session=db, actor=actor(), round=rnd),
               success=lambda added: _("Entries added: %(n)d.", n=added))
    return redirect(url_for(".entries", round_id=rnd.id))


@bp.post("/rounds/<int:round_id>/entries/add")
def entries_add(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    form = AddEntriesForm()
    if form.validate():
        ids, missing = setup.find_nominations(db, rnd.call, form.tokens())
        if missing:
            form.references.errors = [
                _("No nomination of this call has these references: %(refs)s.",
                  refs=", ".join(missing))]
        elif run_action(lambda: setup.add_entries(session=db, actor=actor(), round=rnd,
                                                  nomination_ids=ids),
                        form=form, success=lambda added: _("Entries added: %(n)d.", n=added)):
            return redirect(url_for(".entries", round_id=rnd.id))
    return _render_entries(rnd, add_form=form, status=400)


@bp.post("/rounds/<int:round_id>/assignments/add")
def assignment_add(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    members = setup.active_jurors(db, rnd.panel_id)
    form = AssignmentForm(jurors=juror_choices(members))
    if form.validate() and form.nomination() is not None:
        done = run_action(
            lambda: setup.add_assignment(session=db, actor=actor(), round=rnd,
                                         nomination_id=form.nomination(),
                                         juror_id=form.juror_id.data),
            success=_("The juror is assigned."))
        if not done:
            return _render_entries(rnd, status=done.status(400))
        return redirect(url_for(".entries", round_id=rnd.id,
                                page=request.args.get("page", 1, type=int)))
    if form.csrf_token.errors:
        abort(400)
    flash(_("Choose a juror of this round's panel."), "error")
    return _render_entries(rnd, status=400)


@bp.post("/assignments/<int:assignment_id>/remove")
def assignment_remove(assignment_id: int):
    check_csrf()
    db = get_db()
    assignment = db.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    round_id = assignment.round_id
    done = run_action(lambda: setup.remove_assignment(session=db, actor=actor(),
                                                      assignment=assignment),
                      success=_("The assignment is removed."))
    if isinstance(done.error, setup.NotAllowed):
        return _render_entries(round_or_404(round_id), status=done.status())
    return redirect(url_for(".entries", round_id=round_id,
                            page=request.args.get("page", 1, type=int)))


# ---- automatic assignment ---------------------------------------------------------------------


def _render_plan(rnd: Round, auto: setup.AutoPlan, status: int = 200):
    db = get_db()
    members = {m.user_id: m for m in setup.active_jurors(db, rnd.panel_id)}
    existing = {}
    for juror, _entry in auto.context.active:
        existing[juror] = existing.get(juror, 0) + 1
    new = auto.new_by_juror()
    loads = [
        {"name": m.user.display_name if m.user else m.email, "email": m.email,
         "categories": [localized(c, "name") or c.code for c in m.categories],
         "existing": existing.get(uid, 0), "new": new.get(uid, 0),
         "total": auto.plan.loads.get(uid, 0)}
        for uid, m in members.items()
    ]
    short_ids = [s.entry_id for s in auto.plan.shortfalls]
    refs = dict(db.execute(select(Nomination.id, Nomination.reference)
                           .where(Nomination.id.in_(short_ids))).all()) if short_ids else {}
    # An empty formdata: on the re-rendered page after a refused save, the new digest must
    # replace the one just posted.
    form = AutoAssignForm(formdata=MultiDict(), data={"seed": auto.seed, "digest": auto.digest})
    return render_template("jury_admin/auto_assign.html", call=rnd.call, round=rnd, auto=auto,
                           loads=loads, refs=refs, form=form, frozen=frozen_notice(rnd)), status


@bp.get("/rounds/<int:round_id>/auto-assign")
def auto_assign(round_id: int):
    rnd = round_or_404(round_id)
    seed = request.args.get("seed", rnd.id, type=int)
    return _render_plan(rnd, setup.plan_assignment(session=get_db(), round=rnd, seed=seed))


@bp.post("/rounds/<int:round_id>/auto-assign")
def auto_assign_save(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    form = AutoAssignForm()
    if not form.validate():
        abort(400)
    try:
        done = run_action(
            lambda: setup.save_assignment(session=db, actor=actor(), round=rnd,
                                          seed=form.seed.data, digest=form.digest.data),
            success=lambda auto: _("Assignments saved: %(n)d new.", n=auto.new_count))
        status = done.status(409)
    except IntegrityError:
        # Someone saved assignments for the same pairs between our check and our insert.
        db.rollback()
        flash(_("Assignments changed while saving, so nothing was saved. Check the new "
                "preview and save again."), "error")
        done, status = None, 409
    if not done:
        return _render_plan(rnd, setup.plan_assignment(session=db, round=rnd,
                                                       seed=form.seed.data), status)
    if done.value.plan.shortfalls:
        flash(_("%(n)d entries still have fewer jurors than needed.",
                n=len(done.value.plan.shortfalls)), "warning")
    return redirect(url_for(".progress", round_id=rnd.id))


# ---- progress and reminders -------------------------------------------------------------------


@bp.get("/rounds/<int:round_id>/progress")
def progress(round_id: int):
    db = get_db()
    rnd = round_or_404(round_id)
    data = setup.round_progress(session=db, round=rnd)
    return render_template("jury_admin/progress.html", call=rnd.call, round=rnd, progress=data)


@bp.post("/rounds/<int:round_id>/remind")
def remind(round_id: int):
    check_csrf()
    db = get_db()
    rnd = round_or_404(round_id)
    run_action(lambda: setup.remind_jurors(session=db, actor=actor(), round=rnd),
               success=lambda result: _("Reminders queued: %(n)d.", n=len(result.sent))
               if result.sent else _("No juror has reviews pending."))
    return redirect(url_for(".progress", round_id=rnd.id))
