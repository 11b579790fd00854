"""Pages for panels and jurors: invitations, a seat's settings, a juror leaving, conflicts of
interest, and the invitation link a juror opens (the one public page here)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from awards.calls.models import Call
from awards.db import get_db
from awards.enums import JurorStatus
from awards.forms import CSRFOnlyForm
from awards.jury import setup
from awards.jury.admin_forms import (
    ConflictForm,
    DeclineForm,
    InvitationRegisterForm,
    InviteForm,
    LeaveForm,
    MemberForm,
    PanelForm,
)
from awards.jury.admin_views.common import (
    bp,
    call_or_404,
    category_choices,
    conflict_text,
    juror_choices,
    jury_home,
    member_or_404,
    page_language,
    panel_or_404,
)
from awards.jury.models import Conflict, JuryMember, Panel
from awards.nominations.models import Nomination
from awards.views_common import actor, check_csrf, form_status, run_action, saved

# ---- panels and jurors ------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/panels/new", methods=["GET", "POST"])
def panel_new(call_id: int):
    db = get_db()
    call = call_or_404(call_id)
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
                           form=form, conflicts=setup.member_conflicts(get_db(), panel),
                           declined_reasons=setup.decline_reasons(get_db(), panel)), status


@bp.get("/panels/<int:panel_id>")
def panel(panel_id: int):
    panel = panel_or_404(panel_id)
    form = InviteForm(formdata=None, categories=category_choices(panel.call))
    return _render_panel(panel, form)


@bp.post("/panels/<int:panel_id>/invite")
def invite(panel_id: int):
    db = get_db()
    panel = panel_or_404(panel_id)
    form = InviteForm(categories=category_choices(panel.call))
    if form.validate():
        done = run_action(
            lambda: setup.invite_juror(session=db, actor=actor(), panel=panel,
                                       email=form.email.data, is_chair=form.is_chair.data,
                                       category_ids=form.categories.data or [],
                                       language=page_language()),
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
                               entries=conflict_text(conflicts)), "warning")
            return redirect(url_for(".panel", panel_id=panel.id))
    elif form.csrf_token.errors:
        abort(400)
    return _render_panel(panel, form, 400)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def member_edit(member_id: int):
    db = get_db()
    member = member_or_404(member_id)
    choices = category_choices(member.panel.call)
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
    member = member_or_404(member_id)
    run_action(lambda: setup.resend_invitation(session=db, actor=actor(), member=member,
                                               language=page_language()),
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
    member = member_or_404(member_id)
    if member.status == JurorStatus.LEFT:
        flash(_("This juror has already left the panel."), "error")
        return redirect(url_for(".panel", panel_id=member.panel_id))
    return _render_leave(member)


@bp.post("/members/<int:member_id>/remove")
def member_remove_confirm(member_id: int):
    db = get_db()
    member = member_or_404(member_id)
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
    call = call_or_404(call_id)
    form = ConflictForm(formdata=None, jurors=juror_choices(setup.call_jurors(db, call)))
    return _render_conflicts(call, form)


@bp.post("/calls/<int:call_id>/conflicts")
def conflict_add(call_id: int):
    db = get_db()
    call = call_or_404(call_id)
    form = ConflictForm(jurors=juror_choices(setup.call_jurors(db, call)))
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
    if member.status == JurorStatus.DECLINED:
        return render_template("jury_admin/invitation.html", state="declined", **context), 410
    if request.method == "POST" and request.form.get("decision") == "decline":
        return _decline(member, token, context)
    if member.status != JurorStatus.INVITED:
        if current_user.is_authenticated and current_user.id == member.user_id:
            flash(_("You have already accepted this invitation."), "success")
            return redirect(jury_home())
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
            return redirect(jury_home())
        return render_template("jury_admin/invitation.html", state="accept", form=form,
                               decline_form=DeclineForm(formdata=None), **context)

    if setup.account_for_email(db, member.email) is not None:
        flash(_("Log in with %(email)s to accept the invitation.", email=member.email),
              "warning")
        return redirect(url_for("auth.login", next=url_for(".invitation", token=token)))

    form = InvitationRegisterForm()
    if form.validate_on_submit():
        done = run_action(
            lambda: setup.register_juror(session=db, member=member,
                                         full_name=form.full_name.data,
                                         password=form.password.data, language=page_language()))
        if not done:
            return redirect(url_for(".invitation", token=token))
        _fresh_session()
        login_user(done.value)
        flash(_("Welcome to the jury! Your account is ready and your e-mail is confirmed."),
              "success")
        return redirect(jury_home())
    return render_template("jury_admin/invitation.html", state="register", form=form,
                           decline_form=DeclineForm(formdata=None), **context), form_status(form)


def _decline(member: JuryMember, token: str, context: dict):
    """"No, thank you" from the invitation page: by the invited address's account when signed
    in (another account is refused, as for accepting), or by the link alone."""
    db = get_db()
    user = actor() if current_user.is_authenticated else None
    if user is not None and not setup.email_matches(member, user):
        return render_template("jury_admin/invitation.html", state="other_account",
                               **context), 403
    form = DeclineForm()
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return render_template("jury_admin/invitation.html", state="accept" if user else
                               "register", form=CSRFOnlyForm() if user else
                               InvitationRegisterForm(formdata=None), decline_form=form,
                               **context), 400
    if run_action(lambda: setup.decline_invitation(session=db, member=member,
                                                   reason=form.reason.data or "", user=user),
                  success=None):
        return render_template("jury_admin/invitation.html", state="declined", **context)
    return redirect(url_for(".invitation", token=token))
