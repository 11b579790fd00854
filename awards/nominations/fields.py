"""The rules of a nomination's form: which questions a call asks of which nominator, which
nominee details are required, which files a question accepts, and what is still missing before
a nomination can be submitted. Read by the form builder, the pages, the API and the services;
nothing here writes."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_ngettext

from awards.calls.models import Call, FormField
from awards.enums import FieldType, NominatorKind
from awards.nominations.models import Nomination
from awards.storage import CONTENT_TYPES

# The nominee details a nomination keeps in its own columns. A form question with one of these
# keys is asked once, in the nominee section, and its answer mirrors the column.
NOMINEE_COLUMNS = ("nominee_name", "nominee_email", "nominee_phone", "organisation_name")

# ---- the form's rules --------------------------------------------------------------------------

# Administrators may write "jpg"; storage knows the type by its content as "jpeg".
_FILE_KIND_ALIASES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "pdf": "pdf"}


def applicable_fields(call: Call, *, category_id: int | None,
                      nominator_kind: str | None) -> list[FormField]:
    """The call's questions for this category and kind of nominator, in form order."""
    return [f for f in call.fields
            if f.applies_to(category_id=category_id, nominator_kind=nominator_kind)]


def fields_for(nomination: Nomination) -> list[FormField]:
    return applicable_fields(nomination.call, category_id=nomination.category_id,
                             nominator_kind=nomination.nominator_kind)


def question_fields(fields: list[FormField]) -> list[FormField]:
    """The questions of the questions part (nominee details are asked in their own section)."""
    return [f for f in fields if f.key not in NOMINEE_COLUMNS]


def nominee_rules(nominator_kind: str, fields: list[FormField], *,
                  consent_required: bool) -> dict[str, bool]:
    """Which nominee details are asked of this kind of nominator, in order, and whether each
    is required. A required form question with the same key makes the detail required too."""
    kind = NominatorKind(nominator_kind)
    if kind == NominatorKind.SELF:
        # The applicant is the nominee; their account e-mail is the nominee's.
        rules = {"nominee_name": True, "nominee_phone": False}
    elif kind == NominatorKind.OTHER:
        rules = {"nominee_name": True, "nominee_email": True, "nominee_phone": True}
    else:
        # Without an address the nominee cannot be asked for consent.
        rules = {"organisation_name": True, "nominee_name": True,
                 "nominee_email": consent_required, "nominee_phone": False}
    for f in fields:
        if f.key in rules and f.required:
            rules[f.key] = True
    return rules


def allowed_kinds(field: FormField) -> list[str]:
    """The storage file kinds a file question accepts; none listed means any storage knows."""
    kinds = [_FILE_KIND_ALIASES[t.lower()] for t in (field.file_types or [])
             if t.lower() in _FILE_KIND_ALIASES]
    return list(dict.fromkeys(kinds)) or list(CONTENT_TYPES)


def max_upload_bytes(field: FormField) -> int:
    return field.file_max_bytes or current_app.config["UPLOAD_MAX_BYTES"]


def too_many_files_message(limit: int, existing: int):
    # The limit is the number that decides the plural; "already attached" reads the same.
    if existing:
        return lazy_ngettext(
            "You can attach only %(num)d file here and %(m)d is already attached. Remove a "
            "file first.",
            "You can attach at most %(num)d files here and %(m)d already attached. Remove a "
            "file first.", limit, m=existing)
    return lazy_ngettext("You can attach only %(num)d file here.",
                         "You can attach at most %(num)d files here.", limit)


def missing_fields(nomination: Nomination, fields: list[FormField] | None = None) -> list[str]:
    """What must still be filled in before submitting: nominee columns by name, questions by
    their key."""
    fields = fields if fields is not None else fields_for(nomination)
    rules = nominee_rules(nomination.nominator_kind, fields,
                          consent_required=nomination.nominee_consent_required)
    missing = [name for name, required in rules.items()
               if required and not getattr(nomination, name)]
    for q in question_fields(fields):
        if not q.required:
            continue
        if q.type == FieldType.FILE:
            present = any(a.field_id == q.id for a in nomination.attachments)
        else:
            answer = nomination.answer_for(q.id)
            value = answer.value if answer is not None else None
            present = value not in (None, "", [], False)
        if not present:
            missing.append(q.key)
    return missing
