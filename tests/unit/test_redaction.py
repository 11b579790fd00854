"""Redacted copies of files for blind rounds: neutral names, PDF info and XMP removed, image
EXIF removed, pixels and pages kept, unreadable files refused."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from PIL import Image
from pypdf import PdfReader

from awards import create_app
from awards.redaction import (
    RedactionError,
    neutral_name,
    neutral_names,
    redact_image,
    redact_pdf,
    redacted_copy,
)
from tests.file_factories import AUTHOR, jpeg_with_exif, pdf_with_metadata


@pytest.fixture(scope="module")
def _app(tmp_path_factory):
    path = tmp_path_factory.mktemp("redaction")
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}/x.db",
                       "INSTANCE_PATH": str(path), "SECRET_KEY": "x"})


@pytest.fixture(autouse=True)
def _english(_app):
    """Neutral names are translated: English here."""
    with _app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.mark.parametrize(("position", "original", "expected"), [
    (2, "Aigerim_Sadykova_recommendation.pdf", "Attachment 2.pdf"),
    (1, "photo.JPG", "Attachment 1.jpg"),
    (3, "no extension", "Attachment 3"),
    (4, "weird.p d f", "Attachment 4"),
    (5, "", "Attachment 5"),
])
def test_neutral_name_keeps_only_position_and_extension(position, original, expected):
    assert neutral_name(position, original) == expected


def test_neutral_names_number_in_the_order_given():
    files = [SimpleNamespace(id=7, original_name="b.png"), SimpleNamespace(id=3,
                                                                           original_name="a.pdf")]
    assert neutral_names(files) == {7: "Attachment 1.png", 3: "Attachment 2.pdf"}


def test_pdf_loses_info_and_xmp_keeps_pages():
    original = pdf_with_metadata()
    assert AUTHOR.encode() in original
    cleaned = redact_pdf(original)
    assert AUTHOR.encode() not in cleaned
    reader = PdfReader(io.BytesIO(cleaned))
    assert len(reader.pages) == 1
    assert reader.metadata is None
    assert reader.xmp_metadata is None


def test_pdf_page_level_metadata_removed():
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=100, height=100)
    xmp = StreamObject()
    xmp.set_data(f"<x:xmpmeta><dc:creator>{AUTHOR}</dc:creator></x:xmpmeta>".encode())
    page[NameObject("/Metadata")] = writer._add_object(xmp)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert AUTHOR.encode() in buffer.getvalue()
    assert AUTHOR.encode() not in redact_pdf(buffer.getvalue())


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\nnot a pdf\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    b"",
], ids=["garbage", "no-root", "empty"])
def test_unreadable_pdf_is_refused(data):
    with pytest.raises(RedactionError) as refused:
        redact_pdf(data)
    assert "cannot be shown in a blind round" in str(refused.value.message)


def test_jpeg_loses_exif_keeps_pixels():
    original = jpeg_with_exif()
    cleaned = redact_image(original, "JPEG")
    assert AUTHOR.encode() not in cleaned
    with Image.open(io.BytesIO(cleaned)) as img:
        assert (img.format, img.size, dict(img.getexif())) == ("JPEG", (16, 12), {})
        red, green, blue = img.convert("RGB").getpixel((8, 6))
        assert red > 180 and green < 70 and blue < 70


def test_jpeg_orientation_applied_before_exif_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x013B] = AUTHOR
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 0, 0)).save(buffer, format="JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(redact_image(buffer.getvalue(), "JPEG"))) as img:
        assert img.size == (10, 20)


def test_png_text_chunks_removed_transparency_kept():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", AUTHOR)
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(buffer, format="PNG", pnginfo=info)
    cleaned = redacted_copy(buffer.getvalue(), "image/png")
    assert AUTHOR.encode() not in cleaned
    with Image.open(io.BytesIO(cleaned)) as img:
        assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0


def test_unknown_type_and_broken_image_are_refused():
    with pytest.raises(RedactionError):
        redacted_copy(b"PK\x03\x04", "application/zip")
    with pytest.raises(RedactionError):
        redacted_copy(b"\xff\xd8\xff broken", "image/jpeg")
