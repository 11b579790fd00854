"""The token owner, and nominations: an applicant's own (start, answer, submit, withdraw);
administrators read every nomination with filters.

Writes go through ``awards.nominations.services`` and validate answers with the same form
the page builds (``awards.nominations.formbuilder``), so the API accepts exactly what the
page accepts. Someone else's nomination is a 404, as on the pages. Files are uploaded on the
site; the API lists them."""

from __future__ import annotations

import json
from typing import Any

from flask import session as http_session
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from awards.api import serialize
from awards.api.auth import require_user, require_verified
from awards.api.blueprint import bp
from awards.api.http import Paging, json_body, json_response, query_choice, query_text
from awards.api.problems import ApiProblem, field_error
from awards.api.spec import NO_CONTROL, Param, operation, path_id
from awards.calls.models import Call, Category
from awards.db import get_db, utcnow
from awards.enums import CallStatus, FieldType, NominationStatus, NominatorKind
from awards.jury.models import JuryMember, Panel
from awards.nominations import formbuilder, services
from awards.nominations.models import Nomination
from awards.permissions import can_view_nomination
from awards.views_common import viewer

NOMINATION_ID = path_id("nomination_id", "The nomination's id.")
CATEGORY_MAX = 40  # a category's code (Category.code)


@operation(bp, "/me", tag="account", auth="token", summary="The caller's account and roles",
           responses={200: ("Me", "The account.")})
def me():
    user = require_user()
    from awards.enums import JurorStatus

    seats = get_db().execute(
        select(Call.slug, JuryMember.is_chair).join(Panel, Panel.call_id == Call.id)
        .join(JuryMember, JuryMember.panel_id == Panel.id)
        .where(JuryMember.user_id == user.id, JuryMember.status == JurorStatus.ACTIVE)
        .order_by(Call.slug)).all()
    return json_response({
        "id": user.id, "email": user.email, "full_name": user.full_name or "",
        "organisation": user.organisation or "",
        "preferred_language": user.preferred_language or "",
        "email_verified": user.email_verified, "is_admin": bool(user.is_admin),
        "juror_of_calls": sorted({slug for slug, _chair in seats}),
        "chair_of_calls": sorted({slug for slug, chair in seats if chair}),
    })


# ---- reading ----------------------------------------------------------------------------------


@operation(bp, "/nominations", tag="nominations", auth="token", paged=True,
           summary="Nominations: your own; administrators see all",
           description="Newest first. The filters work for everyone; for an administrator "
                       "they search every nomination.",
           params=[
               Param("call", {"type": "string", "maxLength": 80}, "A call's slug."),
               Param("category", {"type": "string", "maxLength": CATEGORY_MAX,
                                  "pattern": NO_CONTROL},
                     f"A category's code, at most {CATEGORY_MAX} characters."),
               Param("status", {"type": "string", "enum": [s.value for s in
                                                           NominationStatus]}, "A status."),
               Param("q", {"type": "string", "maxLength": 200},
                     "Search in the reference, nominee's name and e-mail, organisation."),
           ],
           responses={200: ("NominationPage", "One page of nominations.")})
def list_nominations():
    user = require_user()
    query = select(Nomination).order_by(Nomination.created_at.desc(), Nomination.id.desc())
    if not user.is_admin:
        query = query.where(Nomination.applicant_id == user.id)
    call_slug = query_text("call", max_length=80)
    category_code = query_text("category", max_length=CATEGORY_MAX)
    status = query_choice("status", [s.value for s in NominationStatus])
    search = query_text("q")
    if call_slug is not None:
        query = query.join(Call, Call.id == Nomination.call_id).where(Call.slug == call_slug)
    if category_code is not None:
        query = query.join(Category, Category.id == Nomination.category_id).where(
            Category.code == category_code)
    if status is not None:
        query = query.where(Nomination.status == NominationStatus(status))
    if search is not None:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(column.ilike(like, escape="\\") for column in (
            Nomination.reference, Nomination.nominee_name, Nomination.nominee_email,
            Nomination.organisation_name))))
    paging = Paging()
    items, total = paging.query(get_db(), query)
    now = utcnow()
    return json_response(paging.body([serialize.nomination(n, now) for n in items], total),
                         headers=paging.link_header(total))


def _viewable_or_404(nomination_id: int) -> Nomination:
    nomination = get_db().get(Nomination, nomination_id)
    if nomination is None or not can_view_nomination(require_user(), nomination):
        raise ApiProblem("not-found")
    return nomination


