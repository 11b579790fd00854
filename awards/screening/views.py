"""Eligibility screening pages for administrators: calls to screen, the entries of a call
(filtered, searched, paginated, decided in bulk) and one entry with its decision form."""

from __future__ import annotations

from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from awards.boundary import page_number
from awards.db import get_db, utcnow
from awards.enums import FieldType, NominationStatus
from awards.i18n import localized
from awards.nominations.formbuilder import display_value
from awards.nominations.models import Attachment, Nomination
from awards.permissions import admin_required
from awards.policy import Forbidden
from awards.screening import services
from awards.screening.forms import BulkDecisionForm, DecisionForm, FilterForm
from awards.views_common import viewer

bp = Blueprint("screening", __name__, url_prefix="/admin/screening")

STATUS_BADGES = {
    NominationStatus.DRAFT: "",
    NominationStatus.SUBMITTED: "",
    NominationStatus.ELIGIBLE: "ok",
    NominationStatus.INELIGIBLE: "bad",
    NominationStatus.CHANGES_REQUESTED: "warn",
    NominationStatus.WITHDRAWN: "",
}


def consent_state(nomination: Nomination) -> str:
    if not nomination.nominee_consent_required:
        return "not_required"
    if nomination.nominee_declined_at is not None:
        return "declined"
    if nomination.nominee_consent_at is not None:
        return "given"
    return "pending"


def attachment_url(attachment: Attachment) -> str:
    # Served by the nominations feature, which checks permission (administrators may download).
    if "nominations.attachment" in current_app.view_functions:
        return url_for("nominations.attachment", nomination_id=attachment.nomination_id,
                       attachment_id=attachment.id)
    return (f"{request.script_root}/nominations/{attachment.nomination_id}"
            f"/attachments/{attachment.id}")


def _helpers() -> dict:
    return {
        "status_labels": services.STATUS_LABELS,
        "status_badges": STATUS_BADGES,
        "consent_state": consent_state,
        "attachment_url": attachment_url,
    }


def _filter_args() -> dict[str, str]:
    """The list's query string, kept across pagination, bulk actions and redirects."""
    return {key: value for key in ("category", "status", "q", "page")
            if (value := request.args.get(key, "").strip())}


@bp.get("/")
@admin_required
def index():
    overview = services.screening_overview(session=get_db())
    return render_template("screening/index.html", overview=overview, **_helpers())


def _phase_allows(call):
    """The policy's answer for screening this call now: the pages say why not and offer no
    decision form then."""
    return services.may_screen(session=get_db(), call=call, actor=current_user,
                               viewer=viewer(), now=utcnow())


def _render_list(call, bulk_form: BulkDecisionForm, *, problems=(), message=None, status=200):
    db = get_db()
    filters = FilterForm(request.args)
    filters.set_categories(call.categories, lambda c: localized(c, "name"))
    page = services.list_nominations(
        session=db,
        call=call,
        category_id=filters.category_id({c.id for c in call.categories}),
        status=filters.status_value(),
        q=filters.search(),
        page=page_number(request.args.get("page")) or 1,
    )
    selected = {item_id for item_id, _v in services.parse_items(bulk_form.selected.data or [])}
    args = _filter_args()
    return render_template(
        "screening/list.html", call=call, page=page, filters=filters, bulk_form=bulk_form,
        selected=selected, problems=problems, message=message, args=args,
        screening_allowed=_phase_allows(call),
        args_without_page={k: v for k, v in args.items() if k != "page"}, **_helpers(),
    ), status


def _call_or_404(call_id: int):
    call = services.get_call(session=get_db(), call_id=call_id)
    if call is None:
        abort(404)
    return call


@bp.get("/<int:call_id>/", endpoint="list")
@admin_required
def list_view(call_id: int):
    call = _call_or_404(call_id)
    return _render_list(call, BulkDecisionForm(formdata=None))


