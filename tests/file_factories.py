"""Files that carry their author in their metadata (PDF info and XMP, JPEG EXIF), for the
blind-round tests: the served copy must not."""

from __future__ import annotations

import io

AUTHOR = "Aigerim Sadykova"


def pdf_with_metadata(author: str = AUTHOR) -> bytes:
    """A one-page PDF with the author in its info dictionary and in XMP metadata."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": author, "/Title": f"Recommendation for {author}",
                         "/Creator": "Writer"})
    xmp = StreamObject()
    xmp.set_data((
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode())
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    writer._root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def jpeg_with_exif(artist: str = AUTHOR) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x013B] = artist  # Artist
    exif[0x010E] = f"Portrait of {artist}"  # ImageDescription
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()
