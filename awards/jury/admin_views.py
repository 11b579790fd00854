"""Jury administration: rounds and rubrics, the entries of a round, panels and invitations,
conflicts of interest, assignments (by hand and automatic), progress and reminders.

Views stay thin: a form validates the input, one service call in ``awards.jury.setup``
applies it (and audits) through ``run_action``, which commits or rolls back and flashes; the
view redirects or re-renders. Everything here is for administrators except the
invitation link, which a juror opens from an e-mail."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from awards.admin.views import call_time
from awards.boundary import page_number
from awards.calls.forms import CALL_STATUS_LABELS
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import AssignmentStatus, JurorStatus, NominationStatus
from awards.forms import CSRFOnlyForm
from awards.i18n import localized
from awards.jury import setup
from awards.jury.admin_forms import (
    ROUND_KIND_LABELS,
    ROUND_STATUS_LABELS,
    AddEntriesForm,
    AssignmentForm,
    AutoAssignForm,
    ConflictForm,
    CriterionForm,
    InvitationRegisterForm,
    InviteForm,
    LeaveForm,
    MemberForm,
    PanelForm,
    RoundForm,
)
from awards.jury.models import Assignment, Conflict, Criterion, JuryMember, Panel, Round, RoundEntry
from awards.nominations.models import Nomination
from awards.permissions import admin_required
from awards.policy import Action
from awards.views_common import (
    actor,
    check_csrf,
    form_status,
    get_or_404,
    run_action,
    saved,
)

bp = Blueprint("jury_admin", __name__, url_prefix="/admin/jury")

# Opened by invited jurors from their e-mail, signed in or not.
PUBLIC_ENDPOINTS = {"jury_admin.invitation"}
PAGE_SIZE = 100


@bp.before_request
def _administrators_only():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return admin_required(lambda: None)()


@bp.context_processor
def _template_helpers():
    return {
        "call_time": call_time,
        "STATUS_LABELS": CALL_STATUS_LABELS,
        "ROUND_STATUS_LABELS": ROUND_STATUS_LABELS,
        "ROUND_KIND_LABELS": ROUND_KIND_LABELS,
        "JurorStatus": JurorStatus,
    }


# ---- helpers ----------------------------------------------------------------------------------


def _call_or_404(ident: int) -> Call:
    return get_or_404(Call, ident)


def _round_or_404(ident: int) -> Round:
    return get_or_404(Round, ident)


def _panel_or_404(ident: int) -> Panel:
    return get_or_404(Panel, ident)


def _member_or_404(ident: int) -> JuryMember:
    return get_or_404(JuryMember, ident)


def _category_choices(call: Call):
    return [(c, localized(c, "name") or c.code) for c in call.categories]


def _juror_choices(members) -> list[tuple[int, str]]:
    return [(m.user_id, f"{m.user.display_name} <{m.email}>" if m.user else m.email)
            for m in members]


def _language() -> str:
    return str(get_locale())


def _frozen_notice(rnd: Round) -> str | None:
    """Why assignments of the round cannot change now, or None when they can."""
    decision = setup.refusal(get_db(), actor(), Action.ASSIGN, rnd)
    return str(decision.reason) if decision is not None else None


def _conflict_text(conflicts: list[setup.EntryConflict]) -> str:
    return "; ".join(
        f"{c.nomination.reference or '#' + str(c.nomination.id)} ({', '.join(c.reasons)})"
        for c in conflicts)


def _jury_home() -> str:
    if "jury.dashboard" in current_app.view_functions:
        return url_for("jury.dashboard")
    return "/jury/"


# ---- rounds -----------------------------------------------------------------------------------


@bp.get("/calls/<int:call_id>/rounds")
def rounds(call_id: int):
    """The jury home of a call: its rounds and panels."""
    db = get_db()
    call = _call_or_404(call_id)
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
    call = _call_or_404(call_id)
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
    rnd = _round_or_404(round_id)
    call = rnd.call
    options = {"panels": call.panels, "statuses": setup.allowed_round_statuses(rnd.status)}
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
    rnd = _round_or_404(round_id)
    done = None
    if request.method == "POST":
        check_csrf()
        done = run_action(
            lambda: setup.move_round(session=db, actor=actor(), round=rnd, action=action),
            success=_("The round is open: its jurors can review their entries.")
            if action == "open" else _("The round is closed: its reviews are final."),
            show=False)
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
    rnd = _round_or_404(round_id)
    reviews = setup.rubric_review_count(db, rnd.rubric) if rnd.rubric else 0
    return render_template("jury_admin/rubric.html", call=rnd.call, round=rnd,
                           rubric=rnd.rubric, reviews=reviews)


@bp.route("/rounds/<int:round_id>/rubric/criteria/new", methods=["GET", "POST"])
def criterion_new(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
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
    rnd = _round_or_404(round_id)
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
    rnd = _round_or_404(round_id)
    criterion = _criterion_or_404(rnd, criterion_id)
    done = run_action(lambda: setup.delete_criterion(session=db, actor=actor(),
                                                     criterion=criterion),
                      success=_("The criterion is deleted."))
    return redirect(url_for(".rubric", round_id=rnd.id)), 302 if done else 303


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
    choices = _juror_choices(members)
    offered = {i: [(uid, label) for uid, label in choices if (uid, i) not in conflicts]
               for i in ids}
    return render_template(
        "jury_admin/entries.html", call=rnd.call, round=rnd, entries=entries, total=total,
        page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), assignments=assignments,
        jurors=choices, offered=offered, is_first=is_first, conflicts=conflicts,
        after_vote=is_first and setup.vote_closed(db, rnd.call),
        frozen=_frozen_notice(rnd),
        add_form=add_form or AddEntriesForm(formdata=MultiDict()),
    ), status


@bp.get("/rounds/<int:round_id>/entries")
def entries(round_id: int):
    return _render_entries(_round_or_404(round_id))


@bp.post("/rounds/<int:round_id>/entries/add-eligible")
def entries_add_eligible(round_id: int):
    check_csrf()
    db = get_db()
    rnd = _round_or_404(round_id)
    run_action(lambda: setup.add_entries(session=db, actor=actor(), round=rnd),
               success=lambda added: _("Entries added: %(n)d.", n=added))
    return redirect(url_for(".entries", round_id=rnd.id))


@bp.post("/rounds/<int:round_id>/entries/add")
def entries_add(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
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
    rnd = _round_or_404(round_id)
    members = setup.active_jurors(db, rnd.panel_id)
    form = AssignmentForm(jurors=_juror_choices(members))
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
    else:
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
        return _render_entries(_round_or_404(round_id), status=done.status())
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
                           loads=loads, refs=refs, form=form, frozen=_frozen_notice(rnd)), status


@bp.get("/rounds/<int:round_id>/auto-assign")
def auto_assign(round_id: int):
    rnd = _round_or_404(round_id)
    seed = request.args.get("seed", rnd.id, type=int)
    return _render_plan(rnd, setup.plan_assignment(session=get_db(), round=rnd, seed=seed))


@bp.post("/rounds/<int:round_id>/auto-assign")
def auto_assign_save(round_id: int):
    db = get_db()
    rnd = _round_or_404(round_id)
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
    rnd = _round_or_404(round_id)
    data = setup.round_progress(session=db, round=rnd)
    return render_template("jury_admin/progress.html", call=rnd.call, round=rnd, progress=data)


@bp.post("/rounds/<int:round_id>/remind")
def remind(round_id: int):
    check_csrf()
    db = get_db()
    rnd = _round_or_404(round_id)
    run_action(lambda: setup.remind_jurors(session=db, actor=actor(), round=rnd),
               success=lambda result: _("Reminders queued: %(n)d.", n=len(result.sent))
               if result.sent else _("No juror has reviews pending."))
    return redirect(url_for(".progress", round_id=rnd.id))


# ---- panels and jurors ------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/panels/new", methods=["GET", "POST"])
def panel_new(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form = PanelForm()
    if form.validate_on_submit() and (done := run_action(
            lambda: setup.create_panel(session=db, actor=actor(), call=call,
                                       name=form.name.data),
            form=form, success=_("The panel is created. Invite its jurors."))):
        return redirect(url_for(".panel", panel_id=done.value.id))
    return render_template("jury_admin/panel_form.html", form=form, call=call), \
        form_status(form)


def _render_panel(panel: Panel, form: InviteForm, status: int = 200):
    return render_template("jury_admin/panel.html", call=panel.call, panel=panel,
                           form=form, conflicts=setup.member_conflicts(get_db(), panel)), status


@bp.get("/panels/<int:panel_id>")
def panel(panel_id: int):
    panel = _panel_or_404(panel_id)
    form = InviteForm(formdata=None, categories=_category_choices(panel.call))
    return _render_panel(panel, form)


@bp.post("/panels/<int:panel_id>/invite")
def invite(panel_id: int):
    db = get_db()
    panel = _panel_or_404(panel_id)
    form = InviteForm(categories=_category_choices(panel.call))
    if form.validate():
        done = run_action(
            lambda: setup.invite_juror(session=db, actor=actor(), panel=panel,
                                       email=form.email.data, is_chair=form.is_chair.data,
                                       category_ids=form.categories.data or [],
                                       language=_language()),
            form=form,
            success=lambda member: _("The invitation is sent to %(email)s.", email=member.email))
        if done:
            member = done.value
            conflicts = setup.entry_conflicts(db, panel.call, email=member.email)
            if conflicts:
                flash(ngettext("%(email)s has a conflict of interest with %(num)d entry of "
                               "this call, which they will never be given: %(entries)s.",
                               "%(email)s has a conflict of interest with %(num)d entries of "
                               "this call, which they will never be given: %(entries)s.",
                               len(conflicts), email=member.email,
                               entries=_conflict_text(conflicts)), "warning")
            return redirect(url_for(".panel", panel_id=panel.id))
    elif form.csrf_token.errors:
        abort(400)
    return _render_panel(panel, form, 400)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def member_edit(member_id: int):
    db = get_db()
    member = _member_or_404(member_id)
    choices = _category_choices(member.panel.call)
    if request.method == "POST":
        form = MemberForm(categories=choices)
    else:
        form = MemberForm(categories=choices, data={
            "is_chair": member.is_chair, "categories": [c.id for c in member.categories]})
    if form.validate_on_submit() and run_action(
            lambda: setup.update_member(session=db, actor=actor(), member=member,
                                        is_chair=bool(form.is_chair.data),
                                        category_ids=form.categories.data or []),
            form=form, success=saved(_("The juror is saved."))):
        return redirect(url_for(".panel", panel_id=member.panel_id))
    return render_template("jury_admin/member_form.html", form=form, call=member.panel.call,
                           member=member), form_status(form)


@bp.post("/members/<int:member_id>/resend")
def member_resend(member_id: int):
    check_csrf()
    db = get_db()
    member = _member_or_404(member_id)
    run_action(lambda: setup.resend_invitation(session=db, actor=actor(), member=member,
                                               language=_language()),
               success=_("The invitation is sent again to %(email)s.", email=member.email))
    return redirect(url_for(".panel", panel_id=member.panel_id))


def _render_leave(member: JuryMember, status: int = 200):
    moves = setup.plan_member_leave(session=get_db(), member=member)
    form = LeaveForm(formdata=MultiDict(), data={"digest": setup.leave_digest(moves)})
    db = get_db()
    user_ids = {j for m in moves for j, _e in m.plan.new}
    names = {}
    if user_ids:
        from awards.auth.models import User

        names = {u.id: u.display_name for u in db.scalars(
            select(User).where(User.id.in_(user_ids)))}
    return render_template("jury_admin/member_remove.html", call=member.panel.call,
                           member=member, moves=moves, form=form, names=names), status


@bp.get("/members/<int:member_id>/remove")
def member_remove(member_id: int):
    member = _member_or_404(member_id)
    if member.status == JurorStatus.LEFT:
        flash(_("This juror has already left the panel."), "error")
        return redirect(url_for(".panel", panel_id=member.panel_id))
    return _render_leave(member)


@bp.post("/members/<int:member_id>/remove")
def member_remove_confirm(member_id: int):
    db = get_db()
    member = _member_or_404(member_id)
    form = LeaveForm()
    if not form.validate():
        abort(400)
    done = run_action(
        lambda: setup.remove_member(session=db, actor=actor(), member=member,
                                    digest=form.digest.data),
        success=lambda moves: _(
            "%(email)s has left the panel; assignments moved to other jurors: %(n)d.",
            email=member.email, n=sum(len(m.plan.removed) for m in moves)))
    if isinstance(done.error, setup.PlanChanged):
        return _render_leave(member, 409)
    if not done:
        return redirect(url_for(".panel", panel_id=member.panel_id))
    short = sum(m.shortfall_count for m in done.value)
    if short:
        flash(_("%(n)d reviews could not be given to anyone else: assign them by hand.",
                n=short), "warning")
    return redirect(url_for(".panel", panel_id=member.panel_id))


# ---- conflicts --------------------------------------------------------------------------------


def _render_conflicts(call: Call, form: ConflictForm, status: int = 200):
    db = get_db()
    rows = db.scalars(
        select(Conflict).join(Nomination, Nomination.id == Conflict.nomination_id)
        .where(Nomination.call_id == call.id)
        .options(selectinload(Conflict.user), selectinload(Conflict.nomination),
                 selectinload(Conflict.created_by))
        .order_by(Conflict.created_at.desc(), Conflict.id.desc())
    ).all()
    return render_template("jury_admin/conflicts.html", call=call, conflicts=rows,
                           form=form), status


@bp.get("/calls/<int:call_id>/conflicts")
def conflicts(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form = ConflictForm(formdata=None, jurors=_juror_choices(setup.call_jurors(db, call)))
    return _render_conflicts(call, form)


@bp.post("/calls/<int:call_id>/conflicts")
def conflict_add(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form = ConflictForm(jurors=_juror_choices(setup.call_jurors(db, call)))
    if form.validate():
        ids, _missing = setup.find_nominations(db, call, [form.reference.data])
        if not ids:
            form.reference.errors = [_("No nomination of this call has this reference.")]
        elif done := run_action(
                lambda: setup.block_juror(
                    session=db, actor=actor(), call=call, juror_id=form.juror_id.data,
                    nomination_id=ids[0], reason=form.reason.data),
                form=form, success=_("The juror is blocked from this entry.")):
            _conflict, moves = done.value
            if moved := sum(len(m.plan.removed) for m in moves):
                flash(_("Assignments ended and given to other jurors: %(n)d.", n=moved),
                      "success")
            if sum(m.shortfall_count for m in moves):
                flash(_("No other juror could take the entry: assign one by hand."), "warning")
            return redirect(url_for(".conflicts", call_id=call.id))
    elif form.csrf_token.errors:
        abort(400)
    return _render_conflicts(call, form, 400)


@bp.post("/conflicts/<int:conflict_id>/delete")
def conflict_delete(conflict_id: int):
    check_csrf()
    db = get_db()
    conflict = db.get(Conflict, conflict_id)
    if conflict is None:
        abort(404)
    call_id = conflict.nomination.call_id
    run_action(lambda: setup.remove_conflict(session=db, actor=actor(), conflict=conflict),
               success=_("The block is removed. The juror can be assigned to the entry again."))
    return redirect(url_for(".conflicts", call_id=call_id))


# ---- the invitation link (public) -------------------------------------------------------------


def _fresh_session() -> None:
    """Nothing planted in the session before login survives it (session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    db = get_db()
    member = setup.member_for_token(db, token)
    if member is None or member.status == JurorStatus.LEFT:
        abort(404)
    call = member.panel.call
    context = {"member": member, "call": call, "panel": member.panel}
    if member.status != JurorStatus.INVITED:
        if current_user.is_authenticated and current_user.id == member.user_id:
            flash(_("You have already accepted this invitation."), "success")
            return redirect(_jury_home())
        return render_template("jury_admin/invitation.html", state="used", **context), 410

    if current_user.is_authenticated:
        if not setup.email_matches(member, current_user):
            return render_template("jury_admin/invitation.html", state="other_account",
                                   **context), 403
        form = CSRFOnlyForm()
        if request.method == "POST":
            if not form.validate():
                abort(400)
            run_action(lambda: setup.accept_invitation(session=db, member=member, user=actor()),
                       success=_("Welcome to the jury! Your assigned entries will appear here."))
            return redirect(_jury_home())
        return render_template("jury_admin/invitation.html", state="accept", form=form,
                               **context)

    if setup.account_for_email(db, member.email) is not None:
        flash(_("Log in with %(email)s to accept the invitation.", email=member.email),
              "warning")
        return redirect(url_for("auth.login", next=url_for(".invitation", token=token)))

    form = InvitationRegisterForm()
    if form.validate_on_submit():
        done = run_action(
            lambda: setup.register_juror(session=db, member=member,
                                         full_name=form.full_name.data,
                                         password=form.password.data, language=_language()))
        if not done:
            return redirect(url_for(".invitation", token=token))
        _fresh_session()
        login_user(done.value)
        flash(_("Welcome to the jury! Your account is ready and your e-mail is confirmed."),
              "success")
        return redirect(_jury_home())
    return render_template("jury_admin/invitation.html", state="register", form=form,
                           **context), form_status(form)
