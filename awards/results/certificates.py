"""Winners' certificates: verification codes, who may see a certificate, and the PDF diploma.

A code is 12 characters of Crockford's base32 (60 random bits), stored upper case without
dashes and shown grouped as ``K7Q2-M9XD-4HTR``. People copy it from paper, so reading one back
forgives case, spaces, dashes, the letters Crockford's alphabet leaves out for looking like
digits (O, I, L) and Cyrillic look-alikes typed on a Russian or Kazakh keyboard layout."""

from __future__ import annotations

import io
import math
from datetime import datetime
from pathlib import Path

import segno
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.i18n import format_date
from awards.results.models import Certificate

# The grouped display of a code and the pick of a frozen {kk, ru, en} text are the publication's.
from awards.results.services import (
    CODE_ALPHABET,
    CODE_LENGTH,
    format_code,
    pick,
)

# Crockford's decoding rules, plus Cyrillic capitals that look like Latin ones.
_LOOKALIKES = str.maketrans({
    "O": "0", "I": "1", "L": "1",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "0",
    "Р": "P", "Т": "T", "Х": "X", "І": "1",
})
_SEPARATORS = str.maketrans("", "", " \t\r\n-‐‑‒–—―−_.")

FONT_DIR = Path(__file__).parent / "fonts"
FONTS = {
    ("serif", ""): "DejaVuSerif.ttf",
    ("serif", "B"): "DejaVuSerif-Bold.ttf",
    ("sans", ""): "DejaVuSans.ttf",
    ("sans", "B"): "DejaVuSans-Bold.ttf",
}


def normalise_code(text: str | None) -> str | None:
    """The stored form of a typed code, or None when it cannot be one."""
    if not text:
        return None
    code = text.translate(_SEPARATORS).upper().translate(_LOOKALIKES)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def find_visible(session: Session, typed: str | None, now: datetime) -> Certificate | None:
    """The certificate a visitor may see. Before its publication goes live the answer is the
    same as for a code that was never issued, so the embargo cannot be probed."""
    code = normalise_code(typed)
    if code is None:
        return None
    certificate = session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None or not certificate.publication.is_visible_at(now):
        return None
    return certificate


def find_any(session: Session, typed: str | None) -> Certificate | None:
    code = normalise_code(typed)
    if code is None:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def is_valid_at(certificate: Certificate, now: datetime) -> bool:
    return certificate.revoked_at is None or certificate.revoked_at > now


def replacement_for(session: Session, certificate: Certificate,
                    now: datetime) -> Certificate | None:
    """The valid, published certificate a correction issued for the same entry, if any."""
    candidates = session.scalars(
        select(Certificate)
        .where(Certificate.nomination_id == certificate.nomination_id,
               Certificate.id != certificate.id)
        .order_by(Certificate.id.desc())
    )
    for other in candidates:
        if is_valid_at(other, now) and other.publication.is_visible_at(now):
            return other
    return None


def award_date(certificate: Certificate) -> datetime:
    """The day the award was announced: when its publication went (or goes) live."""
    publication = certificate.publication
    return publication.published_at or publication.scheduled_for


def local_date(value: datetime, certificate: Certificate, language: str) -> str:
    """A date in the call's own time zone: a ceremony late on 5 December in Almaty is still
    5 December on the diploma, wherever the server runs."""
    call = certificate.nomination.call
    return format_date(value, tz=call.tz, locale=language)


def named(obj, field: str, language: str) -> str:
    return pick({code: getattr(obj, f"{field}_{code}", "") for code in ("kk", "ru", "en")},
                language)


def recipient_in(certificate: Certificate, language: str) -> str:
    """The recipient's name in ``language``: an author's own spelling in it when given."""
    return pick(certificate.recipient_names, language) or certificate.recipient_name


def _snapshot_entry(certificate: Certificate) -> dict:
    for category in (certificate.publication.snapshot or {}).get("categories", []):
        for entry in category.get("winners", []):
            if entry.get("nomination_id") == certificate.nomination_id:
                return entry
    return {}


def work_of(certificate: Certificate) -> str:
    """The awarded work's title, as frozen in the certificate's publication."""
    return _snapshot_entry(certificate).get("work", "")


