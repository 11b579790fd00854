"""The OpenAPI 3.1 description of the API, built from the code.

Every endpoint is declared with ``operation(...)`` next to its view: path, parameters, request
and response schemas, who may call it and the problem types it can answer with. The same
declaration registers the Flask route, so the document cannot list an endpoint that does not
exist or miss one that does. Schemas are plain JSON Schema (OpenAPI 3.1 uses JSON Schema
2020-12 as is) kept in ``awards.api.schemas``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint

from awards.api.problems import MEDIA_TYPE, PROBLEM_TYPES

API_VERSION = "1.0.0"
MAX_ID = 2**31 - 1  # the database's integer keys; a larger id cannot exist
# A text without the control characters the input boundary refuses (awards.boundary).
NO_CONTROL = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    location: str = "query"
    required: bool = False


def path_id(name: str, description: str) -> Param:
    return Param(name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description,
                 location="path", required=True)


def path_str(name: str, description: str) -> Param:
    return Param(name, {"type": "string", "minLength": 1, "maxLength": 120,
                        "pattern": "^[A-Za-z0-9_.~-]+$"}, description,
                 location="path", required=True)


@dataclass
class Operation:
    path: str  # OpenAPI form: /calls/{slug}
    method: str
    operation_id: str
    summary: str
    tag: str
    auth: str  # "public", "optional" (public, more with a token) or "token"
    description: str = ""
    params: list[Param] = field(default_factory=list)
    body: str | None = None  # component schema name of the JSON request body
    body_required: bool = True
    responses: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    cached: bool = False  # public read with ETag / Cache-Control
    paged: bool = False
    # When a schema-valid request still gets 422: the business rules behind the view, in one
    # sentence each. They are documented outcomes, not errors of the document.
    rules: list[str] = field(default_factory=list)


OPERATIONS: list[Operation] = []
_FLASK_PARAM = re.compile(r"\{(\w+)\}")


def _flask_rule(op: Operation) -> str:
    kinds = {p.name: p.schema.get("type") for p in op.params if p.location == "path"}

    def convert(match: re.Match) -> str:
        name = match.group(1)
        if kinds.get(name) == "integer":
            return f"<int(min=1, max={MAX_ID}):{name}>"
        return f"<{name}>"

    return _FLASK_PARAM.sub(convert, op.path)


def operation(bp: Blueprint, path: str, method: str = "GET", **kwargs: Any) -> Callable:
    """Declare an endpoint and register its view on ``bp``."""

    def decorator(view: Callable) -> Callable:
        op = Operation(path=path, method=method.upper(), operation_id=view.__name__, **kwargs)
        OPERATIONS.append(op)
        bp.add_url_rule(_flask_rule(op), endpoint=view.__name__, view_func=view,
                        methods=[op.method])
        view.api_operation = op
        return view

    return decorator


# ---- building the document ---------------------------------------------------------------------

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_AUTH_PROBLEMS = {"public": [], "optional": ["invalid-token"],
                  "token": ["unauthorized", "invalid-token"]}


def _problem_response(names: list[str], notes: list[str] | None = None) -> dict[str, Any]:
    listed = ", ".join(f"`{n}`" for n in names)
    description = " ".join([f"Problem: {listed}.", *(notes or [])])
    return {"description": description, "content": {MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


def _body_notes() -> dict[int, list[str]]:
    """What the JSON body boundary (``awards.api.http.json_body``) answers, by status: the
    same for every endpoint that takes a JSON body."""
    from awards.api.http import MAX_BODY_BYTES, MAX_DEPTH

    return {
        400: [f"The body is not valid JSON, or it is nested deeper than {MAX_DEPTH} levels "
              "of arrays and objects."],
        413: [f"The JSON body is larger than {MAX_BODY_BYTES} bytes "
              f"({MAX_BODY_BYTES // 1024 // 1024} MiB)."],
        422: ["The body is not a JSON object, or a text in it holds a control character "
              "other than tab, line feed or carriage return (`errors` names the field)."],
    }


def _paging_params() -> list[Param]:
    from awards.api.http import MAX_SIZE

    return [
        Param("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
              "Page number, from 1."),
        Param("size", {"type": "integer", "minimum": 1, "maximum": MAX_SIZE, "default": 20},
              f"Items per page, at most {MAX_SIZE}."),
    ]


def _operation_doc(op: Operation) -> dict[str, Any]:
    params = list(op.params) + (_paging_params() if op.paged else [])
    doc: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
        "parameters": [
            {"name": p.name, "in": p.location, "required": p.required or p.location == "path",
             "description": p.description, "schema": p.schema} for p in params],
    }
    if op.description:
        doc["description"] = op.description
    if op.auth == "public":
        doc["security"] = [{}]
    elif op.auth == "optional":
        doc["security"] = [{}, {"bearerToken": []}]
    else:
        doc["security"] = [{"bearerToken": []}]
    if op.body:
        from awards.api.http import MAX_BODY_BYTES, MAX_DEPTH

        doc["requestBody"] = {
            "required": op.body_required,
            "description": f"JSON, at most {MAX_BODY_BYTES} bytes and {MAX_DEPTH} levels "
                           "deep.",
            "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{op.body}"}}},
            "x-max-bytes": MAX_BODY_BYTES, "x-max-depth": MAX_DEPTH}
    responses: dict[str, Any] = {}
    for status, (schema, description) in sorted(op.responses.items()):
        entry: dict[str, Any] = {"description": description}
        if schema:
            entry["content"] = {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"}}}
        if op.cached and status == 200:
            entry["headers"] = {
                "ETag": {"description": "Send it back as `If-None-Match` to get 304.",
                         "schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string"}}}
        if op.paged and status == 200:
            entry.setdefault("headers", {})["Link"] = {
                "description": "RFC 8288 links: first, prev, next, last.",
                "schema": {"type": "string"}}
        responses[str(status)] = entry
    if op.cached:
        responses["304"] = {"description": "Not modified (the `If-None-Match` ETag matches)."}
    problems: dict[int, list[str]] = {}
    names = ["bad-request", *_AUTH_PROBLEMS[op.auth], *op.problems, "not-found",
             "rate-limited", "server-error", "service-unavailable"]
    if op.body:
        names += ["unsupported-media-type", "payload-too-large", "validation-failed"]
    if op.method != "GET":
        names.append("token-required")
    if op.paged or any(p.location == "query" for p in op.params):
        names.append("invalid-parameter")
    notes: dict[int, list[str]] = _body_notes() if op.body else {}
    if op.rules:
        names.append("validation-failed")
        notes.setdefault(422, []).extend(op.rules)
    for name in dict.fromkeys(names):
        problems.setdefault(PROBLEM_TYPES[name].status, []).append(name)
    for status, group in sorted(problems.items()):
        responses[str(status)] = _problem_response(group, notes.get(status, []))
    responses["default"] = _problem_response(["method-not-allowed", "not-acceptable"])
    doc["responses"] = responses
    return doc


def build_openapi() -> dict[str, Any]:
    from awards.api import schemas

    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(OPERATIONS, key=lambda o: (o.tag, o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_doc(op)
    problem_list = "\n".join(
        f"- `{t.uri}` ({t.status}) {t.title}: {t.description}" for t in PROBLEM_TYPES.values())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Awards API",
            "version": API_VERSION,
            "description": (
                "The prize competitions of this site: calls and categories, nominations, "
                "the jury's assignments and reviews, rankings and decisions, published "
                "results and announcements. The API calls the same services as the pages, "
                "with the same permissions.\n\n"
                "Authentication: create a personal token on your profile page and send it "
                "as `Authorization: Bearer <token>`. Reading with the browser session also "
                "works; changes need a token.\n\n"
                "Times are ISO 8601 in UTC. Texts in three languages are objects "
                "`{\"kk\", \"ru\", \"en\"}`. Lists are paged with `page` and `size` (at most "
                "100); the answer has `items`, `page`, `size`, `total` and a `Link` header. "
                "Public reads carry an `ETag`.\n\n"
                "Errors are `application/problem+json` (RFC 9457) with one of these "
                "types:\n" + problem_list),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": name, "description": text} for name, text in schemas.TAGS],
        "paths": paths,
        "components": {
            "schemas": schemas.COMPONENTS,
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A personal API token (awd_...) from the "
                                               "profile page."}},
        },
    }
