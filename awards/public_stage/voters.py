"""Voters prove they own an e-mail address with a link or a six-digit code from the same
message; no account and no password. Both secrets are stored only as hashes, work once, expire
and (the code) allow a few attempts, so a guessed or leaked value is worth nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from awards.db import utcnow
from awards.mail import queue_mail
from awards.public_stage.models import Voter

SESSION_KEY = "voter_id"
CODE_DIGITS = 6


class VoterError(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _hash_code(voter_id: int, code: str) -> str:
    # Keyed and bound to the voter: a million possible codes must not be reversible from a
    # leaked hash, nor reusable for another address.
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{voter_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_verification(*, session: Session, email: str, language: str, ip: str,
                         stage_slug: str) -> Voter:
    """Create the voter if new and e-mail a fresh link and code; earlier ones stop working."""
    email = normalise_email(email)
    voter = session.scalar(select(Voter).where(Voter.email == email))
    if voter is None:
        voter = Voter(email=email, email_domain=email.rpartition("@")[2], language=language,
                      created_ip=ip[:45])
        session.add(voter)
        session.flush()
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    voter.token_hash = hash_token(token)
    voter.code_hash = _hash_code(voter.id, code)
    voter.code_expires_at = utcnow() + timedelta(
        seconds=int(current_app.config["PUBLIC_VOTER_CODE_SECONDS"]))
    voter.code_attempts = 0
    voter.language = language
    session.flush()
    link = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "public_stage.verify_link", slug=stage_slug, token=token)
    queue_mail(session, to=email, template="voter_verify", language=language,
               code=code, verify_url=link, minutes=int(
                   current_app.config["PUBLIC_VOTER_CODE_SECONDS"]) // 60,
               stage_slug=stage_slug)
    return voter


def _finish(voter: Voter) -> Voter:
    voter.token_hash = None
    voter.code_hash = None
    voter.code_expires_at = None
    voter.code_attempts = 0
    if voter.verified_at is None:
        voter.verified_at = utcnow()
    return voter


INVALID_LINK = _l("This link is invalid, expired or already used. Ask for a new code.")


def verify_link(*, session: Session, token: str) -> Voter:
    voter = session.scalar(select(Voter).where(Voter.token_hash == hash_token(token or "")))
    if voter is None or voter.code_expires_at is None or voter.code_expires_at < utcnow():
        raise VoterError(INVALID_LINK)
    _finish(voter)
    session.flush()
    return voter


def verify_code(*, session: Session, email: str, code: str) -> Voter:
    """Each check of a code uses one attempt, taken before the comparison by a single UPDATE
    that succeeds only while attempts are left and the code is still valid, and that returns
    the code's hash as it was at that instant. Parallel requests cannot all read the same
    count and all be checked: the database serialises the UPDATEs on the voter's row, so at
    most ``PUBLIC_VOTER_CODE_ATTEMPTS`` codes are ever compared. The caller commits either
    way, so a wrong attempt stays counted."""
    email = normalise_email(email)
    code = (code or "").strip().replace(" ", "")
    limit = int(current_app.config["PUBLIC_VOTER_CODE_ATTEMPTS"])
    now = utcnow()
    taken = session.execute(
        update(Voter)
        .where(Voter.email == email, Voter.code_hash.is_not(None),
               Voter.code_expires_at >= now, Voter.code_attempts < limit)
        .values(code_attempts=Voter.code_attempts + 1)
        .returning(Voter.id, Voter.code_hash)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        raise VoterError(_why_no_attempt(session, email, now, limit), field="code")
    voter_id, code_hash = taken
    if not hmac.compare_digest(code_hash, _hash_code(voter_id, code)):
        raise VoterError(_l("This code is not right. Check the e-mail and try again."),
                         field="code")
    voter = session.get(Voter, voter_id, populate_existing=True)
    _finish(voter)
    session.flush()
    return voter


def _why_no_attempt(session: Session, email: str, now, limit: int):
    """Why no attempt could be taken, in the order a person can act on it."""
    voter = session.scalar(select(Voter).where(Voter.email == email))
    if voter is None or voter.code_hash is None or voter.code_expires_at is None:
        return _l("There is no code waiting for this address. Ask for a new one.")
    if voter.code_expires_at < now:
        return _l("This code has expired. Ask for a new one.")
    return _l("Too many wrong codes. Ask for a new one.")


def remember(flask_session, voter: Voter) -> None:
    """Start a fresh voter session: the CSRF secret is replaced too, so nothing planted before
    the verification survives it. The language and a signed-in account are kept."""
    keep = {key: flask_session[key] for key in ("lang", "_user_id", "_fresh", "_id")
            if key in flask_session}
    flask_session.clear()
    flask_session.update(keep)
    flask_session[SESSION_KEY] = voter.id
    flask_session.permanent = True


def current_voter(session: Session, flask_session) -> Voter | None:
    voter_id = flask_session.get(SESSION_KEY)
    if not isinstance(voter_id, int):
        return None
    voter = session.get(Voter, voter_id)
    return voter if voter is not None and voter.verified_at is not None else None
