"""The administrators' pages of the commission: a call's commission rounds, a new round with its
rules, a round's rules and members (invited, made chair or removed until the ballot opens),
each change one service call through ``run_action``. The ballot itself is run from the
chair's page (``commission.chair``)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from awards import policy
from awards.calls.models import Call
from awards.commission import services, setup, wording
from awards.commission.forms import MemberForm, NewRoundForm, RulesForm
from awards.db import get_db, utcnow
from awards.forms import CSRFOnlyForm
from awards.i18n import localized
from awards.jury.models import JuryMember, Panel, Round
from awards.permissions import admin_required
from awards.views_common import actor, check_csrf, form_status, get_or_404, run_action, viewer

bp = Blueprint("commission_admin", __name__, url_prefix="/admin/commission")


@bp.before_request
def _administrators_only():
    return admin_required(lambda: None)()


@bp.context_processor
def _helpers():
    return {"quorum_rule": wording.quorum_rule}


def _round(round_id: int) -> Round:
    round_ = get_or_404(Round, round_id)
    if not services.is_commission_round(round_):
        abort(404)
    return round_


def _categories(call: Call):
    return [(c, localized(c, "name") or c.code) for c in call.categories]


@bp.get("/calls/<int:call_id>")
def rounds(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    items = [(r, services.box_of(db, r), len(services.active_members(db, r)))
             for r in setup.commission_rounds(db, call)]
    refused = policy.allows(viewer(), policy.Action.SET_UP_ROUND, call, now=utcnow())
    return render_template("commission/admin_rounds.html", call=call, items=items,
                           frozen=None if refused.ok else refused.reason)


@bp.route("/calls/<int:call_id>/new", methods=["GET", "POST"])
def round_new(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    panels = db.query(Panel).filter(Panel.call_id == call.id).order_by(Panel.id).all()
    form = NewRoundForm.with_categories(_categories(call))(panels=panels)
    if form.validate_on_submit() and (done := run_action(
            lambda: setup.create_round(session=db, actor=actor(), call=call,
                                       panel_id=form.panel(), names=form.names(),
                                       values=form.rules()),
            form=form, success=_("The commission round is created. Now invite its members "
                                 "and add the entries it votes on."))):
        return redirect(url_for(".round_view", round_id=done.value.id))
    return render_template("commission/admin_round_new.html", call=call, form=form), \
        form_status(form)


def _render_round(round_: Round, rules: RulesForm, member_form: MemberForm, status: int = 200):
    db = get_db()
    refused = policy.allows(viewer(), policy.Action.COMMISSION_CONFIGURE, round_, now=utcnow())
    box = services.box_of(db, round_)
    return render_template(
        "commission/admin_round.html", call=round_.call, round=round_, form=rules,
        member_form=member_form, box=box, voters=len(services.voters(db, round_)),
        members=setup.members(db, round_), entries=services.entries_of(db, round_),
        locked=None if refused.ok else refused.reason, button=CSRFOnlyForm(formdata=None)), \
        status


def _rules_form(round_: Round, **kwargs) -> RulesForm:
    return RulesForm.with_categories(_categories(round_.call))(**kwargs)


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
def round_view(round_id: int):
    db = get_db()
    round_ = _round(round_id)
    if request.method == "POST":
        form = _rules_form(round_)
    else:
        box = services.box_of(db, round_)
        form = _rules_form(round_, data=RulesForm.initial_rules(box) if box else None)
    if form.validate_on_submit() and run_action(
            lambda: services.configure(session=db, actor=actor(), round=round_,
                                       values=form.rules()),
            form=form, success=_("The commission's rules are saved.")):
        return redirect(url_for(".round_view", round_id=round_.id))
    return _render_round(round_, form, MemberForm(formdata=None), form_status(form))


@bp.post("/rounds/<int:round_id>/members")
def member_invite(round_id: int):
    db = get_db()
    round_ = _round(round_id)
    form = MemberForm()
    if form.validate_on_submit() and run_action(
            lambda: setup.invite_member(session=db, actor=actor(), round=round_,
                                        email=form.email.data, is_chair=form.is_chair.data,
                                        language=str(get_locale())),
            form=form, success=_("The invitation is sent. The member votes once they accept "
                                 "it.")):
        return redirect(url_for(".round_view", round_id=round_.id))
    box = services.box_of(db, round_)
    rules = _rules_form(round_, formdata=None,
                        data=RulesForm.initial_rules(box) if box else None)
    return _render_round(round_, rules, form, form_status(form))


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/chair")
def member_chair(round_id: int, member_id: int):
    check_csrf()
    round_ = _round(round_id)
    member = get_or_404(JuryMember, member_id)
    make_chair = request.form.get("chair") == "1"
    run_action(lambda: setup.set_chair(session=get_db(), actor=actor(), round=round_,
                                       member=member, is_chair=make_chair),
               success=_("The commission's chair is changed."))
    return redirect(url_for(".round_view", round_id=round_.id), code=303)


@bp.post("/rounds/<int:round_id>/members/<int:member_id>/remove")
def member_remove(round_id: int, member_id: int):
    check_csrf()
    round_ = _round(round_id)
    member = get_or_404(JuryMember, member_id)
    run_action(lambda: setup.remove_member(session=get_db(), actor=actor(), round=round_,
                                           member=member),
               success=lambda removed: _("%(member)s is no longer on the commission.",
                                         member=removed.email))
    return redirect(url_for(".round_view", round_id=round_.id) + "#members", code=303)
