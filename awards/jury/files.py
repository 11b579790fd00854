"""An entry's file opened beside the score sheet: served inline (not as a download) to a juror
who may open it, only for the types a browser shows safely: PDF (the browser's own viewer, in a
sandbox), JPEG and PNG. In a blind round the juror gets the cleaned copy (no author in the
metadata), as from the download link.

The response is the download's (``redaction.send_attachment``) served ``inline``, with its
own headers: a ``Content-Security-Policy`` that runs nothing and lets only this site frame it,
and a ``Content-Disposition: inline`` with the name the juror sees."""

from __future__ import annotations

PDF = "application/pdf"
IMAGES = ("image/jpeg", "image/png")
VIEWABLE = (PDF, *IMAGES)


def viewable(attachment) -> bool:
    return attachment.content_type in VIEWABLE


def kind_of(attachment) -> str:
    return "pdf" if attachment.content_type == PDF else "image"
