"""A work's authors as people: an author collective of 1..N members, each with a name in the
call's languages, a role, an optional e-mail (to ask for consent) and a place in the order.

An authors question (``FieldType.AUTHORS``) keeps its answer twice, on purpose: as the list of
author dicts in ``Answer.value`` (so versions, snapshots and the API read it like any other
answer) and as ``NominationAuthor`` rows, which carry what an answer cannot: each author's
consent, and an e-mail the conflict rule can find with one SQL condition. ``sync_authors`` keeps
the rows equal to the answer; an author keeps their consent as long as their e-mail (or, without
one, their names) stays the same.

The question's settings reuse the form field's columns: ``options`` lists the roles (value and
labels in three languages, as for a choice) and ``max_value`` the most authors an entry may
name."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, backref, mapped_column, relationship

from awards import audit
from awards.db import Base, utcnow
from awards.mail import queue_mail
from awards.urls import external_url

if TYPE_CHECKING:
    from awards.calls.models import FormField
    from awards.nominations.models import Nomination

LANGS = ("kk", "ru", "en")
NAME_KEYS = tuple(f"name_{code}" for code in LANGS)
ROW_KEYS = (*NAME_KEYS, "role", "email")
DEFAULT_MAX_AUTHORS = 20
# No question may allow more: a collective is a handful of people, and each is a row of inputs.
MAX_AUTHORS_LIMIT = 100
NAME_MAX_LENGTH = 300

# The roles offered when the question lists none of its own.
DEFAULT_ROLES: dict[str, Any] = {
    "author": _l("Author"),
    "co_author": _l("Co-author"),
    "director": _l("Director"),
    "composer": _l("Composer"),
    "screenwriter": _l("Screenwriter"),
    "architect": _l("Architect"),
    "performer": _l("Performer"),
    "translator": _l("Translator"),
}


class NominationAuthor(Base):
    __tablename__ = "nomination_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name_kk: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), default="")
    name_ru: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), default="")
    name_en: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), default="")
    role: Mapped[str] = mapped_column(String(100), default="")
    # Lower-cased when stored; the conflict rule compares it with a juror's address.
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    # The author answers through an e-mailed link; only the token's hash is kept.
    consent_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    consent_requested_at: Mapped[datetime | None]
    consent_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Declared from this side (a backref) so the nomination's own module needs no change.
    nomination: Mapped[Nomination] = relationship(backref=backref(
        "authors", order_by="(NominationAuthor.position, NominationAuthor.id)",
        cascade="all, delete-orphan"))

    def name(self, lang: str | None = None) -> str:
        return author_name(self.row(), lang)

    def row(self) -> dict[str, str]:
        return {key: getattr(self, key) or "" for key in ROW_KEYS}

    @property
    def consent_state(self) -> str:
        """"none" (no e-mail), "pending", "given" or "declined"."""
        if self.declined_at is not None:
            return "declined"
        if self.consent_at is not None:
            return "given"
        return "pending" if self.email else "none"

    def __repr__(self) -> str:
        return f"<NominationAuthor {self.id} n={self.nomination_id} #{self.position}>"


# ---- reading ---------------------------------------------------------------------------------


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "ru")


def author_name(row: dict[str, Any], lang: str | None = None) -> str:
    """An author's name in ``lang``, falling back like ``localized`` (then any name given)."""
    lang = lang or _locale()
    for code in (lang, "ru", "en", "kk"):
        value = (row.get(f"name_{code}") or "").strip()
        if value:
            return value
    return ""


def author_names(row: dict[str, Any]) -> dict[str, str]:
    """{kk, ru, en}: every language filled, a missing one by the fallback."""
    return {code: author_name(row, code) for code in LANGS}


def max_authors(definition: FormField) -> int:
    limit = int(definition.max_value or DEFAULT_MAX_AUTHORS)
    return max(1, min(limit, MAX_AUTHORS_LIMIT))


def role_choices(definition: FormField | None) -> list[tuple[str, str]]:
    """(value, label in the current language) of the roles the question offers."""
    from awards.i18n import localized

    options = (definition.options if definition is not None else None) or []
    if options:
        return [(str(o.get("value")), localized(_Option(o), "label") or str(o.get("value")))
                for o in options]
    return [(value, str(label)) for value, label in DEFAULT_ROLES.items()]


