"""The applicant's pages: start a nomination, fill in the form (save draft, submit), follow it
("My nominations"), edit after submitting, withdraw; attachment downloads; the nominee's
consent link.

Someone else's nomination is a 404 on every route, never a 403: the page must not tell that it
exists."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from awards import errors, policy
from awards.boundary import db_int
from awards.calls.models import Call
from awards.calls.views import countdown_text, visible_call_or_404
from awards.db import get_db, utcnow
from awards.enums import FieldType, NominationStatus, NominatorKind
from awards.extensions import limiter
from awards.i18n import format_size as size_text
from awards.i18n import localized
from awards.nominations import formbuilder, services
from awards.nominations.consent_page import ConsentSubject, answer_page, nomination_facts
from awards.nominations.forms import (
    KIND_HINTS,
    KIND_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    StartForm,
    WithdrawForm,
)
from awards.nominations.models import Attachment, Nomination
from awards.nominations.outcome import own_outcome
from awards.permissions import can_view_nomination, verified_required
from awards.storage import path_for
from awards.views_common import call_time, viewer

bp = Blueprint("nominations", __name__, url_prefix="/nominations")

# Defaults until config.py names them: generous for people, tight for scripts.
_LIMITS = {"RATELIMIT_NOMINATION": "60 per minute;600 per hour",
           "RATELIMIT_CONSENT": "20 per minute;100 per hour"}


def _limit(name: str):
    return lambda: current_app.config.get(name, _LIMITS[name])


@bp.context_processor
def _labels():
    return {"STATUS_LABELS": STATUS_LABELS, "STATUS_BADGES": STATUS_BADGES,
            "KIND_LABELS": KIND_LABELS}


@bp.app_template_global("nomination_rows")
def nomination_rows(nomination: Nomination) -> list[formbuilder.AnswerRow]:
    """The labelled answers in the current language; also for e-mails rendered by services,
    which is why this is an application-wide template global."""
    return formbuilder.answer_rows(nomination, services.fields_for(nomination))


def _user():
    return current_user._get_current_object()


def _viewable_or_404(nomination_id: int) -> Nomination:
    nomination = get_db().get(Nomination, nomination_id)
    if nomination is None or not can_view_nomination(current_user, nomination):
        abort(404)
    return nomination


def _own_or_404(nomination_id: int) -> Nomination:
    nomination = get_db().get(Nomination, nomination_id)
    if nomination is None or nomination.applicant_id != current_user.id:
        abort(404)
    return nomination


def _deadline_message(call: Call) -> str:
    return _("The deadline passed at %(when)s. The nomination can no longer be submitted or "
             "changed; your draft is kept as it was.", when=call_time(call.closes_at, call))


def _not_editable_message(nomination: Nomination) -> str:
    if nomination.status == NominationStatus.WITHDRAWN:
        return _("This nomination was withdrawn and can no longer be changed.")
    if nomination.status in (NominationStatus.ELIGIBLE, NominationStatus.INELIGIBLE):
        return _("This nomination has been screened and can no longer be changed.")
    return _("Nominations for this call are not being accepted now.")


# ---- list and detail ------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    nominations = services.nominations_of(get_db(), current_user)
    now = utcnow()
    if nominations:
        viewer().preload_decisions(n.id for n in nominations)
    return render_template("nominations/mine.html", nominations=nominations,
                           awaiting=services.awaiting_nominee_consent,
                           withdrawals={n.id: _withdrawal_state(n, now) for n in nominations})


@dataclass(frozen=True)
class WithdrawalState:
    """The Withdraw button, or why there is none (the policy's reason)."""

    allowed: bool
    reason: str = ""


def _withdrawal_state(nomination: Nomination, now) -> WithdrawalState:
    decision = services.withdrawal(viewer(), nomination, now=now)
    if decision.ok:
        return WithdrawalState(True)
    # Nothing to explain about a nomination already withdrawn, or someone else's.
    if decision.rule in ("not_withdrawn_yet", "is_applicant", "signed_in"):
        return WithdrawalState(False)
    return WithdrawalState(False, str(decision.reason))


@bp.get("/<int:nomination_id>")
@login_required
def show(nomination_id: int):
    return _render_show(_viewable_or_404(nomination_id))


def _render_show(nomination: Nomination, status: int = 200, *, refusal: str = ""):
    """The nomination's page; ``refusal``: why the action just asked for was refused."""
    now = utcnow()
    fields = services.fields_for(nomination)
    withdrawal = _withdrawal_state(nomination, now)
    outcome = own_outcome(get_db(), nomination, now)
    return render_template(
        "nominations/show.html", nomination=nomination, call=nomination.call,
        rows=formbuilder.answer_rows(nomination, fields), outcome=outcome,
        timeline=services.timeline(nomination, outcome),
        can_edit=policy.allows(viewer(), policy.Action.EDIT_NOMINATION, nomination,
                               now=now).ok,
        can_withdraw=withdrawal.allowed, withdraw_reason=withdrawal.reason,
        refusal=refusal,
        awaiting_consent=services.awaiting_nominee_consent(nomination),
        deadline_passed=(nomination.status == NominationStatus.DRAFT
                         and nomination.call.has_closed_at(now)),
        changes_reason=_changes_reason(nomination),
    ), status


def _changes_reason(nomination: Nomination) -> str:
    if nomination.status != NominationStatus.CHANGES_REQUESTED:
        return ""
    for change in reversed(nomination.status_changes):
        if change.to_status == NominationStatus.CHANGES_REQUESTED and change.visible_to_applicant:
            return change.reason
    return nomination.screening_reason


@bp.get("/<int:nomination_id>/submitted")
@login_required
def confirmation(nomination_id: int):
    nomination = _viewable_or_404(nomination_id)
    if not nomination.is_submitted:
        return redirect(url_for(".show", nomination_id=nomination.id))
    return render_template(
        "nominations/confirmation.html", nomination=nomination, call=nomination.call,
        rows=formbuilder.answer_rows(nomination, services.fields_for(nomination)),
        consent_requested=nomination.nominee_consent_token_hash is not None,
    )


@bp.get("/<int:nomination_id>/attachments/<int:attachment_id>")
@login_required
def attachment(nomination_id: int, attachment_id: int):
    """The file as uploaded, for the applicant and administrators (the policy's
    ``DOWNLOAD_FILE``); jurors download through their own route, which redacts."""
    from awards import policy
    from awards.views_common import viewer

    file = get_db().get(Attachment, attachment_id)
    if file is None or file.nomination_id != nomination_id or not policy.allows(
            viewer(), policy.Action.DOWNLOAD_FILE, file, now=utcnow()):
        abort(404)
    try:
        path = path_for(file.stored_name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=file.content_type, as_attachment=True,
                         download_name=file.original_name, max_age=0, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- starting -------------------------------------------------------------------------------


@bp.route("/start/<slug>", methods=["GET", "POST"])
@verified_required
@limiter.limit(_limit("RATELIMIT_NOMINATION"), methods=["POST"])
def start(slug: str):
    call = visible_call_or_404(slug)
    now = utcnow()
    if not call.is_open_at(now):
        if call.has_closed_at(now):
            flash(_("Nominations for this call closed at %(when)s.",
                    when=call_time(call.closes_at, call)), "error")
        else:
            flash(_("Nominations for this call are not being accepted now."), "error")
        return redirect(url_for("calls.show", slug=call.slug))
    kinds = [k for k in NominatorKind if call.accepts_nominator(k)]
    form = StartForm(categories=[(c, localized(c, "name")) for c in call.categories],
                     kinds=[k.value for k in kinds])
    if request.method == "GET":
        wanted = request.args.get("category")
        if wanted in {c.code for c in call.categories}:
            form.category.data = wanted
        if len(kinds) == 1:
            form.nominator_kind.data = kinds[0].value
    elif form.validate():
        db = get_db()
        category = next(c for c in call.categories if c.code == form.category.data)
        try:
            nomination = services.start_nomination(
                session=db, call=call, category=category,
                nominator_kind=form.nominator_kind.data, applicant=_user(), now=now)
        except services.NominationError:
            db.rollback()
            flash(_("Nominations for this call are not being accepted now."), "error")
            return redirect(url_for("calls.show", slug=call.slug))
        db.commit()
        return redirect(url_for(".edit", nomination_id=nomination.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("nominations/start.html", call=call, form=form, kind_hints=KIND_HINTS,
                           categories=call.categories), status


# ---- the form: save, remove a file, submit, edit after submitting ----------------------------


def _build_form(nomination: Nomination, fields, *, read_request: bool = True):
    """The request's form: posted values on POST, the stored answers on GET (and with
    ``read_request`` False). The consent to personal data processing is asked with the first
    submission only."""
    return formbuilder.build_form(
        fields, nominator_kind=nomination.nominator_kind,
        consent_required=nomination.nominee_consent_required,
        asks_consent=nomination.status == NominationStatus.DRAFT,
        consent_text=bool(localized(nomination.call, "consent_text")),
        data=formbuilder.initial_data(nomination, fields), read_request=read_request,
    )


def _render_form(nomination: Nomination, form, fields, status: int = 200, *,
                 deadline_error: str = "", page_error: str = ""):
    now = utcnow()
    call = nomination.call
    files = {q.id: [a for a in nomination.attachments if a.field_id == q.id]
             for q in fields if q.type == FieldType.FILE}
    return render_template(
        "nominations/edit.html", nomination=nomination, call=call, form=form,
        questions=form.questions, files=files, deadline_error=deadline_error,
        page_error=page_error,
        file_hint=formbuilder.file_hint, file_limits=formbuilder.file_limits,
        max_request=current_app.config.get("MAX_CONTENT_LENGTH") or 0,
        max_request_text=size_text(current_app.config.get("MAX_CONTENT_LENGTH") or 0),
        mode=services.form_mode(nomination), countdown=_countdown(call, now, nomination),
        changes_reason=_changes_reason(nomination),
        consent_text=localized(call, "consent_text"), FieldType=FieldType,
    ), status


def _countdown(call: Call, now, nomination: Nomination) -> str:
    if nomination.status == NominationStatus.CHANGES_REQUESTED:
        return ""
    return countdown_text(call, now)


@bp.get("/<int:nomination_id>/edit")
@verified_required
def edit(nomination_id: int):
    nomination = _own_or_404(nomination_id)
    try:
        services.check_may_edit(viewer(), nomination, utcnow())
    except services.NominationError as exc:
        return _refused(nomination, exc, code=302)
    fields = services.fields_for(nomination)
    return _render_form(nomination, _build_form(nomination, fields), fields)


@bp.post("/<int:nomination_id>/edit")
@verified_required
@limiter.limit(_limit("RATELIMIT_NOMINATION"))
def save(nomination_id: int):
    return _handle_form(_own_or_404(nomination_id), final=False)


@bp.post("/<int:nomination_id>/submit")
@verified_required
@limiter.limit(_limit("RATELIMIT_NOMINATION"))
def submit(nomination_id: int):
    return _handle_form(_own_or_404(nomination_id), final=True)


@bp.get("/<int:nomination_id>/submit")
@verified_required
def submit_reloaded(nomination_id: int):
    """The address a refused submission was answered at, opened again (a reload, a bookmark):
    the form, with what the submission saved."""
    _own_or_404(nomination_id)
    return redirect(url_for(".edit", nomination_id=nomination_id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    """A save larger than the site takes (MAX_CONTENT_LENGTH): nothing of it can be read,
    so nothing is stored; the form answers again with the draft as it was last saved, to the
    one who may edit it (the policy: its signed-in applicant, while it is editable)."""
    nomination_id = (request.view_args or {}).get("nomination_id")
    nomination = get_db().get(Nomination, nomination_id) if nomination_id else None
    if (request.endpoint not in ("nominations.save", "nominations.submit")
            or nomination is None
            or not policy.allows(viewer(), policy.Action.EDIT_NOMINATION, nomination,
                                 now=utcnow()).ok):
        return errors.render_error(413)
    message = _("The files you sent are larger than the %(limit)s the site accepts in one "
                "save. Nothing from this save was stored: the form shows your draft as it was "
                "last saved. Choose smaller files and save again.",
                limit=size_text(current_app.config["MAX_CONTENT_LENGTH"] or 0))
    fields = services.fields_for(nomination)
    return _render_form(nomination, _build_form(nomination, fields, read_request=False),
                        fields, 413, page_error=message)


def _remove_ids() -> list[int]:
    try:
        return [db_int(request.form.get("remove_attachment", ""))]
    except ValueError:  # absent, or not an id any row can have
        return []


def _handle_form(nomination: Nomination, *, final: bool):
    """Both buttons of the form: the service does the work, this reads the form and shows
    the outcome. Draft (and changes requested): what is valid is saved even when something
    else is not, files included; Submit then needs everything. A nomination already
    submitted changes all at once or not at all, and each change is a new version."""
    db = get_db()
    fields = services.fields_for(nomination)
    form = _build_form(nomination, fields)
    form.validate_as(final=final)
    if form.csrf_failed:
        return _render_form(nomination, form, fields, 400)

    def read(complete: bool) -> services.Changes:
        form.validate_as(final=complete)
        return services.Changes(answers=form.valid_answers(), nominee=form.valid_nominee(),
                                uploads=form.uploads(), remove_ids=_remove_ids(),
                                errors=_has_errors(form))

    now = utcnow()
    try:
        if final:
            consent = form.personal_data_consent.data if form.asks_consent else True
            outcome = services.submit_nomination(
                session=db, viewer=viewer(), nomination=nomination,
                personal_data_consent=bool(consent), read=read, now=now)
        else:
            outcome = services.save_nomination(session=db, viewer=viewer(),
                                               nomination=nomination, read=read, now=now)
    except services.Invalid as exc:
        db.rollback()
        services.discard_stored(exc.saved.stored_names)
        _add_upload_errors(form, exc.saved)
        _add_missing(form, exc.missing, fields)
        return _render_form(nomination, form, fields, 400)
    except services.NominationError as exc:
        db.rollback()
        return _refused(nomination, exc, form=form, fields=fields)

    _add_upload_errors(form, outcome.saved)
    _add_missing(form, outcome.missing, fields)
    if not _commit(db, outcome.saved):
        return redirect(url_for(".edit", nomination_id=nomination.id), 303)
    if outcome.submitted:
        return redirect(url_for(".confirmation", nomination_id=nomination.id), 303)
    if (rows := formbuilder.row_action_target(form)) is not None and not _has_errors(form):
        return redirect(url_for(".edit", nomination_id=nomination.id, **rows), 303)
    if outcome.mode == "submitted":
        if outcome.version is None:
            flash(_("Nothing was changed."), "info")
        else:
            flash(_("Your changes are saved (version %(n)d). The nomination stays submitted.",
                    n=outcome.version.number), "success")
        return redirect(url_for(".show", nomination_id=nomination.id), 303)
    if _has_errors(form):
        return _render_form(nomination, form, fields, 400)
    result = outcome.saved
    if result.removed and not result.changed and not result.uploaded:
        flash(_("The file was removed."), "success")
    else:
        flash(_("Your draft is saved.") if outcome.mode == "draft"
              else _("Your changes are saved."), "success")
    return redirect(url_for(".edit", nomination_id=nomination.id), 303)


def _refused(nomination: Nomination, exc: services.NominationError, *, form=None,
             fields=None, code: int = 303):
    """A service's refusal as the page shows it."""
    if isinstance(exc, services.Refused):
        if exc.status == 404:
            abort(404)
        return _render_show(nomination, exc.status, refusal=str(exc.message))
    if isinstance(exc, services.DeadlinePassed) and form is not None:
        return _render_form(nomination, form, fields, 409,
                            deadline_error=_deadline_message(nomination.call))
    if isinstance(exc, services.DeadlinePassed):
        flash(_deadline_message(nomination.call), "error")
    elif (isinstance(exc, services.AlreadySubmitted)
          and nomination.status == NominationStatus.SUBMITTED):
        # A second click, or a second tab: the nomination stays as first submitted.
        flash(_("This nomination has already been submitted (reference %(ref)s).",
                ref=nomination.reference), "info")
    elif form is not None:
        # A refused save: answered as refused (409) on the nomination's page, not redirected.
        return _render_show(nomination, 409, refusal=str(_not_editable_message(nomination)))
    else:
        flash(_not_editable_message(nomination), "error")
    return redirect(url_for(".show", nomination_id=nomination.id), code)


def _add_upload_errors(form, result: services.SaveResult) -> None:
    by_id = {q.id: q for q in form.questions}
    for field_id, messages in result.upload_errors.items():
        for message in messages:
            form.add_error(formbuilder.field_name(by_id[field_id]), message)


def _has_errors(form) -> bool:
    return any(f.errors for f in form)


def _add_missing(form, missing: list[str], fields) -> None:
    """"Required" on each missing field that shows no other error."""
    file_names = {formbuilder.field_name(q) for q in fields if q.type == FieldType.FILE}
    for name in map(formbuilder.form_name, missing):
        if name not in form or form[name].errors:
            continue
        if name in file_names:
            form.add_error(name, formbuilder.MSG_FILE_REQUIRED)
        elif form[name].type == "BooleanField":
            form.add_error(name, formbuilder.MSG_TICK)
        else:
            form.add_error(name, formbuilder.MSG_REQUIRED)


def _commit(db, result) -> bool:
    """Commit; on a lost race with another save of the same nomination, tell the user."""
    try:
        db.commit()
    except StaleDataError:
        db.rollback()
        services.discard_stored(result.stored_names)
        flash(_("This nomination was changed in another window at the same time. Please check "
                "it and try again."), "error")
        return False
    services.delete_files_of(result.removed)
    return True


# ---- withdrawing ----------------------------------------------------------------------------


@bp.route("/<int:nomination_id>/withdraw", methods=["GET", "POST"])
@verified_required
def withdraw(nomination_id: int):
    nomination = _own_or_404(nomination_id)
    try:
        services.check_may_withdraw(viewer(), nomination, now=utcnow())
    except services.NominationError as exc:
        return _refused(nomination, exc, code=302)
    form = WithdrawForm()
    if request.method == "POST" and form.validate():
        db = get_db()
        try:
            services.withdraw_nomination(session=db, viewer=viewer(), nomination=nomination,
                                         reason=form.reason.data or "")
        except services.NominationError as exc:
            db.rollback()
            return _refused(nomination, exc)
        db.commit()
        flash(_("The nomination is withdrawn."), "success")
        return redirect(url_for(".show", nomination_id=nomination.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("nominations/withdraw.html", nomination=nomination,
                           call=nomination.call, form=form), status


# ---- the nominee's consent (no login: the link is the credential) -----------------------------


@bp.route("/consent/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_CONSENT"))
def consent(token: str):
    nomination = services.find_by_consent_token(get_db(), token)
    return answer_page(token, None if nomination is None else _nominee_subject(nomination))


def _nominee_subject(nomination: Nomination) -> ConsentSubject:
    return ConsentSubject(
        nomination=nomination, title=_("You have been nominated"),
        facts=nomination_facts(nomination, (_("Nominee"), nomination.nominee_name or "")),
        accept_label=_("I agree to be nominated"),
        decline_label=_("I decline the nomination"),
        accepted_message=_("Thank you: you have confirmed the nomination."),
        declined_message=_("You have declined the nomination. The applicant will be told."),
        confirmed_text=lambda when: _("You confirmed this nomination on %(when)s.", when=when),
        declined_text=lambda when: _("You declined this nomination on %(when)s.", when=when),
        confirmed_at=nomination.nominee_consent_at, declined_at=nomination.nominee_declined_at,
        is_open=services.consent_open(nomination),
        record=lambda db, accept: services.record_nominee_answer(
            session=db, nomination=nomination, accept=accept),
        closed=services.NotEditable)
