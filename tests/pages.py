"""Reading a page's answer as a user reads it: its text and the message under each field."""

from __future__ import annotations

import html
import re


def text_of(response) -> str:
    return response.get_data(as_text=True)


def field_errors(response) -> dict[str, str]:
    """Field name -> the error message shown under it."""
    return {name: html.unescape(msg) for name, msg in
            re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', text_of(response))}
