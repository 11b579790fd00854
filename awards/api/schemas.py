"""JSON Schemas of the API's bodies, as the OpenAPI document's components.

The serializers in ``awards.api.serialize`` produce exactly these shapes; the schemathesis test
checks every answer against them."""

from __future__ import annotations

from typing import Any

from awards.enums import (
    AggregationMethod,
    CallStatus,
    DecisionKind,
    FieldType,
    NominationStatus,
    NominatorKind,
    PublicationStatus,
    TotalMethod,
)

TAGS = [
    ("account", "The token's owner."),
    ("calls", "Calls for nominations and their categories (public)."),
    ("nominations", "An applicant's own nominations; administrators read all of them."),
    ("jury", "A juror's assignments and reviews."),
    ("ranking", "Rankings of judging rounds and award decisions (administrators, chairs)."),
    ("results", "Published results (public after the publication time)."),
    ("announcements", "News posts (public once published)."),
]


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], *, optional: tuple[str, ...] = (),
        additional: bool | dict = False, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object", "properties": properties,
        "required": [k for k in properties if k not in optional],
        "additionalProperties": additional,
    }
    if description:
        schema["description"] = description
    return schema


def enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [v.value if hasattr(v, "value") else v for v in values]}


def page_of(item: str) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": ref(item)},
                "page": {"type": "integer", "minimum": 1},
                "size": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 0}})


STR = {"type": "string"}
INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
DATETIME_OR_NULL = nullable(DATETIME)
# One author of an authors question, in its order: a name in at least one language.
AUTHOR_ROW = obj({"name_kk": STR, "name_ru": STR, "name_en": STR, "role": STR, "email": STR},
                 optional=("name_kk", "name_ru", "name_en", "role", "email"))
ANSWER = {"description": "Text, number, ISO date, option value(s), true/false, a list of "
                         "attachment ids for a file question, or a list of authors (in order) "
                         "for an authors question.",
          "anyOf": [STR, NUM, BOOL, {"type": "array", "items": {"anyOf": [STR, INT, AUTHOR_ROW]}},
                    {"type": "null"}]}
SHORT_TEXT = {"type": "string", "maxLength": 20000}

