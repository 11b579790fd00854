"""Personal API tokens: create (the secret is returned once), list, revoke, and look up the
token a request presents.

Only the SHA-256 of a secret is stored: a secret is 32 random bytes, so a fast hash is enough
(nothing to guess), and a leaked table gives no usable token. Services flush and audit; the
caller commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from awards import audit
from awards.api.models import ApiToken
from awards.db import utcnow

SECRET_PREFIX = "awd_"
PREFIX_LENGTH = 12  # "awd_" and 8 characters of the secret: enough to tell tokens apart
MAX_TOKENS_PER_USER = 20
MAX_NAME_LENGTH = 100
# A token's last use is written at most this often, so reading through the API does not turn
# every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXPIRY_CHOICES = (30, 90, 365)  # days; "never" is the fourth choice


class TokenError(Exception):
    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # shown once; exists nowhere else


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _snapshot(token: ApiToken) -> dict:
    return {"name": token.name, "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None}


def tokens_of(session: Session, user) -> list[ApiToken]:
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def create_token(*, session: Session, user, name: str, expires_at: datetime | None,
                 now: datetime | None = None) -> CreatedToken:
    from flask_babel import lazy_gettext as _l
    from flask_babel import lazy_ngettext

    now = now or utcnow()
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_l("Give the token a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(_l("Use at most %(n)d characters.", n=MAX_NAME_LENGTH), field="name")
    if expires_at is not None and expires_at <= now:
        raise TokenError(_l("The expiry must be in the future."), field="expires_in")
    usable = [t for t in tokens_of(session, user) if t.is_usable_at(now)]
    if len(usable) >= MAX_TOKENS_PER_USER:
        raise TokenError(lazy_ngettext(
            "You have %(num)d active token, the most allowed. Revoke it first.",
            "You have %(num)d active tokens, the most allowed. Revoke one first.",
            MAX_TOKENS_PER_USER))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret),
                     prefix=secret[:PREFIX_LENGTH], created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.record(session, action="api_token.create", object_type="api_token",
                 object_id=token.id, actor=user, after=_snapshot(token))
    return CreatedToken(token, secret)


def revoke_token(*, session: Session, user, token: ApiToken,
                 now: datetime | None = None) -> bool:
    """False when it was already revoked (a second click)."""
    if token.user_id != user.id:
        raise PermissionError("not the owner")
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    session.flush()
    audit.record(session, action="api_token.revoke", object_type="api_token",
                 object_id=token.id, actor=user, before=_snapshot(token),
                 after={"revoked_at": token.revoked_at.isoformat()})
    return True


def revoke_all(*, session: Session, user, now: datetime | None = None) -> int:
    """Revoke every token of USER still usable (a new password ends them all); each revocation
    is audited. Returns how many were revoked."""
    now = now or utcnow()
    usable = [t for t in tokens_of(session, user) if t.is_usable_at(now)]
    for token in usable:
        revoke_token(session=session, user=user, token=token, now=now)
    return len(usable)


def find_usable(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The token for a presented secret, if it may be used now by an active account."""
    now = now or utcnow()
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.is_usable_at(now):
        return None
    if not token.user.is_active:
        return None
    return token


def touch(session: Session, token: ApiToken, now: datetime | None = None) -> bool:
    """Record the use, unless it was recorded less than a minute ago. One conditional UPDATE:
    concurrent requests never wait on each other for it."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    result = session.execute(
        update(ApiToken).where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)
