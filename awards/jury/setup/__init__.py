"""Setting up the jury of a call (the administrator's side), one module per concern:

- ``rounds``: rounds, opening and closing them, the entries of a round;
- ``rubrics``: a round's rubric and its criteria;
- ``panels``: panels, invitations, jurors' seats and their conflicts with the call's entries;
- ``assignment``: who judges what, automatically (previewed, then saved) or by hand;
- ``reassignment``: a juror's work moved when they leave or are blocked from an entry;
- ``progress``: a round's progress and the reminders to late jurors;
- ``common``: the refusals and the rulebook check every change starts with.

Every function takes keyword-only arguments, checks the rules a form cannot check alone,
flushes, writes an audit event and leaves the commit to the caller. A broken rule raises
:class:`JurySetupError` *before* anything is changed, naming the form field the message belongs
to. The choice of who judges what is made by the pure ``awards.judging.assignment`` module;
this package only loads its inputs and stores its output.

Callers import from here (``from awards.jury import setup``; ``setup.invite_juror(...)``): the
names below are the package's public ones, whichever module holds them."""

from __future__ import annotations

from awards.jury.setup.assignment import (
    AutoPlan,
    RoundContext,
    active_jurors,
    add_assignment,
    conflict_reasons,
    conflicted_pairs,
    load_context,
    plan_assignment,
    remove_assignment,
    save_assignment,
)
from awards.jury.setup.common import (
    MEMBER_FIELDS,
    JurySetupError,
    NotAllowed,
    Pair,
    PlanChanged,
    admin_viewer,
    hash_token,
    refusal,
)
from awards.jury.setup.panels import (
    EntryConflict,
    accept_invitation,
    account_for_email,
    create_panel,
    decline_invitation,
    decline_reasons,
    email_matches,
    entry_conflicts,
    invite_juror,
    member_conflicts,
    member_for_token,
    register_juror,
    resend_invitation,
    update_member,
)
from awards.jury.setup.progress import (
    CategoryProgress,
    JurorProgress,
    ReminderResult,
    RoundProgress,
    pending_reviews,
    remind_jurors,
    reminded_since,
    round_progress,
    rounds_to_remind,
    start_of_local_day,
)
from awards.jury.setup.reassignment import (
    RoundMove,
    block_juror,
    call_jurors,
    leave_digest,
    plan_member_leave,
    remove_conflict,
    remove_member,
)
from awards.jury.setup.rounds import (
    ROUND_FIELDS,
    ROUND_MOVES,
    ROUND_TRANSITIONS,
    RoundMoveSummary,
    add_entries,
    allowed_round_statuses,
    create_round,
    find_nominations,
    first_round,
    move_round,
    preview_round_move,
    update_round,
    vote_closed,
)
from awards.jury.setup.rubrics import (
    CRITERION_FIELDS,
    add_criterion,
    delete_criterion,
    ensure_rubric,
    rubric_review_count,
    update_criterion,
)

__all__ = [
    "CRITERION_FIELDS",
    "MEMBER_FIELDS",
    "ROUND_FIELDS",
    "ROUND_MOVES",
    "ROUND_TRANSITIONS",
    "AutoPlan",
    "CategoryProgress",
    "EntryConflict",
    "JurorProgress",
    "JurySetupError",
    "NotAllowed",
    "Pair",
    "PlanChanged",
    "ReminderResult",
    "RoundContext",
    "RoundMove",
    "RoundMoveSummary",
    "RoundProgress",
    "accept_invitation",
    "account_for_email",
    "active_jurors",
    "add_assignment",
    "add_criterion",
    "add_entries",
    "admin_viewer",
    "allowed_round_statuses",
    "block_juror",
    "call_jurors",
    "conflict_reasons",
    "conflicted_pairs",
    "create_panel",
    "create_round",
    "decline_invitation",
    "decline_reasons",
    "delete_criterion",
    "email_matches",
    "ensure_rubric",
    "entry_conflicts",
    "find_nominations",
    "first_round",
    "hash_token",
    "invite_juror",
    "leave_digest",
    "load_context",
    "member_conflicts",
    "member_for_token",
    "move_round",
    "pending_reviews",
    "plan_assignment",
    "plan_member_leave",
    "preview_round_move",
    "refusal",
    "register_juror",
    "remind_jurors",
    "reminded_since",
    "remove_assignment",
    "remove_conflict",
    "remove_member",
    "resend_invitation",
    "round_progress",
    "rounds_to_remind",
    "rubric_review_count",
    "save_assignment",
    "start_of_local_day",
    "update_criterion",
    "update_member",
    "update_round",
    "vote_closed",
]