def role_label(definition: FormField | None, value: str) -> str:
    if not value:
        return ""
    for option_value, label in role_choices(definition):
        if option_value == value:
            return label
    if value in DEFAULT_ROLES:
        return str(DEFAULT_ROLES[value])
    return value


def role_labels(definition: FormField | None, value: str) -> dict[str, str]:
    """A role's label in each language, frozen into a publication's snapshot."""
    from flask_babel import force_locale

    out = {}
    for code in LANGS:
        with force_locale(code):
            out[code] = role_label(definition, value)
    return out


class _Option:
    def __init__(self, option: dict):
        self._option = option

    def __getattr__(self, name: str):
        return self._option.get(name, "")


def authors_field(fields: list[FormField]) -> FormField | None:
    """The first authors question among ``fields`` (a form has at most one that counts)."""
    from awards.enums import FieldType

    return next((f for f in fields if f.type == FieldType.AUTHORS), None)


def authors_of(nomination: Nomination) -> list[NominationAuthor]:
    return list(getattr(nomination, "authors", None) or [])


def authors_line(nomination: Nomination, lang: str | None = None) -> str:
    """"Name (role), Name (role)" for lists and exports, in ``lang``."""
    fields = nomination.call.fields if nomination.call is not None else []
    definition = authors_field(fields)
    parts = []
    for author in authors_of(nomination):
        role = role_label(definition, author.role)
        name = author.name(lang)
        parts.append(f"{name} ({role})" if role else name)
    return "; ".join(parts)


def public_authors(nomination: Nomination) -> list[dict[str, Any]]:
    """What a publication keeps of the authors: names and role labels in three languages
    (never an e-mail)."""
    definition = authors_field(nomination.call.fields)
    return [{"id": a.id, "name": author_names(a.row()),
             "role": role_labels(definition, a.role) if a.role else dict.fromkeys(LANGS, "")}
            for a in authors_of(nomination)]


def work_title(nomination: Nomination) -> str:
    """The title of the nominated work as the site's own pages name it ("" when the form has
    no short text question): ``awards.nominations.titles``."""
    from awards.nominations.titles import title_of

    return title_of(nomination, public=False)


def consent_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_token(session: Session, token: str) -> NominationAuthor | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(select(NominationAuthor).where(
        NominationAuthor.consent_token_hash == consent_token_hash(token)))


# ---- keeping the rows equal to the answer ------------------------------------------------------


def clean_rows(value: Any) -> list[dict[str, str]]:
    """The stored shape of an authors answer: a list of dicts with ``ROW_KEYS`` (strings),
    rows without any name left out."""
    rows = []
    for item in value or []:
        if not isinstance(item, dict):
            continue
        row = {key: str(item.get(key) or "").strip() for key in ROW_KEYS}
        row["email"] = row["email"].lower()
        if any(row[key] for key in NAME_KEYS):
            rows.append(row)
    return rows


def _same_person(author: NominationAuthor, row: dict[str, str]) -> bool:
    if author.email or row["email"]:
        return author.email == row["email"]
    return all((getattr(author, key) or "") == row[key] for key in NAME_KEYS)


def sync_authors(session: Session, nomination: Nomination, value: Any) -> bool:
    """Make the nomination's author rows equal to the answer ``value``. Returns whether any
    row changed. Matched authors keep their consent; a new e-mail starts without one."""
    rows = clean_rows(value)
    existing = authors_of(nomination)
    unmatched = list(existing)
    changed = False
    for position, row in enumerate(rows):
        author = next((a for a in unmatched if _same_person(a, row)), None)
        if author is None:
            author = NominationAuthor(position=position, **row)
            nomination.authors.append(author)
            changed = True
        else:
            unmatched.remove(author)
            for key in ROW_KEYS:
                if (getattr(author, key) or "") != row[key]:
                    setattr(author, key, row[key])
                    changed = True
            if author.position != position:
                author.position = position
                changed = True
    for author in unmatched:
        nomination.authors.remove(author)
        changed = True
    if changed:
        nomination.authors.sort(key=lambda a: a.position)
        session.flush()
    return changed


