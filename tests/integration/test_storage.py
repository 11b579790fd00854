import io

import pytest
from PIL import Image

from awards.db import get_db
from awards.storage import UploadError, clean_filename, path_for, save_upload, sniff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes(size=(4, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("head", "kind"),
    [(PDF, "pdf"), (b"\xff\xd8\xff\xe0rest", "jpeg"), (b"\x89PNG\r\n\x1a\nrest", "png"),
     (b"MZ\x90\x00 windows executable", None), (b"\x7fELF", None), (b"<html>", None)],
)
def test_sniff_reads_type_from_content(head, kind):
    assert sniff(head) == kind


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\cv.pdf", "cv.pdf"),
     ("..\\..\\x.png", "x.png"),
     ("", "file"), (".hidden.pdf", "hidden.pdf"), ("a\x00b\nc.pdf", "abc.pdf")],
)
def test_clean_filename_drops_path_parts(raw, clean):
    assert clean_filename(raw) == clean


def test_save_upload_stores_under_random_name(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        stored = save_upload(io.BytesIO(PDF), "../report.pdf", allowed=["pdf"], max_bytes=1000)
        assert stored.original_name == "report.pdf"
        assert stored.kind == "pdf"
        assert stored.size == len(PDF)
        assert "report" not in stored.stored_name
        get_db().commit()
        assert path_for(stored.stored_name).read_bytes() == PDF


@pytest.mark.parametrize(
    ("data", "name", "allowed", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "cv.pdf", ["pdf"], "not an allowed type"),
        (b"", "empty.pdf", ["pdf"], "is empty"),
        (PDF * 100, "big.pdf", ["pdf"], "larger than"),
        (b"%PDF-1.4 but truncated without end", "cut.pdf", ["pdf"], "damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "fake.png", ["png"], "damaged"),
        (PDF, "doc.pdf", ["png", "jpeg"], "not an allowed type"),
    ],
)
def test_save_upload_rejects_bad_files_and_leaves_nothing(app, data, name, allowed, message):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(UploadError) as err:
            save_upload(io.BytesIO(data), name, allowed=allowed, max_bytes=1000)
        assert message in str(err.value)
        root = path_for("ab0000").parent.parent
        leftovers = [p for p in root.rglob("*") if p.is_file()]
        assert leftovers == []


def test_save_upload_accepts_real_png(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        stored = save_upload(io.BytesIO(png_bytes()), "photo", allowed=["png"], max_bytes=10_000)
        assert stored.original_name == "photo.png"
        assert stored.content_type == "image/png"
