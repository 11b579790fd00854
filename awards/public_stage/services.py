"""The public stage: its setup, the votes, the moderated comments and the close that sends the
top entries on to the first jury round.

Services take keyword-only arguments, flush and leave the commit to the caller. Setup,
annulments, moderation and closing are audited; single votes and comments are not (there are
tens of thousands, each is stored with its time, address and network, and an administrator's
act on one of them is audited).

The parts live by concern and are all importable from here:

- ``common``: the refusal (``StageError``, ``NeedsChoice``), the limits of typed text and the
  "is the stage open" check;
- ``reading``: what the pages read (the stage, its entries, a candidate's page, the totals,
  the voter's standing votes);
- ``stage_setup``: creating and changing a stage, choosing its entries;
- ``voting``: casting, repeating and changing a vote, annulling one;
- ``closing``: counting, ties, the frozen results, the decisions and the first jury round;
- ``comments``: the public discussion and its moderation;
- ``cards``: the photo and the work's title on the candidates' list."""

from __future__ import annotations

from awards.public_stage.cards import NO_CARD, Card, cards
from awards.public_stage.closing import (
    advance_to_first_round,
    close_stage,
    closed_stages,
    due_stages,
    first_round,
    tied_choices_needed,
)
from awards.public_stage.comments import (
    approved_comments,
    moderate_comment,
    moderation_queue,
    post_comment,
    report_comment,
)
from awards.public_stage.common import (
    COMMENT_MAX,
    IMAGE_TYPES,
    NAME_MAX,
    REASON_MAX,
    NeedsChoice,
    StageError,
)
from awards.public_stage.reading import (
    CandidatePage,
    Numbers,
    call_and_stage,
    candidate_page,
    chosen_entry,
    eligible_nominations,
    entries_by_category,
    entry_for,
    is_photo_visible,
    jury_vote_count,
    overall_numbers,
    public_answers,
    public_name,
    public_photo,
    stage_of,
    state,
    voter_with_choices,
)
from awards.public_stage.stage_setup import STAGE_FIELDS, save_stage, set_entries
from awards.public_stage.voting import (
    MOVE_TRIES,
    Ballot,
    annul_vote,
    ballot_for,
    cast_first_vote,
    cast_vote,
    check_ballot_open,
    flagged_votes,
)

__all__ = [
    "COMMENT_MAX",
    "IMAGE_TYPES",
    "MOVE_TRIES",
    "NAME_MAX",
    "NO_CARD",
    "REASON_MAX",
    "STAGE_FIELDS",
    "Ballot",
    "CandidatePage",
    "Card",
    "NeedsChoice",
    "Numbers",
    "StageError",
    "advance_to_first_round",
    "annul_vote",
    "approved_comments",
    "ballot_for",
    "call_and_stage",
    "candidate_page",
    "cards",
    "cast_first_vote",
    "cast_vote",
    "check_ballot_open",
    "chosen_entry",
    "close_stage",
    "closed_stages",
    "due_stages",
    "eligible_nominations",
    "entries_by_category",
    "entry_for",
    "first_round",
    "flagged_votes",
    "is_photo_visible",
    "jury_vote_count",
    "moderate_comment",
    "moderation_queue",
    "overall_numbers",
    "post_comment",
    "public_answers",
    "public_name",
    "public_photo",
    "report_comment",
    "save_stage",
    "set_entries",
    "stage_of",
    "state",
    "tied_choices_needed",
    "voter_with_choices",
]
