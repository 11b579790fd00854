"""What every part of the results feature shares: the languages, the certificate code's
alphabet, the refusals, and small helpers for names, texts and the visibility of a
version."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import or_

from awards.enums import NominationStatus, PublicationStatus
from awards.nominations.models import Nomination
from awards.refusals import Refusal
from awards.results.models import Publication

LANGS = ("kk", "ru", "en")
# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
PHOTO_TYPES = ["png", "jpeg", "webp"]
PHOTO_MAX_BYTES = 5 * 1024 * 1024
MAIL_KIND_PREFIX = "results:"
# Outcomes are sent for entries that took part; drafts and withdrawn entries did not.
NOT_IN_COMPETITION = (NominationStatus.DRAFT, NominationStatus.WITHDRAWN)


# ---- refusals ---------------------------------------------------------------------------------


class ResultsError(Refusal):
    """A request refused by a rule; nothing was changed. ``status`` is the HTTP answer and
    ``field`` the form field the message belongs to, if any."""

    status = 400

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class StaleResults(ResultsError):
    status = 409


class PhaseRefused(ResultsError):
    """Not in this phase of the call (the policy's reason), or not ready for the move (the
    lifecycle's reasons)."""

    status = 409

    def __init__(self, message, *, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


# ---- small helpers ----------------------------------------------------------------------------


def new_certificate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``K7Q2M9XD4HTR`` -> ``K7Q2-M9XD-4HTR`` (stored without dashes)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def texts(obj: Any, field_name: str) -> dict[str, str]:
    return {lang: getattr(obj, f"{field_name}_{lang}", "") or "" for lang in LANGS}


def pick(value: dict[str, str] | None, lang: str) -> str:
    """The text of a frozen {kk, ru, en} dict in ``lang``, falling back like ``localized``."""
    if not value:
        return ""
    for code in (lang, "ru", "en", "kk"):
        if value.get(code):
            return value[code]
    return ""


def recipient_name(nomination: Nomination) -> str:
    return nomination.nominee_name or nomination.organisation_name or ""


def visible_clause(now: datetime):
    return or_(Publication.status != PublicationStatus.SCHEDULED,
               Publication.scheduled_for <= now)


def anchor_for(nomination_id: int) -> str:
    return f"winner-{nomination_id}"


