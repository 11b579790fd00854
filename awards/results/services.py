"""Publishing a call's results: citations and photos of the winners, versioned publications
(now or at a set time), corrections, the outcome e-mails and the winners' certificates.

A publication freezes everything its page shows in ``snapshot``; nothing published is ever
edited. Publishing moves the call from deliberation to "published" (or "results scheduled"
until the publication time), which freezes everything that led to the results; a correction
moves the call to "correcting" (while the current version stays public), then publishes the
next version with a note. The phase moves are the lifecycle's (``awards.lifecycle``): its guard
for publishing is this page's checklist. Services take keyword-only arguments, flush and audit;
the caller commits.

Every action carries a *state token* of what the administrator saw (the call's status and
version, the publications, the active awards); it is recomputed under a lock on the call row,
so a double submit or two administrators at once get ``StaleResults`` (409), never a second
publication.

The feature is split by concern; this module gathers their public names, so callers import
from one place: ``common`` (languages, refusals, small helpers), ``reading`` (what is
published and visible), ``winners`` (the decided winners, the snapshot, the state token and
the citations), ``issuing`` (certificates issued by a publication) and ``publication``
(publishing, corrections, scheduled versions)."""

from __future__ import annotations

from awards.results.common import (
    CODE_ALPHABET,
    CODE_LENGTH,
    LANGS,
    MAIL_KIND_PREFIX,
    NOT_IN_COMPETITION,
    PHOTO_MAX_BYTES,
    PHOTO_TYPES,
    PhaseRefused,
    ResultsError,
    StaleResults,
    anchor_for,
    format_code,
    new_certificate_code,
    pick,
    recipient_name,
    texts,
    visible_clause,
)
from awards.results.issuing import (
    issue_certificates,
)
from awards.results.publication import (
    Preview,
    correct_refusal,
    open_correction,
    preview,
    publish,
    publish_refusal,
    reschedule,
    settle_due,
    withdraw,
)
from awards.results.reading import (
    Outcome,
    current_publication,
    find_winner,
    outcomes_for,
    pending_publication,
    photo_is_public,
    publication_version,
    publications_of,
    valid_certificate,
    valid_certificates,
    visible_calls,
)
from awards.results.winners import (
    CategoryWinners,
    Winner,
    award_decisions,
    build_snapshot,
    checklist,
    competing_categories,
    decided_winners,
    lock_state,
    publish_blockers,
    save_citation,
    snapshot_winners,
    state_token,
    warnings_for,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "LANGS",
    "MAIL_KIND_PREFIX",
    "NOT_IN_COMPETITION",
    "PHOTO_MAX_BYTES",
    "PHOTO_TYPES",
    "CategoryWinners",
    "Outcome",
    "PhaseRefused",
    "Preview",
    "ResultsError",
    "StaleResults",
    "Winner",
    "anchor_for",
    "award_decisions",
    "build_snapshot",
    "checklist",
    "competing_categories",
    "correct_refusal",
    "current_publication",
    "decided_winners",
    "find_winner",
    "format_code",
    "issue_certificates",
    "lock_state",
    "new_certificate_code",
    "open_correction",
    "outcomes_for",
    "pending_publication",
    "photo_is_public",
    "pick",
    "preview",
    "publication_version",
    "publications_of",
    "publish",
    "publish_blockers",
    "publish_refusal",
    "recipient_name",
    "reschedule",
    "save_citation",
    "settle_due",
    "snapshot_winners",
    "state_token",
    "texts",
    "valid_certificate",
    "valid_certificates",
    "visible_calls",
    "visible_clause",
    "warnings_for",
    "withdraw",
]
