"""Administrators prepare citations and photos, publish a call's results now or at a set time
(through a confirmation page that says what will happen), and publish corrections."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from awards import lifecycle
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import CallStatus, DecisionKind
from awards.nominations.models import Nomination
from awards.ranking.models import Decision
from awards.results import services
from awards.results.forms import (
    CitationForm,
    CorrectionForm,
    PublishForm,
    RescheduleForm,
    StateForm,
)
from awards.results.models import Citation
from awards.storage import UploadError, path_for, save_upload
from awards.timeutil import utc_to_local_naive
from awards.views_common import actor, call_time, get_or_404, run_action

bp = Blueprint("results_admin", __name__, url_prefix="/admin/results")


@bp.before_request
def _guard():
    """One guard for the whole blueprint, so a route added later cannot forget it."""
    if not current_user.is_authenticated:
        from awards.extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def _version_or_404(call: Call, version: int):
    publication = services.publication_version(get_db(), call, version)
    if publication is None:
        abort(404)
    return publication


def _synced(call_id: int) -> Call:
    """The call, its phase brought up to date with the clock (scheduled results gone public)."""
    db = get_db()
    call = get_or_404(Call, call_id)
    if lifecycle.sync(db, call, utcnow()):
        db.commit()
    return call


def _render(call: Call, *, status: int = 200, publish_form=None, correction_form=None,
            reschedule_form=None):
    db = get_db()
    now = utcnow()
    groups = services.decided_winners(db, call)
    publications = services.publications_of(db, call)
    current = services.current_publication(db, call, now)
    pending = services.pending_publication(db, call, now)
    token = services.state_token(db, call)
    if publish_form is None:
        publish_form = PublishForm(formdata=None, meta={"csrf": False})
    if correction_form is None:
        correction_form = CorrectionForm(formdata=None, data={"state": token})
    if reschedule_form is None and pending is not None:
        reschedule_form = RescheduleForm(formdata=None, data={
            "state": token,
            "scheduled_for": utc_to_local_naive(pending.scheduled_for, call.timezone)})
    for form in (publish_form, correction_form, reschedule_form):
        if form is not None:
            form.state.data = token
    is_correction = bool(publications)
    can_publish = services.publish_refusal(db, actor(), call, now=now) is None
    return render_template(
        "results_admin/overview.html", call=call, groups=groups,
        warnings=services.checklist(db, call, groups), publications=publications,
        current=current, pending=pending, now=now, token=token, publish_form=publish_form,
        correction_form=correction_form, reschedule_form=reschedule_form,
        state_form=StateForm(formdata=None, data={"state": token}),
        is_correction=is_correction, can_publish=can_publish,
        phase_label=lifecycle.PHASE_LABELS[CallStatus(call.status)],
        can_correct=services.correct_refusal(db, actor(), call, now=now) is None,
        winners_count=sum(len(g.winners) for g in groups), pick=services.pick,
        format_code=services.format_code,
    ), status


def _back(call: Call):
    return redirect(url_for(".overview", call_id=call.id), code=303)


@bp.get("/calls/<int:call_id>")
def overview(call_id: int):
    return _render(_synced(call_id))


def _confirmation(call: Call, form: PublishForm, *, status: int = 200):
    """What publishing will do: the version, when, the winners per category, what is missing,
    who is e-mailed, and what cannot be undone."""
    db = get_db()
    now = utcnow()
    summary = services.preview(db, call, now=now)
    token = services.state_token(db, call)
    state_form = StateForm(formdata=None, data={"state": token})
    state_form.state.data = token
    return render_template(
        "results_admin/confirm_publish.html", call=call, form=form, summary=summary,
        state_form=state_form,
        when=form.when(call.timezone), pick=services.pick,
        phase_label=lifecycle.PHASE_LABELS[CallStatus(call.status)],
        can_publish=services.publish_refusal(db, actor(), call, now=now) is None), status


@bp.get("/calls/<int:call_id>/publish")
def confirm_publish(call_id: int):
    """The confirmation page (changes nothing): the publish form of the overview leads here."""
    call = _synced(call_id)
    form = PublishForm(request.args, meta={"csrf": False},
                       data={"state": services.state_token(get_db(), call)})
    if not form.validate():
        return _render(call, status=400, publish_form=form)
    when = form.when(call.timezone)
    if when is not None and when <= utcnow():
        form.scheduled_for.errors = [_("The publication time must be in the future. To "
                                       "publish at once, choose “Publish now”.")]
        return _render(call, status=400, publish_form=form)
    refused = services.publish_refusal(get_db(), actor(), call, now=utcnow())
    if refused is not None:
        flash(str(refused.reason), "error")
        return _render(call, status=refused.status, publish_form=form)
    return _confirmation(call, form)


@bp.post("/calls/<int:call_id>/publish")
def publish(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    form = PublishForm()
    if not form.validate():
        if form.csrf_token.errors or form.state.errors:
            flash(_("The form expired. Please try again."), "error")
        return _render(call, status=400, publish_form=form)
    done = run_action(
        lambda: services.publish(session=db, actor=actor(), call=call,
                                 scheduled_for=form.when(call.timezone), notes=form.notes(),
                                 token=form.state.data),
        form=form, success=lambda publication: _published(call, publication))
    if done:
        return _back(call)
    if isinstance(done.error, services.PhaseRefused) \
            and services.publish_refusal(db, actor(), call, now=utcnow()) is None:
        return _confirmation(call, form, status=done.status())
    return _render(call, status=done.status(), publish_form=form)


def _published(call: Call, publication) -> str:
    if publication.published_at is not None:
        return _("Version %(version)d of the results is published.",
                 version=publication.version)
    return _("Version %(version)d of the results will be published on %(when)s. Until then "
             "nobody but administrators can see it.", version=publication.version,
             when=call_time(publication.scheduled_for, call))


@bp.post("/calls/<int:call_id>/versions/<int:version>/reschedule")
def reschedule(call_id: int, version: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    publication = _version_or_404(call, version)
    form = RescheduleForm()
    if not form.validate():
        if form.csrf_token.errors or form.state.errors:
            flash(_("The form expired. Please try again."), "error")
        return _render(call, status=400, reschedule_form=form)
    from awards.timeutil import local_to_utc

    done = run_action(
        lambda: services.reschedule(
            session=db, actor=actor(), publication=publication,
            scheduled_for=local_to_utc(form.scheduled_for.data, call.timezone),
            token=form.state.data),
        form=form,
        success=_("The publication time is changed; the e-mails to applicants move with it."))
    return _back(call) if done else _render(call, status=done.status(), reschedule_form=form)


@bp.post("/calls/<int:call_id>/versions/<int:version>/withdraw")
def withdraw(call_id: int, version: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    publication = _version_or_404(call, version)
    form = StateForm()
    if not form.validate():
        flash(_("The form expired. Please try again."), "error")
        return _render(call, status=400)
    done = run_action(
        lambda: services.withdraw(session=db, actor=actor(), publication=publication,
                                  token=form.state.data),
        success=_("The scheduled version is withdrawn; its e-mails will not be sent. The "
                  "decisions can be changed again."))
    return _back(call) if done else _render(call, status=done.status())


@bp.post("/calls/<int:call_id>/correction")
def correction(call_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    form = CorrectionForm()
    if not form.validate():
        if form.csrf_token.errors or form.state.errors:
            flash(_("The form expired. Please try again."), "error")
        return _render(call, status=400, correction_form=form)
    done = run_action(
        lambda: services.open_correction(session=db, actor=actor(), call=call,
                                         reason=form.reason.data, token=form.state.data),
        form=form,
        success=_("A correction is open: the published version stays public while you change "
                  "the decisions on the ranking page. Then publish the next version with a "
                  "note."))
    return _back(call) if done else _render(call, status=done.status(), correction_form=form)


# ---- citations --------------------------------------------------------------------------------


def _awarded_or_404(call: Call, nomination_id: int) -> Nomination:
    db = get_db()
    nomination = db.get(Nomination, nomination_id)
    awarded = db.scalar(select(Decision.id).where(
        Decision.nomination_id == nomination_id, Decision.call_id == call.id,
        Decision.kind == DecisionKind.AWARD, Decision.revoked_at.is_(None)).limit(1))
    if nomination is None or nomination.call_id != call.id or awarded is None:
        abort(404)
    return nomination


@bp.route("/calls/<int:call_id>/citations/<int:nomination_id>", methods=["GET", "POST"])
def citation(call_id: int, nomination_id: int):
    db = get_db()
    call = get_or_404(Call, call_id)
    nomination = _awarded_or_404(call, nomination_id)
    existing = db.scalar(select(Citation).where(Citation.nomination_id == nomination.id))
    if request.method == "POST":
        form = CitationForm()
    else:
        form = CitationForm(data={f"text_{lang}": getattr(existing, f"text_{lang}", "")
                                  for lang in services.LANGS})
    if form.validate_on_submit():
        stored = None
        upload = form.upload()
        if upload is not None:
            try:
                stored = save_upload(upload.stream, upload.filename,
                                     allowed=services.PHOTO_TYPES,
                                     max_bytes=services.PHOTO_MAX_BYTES)
            except UploadError as exc:
                form.photo.errors = [exc.message]
        if not form.photo.errors and run_action(
                lambda: services.save_citation(session=db, actor=actor(), nomination=nomination,
                                               values=form.values(), photo=stored,
                                               remove_photo=bool(form.remove_photo.data)),
                form=form,
                success=_("The citation is saved. It appears in the next published version.")):
            return _back(call)
    status = 400 if form.is_submitted() else 200
    return render_template("results_admin/citation.html", call=call, nomination=nomination,
                           citation=existing, form=form,
                           name=services.recipient_name(nomination)), status


@bp.get("/photos/<name>")
def photo(name: str):
    """Any citation's photo, for the administrators' pages and previews."""
    db = get_db()
    citation = db.scalar(select(Citation).where(Citation.photo_name == name))
    content_type = citation.photo_content_type if citation is not None else None
    if content_type is None:
        # A photo replaced since: still shown by the version that froze it.
        from awards.results.models import Publication

        for publication in db.scalars(select(Publication)):
            for winner in services.snapshot_winners(publication.snapshot):
                if winner.get("photo") == name:
                    content_type = winner.get("photo_type")
    if content_type is None:
        abort(404)
    try:
        path = path_for(name)
    except FileNotFoundError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=content_type, max_age=0)
