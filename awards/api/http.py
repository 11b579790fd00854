"""Reading requests and writing answers: JSON bodies, query parameters, paging, ETags."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awards.api.problems import ApiProblem, field_error
from awards.boundary import MAX_PAGE, has_control

DEFAULT_SIZE = 20
MAX_SIZE = 100
PUBLIC_MAX_AGE = 60
# A JSON body: at most this many bytes and this many levels of nested arrays and objects (the
# deepest body the API reads has four).
MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32


def _clean(value: Any) -> Any:
    """Non-finite numbers have no JSON spelling; they mean "no value" here."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(data: Any) -> str:
    return json.dumps(_clean(data), ensure_ascii=False, allow_nan=False, default=str)


def json_response(data: Any, status: int = 200, *, headers: dict[str, str] | None = None
                  ) -> Response:
    response = Response(dumps(data), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def public_response(data: Any, *, headers: dict[str, str] | None = None) -> Response:
    """A public read: the same for everyone, so shared caches may keep it briefly, and a
    client sending back the ETag gets 304 without the body."""
    body = dumps(data)
    etag = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    response = Response(body, status=200, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if request.if_none_match.contains(etag) or "*" in request.if_none_match:
        not_modified = Response(status=304)
        not_modified.set_etag(etag)
        not_modified.headers["Cache-Control"] = response.headers["Cache-Control"]
        return not_modified
    return response


# ---- input ------------------------------------------------------------------------------------


def check_text(value: str, field: str) -> str:
    """Text the databases can store: no NUL or other control character (PostgreSQL refuses
    NUL; tab, line feed and carriage return are fine) and valid Unicode (a lone surrogate
    cannot be encoded)."""
    if "\x00" in value:
        raise ApiProblem("validation-failed", errors=[field_error(
            field, _l("The text contains a NUL character."))])
    if has_control(value):
        raise ApiProblem("validation-failed", errors=[field_error(
            field, _l("The text contains a control character that is not allowed."))])
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiProblem("validation-failed", errors=[field_error(
            field, _l("The text is not valid Unicode."))]) from None
    return value


def _check_all_text(value: Any, path: str) -> None:
    """Every string of the body, keys included; iterative (the depth is bounded before, but
    no recursion is needed either)."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            check_text(item, where or "body")
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                check_text(key, where or "body")
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(item, list):
            for index in reversed(range(len(item))):
                stack.append((item[index], f"{where}[{index}]"))


def _depth(raw: bytes) -> int:
    """How deeply the JSON text nests arrays and objects (brackets inside strings do not
    count), read without parsing: a parser's recursion is what a deep body would exhaust."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; a problem for anything else: a body above
    :data:`MAX_BODY_BYTES` (413), nested deeper than :data:`MAX_DEPTH` levels or not JSON
    (400), not an object or holding text the databases cannot store (422)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiProblem("payload-too-large", _l(
            "The JSON body may be at most %(n)d bytes.", n=MAX_BODY_BYTES))
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise ApiProblem("validation-failed", _l("The request needs a JSON body."),
                             errors=[field_error("body", _l("This field is required."))])
        return {}
    if not request.is_json:
        raise ApiProblem("unsupported-media-type")
    if len(raw) > MAX_BODY_BYTES:
        raise ApiProblem("payload-too-large", _l(
            "The JSON body may be at most %(n)d bytes.", n=MAX_BODY_BYTES))
    if _depth(raw) > MAX_DEPTH:
        raise ApiProblem("bad-request", _l(
            "The JSON body is nested too deeply: at most %(n)d levels of arrays and objects.",
            n=MAX_DEPTH))
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiProblem("bad-request", _l("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiProblem("validation-failed", errors=[field_error(
            "body", _l("The body must be a JSON object."))])
    _check_all_text(data, "")
    return data


def query_text(name: str, *, max_length: int = 200) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or has_control(value):
        raise ApiProblem("invalid-parameter", errors=[field_error(
            name, _l("Use at most %(n)d characters.", n=max_length))])
    return value


def query_int(name: str, *, minimum: int = 1, maximum: int = 2**31 - 1) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ApiProblem("invalid-parameter", errors=[field_error(
            name, _l("Enter a whole number from %(low)d to %(high)d.", low=minimum,
                     high=maximum))])
    return value


def query_choice(name: str, choices: list[str]) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in choices:
        raise ApiProblem("invalid-parameter", errors=[field_error(
            name, _l("Choose one of: %(choices)s.", choices=", ".join(choices)))])
    return value


# ---- paging -----------------------------------------------------------------------------------


class Paging:
    def __init__(self) -> None:
        self.page = query_int("page", maximum=MAX_PAGE) or 1
        size = request.args.get("size")
        if size not in (None, ""):
            try:
                number = int(size)
            except ValueError:
                number = 0
            if not 1 <= number <= MAX_SIZE:
                raise ApiProblem("invalid-parameter", errors=[field_error(
                    "size", _l("The page size must be from 1 to %(max)d.", max=MAX_SIZE))])
            self.size = number
        else:
            self.size = DEFAULT_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def query(self, session: Session, stmt) -> tuple[list, int]:
        """One page of ``stmt`` (already ordered) and the total count."""
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        items = list(session.scalars(stmt.limit(self.size).offset(self.offset)))
        return items, int(total or 0)

    def slice(self, items: list) -> tuple[list, int]:
        return items[self.offset:self.offset + self.size], len(items)

    def body(self, items: list, total: int) -> dict[str, Any]:
        return {"items": items, "page": self.page, "size": self.size, "total": total}

    def link_header(self, total: int) -> dict[str, str]:
        last = max(1, math.ceil(total / self.size))
        args = {k: v for k, v in request.args.items() if k not in ("page", "size")}

        def url(page: int) -> str:
            return request.path + "?" + urlencode({**args, "page": page, "size": self.size})

        links = [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
        if self.page > 1:
            links.append(f'<{url(min(self.page - 1, last))}>; rel="prev"')
        if self.page < last:
            links.append(f'<{url(self.page + 1)}>; rel="next"')
        return {"Link": ", ".join(links)}
