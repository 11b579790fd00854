"""Markdown in news posts: what it keeps, and the XSS payloads it must neutralise."""

from __future__ import annotations

import pytest

from awards.announcements.markdown import image_markdown, render_markdown, sanitise_html


def html(text: str) -> str:
    return str(render_markdown(text)).strip()


def test_markdown_basic_formatting_is_kept():
    assert html("Hello *world* and **bold**") == \
        "<p>Hello <em>world</em> and <strong>bold</strong></p>"


def test_markdown_headings_start_below_the_page_title():
    assert html("# Big\n\n## Small") == "<h2>Big</h2>\n<h3>Small</h3>"


def test_markdown_lists_quotes_and_code_are_kept():
    assert html("- one\n- two") == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
    assert html("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert html("Use `x < y`") == "<p>Use <code>x &lt; y</code></p>"


def test_markdown_tables_keep_alignment_as_attribute():
    result = html("| a | b |\n|:-|-:|\n| 1 | 2 |")
    assert '<th align="left">a</th>' in result
    assert '<td align="right">2</td>' in result
    assert "style" not in result


def test_markdown_external_link_gets_rel():
    assert html("[site](https://example.org/a?b=1&c=2)") == (
        '<p><a href="https://example.org/a?b=1&amp;c=2" rel="noopener nofollow ugc">'
        "site</a></p>")


@pytest.mark.parametrize("target", ["/calls/voy-2026", "#rules", "mailto:info@example.org"])
def test_markdown_internal_and_mail_links_are_kept_without_rel(target):
    assert html(f"[x]({target})") == f'<p><a href="{target}">x</a></p>'


def test_markdown_uploaded_image_is_kept():
    assert html("![Ceremony](/news/images/0a1b2c.png)") == \
        '<p><img alt="Ceremony" src="/news/images/0a1b2c.png"></p>'


@pytest.mark.parametrize("src", [
    "https://evil.example/x.png",
    "//evil.example/x.png",
    "/news/images/../secret.png",
    "/uploads/abc.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
])
def test_markdown_image_outside_news_images_is_removed(src):
    assert html(f"before ![x]({src}) after") == "<p>before  after</p>"


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="/news/images/a.png" onerror="alert(1)">',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    '<div onclick="alert(1)" style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example"><input name="q"></form>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<style>body{display:none}</style>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<a href="x" onmouseover="alert(1)">x</a>',
    "<!-- <script>alert(1)</script> -->",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
])
def test_sanitiser_removes_xss_payload(payload):
    result = html(payload).lower()
    for marker in ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:",
                   "vbscript:", "data:", "<iframe", "<svg", "<style", "<form", "<input",
                   "<object", "<embed", "<meta", "<base", "style=", "evil.example"):
        assert marker not in result, (payload, result)


def test_sanitiser_keeps_text_of_unknown_tags():
    assert sanitise_html("<div><span>kept</span></div>") == "kept"


def test_sanitiser_external_rel_cannot_be_forged():
    result = sanitise_html('<a href="https://a.example" rel="opener" title="a&quot;&gt;b">x</a>')
    assert result == ('<a href="https://a.example" title="a&quot;&gt;b" '
                      'rel="noopener nofollow ugc">x</a>')


def test_markdown_empty_text_renders_nothing():
    assert html("") == ""
    assert html("   \n") == ""


def test_image_markdown_snippet_escapes_brackets():
    assert image_markdown("Gala [2026]\nnight", "/news/images/ab.png") == \
        "![Gala 2026 night](/news/images/ab.png)"