def role_in(certificate: Certificate, language: str) -> str:
    """An author's role in the work, in ``language`` ("" for other recipients)."""
    if certificate.author_id is None:
        return ""
    for author in _snapshot_entry(certificate).get("authors", []):
        if author.get("id") == certificate.author_id:
            return pick(author.get("role"), language)
    return ""


def qr_png(url: str) -> bytes:
    """A QR code of ``url`` as a PNG: dark on white, with the quiet zone readers need."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def verification_url(code: str) -> str:
    """Printed on paper, so it names the public address (BASE_URL), not whichever host or
    proxy the request that rendered it came through."""
    values = {"code": format_code(code)}
    if has_request_context():
        path = url_for("certificates.show", **values)
    else:
        path = current_app.url_map.bind("").build("certificates.show", values)
    return current_app.config["BASE_URL"].rstrip("/") + path


# ---- the PDF -------------------------------------------------------------------------------

INK = (31, 41, 55)
MUTED = (90, 98, 110)
NAVY = (20, 52, 102)
GOLD = (176, 137, 45)
PAPER = (253, 251, 245)


class _Diploma(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        for (family, style), name in FONTS.items():
            self.add_font(family, style, str(FONT_DIR / name))

    def frame(self) -> None:
        w, h = self.w, self.h
        self.set_fill_color(*PAPER)
        self.rect(0, 0, w, h, style="F")
        self.set_draw_color(*NAVY)
        self.set_line_width(1.6)
        self.rect(9, 9, w - 18, h - 18)
        self.set_draw_color(*GOLD)
        self.set_line_width(0.5)
        self.rect(13, 13, w - 26, h - 26)
        self.set_line_width(0.25)
        self.rect(15, 15, w - 30, h - 30)
        # A small diamond at each corner of the inner frame.
        self.set_fill_color(*GOLD)
        for x, y in ((13, 13), (w - 13, 13), (13, h - 13), (w - 13, h - 13)):
            self.polygon([(x, y - 3.2), (x + 3.2, y), (x, y + 3.2), (x - 3.2, y)], style="F")

    def emblem(self, cx: float, cy: float, r_out: float, r_in: float) -> None:
        points = []
        for i in range(10):
            radius = r_out if i % 2 == 0 else r_in
            angle = math.pi / 2 + i * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
        self.set_fill_color(*GOLD)
        self.polygon(points, style="F")

    def rule(self, y: float, half: float) -> None:
        cx = self.w / 2
        self.set_draw_color(*GOLD)
        self.set_line_width(0.4)
        self.line(cx - half, y, cx - 4, y)
        self.line(cx + 4, y, cx + half, y)
        self.set_fill_color(*GOLD)
        self.polygon([(cx, y - 1.6), (cx + 1.6, y), (cx, y + 1.6), (cx - 1.6, y)], style="F")

    def centred(self, text: str, *, family: str, style: str = "", size: float,
                color=INK, line: float | None = None, width: float = 230,
                dry_run: bool = False) -> float:
        """Write ``text`` centred and wrapped; return the height it takes (or would take)."""
        if not text:
            return 0.0
        self.set_font(family, style, size)
        self.set_text_color(*color)
        self.set_x((self.w - width) / 2)
        if dry_run:
            return self.multi_cell(width, line or size * 0.5, text, align="C",
                                   dry_run=True, output="HEIGHT")
        before = self.get_y()
        self.multi_cell(width, line or size * 0.5, text, align="C",
                        new_x="LMARGIN", new_y="NEXT")
        return self.get_y() - before

    def block(self, lines: list[tuple[float, str, dict]], top: float, bottom: float) -> None:
        """Lines of (space above, text, style), centred as a whole between top and bottom, so a
        name that wraps onto two lines does not push the rest into the footer."""
        lines = [(gap, text, style) for gap, text, style in lines if text]
        height = sum(gap + self.centred(text, dry_run=True, **style)
                     for gap, text, style in lines)
        self.set_y(top + max(0.0, (bottom - top - height) / 2))
        for gap, text, style in lines:
            self.set_y(self.get_y() + gap)
            self.centred(text, **style)

def render_certificate_pdf(*, certificate: Certificate, language: str) -> bytes:
    """An A4 landscape diploma in one language. Needs an app context (translations and the
    verification address); the text stays selectable so it can be checked and read aloud."""
    nomination = certificate.nomination
    call = nomination.call
    programme = named(call.programme, "name", language)
    call_title = named(call, "title", language)
    category = named(nomination.category, "name", language)
    award = pick(certificate.award_name, language)
    code = format_code(certificate.code)
    url = verification_url(certificate.code)
    recipient = recipient_in(certificate, language)
    work = work_of(certificate)
    role = role_in(certificate, language)
    with force_locale(language):
        heading = _("Diploma")
        awarded_to = _("is awarded to")
        work_line = _("for the work “%(work)s”", work=work) if work else ""
        if role and work:
            work_line = _("%(role)s of the work “%(work)s”", role=role, work=work)
        category_line = _("in the category “%(category)s”", category=category) if category else ""
        date_label = _("Date")
        code_label = _("Verification code")
        check_line = _("Check this certificate at")
        creator = _("Awards")
        date_text = local_date(award_date(certificate), certificate, language)

    pdf = _Diploma()
    pdf.set_title(f"{heading}: {recipient}")
    pdf.set_author(programme or call_title)
    pdf.set_subject(" · ".join(part for part in (award, category, call_title) if part))
    pdf.set_creator(creator)
    pdf.set_lang(language)
    pdf.set_creation_date(certificate.issued_at)
    pdf.add_page()
    pdf.frame()

    pdf.set_y(26)
    pdf.centred(programme.upper(), family="sans", style="B", size=10, color=MUTED)
    pdf.emblem(pdf.w / 2, pdf.get_y() + 7, 5, 2.1)
    pdf.set_y(pdf.get_y() + 14)
    pdf.centred(heading.upper(), family="serif", style="B", size=40, color=NAVY, line=17)
    pdf.rule(pdf.get_y() + 2, 60)
    base = pdf.h - 44
    pdf.block([
        (0, awarded_to, {"family": "serif", "size": 13, "color": MUTED}),
        (3, recipient, {"family": "serif", "style": "B", "size": 28, "line": 12}),
        (2, work_line, {"family": "serif", "size": 14, "line": 7}),
        (5, award, {"family": "serif", "style": "B", "size": 18, "color": GOLD, "line": 8}),
        (2, category_line, {"family": "serif", "size": 14, "line": 7}),
        (0, call_title, {"family": "serif", "size": 14, "line": 7}),
    ], top=pdf.get_y() + 4, bottom=base - 12)

    # Footer: the date on the left, the code and where to check it on the right.
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.3)
    pdf.line(30, base, 110, base)
    pdf.line(pdf.w - 150, base, pdf.w - 30, base)
    pdf.set_text_color(*MUTED)
    pdf.set_font("sans", "", 8.5)
    pdf.set_xy(30, base + 1.5)
    pdf.cell(80, 4.5, date_label, align="C")
    pdf.set_xy(pdf.w - 150, base + 1.5)
    pdf.cell(120, 4.5, code_label, align="C")
    pdf.set_text_color(*INK)
    pdf.set_font("serif", "B", 13)
    pdf.set_xy(30, base - 7.5)
    pdf.cell(80, 6, date_text, align="C")
    pdf.set_font("sans", "B", 13)
    pdf.set_xy(pdf.w - 150, base - 7.5)
    pdf.cell(120, 6, code, align="C")
    pdf.set_font("sans", "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(pdf.w - 150, base + 6)
    pdf.cell(120, 4.5, check_line, align="C")
    pdf.set_text_color(*NAVY)
    pdf.set_xy(pdf.w - 160, base + 10.5)
    pdf.cell(140, 4.5, url, align="C", link=url)
    # The QR code opens the same verification page: under the date, clear of the text block
    # (which may fill the page's width) and of the address on the right.
    size = 18
    pdf.image(io.BytesIO(qr_png(url)), x=70 - size / 2, y=base + 8, w=size, h=size,
              link=url, alt_text=f"{check_line} {url}")
    return bytes(pdf.output())