@bp.post("/<int:call_id>/bulk")
@admin_required
def bulk(call_id: int):
    db = get_db()
    call = _call_or_404(call_id)
    form = BulkDecisionForm()
    if not form.validate():
        return _render_list(call, form, status=400)
    decision = NominationStatus(form.decision.data)
    try:
        changes = services.decide_many(
            session=db, call=call, items=services.parse_items(form.selected.data),
            decision=decision, actor=current_user._get_current_object(),
            reason=form.reason.data or "", viewer=viewer(), now=utcnow(),
        )
    except Forbidden as refusal:
        db.rollback()
        return _render_list(_call_or_404(call_id), form, message=refusal.message,
                            status=refusal.status)
    except services.ScreeningRefused as refusal:
        db.rollback()
        call = _call_or_404(call_id)
        problems = getattr(refusal, "problems", [refusal])
        return _render_list(call, form, problems=problems, message=refusal.message,
                            status=refusal.status_code)
    db.commit()
    flash(ngettext("%(num)d nomination marked “%(status)s”; the applicant has been notified.",
                   "%(num)d nominations marked “%(status)s”; the applicants have been notified.",
                   len(changes), status=services.STATUS_LABELS[decision]), "success")
    return redirect(url_for("screening.list", call_id=call.id, **_filter_args()), 303)


def _nomination_or_404(nomination_id: int) -> Nomination:
    nomination = services.get_nomination(session=get_db(), nomination_id=nomination_id)
    if nomination is None:
        abort(404)
    return nomination


def _answer_rows(nomination: Nomination) -> list[dict]:
    """Each answer as the page shows it: text lines, or the files it refers to."""
    attachments = {a.id: a for a in nomination.attachments}
    rows = []
    for answer in services.ordered_answers(nomination):
        fld = answer.field
        value = answer.value
        row = {"label": localized(fld, "label") or fld.key, "key": fld.key, "files": [],
               "text": ""}
        if fld.type == FieldType.FILE:
            ids = value if isinstance(value, list) else []
            row["files"] = [attachments[i] for i in ids if i in attachments]
        elif fld.type in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
            labels = {str(o.get("value")): localized(SimpleNamespace(**o), "label")
                      or str(o.get("value")) for o in fld.options or []}
            values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            row["text"] = ", ".join(labels.get(str(v), str(v)) for v in values)
        elif fld.type == FieldType.AUTHORS:
            row["text"] = "\n".join(display_value(fld, value))
        elif fld.type == FieldType.CHECKBOX or isinstance(value, bool):
            row["text"] = _("Yes") if value else _("No")
        elif isinstance(value, list):
            row["text"] = ", ".join(str(v) for v in value)
        else:
            row["text"] = "" if value is None else str(value)
        rows.append(row)
    return rows


def _render_show(nomination: Nomination, form: DecisionForm, *, message=None, status=200):
    answers = _answer_rows(nomination)
    attached_to_answers = {a.id for row in answers for a in row["files"]}
    return render_template(
        "screening/show.html", nomination=nomination, form=form, message=message,
        answers=answers,
        other_attachments=[a for a in nomination.attachments if a.id not in attached_to_answers],
        screenable=nomination.status in services.SCREENABLE_FROM,
        screening_allowed=_phase_allows(nomination.call),
        decisions=[d for d in services.DECISIONS if d != nomination.status],
        **_helpers(),
    ), status


@bp.get("/nomination/<int:nomination_id>")
@admin_required
def show(nomination_id: int):
    nomination = _nomination_or_404(nomination_id)
    form = DecisionForm(formdata=None, data={"version": nomination.version_id})
    return _render_show(nomination, form)


@bp.post("/nomination/<int:nomination_id>/decision")
@admin_required
def decide(nomination_id: int):
    db = get_db()
    nomination = _nomination_or_404(nomination_id)
    form = DecisionForm()
    if not form.validate():
        return _render_show(nomination, form, status=400)
    decision = NominationStatus(form.decision.data)
    try:
        services.decide(
            session=db, nomination=nomination, decision=decision,
            actor=current_user._get_current_object(), reason=form.reason.data or "",
            note=form.note.data or "", expected_version=form.version.data,
            viewer=viewer(), now=utcnow(),
        )
    except Forbidden as refusal:
        db.rollback()
        return _render_show(_nomination_or_404(nomination_id), form, message=refusal.message,
                            status=refusal.status)
    except services.ScreeningRefused as refusal:
        db.rollback()
        nomination = _nomination_or_404(nomination_id)
        # The page now shows the current state; deciding again from it is deliberate.
        form.version.data = nomination.version_id
        form.version.raw_data = [str(nomination.version_id)]
        return _render_show(nomination, form, message=refusal.message,
                            status=refusal.status_code)
    db.commit()
    flash(_("%(ref)s marked “%(status)s”; the applicant has been notified.",
            ref=nomination.reference or f"#{nomination.id}",
            status=services.STATUS_LABELS[decision]), "success")
    return redirect(url_for("screening.show", nomination_id=nomination.id), 303)
