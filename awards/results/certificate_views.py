"""Certificates: the public verification page for a code, and the PDF diploma for its winner
and administrators."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from awards.cache import public_page
from awards.db import get_db, utcnow
from awards.extensions import limiter, login_manager
from awards.i18n import LANGUAGE_NAMES
from awards.permissions import is_admin
from awards.results import certificates as certs

bp = Blueprint("certificates", __name__, url_prefix="/certificates")

# Every lookup of a code counts, whichever page it comes through; 60 bits of code cannot be
# guessed anyway, but a script walking the space should stop long before it could matter.
_DEFAULT_LIMIT = "30 per minute;300 per hour"


def _lookup_limit() -> str:
    return current_app.config.get("RATELIMIT_CERTIFICATE", _DEFAULT_LIMIT)


def _not_a_lookup() -> bool:
    # The empty form is not a lookup, and administrators open certificates in bulk.
    if request.endpoint == "certificates.verify" and "code" not in request.args:
        return True
    return is_admin(current_user)


_lookups = limiter.shared_limit(_lookup_limit, scope="certificate-lookup",
                                exempt_when=_not_a_lookup)


@bp.context_processor
def _helpers():
    return {"format_code": certs.format_code}


def _not_found(typed: str):
    """The same page, word for word, for a code never issued and one still under embargo."""
    message = _("No certificate has this code. Check it against the certificate: a code has "
                "12 letters and digits, like K7Q2-M9XD-4HTR.")
    html = render_template("certificates/verify.html", code=typed, error=message)
    return _no_index(make_response(html, 404))


def _no_index(response):
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/verify")
@_lookups
@public_page(unless=lambda: "code" in request.args)
def verify():
    if "code" not in request.args:
        return _no_index(make_response(render_template("certificates/verify.html", code="")))
    typed = request.args.get("code", "").strip()[:100]
    if not typed:
        html = render_template("certificates/verify.html", code="",
                               error=_("Enter the code printed on the certificate."))
        return _no_index(make_response(html, 400))
    certificate = certs.find_visible(get_db(), typed, utcnow())
    if certificate is None:
        return _not_found(typed)
    return redirect(url_for(".show", code=certs.format_code(certificate.code)), 303)


def _results_url(call) -> str | None:
    if "results.show" not in current_app.view_functions:
        return None
    return url_for("results.show", slug=call.slug)


def _may_download(certificate) -> bool:
    if not current_user.is_authenticated:
        return False
    return is_admin(current_user) or certificate.nomination.applicant_id == current_user.id


def _show_page(certificate, now, *, status: int = 200, pdf_gone: bool = False):
    db = get_db()
    valid = certs.is_valid_at(certificate, now)
    lang = str(get_locale())
    html = render_template(
        "certificates/show.html",
        certificate=certificate,
        code=certs.format_code(certificate.code),
        call=certificate.nomination.call,
        category=certificate.nomination.category,
        award=certs.pick(certificate.award_name, lang),
        recipient=certs.recipient_in(certificate, lang),
        work=certs.work_of(certificate), role=certs.role_in(certificate, lang),
        award_date=certs.local_date(certs.award_date(certificate), certificate, lang),
        revoked_date=(None if valid else
                      certs.local_date(certificate.revoked_at, certificate, lang)),
        valid=valid,
        replacement=None if valid else certs.replacement_for(db, certificate, now),
        results_url=_results_url(certificate.nomination.call),
        may_download=valid and _may_download(certificate),
        languages=LANGUAGE_NAMES,
        pdf_gone=pdf_gone,
    )
    response = _no_index(make_response(html, status))
    # The status can change (a correction revokes it) and the links depend on who asks.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/<code>")
@_lookups
def show(code: str):
    now = utcnow()
    certificate = certs.find_visible(get_db(), code, now)
    if certificate is None:
        return _not_found(code[:100])
    canonical = certs.format_code(certificate.code)
    if code != canonical:
        return redirect(url_for(".show", code=canonical), 301)
    return _show_page(certificate, now)


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def _content_disposition(certificate, heading: str) -> str:
    code = certs.format_code(certificate.code)
    ascii_name = f"certificate-{code}.pdf"
    readable = _UNSAFE_FILENAME.sub(" ", f"{heading} {certificate.recipient_name} {code}.pdf")
    readable = " ".join(readable.split())
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(readable, safe='')}"


@bp.get("/<code>.pdf")
@_lookups
def download(code: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    now = utcnow()
    db = get_db()
    admin = is_admin(current_user)
    # Administrators may check a diploma before the ceremony; to anyone else an embargoed
    # certificate does not exist yet.
    certificate = certs.find_any(db, code) if admin else certs.find_visible(db, code, now)
    if certificate is None:
        abort(404)
    if not _may_download(certificate):
        abort(403)
    if not certs.is_valid_at(certificate, now):
        return _show_page(certificate, now, status=410, pdf_gone=True)
    languages = current_app.config["LANGUAGES"]
    language = request.args.get("lang", "")
    if language not in languages:
        language = str(get_locale())
    pdf = certs.render_certificate_pdf(certificate=certificate, language=language)
    with force_locale(language):
        heading = _("Diploma")
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = _content_disposition(certificate, heading)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response

