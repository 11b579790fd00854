"""Administration: programmes, calls and their settings, categories with award levels, the
application form builder and cloning a call into next year's edition.

Views stay thin: a form validates and turns the input into values, one service call in
``awards.calls.services`` applies them (and audits) through ``run_action``, which commits or
rolls back and flashes; the view redirects or re-renders."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from awards import lifecycle
from awards.admin import todo
from awards.calls import services
from awards.calls.forms import (
    CALL_STATUS_LABELS,
    FIELD_TYPE_LABELS,
    FILE_TYPE_LABELS,
    NOMINATOR_KIND_LABELS,
    AwardLevelForm,
    CallForm,
    CategoryForm,
    CloneCallForm,
    FormFieldForm,
    ProgrammeForm,
)
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.calls.services import StaleCallError
from awards.db import get_db, utcnow
from awards.enums import FieldType, NominationStatus, NominatorKind
from awards.i18n import localized
from awards.nominations.models import Answer, Nomination
from awards.permissions import admin_required
from awards.timeutil import DEFAULT_TZ
from awards.views_common import (
    actor,
    call_time,
    check_csrf,
    form_status,
    run_action,
    saved,
    show_error,
    viewer,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

DIRECTIONS = {"up": -1, "down": 1}


@bp.before_request
@admin_required
def _administrators_only():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    return None


@bp.context_processor
def _template_helpers():
    return {
        "call_time": call_time,
        "STATUS_LABELS": CALL_STATUS_LABELS,
        "FIELD_TYPE_LABELS": FIELD_TYPE_LABELS,
        "NOMINATOR_KIND_LABELS": NOMINATOR_KIND_LABELS,
        "FILE_TYPE_LABELS": FILE_TYPE_LABELS,
        "FieldType": FieldType,
    }


# ---- helpers ----------------------------------------------------------------------------------


def _csrf_failed(form) -> bool:
    csrf = getattr(form, "csrf_token", None)
    return bool(csrf is not None and csrf.errors)


def _call_or_404(call_id: int) -> Call:
    call = get_db().get(Call, call_id)
    if call is None:
        abort(404)
    return call


def _category_or_404(call: Call, category_id: int) -> Category:
    category = get_db().get(Category, category_id)
    if category is None or category.call_id != call.id:
        abort(404)
    return category


def _level_or_404(category: Category, level_id: int) -> AwardLevel:
    level = get_db().get(AwardLevel, level_id)
    if level is None or level.category_id != category.id:
        abort(404)
    return level


def _field_or_404(call: Call, field_id: int) -> FormField:
    form_field = get_db().get(FormField, field_id)
    if form_field is None or form_field.call_id != call.id:
        abort(404)
    return form_field


def _programme_choices(db) -> list[tuple[Programme, str]]:
    programmes = db.scalars(select(Programme).order_by(Programme.slug)).all()
    return [(p, localized(p, "name") or p.slug) for p in programmes]


def _category_choices(call: Call) -> list[tuple[Category, str]]:
    return [(c, localized(c, "name") or c.code) for c in call.categories]


# ---- dashboard --------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    """What needs doing now in each active call (``admin.todo``), then every call with its
    status, dates and counts; a fixed number of queries whatever the number of calls."""
    db = get_db()
    calls = db.scalars(
        select(Call).options(joinedload(Call.programme))
        .order_by(Call.year.desc(), Call.id.desc())
    ).all()
    category_counts = dict(db.execute(
        select(Category.call_id, func.count(Category.id)).group_by(Category.call_id)
    ).all())
    is_draft = case((Nomination.status == NominationStatus.DRAFT, 1), else_=0)
    nomination_counts = {
        row.call_id: (row.total - (row.drafts or 0), row.drafts or 0)
        for row in db.execute(
            select(Nomination.call_id, func.count(Nomination.id).label("total"),
                   func.sum(is_draft).label("drafts"))
            .group_by(Nomination.call_id)
        )
    }
    desk = todo.desk(session=db, viewer=viewer(), now=utcnow(), calls=calls)
    return render_template("admin/dashboard.html", calls=calls, desk=desk,
                           category_counts=category_counts, nomination_counts=nomination_counts)


# ---- programmes -------------------------------------------------------------------------------


@bp.get("/programmes")
def programmes():
    db = get_db()
    rows = db.scalars(
        select(Programme).options(selectinload(Programme.calls)).order_by(Programme.slug)
    ).all()
    return render_template("admin/programmes.html", programmes=rows)


@bp.route("/programmes/new", methods=["GET", "POST"])
def programme_new():
    form = ProgrammeForm()
    if form.validate_on_submit() and run_action(
            lambda: services.create_programme(session=get_db(), actor=actor(),
                                              values=form.values()),
            form=form, success=_("The programme is created.")):
        return redirect(url_for(".programmes"))
    return render_template("admin/programme_form.html", form=form, programme=None), \
        form_status(form)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
def programme_edit(programme_id: int):
    db = get_db()
    programme = db.get(Programme, programme_id)
    if programme is None:
        abort(404)
    if request.method == "POST":
        form = ProgrammeForm()
    else:
        form = ProgrammeForm(data=ProgrammeForm.initial(programme))
    if form.validate_on_submit() and run_action(
            lambda: services.update_programme(session=db, actor=actor(), programme=programme,
                                              values=form.values()),
            form=form, success=saved(_("The programme is saved."))):
        return redirect(url_for(".programmes"))
    return render_template("admin/programme_form.html", form=form, programme=programme), \
        form_status(form)


# ---- calls ------------------------------------------------------------------------------------


@bp.route("/calls/new", methods=["GET", "POST"])
def call_new():
    db = get_db()
    choices = _programme_choices(db)
    if not choices:
        flash(_("Create a programme first: every call belongs to one."), "warning")
        return redirect(url_for(".programme_new"))
    if request.method == "POST":
        form = CallForm(programmes=choices)
    else:
        preset = request.args.get("programme", type=int)
        form = CallForm(programmes=choices, data={
            "timezone": DEFAULT_TZ,
            "allowed_nominator_kinds": [k.value for k in NominatorKind],
            "programme_id": preset,
        })
    if form.validate_on_submit() and (done := run_action(
            lambda: services.create_call(session=db, actor=actor(), values=form.values()),
            form=form, success=_("The call is created as a draft. Add its categories and "
                                 "application form, then open it."))):
        return redirect(url_for(".call_detail", call_id=done.value.id))
    return render_template("admin/call_form.html", form=form, call=None), form_status(form)


@bp.get("/calls/<int:call_id>")
def call_detail(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    now = utcnow()
    if lifecycle.sync(db, call, now):
        db.commit()
    counts = _nomination_counts(call)
    counts.update({"categories": len(call.categories), "fields": len(call.fields)})
    moves = lifecycle.available(db, call, now)
    forward = [m for m in moves if not m.backward]
    return render_template("admin/call_detail.html", call=call, counts=counts,
                           related=_related_links(call), steps=lifecycle.steps(call),
                           primary=forward[0] if forward else None,
                           secondary=[m for m in moves if m is not (forward[0] if forward
                                                                     else None)],
                           progress=_progress(call, counts),
                           move_url=_move_url)


def _nomination_counts(call: Call) -> dict[str, int]:
    db = get_db()
    by_status = dict(db.execute(
        select(Nomination.status, func.count(Nomination.id))
        .where(Nomination.call_id == call.id).group_by(Nomination.status)).all())
    applicants = db.scalar(select(func.count(func.distinct(Nomination.applicant_id))).where(
        Nomination.call_id == call.id,
        Nomination.status.not_in((NominationStatus.DRAFT, NominationStatus.WITHDRAWN)))) or 0
    drafts = by_status.get(NominationStatus.DRAFT, 0)
    return {
        "nominations": sum(by_status.values()) - drafts,
        "drafts": drafts,
        "waiting": by_status.get(NominationStatus.SUBMITTED, 0),
        "screened": sum(by_status.get(s, 0) for s in (
            NominationStatus.ELIGIBLE, NominationStatus.INELIGIBLE,
            NominationStatus.CHANGES_REQUESTED)),
        "eligible": by_status.get(NominationStatus.ELIGIBLE, 0),
        "applicants": applicants,
    }


def _progress(call: Call, counts: dict[str, int]) -> list[tuple[str, bool]]:
    """What is done so far, as the admin checks it before the next step."""
    from awards.enums import RoundStatus

    rounds = list(call.rounds)
    closed = sum(1 for r in rounds if r.status == RoundStatus.CLOSED)
    return [
        (ngettext("%(num)d category", "%(num)d categories", counts["categories"]),
         counts["categories"] > 0),
        (ngettext("%(num)d question in the application form",
                  "%(num)d questions in the application form", counts["fields"]),
         counts["fields"] > 0),
        (ngettext("%(num)d nomination submitted", "%(num)d nominations submitted",
                  counts["nominations"]), counts["nominations"] > 0),
        (_("%(done)d screened, %(waiting)d waiting for screening",
           done=counts["screened"], waiting=counts["waiting"]),
         counts["nominations"] > 0 and counts["waiting"] == 0),
        (_("%(closed)d of %(total)d jury rounds closed", closed=closed, total=len(rounds)),
         bool(rounds) and closed == len(rounds)),
    ]


def _move_url(call: Call, move) -> str:
    if move.via == "results":
        return url_for("results_admin.overview", call_id=call.id) + "#publish"
    return url_for(".call_move", call_id=call.id, action=move.action)


@bp.route("/calls/<int:call_id>/phase/<action>", methods=["GET", "POST"])
def call_move(call_id: int, action: str):
    """One move of the call's lifecycle. GET shows what it will do and what blocks it (the
    confirmation page); POST, with its CSRF token, takes it."""
    db = get_db()
    call = _call_or_404(call_id)
    now = utcnow()
    if lifecycle.sync(db, call, now):
        db.commit()
    if action not in lifecycle.ACTION_LABELS or lifecycle.VIA.get(action) == "clock":
        abort(404)
    if lifecycle.VIA.get(action) == "results":
        return redirect(url_for("results_admin.overview", call_id=call.id) + "#publish")
    done = None
    if request.method == "POST":
        check_csrf()
        done = run_action(
            lambda: lifecycle.advance(session=db, call=call, action=action, actor=actor(),
                                      now=now),
            success=lambda _moved: _("The call is now in the phase “%(phase)s”.",
                                     phase=lifecycle.PHASE_LABELS[call.status]))
        if done:
            return redirect(url_for(".call_detail", call_id=call.id), code=303)
    target = lifecycle.TRANSITIONS[call.status].get(action)
    return render_template(
        "admin/call_move.html", call=call, action=action,
        label=lifecycle.ACTION_LABELS[action], target=target,
        blockers=lifecycle.blockers(db, call, action, now) if target else [],
        notes=lifecycle.notes(db, call, action, now) if target else [],
        counts=_nomination_counts(call), steps=lifecycle.steps(call)), \
        done.status() if done is not None else 200


# Other administration areas of a call, linked once their blueprints are registered.
RELATED = [
    ("screening.list", _l("Screening")),
    ("public_stage_admin.stage", _l("Public stage")),
    ("jury_admin.rounds", _l("Jury and rounds")),
    ("commission_admin.rounds", _l("Commission")),
    ("results_admin.overview", _l("Results")),
]


def _related_links(call: Call) -> list[tuple[str, str]]:
    return [(url_for(endpoint, call_id=call.id), label) for endpoint, label in RELATED
            if endpoint in current_app.view_functions]


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
def call_edit(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    options = {"programmes": _programme_choices(db), "editing": True,
               "current_timezone": call.timezone}
    if request.method == "POST":
        form = CallForm(**options)
    else:
        form = CallForm(data=CallForm.initial(call), **options)
    valid = form.validate_on_submit()
    conflict = None
    if form.is_submitted() and not _csrf_failed(form) \
            and form.expected_version() != call.version_id:
        conflict = _("Someone else changed this call while you were editing it. Reload the "
                     "page to see their changes, then make yours again.")
    elif valid:
        done = run_action(
            lambda: services.update_call(session=db, actor=actor(), call=call,
                                         values=form.values(),
                                         expected_version=form.expected_version()),
            form=form, success=saved(_("The call is saved.")), show=False)
        if done:
            return redirect(url_for(".call_detail", call_id=call.id))
        if isinstance(done.error, StaleCallError):
            conflict = str(done.error.message)
        else:
            show_error(form, done.error)
    if conflict:
        return render_template("admin/call_form.html", form=form, call=call,
                               conflict=conflict), 409
    return render_template("admin/call_form.html", form=form, call=call), form_status(form)


@bp.route("/calls/<int:call_id>/clone", methods=["GET", "POST"])
def call_clone(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    if request.method == "POST":
        form = CloneCallForm()
    else:
        form = CloneCallForm(data=CloneCallForm.initial(call))
    if form.validate_on_submit() and (done := run_action(
            lambda: services.clone_call(session=db, call=call, year=form.year.data,
                                        slug=form.slug.data, actor=actor(),
                                        titles=form.titles()),
            form=form, success=_("The new edition is created as a draft. Check its dates "
                                 "before opening it."))):
        return redirect(url_for(".call_detail", call_id=done.value.id))
    return render_template("admin/call_clone.html", form=form, call=call), form_status(form)


# ---- categories -------------------------------------------------------------------------------


@bp.get("/calls/<int:call_id>/categories")
def categories(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    nomination_counts = dict(db.execute(
        select(Nomination.category_id, func.count(Nomination.id))
        .where(Nomination.call_id == call.id).group_by(Nomination.category_id)
    ).all())
    rows = db.scalars(
        select(Category).where(Category.call_id == call.id)
        .options(selectinload(Category.award_levels))
        .order_by(Category.position, Category.id)
    ).all()
    return render_template("admin/categories.html", call=call, categories=rows,
                           nomination_counts=nomination_counts)


@bp.route("/calls/<int:call_id>/categories/new", methods=["GET", "POST"])
def category_new(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form = CategoryForm()
    if form.validate_on_submit() and (done := run_action(
            lambda: services.create_category(session=db, actor=actor(), call=call,
                                             values=form.values()),
            form=form, success=_("The category is added. You can now add its award levels."))):
        return redirect(url_for(".category_edit", call_id=call.id, category_id=done.value.id))
    return render_template("admin/category_form.html", form=form, call=call, category=None), \
        form_status(form)


@bp.route("/calls/<int:call_id>/categories/<int:category_id>/edit", methods=["GET", "POST"])
def category_edit(call_id: int, category_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    if request.method == "POST":
        form = CategoryForm()
    else:
        form = CategoryForm(data=CategoryForm.initial(category))
    if form.validate_on_submit() and run_action(
            lambda: services.update_category(session=db, actor=actor(), category=category,
                                             values=form.values()),
            form=form, success=saved(_("The category is saved."))):
        return redirect(url_for(".categories", call_id=call.id))
    return render_template("admin/category_form.html", form=form, call=call,
                           category=category), form_status(form)


@bp.post("/calls/<int:call_id>/categories/<int:category_id>/delete")
def category_delete(call_id: int, category_id: int):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    name = localized(category, "name") or category.code
    run_action(lambda: services.delete_category(session=db, actor=actor(), category=category),
               success=_("The category “%(name)s” is deleted.", name=name))
    return redirect(url_for(".categories", call_id=call.id))


@bp.post("/calls/<int:call_id>/categories/<int:category_id>/move/<any(up, down):direction>")
def category_move(call_id: int, category_id: int, direction: str):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    run_action(lambda: services.move_category(session=db, actor=actor(), category=category,
                                              direction=DIRECTIONS[direction]))
    return redirect(url_for(".categories", call_id=call.id) + f"#category-{category.id}")


# ---- award levels -----------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/categories/<int:category_id>/levels/new",
          methods=["GET", "POST"])
def award_level_new(call_id: int, category_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    form = AwardLevelForm()
    if form.validate_on_submit() and run_action(
            lambda: services.create_award_level(session=db, actor=actor(), category=category,
                                                values=form.values()),
            form=form, success=_("The award level is added.")):
        return redirect(url_for(".category_edit", call_id=call.id, category_id=category.id))
    return render_template("admin/award_level_form.html", form=form, call=call,
                           category=category, level=None), form_status(form)


@bp.route("/calls/<int:call_id>/categories/<int:category_id>/levels/<int:level_id>/edit",
          methods=["GET", "POST"])
def award_level_edit(call_id: int, category_id: int, level_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    level = _level_or_404(category, level_id)
    if request.method == "POST":
        form = AwardLevelForm()
    else:
        form = AwardLevelForm(data=AwardLevelForm.initial(level))
    if form.validate_on_submit() and run_action(
            lambda: services.update_award_level(session=db, actor=actor(), level=level,
                                                values=form.values()),
            form=form, success=saved(_("The award level is saved."))):
        return redirect(url_for(".category_edit", call_id=call.id, category_id=category.id))
    return render_template("admin/award_level_form.html", form=form, call=call,
                           category=category, level=level), form_status(form)


@bp.post("/calls/<int:call_id>/categories/<int:category_id>/levels/<int:level_id>/delete")
def award_level_delete(call_id: int, category_id: int, level_id: int):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    level = _level_or_404(category, level_id)
    run_action(lambda: services.delete_award_level(session=db, actor=actor(), level=level),
               success=_("The award level is deleted."))
    return redirect(url_for(".category_edit", call_id=call.id, category_id=category.id))


@bp.post("/calls/<int:call_id>/categories/<int:category_id>/levels/<int:level_id>"
         "/move/<any(up, down):direction>")
def award_level_move(call_id: int, category_id: int, level_id: int, direction: str):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    category = _category_or_404(call, category_id)
    level = _level_or_404(category, level_id)
    run_action(lambda: services.move_award_level(session=db, actor=actor(), level=level,
                                                 direction=DIRECTIONS[direction]))
    return redirect(url_for(".category_edit", call_id=call.id, category_id=category.id))


# ---- application form -------------------------------------------------------------------------


@bp.get("/calls/<int:call_id>/form")
def form_fields(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    answer_counts = dict(db.execute(
        select(Answer.field_id, func.count(Answer.id))
        .join(FormField, FormField.id == Answer.field_id)
        .where(FormField.call_id == call.id).group_by(Answer.field_id)
    ).all())
    return render_template("admin/form_fields.html", call=call, answer_counts=answer_counts,
                           field_types=list(FieldType))


def _field_type_or_404(value: str) -> FieldType:
    try:
        return FieldType(value)
    except ValueError:
        abort(404)


@bp.route("/calls/<int:call_id>/form/new/<field_type>", methods=["GET", "POST"])
def form_field_new(call_id: int, field_type: str):
    db = get_db()
    call = _call_or_404(call_id)
    kind = _field_type_or_404(field_type)
    options = {"field_type": kind, "categories": _category_choices(call)}
    form = FormFieldForm(**options)
    if form.validate_on_submit() and run_action(
            lambda: services.create_form_field(session=db, actor=actor(), call=call,
                                               values=form.values()),
            form=form, success=_("The question is added.")):
        return redirect(url_for(".form_fields", call_id=call.id))
    return render_template("admin/form_field_form.html", form=form, call=call,
                           form_field=None), form_status(form)


@bp.route("/calls/<int:call_id>/form/<int:field_id>/edit", methods=["GET", "POST"])
def form_field_edit(call_id: int, field_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form_field = _field_or_404(call, field_id)
    options = {"field_type": form_field.type, "categories": _category_choices(call)}
    if request.method == "POST":
        form = FormFieldForm(**options)
    else:
        form = FormFieldForm(data=FormFieldForm.initial(form_field), **options)
    if form.validate_on_submit() and run_action(
            lambda: services.update_form_field(session=db, actor=actor(),
                                               form_field=form_field, values=form.values()),
            form=form, success=saved(_("The question is saved."))):
        return redirect(url_for(".form_fields", call_id=call.id))
    return render_template("admin/form_field_form.html", form=form, call=call,
                           form_field=form_field), form_status(form)


@bp.post("/calls/<int:call_id>/form/<int:field_id>/delete")
def form_field_delete(call_id: int, field_id: int):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    form_field = _field_or_404(call, field_id)
    key = form_field.key
    run_action(lambda: services.delete_form_field(session=db, actor=actor(),
                                                  form_field=form_field),
               success=_("The question “%(key)s” is deleted.", key=key))
    return redirect(url_for(".form_fields", call_id=call.id))


@bp.post("/calls/<int:call_id>/form/<int:field_id>/move/<any(up, down):direction>")
def form_field_move(call_id: int, field_id: int, direction: str):
    check_csrf()
    db = get_db()
    call = _call_or_404(call_id)
    form_field = _field_or_404(call, field_id)
    run_action(lambda: services.move_form_field(session=db, actor=actor(), form_field=form_field,
                                                direction=DIRECTIONS[direction]))
    return redirect(url_for(".form_fields", call_id=call.id) + f"#field-{form_field.id}")