COMPONENTS: dict[str, Any] = {
    "Problem": obj({
        "type": {"type": "string", "description": "A stable URI: /api/v1/problems/<name>."},
        "title": STR, "status": INT, "detail": STR, "instance": STR,
        "errors": {"type": "array", "items": ref("FieldError")},
    }, optional=("errors",), description="RFC 9457 problem details."),
    "FieldError": obj({"field": {"type": "string", "description": "The body field, dotted: "
                                 "`answers.title`, `scores.impact`."},
                       "message": STR}),
    "LocalizedText": obj({"kk": STR, "ru": STR, "en": STR},
                         description="One text in Kazakh, Russian and English."),
    "Ref": obj({"id": ID, "slug": STR}, description="A call or post by id and slug."),
    "CodeRef": obj({"id": ID, "code": STR}, description="A category by id and code."),
    "NominationRef": obj({"id": ID, "reference": nullable(STR)}),
    "Me": obj({"id": ID, "email": STR, "full_name": STR, "organisation": STR,
               "preferred_language": STR, "email_verified": BOOL, "is_admin": BOOL,
               "juror_of_calls": {"type": "array", "items": STR},
               "chair_of_calls": {"type": "array", "items": STR}}),
    "AwardLevel": obj({"id": ID, "key": STR, "name": ref("LocalizedText"),
                       "count": INT}),
    "Category": obj({"id": ID, "code": STR, "name": ref("LocalizedText"),
                     "description": ref("LocalizedText"), "position": INT,
                     "winners_count": INT,
                     "award_levels": {"type": "array", "items": ref("AwardLevel")}}),
    "FormOption": obj({"value": STR, "label": ref("LocalizedText")}),
    "FormField": obj({
        "key": STR, "type": enum(FieldType), "label": ref("LocalizedText"),
        "help": ref("LocalizedText"), "required": BOOL,
        "category": nullable(STR), "nominator_kinds": nullable({"type": "array", "items": STR}),
        "options": {"type": "array", "items": ref("FormOption")},
        "min_value": nullable(NUM), "max_value": nullable(NUM), "max_length": nullable(INT),
    }),
    "CallSummary": obj({
        "id": ID, "slug": STR, "year": INT, "status": enum(CallStatus),
        "title": ref("LocalizedText"), "programme": ref("Programme"), "timezone": STR,
        "opens_at": DATETIME, "closes_at": DATETIME, "is_open": BOOL,
    }),
    "Programme": obj({"slug": STR, "name": ref("LocalizedText")}),
    "Call": obj({
        "id": ID, "slug": STR, "year": INT, "status": enum(CallStatus),
        "title": ref("LocalizedText"), "programme": ref("Programme"), "timezone": STR,
        "opens_at": DATETIME, "closes_at": DATETIME, "is_open": BOOL,
        "rules": ref("LocalizedText"), "consent_text": ref("LocalizedText"),
        "allowed_nominator_kinds": {"type": "array", "items": enum(NominatorKind)},
        "requires_nominee_consent": BOOL,
        "categories": {"type": "array", "items": ref("Category")},
        "fields": {"type": "array", "items": ref("FormField")},
    }),
    "CallPage": page_of("CallSummary"),
    "CategoryList": obj({"items": {"type": "array", "items": ref("Category")}}),
    "Nominee": obj({"nominee_name": STR, "nominee_email": STR, "nominee_phone": STR,
                    "organisation_name": STR}),
    "Attachment": obj({"id": ID, "field": nullable(STR), "original_name": STR,
                       "content_type": STR, "size": INT}),
    "Author": obj({"position": INT, "name": obj({"kk": STR, "ru": STR, "en": STR}),
                   "role": STR, "email": STR,
                   "consent": enum(["none", "pending", "given", "declined"])},
                  description="An author of the work, as of the last submitted version, with "
                              "their answer to the consent request."),
    "TimelineEntry": obj({"at": DATETIME, "kind": STR, "status": nullable(STR),
                          "reason": STR, "version": nullable(INT)}),
    "Nomination": obj({
        "id": ID, "reference": nullable(STR), "call": ref("Ref"), "category": ref("CodeRef"),
        "applicant_id": nullable(ID), "nominator_kind": enum(NominatorKind),
        "status": enum(NominationStatus), "nominee": ref("Nominee"),
        "answers": {"type": "object", "additionalProperties": ANSWER},
        "attachments": {"type": "array", "items": ref("Attachment")},
        "authors": {"type": "array", "items": ref("Author")},
        "missing": {"type": "array", "items": STR,
                    "description": "What must still be filled in before submitting."},
        "editable": BOOL, "created_at": DATETIME, "updated_at": DATETIME,
        "submitted_at": DATETIME_OR_NULL, "withdrawn_at": DATETIME_OR_NULL,
        "timeline": {"type": "array", "items": ref("TimelineEntry")},
    }),
    "NominationPage": page_of("Nomination"),
    "NominationCreate": obj({
        "call": {"type": "string", "minLength": 1, "maxLength": 80,
                 "description": "The call's slug."},
        "category": {"type": "string", "minLength": 1, "maxLength": 40,
                     "description": "The category's code."},
        "nominator_kind": enum(NominatorKind),
    }),
    "NominationUpdate": obj({
        "nominee": obj({"nominee_name": SHORT_TEXT, "nominee_email": SHORT_TEXT,
                        "nominee_phone": SHORT_TEXT, "organisation_name": SHORT_TEXT},
                       optional=("nominee_name", "nominee_email", "nominee_phone",
                                 "organisation_name")),
        "answers": {"type": "object", "additionalProperties": ANSWER,
                    "description": "Answers by question key; only those given change. "
                                   "Files are uploaded on the site."},
    }, optional=("nominee", "answers")),
    "NominationSubmit": obj({"personal_data_consent": BOOL},
                            description="The applicant accepts the call's consent text."),
    "NominationWithdraw": obj({"reason": {"type": "string", "maxLength": 2000}},
                              optional=("reason",)),
    "Criterion": obj({"key": STR, "title": ref("LocalizedText"),
                      "description": ref("LocalizedText"), "min_score": NUM,
                      "max_score": NUM, "step": NUM, "weight": NUM}),
    "Rubric": obj({"total_method": enum(TotalMethod),
                   "criteria": {"type": "array", "items": ref("Criterion")}}),
    "RoundSummary": obj({"id": ID, "name": ref("LocalizedText"), "blind": BOOL,
                         "opens_at": DATETIME_OR_NULL, "closes_at": DATETIME_OR_NULL,
                         "is_open": BOOL, "is_closed": BOOL}),
    "Review": obj({
        "status": enum(["draft", "submitted"]),
        "scores": {"type": "object", "additionalProperties": nullable(NUM)},
        "comments": {"type": "object", "additionalProperties": STR},
        "overall_comment": STR, "private_note": STR, "total": nullable(NUM),
        "version": INT, "submitted_at": DATETIME_OR_NULL, "updated_at": DATETIME,
    }),
    "AssignmentSummary": obj({
        "id": ID, "round": ref("RoundSummary"), "call": ref("Ref"),
        "category": ref("CodeRef"), "nomination": ref("NominationRef"),
        "state": enum(["todo", "draft", "submitted"]), "review": nullable(ref("Review")),
    }),
    "Entry": obj({
        "nominee": nullable(ref("Nominee")),
        "answers": {"type": "object", "additionalProperties": ANSWER},
        "attachments": {"type": "array", "items": ref("Attachment")},
    }, description="The entry as the juror may see it: in a blind round the nominee and "
                   "identifying answers are left out (nominee is null)."),
    "Assignment": obj({
        "id": ID, "round": ref("RoundSummary"), "call": ref("Ref"),
        "category": ref("CodeRef"), "nomination": ref("NominationRef"),
        "state": enum(["todo", "draft", "submitted"]), "review": nullable(ref("Review")),
        "entry": ref("Entry"), "rubric": nullable(ref("Rubric")), "can_score": BOOL,
    }),
    "AssignmentPage": page_of("AssignmentSummary"),
    "ReviewInput": obj({
        "scores": {"type": "object", "additionalProperties": nullable(NUM),
                   "description": "Score by criterion key; null for not scored yet."},
        "comments": {"type": "object", "additionalProperties": {"type": "string",
                                                                "maxLength": 5000}},
        "overall_comment": {"type": "string", "maxLength": 10000},
        "private_note": {"type": "string", "maxLength": 5000},
        "version": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1,
                    "description": "The review's version you read (0 before the first "
                                   "save): refused with `stale` if it changed since."},
    }, optional=("scores", "comments", "overall_comment", "private_note", "version")),
    "RankedEntry": obj({
        "nomination": ref("NominationRef"), "rank": nullable(INT), "tied": BOOL,
        "score": nullable(NUM), "score_rank": nullable(INT), "score_tied": BOOL,
        "decided_by": nullable(STR), "review_count": INT, "complete": BOOL,
        "totals": {"type": "array", "items": NUM},
    }),
    "CategoryRanking": obj({"category": ref("CodeRef"), "top_n": INT,
                            "entries": {"type": "array", "items": ref("RankedEntry")}}),
    "Ranking": obj({"round": ref("RoundSummary"), "call": ref("Ref"),
                    "method": enum(AggregationMethod),
                    "tie_breaks": {"type": "array", "items": STR},
                    "categories": {"type": "array", "items": ref("CategoryRanking")}}),
    "Decision": obj({
        "id": ID, "kind": enum(DecisionKind), "category": ref("CodeRef"),
        "round_id": nullable(ID), "nomination": ref("NominationRef"),
        "award_level": nullable(obj({"id": ID, "key": STR})), "note": STR,
        "decided_at": DATETIME, "decided_by_id": ID,
    }),
    "DecisionList": obj({
        "items": {"type": "array", "items": ref("Decision")},
        "digests": {"type": "object", "additionalProperties": STR,
                    "description": "Per category id, a fingerprint of its decisions; send it "
                                   "back as `digest` to refuse a change made in between."},
    }),
    "DecisionCreate": obj({
        "kind": enum(DecisionKind), "round_id": {"type": "integer", "minimum": 1,
                                                 "maximum": 2**31 - 1},
        "nomination_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                          "description": "For `award`."},
        "award_level_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                           "description": "For `award`."},
        "nomination_ids": {"type": "array", "minItems": 1, "maxItems": 1000,
                           "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                           "description": "For `advance`."},
        "note": {"type": "string", "maxLength": 2000},
        "digest": {"type": "string", "maxLength": 64},
    }, optional=("nomination_id", "award_level_id", "nomination_ids", "note", "digest"))
    | {"allOf": [
        {"if": {"properties": {"kind": {"const": "award"}}},
         "then": {"required": ["nomination_id", "award_level_id"]}},
        {"if": {"properties": {"kind": {"const": "advance"}}},
         "then": {"required": ["nomination_ids"]}}]},
    "DecisionResult": obj({
        "decisions": {"type": "array", "items": ref("Decision")},
        "advanced_to_round": nullable(ID),
        "already_there": {"type": "array", "items": ID},
    }),
    "ResultSummary": obj({"call": ref("CallSummary"), "version": INT,
                          "published_at": DATETIME}),
    "ResultPage": page_of("ResultSummary"),
    "Result": obj({
        "call": ref("CallSummary"), "version": INT, "status": enum(PublicationStatus),
        "published_at": DATETIME, "note": ref("LocalizedText"),
        "snapshot": {"type": "object", "description": "The published winners as frozen at "
                                                      "publication."},
        "versions": {"type": "array", "items": INT},
    }),
    "AnnouncementSummary": obj({"id": ID, "slug": STR, "title": ref("LocalizedText"),
                                "summary": ref("LocalizedText"), "published_at": DATETIME,
                                "call": nullable(STR)}),
    "AnnouncementPage": page_of("AnnouncementSummary"),
    "Announcement": obj({"id": ID, "slug": STR, "title": ref("LocalizedText"),
                         "summary": ref("LocalizedText"),
                         "body": ref("LocalizedText"), "published_at": DATETIME,
                         "call": nullable(STR)},
                        description="`body` is Markdown."),
    "ApiIndex": obj({"openapi": STR, "docs": STR, "version": STR}),
}
