"""Who receives a diploma for an awarded entry: each of its authors (their own name), or its
nominee when the entry names no authors, and the nominating organisation too when the call
says so."""

from __future__ import annotations

from dataclasses import dataclass

from awards.nominations.authors import author_name, author_names, authors_of
from awards.nominations.models import Nomination

NOMINEE = "nominee"
AUTHOR = "author"
ORGANISATION = "organisation"


@dataclass(frozen=True)
class Recipient:
    kind: str
    # The name the certificate is known by (an author's in Russian, or the first given).
    name: str
    # An author's name in each language, for the diploma in that language.
    names: dict[str, str] | None = None
    author_id: int | None = None


def diploma_recipients(nomination: Nomination, nominee_name: str) -> list[Recipient]:
    """In the authors' order; ``nominee_name`` is what the results call the entry."""
    out = [Recipient(AUTHOR, author_name(a.row(), "ru"), author_names(a.row()), a.id)
           for a in authors_of(nomination)]
    if not out and nominee_name:
        out.append(Recipient(NOMINEE, nominee_name))
    organisation = (nomination.organisation_name or "").strip()
    if nomination.call.organisation_certificate and organisation:
        out.append(Recipient(ORGANISATION, organisation))
    return out
