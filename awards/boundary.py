"""The input boundary: what text and numbers from outside may be, checked once for the app.

Text from paths, query strings, forms, JSON bodies and CSV files may not hold control
characters other than tab, carriage return and line feed: neither the C0 controls nor DEL
(U+007F) nor the C1 controls (U+0080 to U+009F). PostgreSQL cannot store NUL at all (a 500
and a lost draft before), and the others break XML feeds, PDFs and exports or hide unseen in
names and answers. Numbers from the query string that reach the database (page numbers, ids)
are bounded, so an absurd value is refused here and never becomes an overflow in the database
driver; numbers given to the ``flask awards`` commands are read the same way
(:class:`WholeNumber`)."""

from __future__ import annotations

import re

import click
from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, NotFound

# C0 controls except tab, line feed and carriage return; DEL; the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The largest id a row can have (INTEGER primary keys on both databases).
MAX_ID = 2**31 - 1
# The largest id of a BIGINT key (the audit log's records).
MAX_BIG_ID = 2**63 - 1
# The largest page number a list accepts; beyond it no list has anything to show.
MAX_PAGE = 100000

MSG_CONTROL = _l("The text contains an invisible control character that cannot be stored. "
                 "It is removed from the text shown here: check the text and save again.")


def has_control(text: str) -> bool:
    """True when ``text`` holds a character the boundary refuses."""
    return _CONTROL.search(text) is not None


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def page_number(raw: str | None, *, default: int = 1) -> int | None:
    """A page number from the query string: ASCII digits from 1 to :data:`MAX_PAGE`. Absent
    or empty gives ``default``; anything else gives None (the caller refuses or falls back)."""
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_PAGE else None


def whole_number(raw: str, *, maximum: int = MAX_ID) -> int | None:
    """ASCII digits naming a number a database column can hold (0 to :data:`MAX_ID`, or
    ``maximum``), else None. ``str.isdigit()`` is not enough: "²" passes it and ``int()``
    refuses it, and twenty digits pass both and overflow the database."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if value <= maximum else None


class WholeNumber(click.ParamType):
    """A number given to a ``flask awards`` command, read by :func:`whole_number`: anything
    else stops the command with a one-line message and exit code 2. click's own ``int`` is
    not enough: ``int()`` reads any Unicode digit ("٣" is 3) and any size (an overflow in the
    database driver)."""

    name = "number"

    def __init__(self, maximum: int = MAX_ID) -> None:
        self.maximum = maximum

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= self.maximum:
            return value
        number = whole_number(str(value), maximum=self.maximum)
        if number is None:
            self.fail(f"{str(value)!r} is not a whole number: use the digits 0-9 "
                      f"(at most {self.maximum}).", param, ctx)
        return number


WHOLE_NUMBER = WholeNumber()


def db_int(raw: str) -> int:
    """For ``request.args.get(name, type=db_int)``: a whole number a database column can
    hold; anything else raises ValueError, so the argument counts as absent."""
    raw = raw.strip()
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        raise ValueError(raw)
    value = int(raw)
    if not -MAX_ID <= value <= MAX_ID:
        raise ValueError(raw)
    return value


def _is_api() -> bool:
    from awards.api.problems import is_api_path

    return is_api_path(request.path)


def check_request():
    """Before every view: the path and the query string hold no refused characters, and the
    ids in the path are ids a row can have. A refused path is a page that does not exist
    (404); a refused query parameter is a bad request (400) naming the parameter."""
    from awards.api.problems import field_error, problem_response

    if request.routing_exception is not None:
        return None  # the router answers (404/405) on its own
    if has_control(request.path) or any(
            isinstance(v, int) and not 0 <= v <= MAX_ID
            for v in (request.view_args or {}).values()):
        if _is_api():
            return problem_response("not-found")
        raise NotFound()
    for name, values in request.args.lists():
        if has_control(name) or any(has_control(v) for v in values):
            shown = strip_control(name)[:40]
            if _is_api():
                return problem_response("invalid-parameter", errors=[field_error(
                    shown, _l("The value contains a control character that is not "
                              "allowed."))])
            raise QueryRefused(_l("The address contains a character that is not allowed in "
                                  "“%(name)s”.", name=shown))
    return None


class QueryRefused(BadRequest):
    """A 400 whose error page names the refused parameter (``page_detail``)."""

    def __init__(self, detail) -> None:
        super().__init__()
        self.page_detail = detail


def register(app: Flask) -> None:
    app.before_request(check_request)
