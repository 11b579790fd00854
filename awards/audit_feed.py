"""The audit log's heads, public: an Atom feed anyone can poll and archive.

It carries the head (record id and hash) recorded with each publication of results that the
public can read, and the log's current head. A copy kept outside the service is what
``flask awards audit verify --against ID:HASH`` checks the log against: a log rewritten or cut
short after the copy was taken no longer holds that record with that hash."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards.audit import AuditEvent
from awards.db import get_db, utcnow
from awards.results import services as results
from awards.results.models import Publication

bp = Blueprint("audit", __name__, url_prefix="/audit")

ATOM_NS = "http://www.w3.org/2005/Atom"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class PublishedHead:
    record_id: int
    hash: str
    at: datetime
    publication: Publication | None = None  # None: the log's current head


def feed_heads(session: Session, now: datetime) -> list[PublishedHead]:
    """The current head, then the head of every version of results the public can read,
    newest first."""
    heads: list[PublishedHead] = []
    last = session.execute(select(AuditEvent.id, AuditEvent.hash, AuditEvent.created_at)
                           .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is not None:
        heads.append(PublishedHead(last.id, last.hash, last.created_at))
    publications = session.scalars(
        select(Publication).where(results.visible_clause(now))
        .options(selectinload(Publication.call))
        .order_by(Publication.scheduled_for.desc(), Publication.id.desc()))
    for publication in publications:
        head = (publication.snapshot or {}).get("audit_head") or {}
        record_id, digest = head.get("id"), head.get("hash")
        if not isinstance(record_id, int) or not _HEX64.match(str(digest)):
            continue  # published before heads were recorded
        heads.append(PublishedHead(record_id, digest,
                                   publication.published_at or publication.scheduled_for,
                                   publication))
    return heads


def _atom_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = _XML_INVALID.sub("", text)
    return element


def _host(base: str) -> str:
    return re.sub(r"^[a-z]+://", "", base).split("/")[0].split(":")[0] or "localhost"


@bp.get("/heads.atom")
def heads():
    lang = str(get_locale())
    base = current_app.config["BASE_URL"].rstrip("/")
    items = feed_heads(get_db(), utcnow())
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    feed_url = base + url_for(".heads")
    _el(root, "id", feed_url)
    _el(root, "title", _("Audit log heads"))
    _el(root, "subtitle", _("Each head is a record number and its hash. Keep a copy: the "
                            "organisers' audit log can be checked against it at any time "
                            "(flask awards audit verify --against NUMBER:HASH)."))
    _el(root, "updated", _atom_time(max((h.at for h in items),
                                        default=datetime(2000, 1, 1, tzinfo=UTC))))
    _el(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    author = _el(root, "author")
    _el(author, "name", _("Awards"))
    host = _host(base)
    for item in items:
        value = f"{item.record_id}:{item.hash}"
        entry = _el(root, "entry")
        if item.publication is None:
            _el(entry, "id", f"tag:{host},2026:audit-head/{item.record_id}")
            _el(entry, "title", _("Audit log head: record %(number)d", number=item.record_id))
        else:
            call = item.publication.call
            title = results.pick((item.publication.snapshot.get("call") or {}).get("title"),
                                 lang) or call.slug
            _el(entry, "id", f"tag:{host},2026:results/{item.publication.id}/audit-head")
            _el(entry, "title", _("Audit log head at the publication of the results: "
                                  "%(call)s, version %(version)d",
                                  call=title, version=item.publication.version))
            _el(entry, "link", rel="alternate", type="text/html",
                href=base + url_for("results.version", slug=call.slug,
                                    version=item.publication.version))
        _el(entry, "updated", _atom_time(item.at))
        _el(entry, "content", value)
    xml = ET.tostring(root, encoding="unicode", xml_declaration=False)
    response = current_app.response_class('<?xml version="1.0" encoding="utf-8"?>\n' + xml,
                                          mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return response