def authors_at_version(*, session: Session, nomination: Nomination, actor) -> None:
    """At each submitted version (a submission, or an edit of a submitted entry): the author
    rows become the version's authors, and each new author with an e-mail is asked for
    consent. Flushes."""
    from awards.enums import FieldType

    for answer in nomination.answers:
        if answer.field is not None and answer.field.type == FieldType.AUTHORS:
            sync_authors(session, nomination, answer.value)
            break
    else:
        sync_authors(session, nomination, [])
    request_author_consents(session=session, nomination=nomination, actor=actor)
    session.flush()


def anonymise_authors(nomination: Nomination, *, keep_names: bool) -> None:
    """The nominee's rule for every author when the entry is anonymised: e-mails and consent
    links go; the names stay only where the nominee's does (an eligible entry may be awarded,
    and its diplomas must keep naming the authors)."""
    for author in authors_of(nomination):
        if not keep_names:
            nomination.authors.remove(author)
            continue
        author.email = ""
        author.consent_token_hash = None


# ---- consent ---------------------------------------------------------------------------------


def _asks_consent(author: NominationAuthor, nomination: Nomination) -> bool:
    applicant_email = ((nomination.applicant.email if nomination.applicant else "") or "").lower()
    return (bool(author.email) and author.email != applicant_email
            and author.consent_requested_at is None and author.consent_at is None
            and author.declined_at is None)


def request_author_consents(*, session: Session, nomination: Nomination, actor,
                            now: datetime | None = None) -> list[NominationAuthor]:
    """Mail every author with an e-mail who has not been asked yet a link to confirm or
    decline. The applicant's own address is not asked: they are the one submitting. Only the
    token's hash is stored."""
    now = now or utcnow()
    asked = []
    applicant = nomination.applicant
    language = (applicant.preferred_language if applicant else None) or "ru"
    for author in authors_of(nomination):
        if not _asks_consent(author, nomination):
            continue
        token = secrets.token_urlsafe(32)
        author.consent_token_hash = consent_token_hash(token)
        author.consent_requested_at = now
        queue_mail(session, to=author.email, template="author_consent_request",
                   language=language, nomination=nomination, call=nomination.call,
                   author_name=author.name(language),
                   applicant_name=applicant.display_name if applicant else "",
                   consent_url=external_url("authors.consent", token=token))
        audit.record(session, action="nomination.author_consent_request",
                     object_type="nomination", object_id=nomination.id, actor=actor,
                     call_id=nomination.call_id,
                     after={"author_id": author.id, "email": author.email})
        asked.append(author)
    session.flush()
    return asked


class AuthorConsentClosed(Exception):
    """The entry no longer takes answers (withdrawn, ruled out, anonymised)."""


def record_author_answer(*, session: Session, author: NominationAuthor, accept: bool,
                         now: datetime | None = None) -> bool:
    """The author's answer through their link. Returns False when nothing changed."""
    from awards.nominations.services import consent_open, lock_nomination

    now = now or utcnow()
    nomination = lock_nomination(session=session, nomination=author.nomination)
    session.refresh(author)
    if not consent_open(nomination):
        raise AuthorConsentClosed()
    if accept and author.consent_at is not None:
        return False
    if not accept and author.declined_at is not None:
        return False
    before = {"consent_at": _iso(author.consent_at), "declined_at": _iso(author.declined_at)}
    if accept:
        author.consent_at, author.declined_at = now, None
    else:
        author.consent_at, author.declined_at = None, now
    audit.record(session, action="nomination.author_consent" if accept
                 else "nomination.author_decline",
                 object_type="nomination", object_id=nomination.id,
                 actor=_AuthorActor(author.email), call_id=nomination.call_id,
                 before={"author_id": author.id, **before},
                 after={"author_id": author.id, "consent_at": _iso(author.consent_at),
                        "declined_at": _iso(author.declined_at)})
    session.flush()
    return True


class _AuthorActor:
    id = None

    def __init__(self, email: str):
        self.email = email


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