def _own_or_404(nomination_id: int, user) -> Nomination:
    nomination = get_db().get(Nomination, nomination_id)
    if nomination is None or nomination.applicant_id != user.id:
        raise ApiProblem("not-found")
    return nomination


@operation(bp, "/nominations/{nomination_id}", tag="nominations", auth="token",
           params=[NOMINATION_ID], summary="One nomination (yours, or any for administrators)",
           responses={200: ("Nomination", "The nomination.")})
def get_nomination(nomination_id: int):
    return json_response(serialize.nomination(_viewable_or_404(nomination_id), utcnow()))


# ---- writing ----------------------------------------------------------------------------------


def _refusal(exc: services.NominationError) -> ApiProblem:
    if isinstance(exc, services.Refused):
        if exc.status == 404:
            return ApiProblem("not-found")
        if exc.rule == "not_frozen":
            return ApiProblem("results-published", exc.message)
        if exc.status == 409:
            return ApiProblem("not-editable", exc.message)
        return ApiProblem("forbidden", exc.message)
    if isinstance(exc, services.DeadlinePassed):
        return ApiProblem("deadline-passed", _l(
            "The deadline passed at %(when)s (UTC). The nomination can no longer be submitted "
            "or changed.", when=serialize.dt(exc.closes_at)))
    if isinstance(exc, services.CallNotOpen):
        return ApiProblem("call-not-open")
    if isinstance(exc, services.AlreadySubmitted):
        return ApiProblem("already-submitted")
    return ApiProblem("not-editable")


def _commit() -> None:
    db = get_db()
    try:
        db.commit()
    except StaleDataError:
        db.rollback()
        raise ApiProblem("stale", _l("This nomination was changed at the same time by another "
                                     "request. Read it again and retry.")) from None


@operation(bp, "/nominations", "POST", tag="nominations", auth="token",
           body="NominationCreate", problems=["email-not-verified", "call-not-open",
                                              "deadline-passed"],
           summary="Start a nomination (a draft) in a call's category",
           rules=["Also when `call` names no call open to applicants, `category` is not a "
                  "category of that call, or the call does not accept that `nominator_kind`; "
                  "`errors` names the field."],
           responses={201: ("Nomination", "The new draft; `Location` is its address.")})
def create_nomination():
    user = require_verified()
    body = json_body()
    errors = []
    for name, limit in (("call", 80), ("category", 40)):
        value = body.get(name)
        if not isinstance(value, str) or not value or len(value) > limit:
            errors.append(field_error(name, formbuilder.MSG_REQUIRED))
    kind = body.get("nominator_kind")
    if kind not in [k.value for k in NominatorKind]:
        errors.append(field_error("nominator_kind", _l("Choose who is nominated.")))
    if errors:
        raise ApiProblem("validation-failed", errors=errors)
    db = get_db()
    call = db.scalar(select(Call).where(Call.slug == body["call"]))
    if call is None or call.status == CallStatus.DRAFT:
        raise ApiProblem("validation-failed", errors=[field_error(
            "call", _l("There is no such call."))])
    category = next((c for c in call.categories if c.code == body["category"]), None)
    if category is None:
        raise ApiProblem("validation-failed", errors=[field_error(
            "category", _l("Choose a category."))])
    if not call.accepts_nominator(kind):
        raise ApiProblem("validation-failed", errors=[field_error(
            "nominator_kind", _l("This call does not accept this kind of nominator."))])
    try:
        nomination = services.start_nomination(session=db, call=call, category=category,
                                               nominator_kind=kind, applicant=user,
                                               now=utcnow())
    except services.NominationError as exc:
        raise _refusal(exc) from None
    db.commit()
    location = url_for("api.get_nomination", nomination_id=nomination.id)
    return json_response(serialize.nomination(nomination, utcnow()), 201,
                         headers={"Location": location})


# What each kind of question takes in JSON (null always clears an answer).
_EXPECTED = {
    FieldType.NUMBER: ((int, float, str), _l("Enter a number.")),
    FieldType.MULTIPLE_CHOICE: ((list,), _l("Give a list of option values.")),
    FieldType.CHECKBOX: ((bool,), _l("Give true or false.")),
    FieldType.AUTHORS: ((list,), _l("Give a list of authors, each an object with name_kk, "
                                    "name_ru, name_en, role and email.")),
}
_TEXT = ((str,), _l("Give a text value."))


