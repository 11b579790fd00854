"""Files as a blind round's jury may receive them: under a neutral name ("Attachment 2.pdf"),
with the document's own metadata removed from the served copy.

A PDF's info dictionary (author, title, creator, producer, dates) and its XMP packets, and an
image's EXIF, XMP and text chunks, often name the person who wrote or photographed the file, so
they are dropped by a library that understands the format (pypdf, Pillow), never by patching
bytes. The stored original is not touched: administrators and the applicant download it as it
was uploaded. A file the library cannot read is refused with a clear message (``RedactionError``)
rather than served as it is."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import PurePosixPath

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PDF = "application/pdf"
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF",
                 "image/webp": "WEBP"}
# Image properties that are about the pixels, not about the people: kept in the copy.
KEPT_IMAGE_INFO = ("transparency", "dpi", "icc_profile", "duration", "loop", "background")
# Image sizes beyond this are not decoded for redaction (storage refuses bigger ones anyway).
MAX_PIXELS = 80_000_000

REFUSED = _l("This file cannot be shown in a blind round: its document details could not be "
             "removed safely. The organisers have the original; please ask them for a copy.")


class RedactionError(Exception):
    """The file could not be cleaned; ``message`` is what the juror is told."""

    def __init__(self, message=REFUSED):
        super().__init__(str(message))
        self.message = message


# ---- names -------------------------------------------------------------------------------------


def neutral_name(position: int, original_name: str) -> str:
    """"Attachment 2.pdf": the position in the entry and the original extension only."""
    suffix = PurePosixPath(original_name or "").suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 6:
        suffix = ""
    return _("Attachment %(n)d", n=position) + suffix


def neutral_names(attachments: Iterable) -> dict[int, str]:
    """Neutral names by attachment id, numbered from 1 in the order given (the entry's
    attachments a juror may open, in upload order), so the page, the API and the download
    agree."""
    return {a.id: neutral_name(i, a.original_name) for i, a in enumerate(attachments, start=1)}


# ---- the cleaned copy ----------------------------------------------------------------------------


def redacted_copy(data: bytes, content_type: str) -> bytes:
    """The file without its document metadata; raises ``RedactionError`` when that cannot be
    done (unreadable, encrypted, or a type with no cleaner)."""
    if content_type == PDF:
        return redact_pdf(data)
    if content_type in IMAGE_FORMATS:
        return redact_image(data, IMAGE_FORMATS[content_type])
    raise RedactionError()


def redact_pdf(data: bytes) -> bytes:
    """A copy of the PDF without its info dictionary and without XMP metadata (the catalogue's,
    the pages' and any other object's), unreachable objects left out."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError
    from pypdf.generic import DictionaryObject, NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted or len(reader.pages) == 0:
            raise RedactionError()
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # no /Info in the trailer
        for obj in list(writer._objects):
            target = obj.get_object() if obj is not None else None
            if isinstance(target, DictionaryObject):
                for key in ("/Metadata", "/PieceInfo"):
                    if NameObject(key) in target:
                        del target[NameObject(key)]
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        buffer = io.BytesIO()
        writer.write(buffer)
    except RedactionError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            RecursionError, OSError):
        raise RedactionError() from None
    return buffer.getvalue()


def redact_image(data: bytes, image_format: str) -> bytes:
    """The pixels again, in the same format, without EXIF, XMP, comments or text chunks. An
    EXIF orientation is applied to the pixels first, so the picture still stands upright."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise RedactionError()
            kept = {k: img.info[k] for k in KEPT_IMAGE_INFO if k in img.info}
            frames = []
            for frame in ImageSequence.Iterator(img):
                clean = ImageOps.exif_transpose(frame.copy()) if len(frames) == 0 \
                    else frame.copy()
                clean.info = {}
                frames.append(clean)
            buffer = io.BytesIO()
            options = dict(kept)
            if image_format == "JPEG":
                options.update(quality=95)
                if frames[0].mode not in ("RGB", "L", "CMYK"):
                    frames[0] = frames[0].convert("RGB")
            if len(frames) > 1:
                options.update(save_all=True, append_images=frames[1:])
            frames[0].save(buffer, format=image_format, **options)
    except RedactionError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError):
        raise RedactionError() from None
    return buffer.getvalue()


# ---- serving -----------------------------------------------------------------------------------


# Served inline (the juror's viewer): a PDF runs in a sandbox (no scripts, forms or top
# navigation of its own); an image needs none. Only this site may frame either.
PDF_POLICY = "sandbox; default-src 'none'; object-src 'self'; frame-ancestors 'self'"
IMAGE_POLICY = "default-src 'none'; frame-ancestors 'self'"


def send_attachment(attachment, *, name: str | None = None, redact: bool = False,
                    inline: bool = False):
    """The response for a stored attachment: the original as uploaded, or (``redact``) a
    cleaned copy, under ``name`` (else the uploaded name). A download, or (``inline``) shown
    in the browser, with a ``Content-Security-Policy`` that runs nothing and framing by this
    site only. Raises ``FileNotFoundError`` when the stored file is gone and
    ``RedactionError`` when it cannot be cleaned."""
    from flask import send_file

    from awards.storage import path_for

    path = path_for(attachment.stored_name)
    if not path.is_file():
        raise FileNotFoundError(attachment.stored_name)
    body = (io.BytesIO(redacted_copy(path.read_bytes(), attachment.content_type)) if redact
            else path)
    response = send_file(body, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=name or attachment.original_name, max_age=0,
                         etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if inline:
        response.headers["Content-Security-Policy"] = (
            PDF_POLICY if attachment.content_type == "application/pdf" else IMAGE_POLICY)
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
