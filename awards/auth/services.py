"""Account services: passwords, tokens, registration, verification and reset.

Messages shown to visitors never reveal whether an e-mail address is registered."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_login import LoginManager
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awards import audit
from awards.auth.models import User, new_session_token
from awards.db import get_db, utcnow
from awards.mail import queue_mail
from awards.urls import external_url

_hasher = PasswordHasher()
# Spent on unknown e-mails too, so timing does not tell registered addresses apart.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        if user is None:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def init_login_manager(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.session_protection = "basic"

    from flask_babel import lazy_gettext as _l

    manager.login_message = _l("Please log in to open this page.")
    manager.login_message_category = "warning"

    @manager.user_loader
    def _load(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit():
            return None
        user = get_db().get(User, int(ident))
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user


# ---- tokens ---------------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(user: User) -> str:
    # Binding the reset token to the current hash makes it single-use: resetting changes it.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_verify_token(user: User) -> str:
    return _serializer("verify-email").dumps({"u": user.id, "e": user.email})


def make_reset_token(user: User) -> str:
    return _serializer("reset-password").dumps({"u": user.id, "f": _fingerprint(user)})


def read_verify_token(session: Session, token: str) -> User | None:
    try:
        data = _serializer("verify-email").loads(
            token, max_age=current_app.config["TOKEN_MAX_AGE_VERIFY"]
        )
    except (BadSignature, SignatureExpired):
        return None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("e") or user.deleted_at is not None:
        return None
    return user


def read_reset_token(session: Session, token: str) -> User | None:
    try:
        data = _serializer("reset-password").loads(
            token, max_age=current_app.config["TOKEN_MAX_AGE_RESET"]
        )
    except (BadSignature, SignatureExpired):
        return None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or _fingerprint(user) != data.get("f") or not user.is_active:
        return None
    return user


# ---- operations -----------------------------------------------------------------------------


def register_user(
    *, session: Session, email: str, password: str, full_name: str, language: str
) -> User | None:
    """Create an account and queue the verification e-mail.

    If the address is taken, the owner is told by e-mail instead and ``None`` is returned;
    the page says the same thing either way."""
    email = normalise_email(email)
    existing = find_user(session, email)
    # Hashed either way, so the response time does not tell a taken address from a free one.
    password_hash = hash_password(password)
    if existing is not None:
        queue_mail(
            session,
            to=existing.email,
            template="account_exists",
            language=existing.preferred_language,
            login_url=external_url("auth.login"),
            reset_url=external_url("auth.forgot_password"),
        )
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        full_name=full_name.strip(),
        preferred_language=language,
    )
    session.add(user)
    session.flush()
    audit.record(session, action="user.register", object_type="user", object_id=user.id,
                 actor=user, after={"email": email, "full_name": user.full_name})
    send_verification(session=session, user=user)
    return user


def send_verification(*, session: Session, user: User) -> None:
    queue_mail(
        session,
        to=user.email,
        template="verify_email",
        language=user.preferred_language,
        name=user.display_name,
        verify_url=external_url("auth.verify_email", token=make_verify_token(user)),
    )


def verify_email(*, session: Session, user: User) -> bool:
    if user.email_verified_at is not None:
        return False
    user.email_verified_at = utcnow()
    audit.record(session, action="user.verify_email", object_type="user", object_id=user.id,
                 actor=user, after={"email_verified": True})
    session.flush()
    return True


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    user = find_user(session, email)
    if not check_password(user, password) or user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def request_password_reset(*, session: Session, email: str) -> None:
    user = find_user(session, email)
    if user is None or not user.is_active:
        return
    queue_mail(
        session,
        to=user.email,
        template="reset_password",
        language=user.preferred_language,
        name=user.display_name,
        reset_url=external_url("auth.reset_password", token=make_reset_token(user)),
        minutes=current_app.config["TOKEN_MAX_AGE_RESET"] // 60,
    )


def end_sessions(*, session: Session, user: User, audited: bool = False) -> None:
    """Every session and "remember me" cookie of the account ends at once: each carries the
    account's session token (``User.get_id``), which the user loader compares with this one.

    ``audited``: the owner asked to be logged out of every device (a plain logout is not
    recorded)."""
    user.session_token = new_session_token()
    if audited:
        audit.record(session, action="user.end_sessions", object_type="user",
                     object_id=user.id, actor=user, after={"sessions": "ended"})
    session.flush()


def set_active(*, session: Session, user: User, active: bool, actor: User | None) -> bool:
    """An administrator locks (or unlocks) an account. Locking ends every session, every
    "remember me" cookie and (the owner no longer being active) every API token's use.
    False when nothing changed."""
    if user.deleted_at is not None or user.active == active:
        return False
    user.active = active
    if not active:
        user.session_token = new_session_token()
    audit.record(session, action="user.lock" if not active else "user.unlock",
                 object_type="user", object_id=user.id, actor=actor,
                 before={"active": not active}, after={"active": active})
    session.flush()
    return True


def set_password(*, session: Session, user: User, password: str, action: str) -> int:
    """Returns how many API tokens the change revoked: a new password ends every session and
    every token of the account."""
    from awards.api.tokens import revoke_all

    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    audit.record(session, action=action, object_type="user", object_id=user.id, actor=user,
                 after={"password": "changed"})
    revoked = revoke_all(session=session, user=user)
    queue_mail(session, to=user.email, template="password_changed",
               language=user.preferred_language, name=user.display_name,
               reset_url=external_url("auth.forgot_password"))
    session.flush()
    return revoked


def reset_password(*, session: Session, user: User, password: str) -> int:
    """Set the password from a reset link; every session and API token of the account ends.
    Returns how many tokens were revoked."""
    revoked = set_password(session=session, user=user, password=password,
                           action="user.reset_password")
    if user.email_verified_at is None:
        # Following a link sent to the address proves the address.
        verify_email(session=session, user=user)
    return revoked


def change_password(*, session: Session, user: User, current_password: str,
                    new_password: str) -> int | None:
    """None (and nothing changes) when ``current_password`` is wrong; otherwise how many API
    tokens the change revoked."""
    if not check_password(user, current_password):
        return None
    return set_password(session=session, user=user, password=new_password,
                        action="user.change_password")


def update_profile(*, session: Session, user: User, full_name: str, organisation: str,
                   phone: str, language: str) -> None:
    before = {"full_name": user.full_name, "organisation": user.organisation,
              "phone": user.phone, "preferred_language": user.preferred_language}
    user.full_name = full_name.strip()
    user.organisation = organisation.strip()
    user.phone = phone.strip()
    user.preferred_language = language
    after = {"full_name": user.full_name, "organisation": user.organisation,
             "phone": user.phone, "preferred_language": user.preferred_language}
    if before != after:
        audit.record(session, action="user.update_profile", object_type="user",
                     object_id=user.id, actor=user, before=before, after=after)
    session.flush()


def set_preferred_language(*, session: Session, user: User, language: str) -> None:
    """The language switcher remembers the choice on the account as well as in the session."""
    if user.preferred_language != language:
        user.preferred_language = language
        session.flush()


def create_administrator(
    *, session: Session, email: str, password: str, full_name: str = ""
) -> User:
    user = find_user(session, email)
    if user is None:
        user = User(email=normalise_email(email), password_hash=hash_password(password),
                    full_name=full_name, email_verified_at=utcnow())
        session.add(user)
        session.flush()
    before = {"is_admin": user.is_admin}
    user.is_admin = True
    audit.record(session, action="user.grant_admin", object_type="user", object_id=user.id,
                 actor=None, before=before, after={"is_admin": True})
    session.flush()
    return user