def _as_formdata(definition, value: Any, field: str) -> list[str]:
    """A JSON answer as the values a browser would post for the question."""
    if value is None:
        return []
    types, message = _EXPECTED.get(definition.type, _TEXT)
    if isinstance(value, bool) and bool not in types:
        raise ApiProblem("validation-failed", errors=[field_error(field, message)])
    if not isinstance(value, types):
        raise ApiProblem("validation-failed", errors=[field_error(field, message)])
    if definition.type == FieldType.CHECKBOX:
        return ["y"] if value else []
    if definition.type == FieldType.AUTHORS:
        if not all(isinstance(v, dict) for v in value):
            raise ApiProblem("validation-failed", errors=[field_error(field, message)])
        return [json.dumps(v, ensure_ascii=False) for v in value]
    if definition.type == FieldType.MULTIPLE_CHOICE:
        if not all(isinstance(v, str) for v in value):
            raise ApiProblem("validation-failed", errors=[field_error(field, message)])
        return list(value)
    return [str(value)]


def _stored_formdata(nomination, fields) -> MultiDict:
    data = MultiDict()
    for name, value in formbuilder.initial_data(nomination, fields).items():
        if value is None or value is False:
            continue
        if value is True:
            data.add(name, "y")
        elif isinstance(value, list):
            for item in value:  # an author is posted as JSON, as the API takes it
                data.add(name, json.dumps(item, ensure_ascii=False) if isinstance(item, dict)
                         else str(item))
        else:
            data.add(name, str(value))
    return data


def _build_form(nomination, fields, formdata: MultiDict):
    """The page's form class for this nomination, bound to ``formdata``. No CSRF: a Bearer
    token is not sent by browsers on their own."""
    had_token = "csrf" in http_session
    template = formbuilder.build_form(
        fields, nominator_kind=nomination.nominator_kind,
        consent_required=nomination.nominee_consent_required, asks_consent=False)
    if not had_token:
        http_session.pop("csrf", None)  # built only to get the class; keep the session clean
    form = type(template)(formdata=formdata, meta={"csrf": False})
    return form


def _form_errors(form) -> list[dict]:
    errors = []
    for f in form:
        if not f.errors:
            continue
        name = f.name
        field = ("answers." + name[len(formbuilder.ANSWER_PREFIX):]
                 if name.startswith(formbuilder.ANSWER_PREFIX) else "nominee." + name)
        errors += [field_error(field, message) for message in f.errors]
    return errors


def _missing_errors(missing: list[str], fields) -> list[dict]:
    files = {f.key for f in fields if f.type == FieldType.FILE}
    checkboxes = {f.key for f in fields if f.type == FieldType.CHECKBOX}
    errors = []
    for name in missing:
        if name in services.NOMINEE_COLUMNS:
            errors.append(field_error("nominee." + name, formbuilder.MSG_REQUIRED))
        elif name == "personal_data_consent":
            errors.append(field_error(name, _l("Please accept the consent to submit the "
                                               "nomination.")))
        elif name in files:
            errors.append(field_error("answers." + name, formbuilder.MSG_FILE_REQUIRED))
        elif name in checkboxes:
            errors.append(field_error("answers." + name, formbuilder.MSG_TICK))
        else:
            errors.append(field_error("answers." + name, formbuilder.MSG_REQUIRED))
    return errors


@operation(bp, "/nominations/{nomination_id}", "PATCH", tag="nominations", auth="token",
           params=[NOMINATION_ID], body="NominationUpdate",
           problems=["email-not-verified", "deadline-passed", "not-editable",
                     "results-published", "stale"],
           summary="Change the nominee's details and answers (only those given)",
           description="A draft keeps what is valid and may stay incomplete. A nomination "
                       "already submitted changes all at once or not at all, must stay "
                       "complete, and each change is a new version, as on the page.",
           responses={200: ("Nomination", "The nomination after the change.")})
