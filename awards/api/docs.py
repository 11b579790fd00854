"""The OpenAPI document and its readable page, both built from the endpoint declarations."""

from __future__ import annotations

import json

from flask import Response, render_template, url_for

from awards.api.blueprint import bp
from awards.api.http import json_response, public_response
from awards.api.problems import PROBLEM_TYPES
from awards.api.spec import API_VERSION, build_openapi


@bp.get("")
@bp.get("/")
def index():
    return json_response({"openapi": url_for("api.openapi"), "docs": url_for("api.docs"),
                          "version": API_VERSION})


@bp.get("/openapi.json")
def openapi():
    return public_response(build_openapi())


def type_text(schema: dict) -> str:
    """A short reading of a JSON Schema: ``string``, ``array of Category``, ``Review or null``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_text(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "array of " + type_text(schema.get("items", {}))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + type_text(schema["additionalProperties"])
    text = kind if isinstance(kind, str) else " or ".join(kind)
    if schema.get("format"):
        text += f" ({schema['format']})"
    return text


def _constraints(schema: dict) -> str:
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"),
                       ("maxLength", "length ≤"), ("maxItems", "items ≤")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "default" in schema:
        parts.append(f"default {schema['default']}")
    return ", ".join(parts)


@bp.get("/docs")
def docs():
    document = build_openapi()
    components = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            operations.append({"path": path, "method": method.upper(), **op})
    operations.sort(key=lambda o: (o["tags"][0], o["path"], o["method"]))
    tags = [(t["name"], t["description"]) for t in document["tags"]]
    html = render_template(
        "api/docs.html", document=document, operations=operations, tags=tags,
        schemas=sorted(components.items()), problems=list(PROBLEM_TYPES.values()),
        type_text=type_text, constraints=_constraints,
        example=json.dumps({"type": "/api/v1/problems/validation-failed",
                            "title": "Validation failed", "status": 422,
                            "detail": "…", "instance": "/api/v1/nominations/7",
                            "errors": [{"field": "answers.years",
                                        "message": "Enter a number."}]},
                           indent=2, ensure_ascii=False))
    return Response(html, mimetype="text/html")
