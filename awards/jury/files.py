"""An entry's file opened beside the score sheet: served inline (not as a download) to a juror
who may open it, only for the types a browser shows safely: PDF (the browser's own viewer, in a
sandbox), JPEG and PNG. In a blind round the juror gets the cleaned copy (no author in the
metadata), as from the download link.

The response carries its own headers: ``X-Content-Type-Options: nosniff``, a
``Content-Security-Policy`` that runs nothing and lets only this site frame it, and a
``Content-Disposition: inline`` with the name the juror sees."""

from __future__ import annotations

import io

from awards import redaction

PDF = "application/pdf"
IMAGES = ("image/jpeg", "image/png")
VIEWABLE = (PDF, *IMAGES)

# A PDF runs in a sandbox (no scripts, forms or top navigation of its own); an image needs none.
PDF_POLICY = "sandbox; default-src 'none'; object-src 'self'; frame-ancestors 'self'"
IMAGE_POLICY = "default-src 'none'; frame-ancestors 'self'"


def viewable(attachment) -> bool:
    return attachment.content_type in VIEWABLE


def kind_of(attachment) -> str:
    return "pdf" if attachment.content_type == PDF else "image"


def inline_response(attachment, *, name: str, redact: bool):
    """The file for the viewer. Raises ``FileNotFoundError`` when the stored file is gone and
    ``redaction.RedactionError`` when a blind round's copy cannot be cleaned."""
    from flask import send_file

    from awards.storage import path_for

    path = path_for(attachment.stored_name)
    if not path.is_file():
        raise FileNotFoundError(attachment.stored_name)
    if redact:
        body = redaction.redacted_copy(path.read_bytes(), attachment.content_type)
        response = send_file(io.BytesIO(body), mimetype=attachment.content_type,
                             as_attachment=False, download_name=name, max_age=0, etag=False)
    else:
        response = send_file(path, mimetype=attachment.content_type, as_attachment=False,
                             download_name=name, max_age=0, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = (
        PDF_POLICY if attachment.content_type == PDF else IMAGE_POLICY)
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
