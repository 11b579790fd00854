"""Markdown written by administrators, turned into HTML that is safe to show to everyone.

Markdown first (raw HTML inside it is passed through), then ``nh3`` keeps only an allow-list of
tags and attributes. The sanitiser is the security boundary, not the Markdown parser: whatever
the parser lets through (raw ``<script>``, ``onerror=``, ``javascript:`` links) is removed here.

Images are limited to the ones uploaded for news posts (``/news/images/<name>``): a picture from
another site would leak every reader's address to it and is blocked by the CSP anyway."""

from __future__ import annotations

import re
from html import unescape

import markdown as markdown_lib
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

IMAGE_PATH = "/news/images/"
IMAGE_SRC_RE = re.compile(r"^/news/images/[A-Za-z0-9_-]{1,80}\.(?:png|jpg|jpeg|webp|gif)$")

ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "em", "strong", "b", "i", "del", "s",
    "ul", "ol", "li", "a", "blockquote", "code", "pre", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
# Removed together with their content (the text of a script is not prose).
CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "noscript", "template",
                      "svg", "math", "textarea", "select", "title"}
EXTERNAL_REL = "noopener nofollow ugc"

_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):")
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")


def _safe_href(value: str) -> bool:
    """http(s), mailto and same-site relative links. Browsers drop tabs, newlines and other
    control characters inside a URL ("java\\tscript:"), so those are removed before looking
    for the scheme; "//host" and backslashes would leave the site while looking relative."""
    compact = _URL_NOISE_RE.sub("", value).lower()
    if not compact or "\\" in compact:
        return False
    scheme = _SCHEME_RE.match(compact)
    if scheme:
        return scheme.group(1) in {"http", "https", "mailto"}
    if ":" in compact.split("/", 1)[0]:
        return False
    return not compact.startswith("//")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if _safe_href(value) else None
    if tag == "img" and attribute == "src":
        return value if IMAGE_SRC_RE.match(value.strip()) else None
    if attribute == "align":
        return value if value in {"left", "right", "center"} else None
    if attribute == "start":
        return value if value.isdigit() and len(value) < 7 else None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=CLEAN_CONTENT_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
    strip_comments=True,
)


class _ShiftHeadings(Treeprocessor):
    """The post's title is the page's only <h1>; "# Heading" in the body becomes an <h2>."""

    def run(self, root):
        for element in root.iter():
            if element.tag in {"h1", "h2", "h3", "h4", "h5"}:
                element.tag = f"h{int(element.tag[1]) + 1}"


class _NewsExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_ShiftHeadings(md), "news_headings", 5)


# The sanitised output is serialised by html5ever: attribute values always in double quotes,
# with any double quote inside written as &quot;, so this pattern cannot be fooled by a ">".
_A_TAG_RE = re.compile(r'<a((?:\s+[a-z-]+="[^"]*")*)>')
_HREF_RE = re.compile(r'\shref="([^"]*)"')


def _mark_external(match: re.Match) -> str:
    href = _HREF_RE.search(match.group(1))
    if href and unescape(href.group(1)).strip().lower().startswith(("http:", "https:")):
        return f'<a{match.group(1)} rel="{EXTERNAL_REL}">'
    return match.group(0)


# An image whose address was refused is left without one; it would only show a broken icon.
_IMG_WITHOUT_SRC_RE = re.compile(r'<img(?![^>]*\ssrc=")(?:\s+[a-z-]+="[^"]*")*>')


def sanitise_html(html: str) -> str:
    """Allow-listed HTML; external links get rel="noopener nofollow ugc"."""
    cleaned = _cleaner.clean(html)
    cleaned = _IMG_WITHOUT_SRC_RE.sub("", cleaned)
    return _A_TAG_RE.sub(_mark_external, cleaned)


def render_markdown(text: str | None) -> Markup:
    """Markdown → sanitised HTML, ready to put in a page or a feed."""
    if not text or not text.strip():
        return Markup("")
    html = markdown_lib.markdown(
        text,
        extensions=["tables", "fenced_code", "sane_lists", _NewsExtension()],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )
    return Markup(sanitise_html(html))


def image_markdown(alt: str, url: str) -> str:
    """The snippet an administrator pastes into the body to show an uploaded image."""
    alt = " ".join(re.sub(r"[\[\]\r\n]", " ", alt or "").split())
    return f"![{alt}]({url})"