def update_nomination(nomination_id: int):
    user = require_verified()
    nomination = _own_or_404(nomination_id, user)
    body = json_body()
    nominee_in = body.get("nominee") or {}
    answers_in = body.get("answers") or {}
    if not isinstance(nominee_in, dict):
        raise ApiProblem("validation-failed", errors=[field_error(
            "nominee", _l("Give an object of the nominee's details."))])
    if not isinstance(answers_in, dict):
        raise ApiProblem("validation-failed", errors=[field_error(
            "answers", _l("Give an object of answers by question key."))])

    def read(complete: bool) -> services.Changes:
        """The body checked by the page's form over the stored answers; a wrong value
        refuses the whole request (422), in a draft too."""
        fields = services.fields_for(nomination)
        questions = {q.key: q for q in services.question_fields(fields)}
        rules = services.nominee_rules(nomination.nominator_kind, fields,
                                       consent_required=nomination.nominee_consent_required)
        formdata = _stored_formdata(nomination, fields)
        errors = []
        for name, value in nominee_in.items():
            if name not in rules:
                errors.append(field_error(f"nominee.{name}", _l(
                    "This detail is not asked of this kind of nominator.")))
            elif value is not None and not isinstance(value, str):
                errors.append(field_error(f"nominee.{name}", _l("Give a text value.")))
            else:
                formdata.setlist(name, [value] if value else [])
        for key, value in answers_in.items():
            definition = questions.get(key)
            if definition is None:
                errors.append(field_error(f"answers.{key}", _l(
                    "There is no such question in this nomination's form.")))
            elif definition.type == FieldType.FILE:
                errors.append(field_error(f"answers.{key}", _l(
                    "Files are attached on the nomination's page, not through the API.")))
            else:
                try:
                    formdata.setlist(formbuilder.field_name(definition),
                                     _as_formdata(definition, value, f"answers.{key}"))
                except ApiProblem as problem:
                    errors += problem.errors or []
        if errors:
            raise ApiProblem("validation-failed", errors=errors)
        form = _build_form(nomination, fields, formdata)
        form.validate_as(final=complete)
        errors = _form_errors(form)
        if errors:
            raise ApiProblem("validation-failed", errors=errors)
        given_ids = {questions[key].id for key in answers_in}
        return services.Changes(
            answers={fid: v for fid, v in form.valid_answers().items() if fid in given_ids},
            nominee={name: v for name, v in form.valid_nominee().items() if name in nominee_in})

    try:
        services.save_nomination(session=get_db(), viewer=viewer(), nomination=nomination,
                                 read=read, now=utcnow())
    except services.Invalid as exc:
        raise ApiProblem("validation-failed", errors=_missing_errors(
            exc.missing, services.fields_for(nomination))) from None
    except services.NominationError as exc:
        raise _refusal(exc) from None
    _commit()
    return json_response(serialize.nomination(nomination, utcnow()))


@operation(bp, "/nominations/{nomination_id}/submit", "POST", tag="nominations",
           auth="token", params=[NOMINATION_ID], body="NominationSubmit",
           problems=["email-not-verified", "deadline-passed", "not-editable",
                     "already-submitted", "results-published", "stale"],
           summary="Submit a draft (or resubmit after a request for changes)",
           description="Gives the reference on first submission and mails the applicant, as "
                       "on the page. Every required answer must be there; missing ones are "
                       "listed in `errors`.",
           rules=["Also when a required answer is missing or invalid, or consent is not "
                  "given: `errors` lists each field. Answers already saved are kept."],
           responses={200: ("Nomination", "The submitted nomination.")})
def submit_nomination(nomination_id: int):
    user = require_verified()
    nomination = _own_or_404(nomination_id, user)
    body = json_body()
    consent = body.get("personal_data_consent")
    if not isinstance(consent, bool):
        raise ApiProblem("validation-failed", errors=[field_error(
            "personal_data_consent", _l("Give true or false."))])
    try:
        outcome = services.submit_nomination(session=get_db(), viewer=viewer(),
                                             nomination=nomination,
                                             personal_data_consent=consent, now=utcnow())
    except services.NominationError as exc:
        raise _refusal(exc) from None
    if not outcome.submitted:
        raise ApiProblem("validation-failed", errors=_missing_errors(
            outcome.missing, services.fields_for(nomination)))
    _commit()
    return json_response(serialize.nomination(nomination, utcnow()))


@operation(bp, "/nominations/{nomination_id}/withdraw", "POST", tag="nominations",
           auth="token", params=[NOMINATION_ID], body="NominationWithdraw",
           body_required=False,
           problems=["email-not-verified", "not-editable", "results-published", "stale"],
           summary="Withdraw a nomination",
           description="Refused (409) once a decision (advance, award) stands on the "
                       "nomination, and while the call's results are scheduled, published or "
                       "being corrected.",
           responses={200: ("Nomination", "The withdrawn nomination.")})
def withdraw_nomination(nomination_id: int):
    user = require_verified()
    nomination = _own_or_404(nomination_id, user)
    body = json_body(required=False)
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise ApiProblem("validation-failed", errors=[field_error(
            "reason", _l("Use at most %(n)d characters.", n=2000))])
    try:
        services.withdraw_nomination(session=get_db(), viewer=viewer(), nomination=nomination,
                                     reason=reason, now=utcnow())
    except services.NominationError as exc:
        raise _refusal(exc) from None
    _commit()
    return json_response(serialize.nomination(nomination, utcnow()))
