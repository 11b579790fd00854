"""Who may reach what: every route of the application (pages and the JSON API) × every role ×
the status a permission check must give, in one table.

The table is checked against the URL map: a route without an entry (or an entry for a route
that no longer exists) fails ``test_every_route_has_an_entry``, so whoever adds a route has to
say here who may use it.

Roles: a visitor (not signed in), the applicant (owns the nominations, the jury entry and the
certificate), another applicant, a juror assigned to the entry, a juror of the same panel with a
conflict on it, the panel's chair and an administrator; for the API also an expired and a
revoked token (401). Pages are asked with each role's signed-in session (and a valid CSRF token
on posts, so what is checked is permission, not CSRF); the API with each role's Bearer token.

Expectations: a status, a set of statuses, ``LOGIN`` (a redirect to the login page) or ``OK``,
which means "got past the permission check": any status but 401, 403, 404, 405 and the login
redirect (a 400 or 409 for an empty form is fine). Nothing may answer 500.

Everything runs against one world built once per module (``matrix_world``). Reads run first,
for every role. Writes run first for the roles that must be refused (which must change
nothing); the writes an allowed role makes come last (``test_allowed_writes``), ordered so that
removals come after everything that reads what they remove, and each removal has a spare target
of its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from awards import create_app
from tests.api_factories import bearer
from tests.conftest import IsolatedClient, csrf_from, login
from tests.factories import arrange
from tests.module_database import module_database
from tests.security.matrix_world import (
    API_ROLES,
    EMAILS,
    INVITATION_TOKEN,
    ROLES,
    MatrixWorld,
    build_world,
)

OK = "allowed"
LOGIN = "login"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
NOT_IN_MATRIX = {"static"}

V, APP, OTHER, JUROR, CONFL, CHAIR, ADMIN = ROLES
EXPIRED, REVOKED = API_ROLES[len(ROLES):]


# ---- rows of expectations -------------------------------------------------------------------


def row(default: Any, **overrides: Any) -> dict[str, Any]:
    return {role: overrides.get(role, default) for role in ROLES}


def api_row(default: Any, **overrides: Any) -> dict[str, Any]:
    """No token or a token that does not work: 401, unless overridden (public reads)."""
    expected = dict.fromkeys(API_ROLES, default)
    expected[V] = expected[EXPIRED] = expected[REVOKED] = 401
    expected.update(overrides)
    return expected


PUBLIC = row(OK)
SIGNED_IN = row(OK, visitor=LOGIN)
ADMIN_ONLY = row(403, visitor=LOGIN, admin=OK)
# Someone else's nomination is a 404, never a 403.
OWNER = row(404, visitor=LOGIN, applicant=OK)
OWNER_OR_ADMIN = row(404, visitor=LOGIN, applicant=OK, admin=OK)
# Anything that is not the juror's own visible assignment is a 404 (the conflicted juror asks
# for their own assignment, on the entry they are conflicted with; non-jurors ask for the
# assigned juror's).
OWN_ASSIGNMENT = row(404, visitor=LOGIN, juror=OK, chair=OK)
CHAIR_OR_ADMIN = row(403, visitor=LOGIN, chair=OK, admin=OK)

API_PUBLIC = api_row(OK, visitor=OK)
API_SIGNED_IN = api_row(OK)
API_ADMIN_ONLY = api_row(403, admin=OK)


@dataclass(frozen=True)
class Entry:
    expect: dict[str, Any]
    params: Any = None  # callable (world, role) -> URL values, or None
    late: int = 0  # the order of an allowed write among the last cases: 0 first, 3 last
    fresh: bool = False  # an allowed write ends the session: use a client of its own
    note: str = ""


def p(**names: str):
    """URL values taken from the world by attribute name (literals start with '=')."""
    def values(world: MatrixWorld, role: str) -> dict[str, Any]:
        return {key: (name[1:] if name.startswith("=") else getattr(world, name))
                for key, name in names.items()}
    return values


def own_assignment(**extra: str):
    """Each juror asks for their own assignment on the entry; everyone else for juror A's."""
    def values(world: MatrixWorld, role: str) -> dict[str, Any]:
        ids = {JUROR: world.juror_assignment_id, CONFL: world.conflicted_assignment_id,
               CHAIR: world.chair_assignment_id}
        result = {"assignment_id": ids.get(role, world.juror_assignment_id)}
        result.update(p(**extra)(world, role))
        return result
    return values


OPEN_CALL = p(call_id="open_call_id")
JURY_CALL = p(call_id="jury_call_id")
ROUND = p(round_id="round_id")
CATEGORY = p(call_id="jury_call_id", category_id="jury_category_id")
LEVEL = p(call_id="jury_call_id", category_id="jury_category_id", level_id="level_id")
OWN = p(nomination_id="own_nomination_id")
STAGE = p(call_id="stage_call_id")
PUBLIC_ENTRY = p(slug="stage_slug", reference="stage_reference")
NEWS = p(announcement_id="announcement_id")
RESULTS_CALL = p(call_id="results_call_id")
WINNER = p(call_id="results_call_id", nomination_id="winner_nomination_id")
SCHEDULED = p(call_id="results_call_id", version="scheduled_version")
BAD_TOKEN = "=not-a-real-token"

# (method, endpoint) -> Entry
MATRIX: dict[tuple[str, str], Entry] = {
    # ---- home, health, language ----
    ("GET", "main.index"): Entry(PUBLIC),
    ("GET", "main.healthz"): Entry(PUBLIC),
    ("POST", "main.set_language"): Entry(PUBLIC, p(code="=ru")),
    # ---- account ----
    ("GET", "auth.login"): Entry(PUBLIC),
    ("POST", "auth.login"): Entry(PUBLIC),
    ("POST", "auth.logout"): Entry(PUBLIC, late=3, fresh=True),
    ("POST", "auth.end_other_sessions"): Entry(SIGNED_IN, late=3, fresh=True),
    ("GET", "auth.register"): Entry(PUBLIC),
    ("POST", "auth.register"): Entry(PUBLIC),
    # A link that is not (or no longer) valid sends everyone to the login page with a message.
    ("GET", "auth.verify_email"): Entry(row(303), p(token=BAD_TOKEN)),
    ("POST", "auth.resend_verification"): Entry(SIGNED_IN),
    ("GET", "auth.forgot_password"): Entry(PUBLIC),
    ("POST", "auth.forgot_password"): Entry(PUBLIC),
    ("GET", "auth.reset_password"): Entry(PUBLIC, p(token=BAD_TOKEN)),
    ("POST", "auth.reset_password"): Entry(PUBLIC, p(token=BAD_TOKEN)),
    ("GET", "auth.change_password"): Entry(SIGNED_IN),
    ("POST", "auth.change_password"): Entry(SIGNED_IN),
    ("GET", "auth.profile"): Entry(SIGNED_IN),
    ("POST", "auth.profile"): Entry(SIGNED_IN),
    ("GET", "privacy.index"): Entry(SIGNED_IN),
    ("GET", "privacy.export"): Entry(SIGNED_IN),
    ("POST", "privacy.export"): Entry(SIGNED_IN),
    # An empty form has no password: refused with 400, the account stays.
    ("POST", "privacy.delete"): Entry(SIGNED_IN, late=3, fresh=True),
    ("GET", "api_tokens.index"): Entry(SIGNED_IN),
    ("POST", "api_tokens.create"): Entry(SIGNED_IN),
    # A spare token of the applicant's: anyone else's token is a 404.
    ("POST", "api_tokens.revoke"): Entry(OWNER, p(token_id="spare_token_id")),
    # ---- public pages ----
    ("GET", "calls.index"): Entry(PUBLIC),
    ("GET", "calls.show"): Entry(PUBLIC, p(slug="open_slug")),
    ("GET", "announcements.index"): Entry(PUBLIC),
    ("GET", "announcements.show"): Entry(PUBLIC, p(slug="announcement_slug")),
    ("GET", "announcements.feed"): Entry(PUBLIC, p(lang="=en")),
    ("GET", "audit.heads"): Entry(PUBLIC),
    ("GET", "announcements.image"): Entry(PUBLIC, p(name="image_name")),
    ("GET", "results.archive"): Entry(PUBLIC),
    ("GET", "results.gallery"): Entry(PUBLIC),
    ("GET", "results.show"): Entry(PUBLIC, p(slug="results_slug")),
    ("GET", "results.version"): Entry(PUBLIC, p(slug="results_slug", version="=1")),
    ("GET", "results.winner"): Entry(PUBLIC, p(slug="results_slug", reference="=VYR-2025-00001")),
    ("GET", "results.photo"): Entry(PUBLIC, p(slug="results_slug", name="photo_name")),
    ("GET", "certificates.verify"): Entry(PUBLIC),
    ("GET", "certificates.show"): Entry(PUBLIC, p(code="certificate_shown")),
    # The winner (the applicant) and administrators download the diploma; the page itself is
    # public, so refusing others with 403 tells nothing new.
    ("GET", "certificates.download"): Entry(row(403, visitor=LOGIN, applicant=OK, admin=OK),
                                            p(code="certificate_code")),
    # ---- the public stage (voters are not accounts: every role is a visitor here) ----
    ("GET", "public_stage.index"): Entry(PUBLIC, p(slug="stage_slug")),
    ("GET", "public_stage.entry"): Entry(PUBLIC, PUBLIC_ENTRY),
    ("GET", "public_stage.photo"): Entry(PUBLIC, PUBLIC_ENTRY),
    ("POST", "public_stage.vote"): Entry(PUBLIC, PUBLIC_ENTRY),
    ("POST", "public_stage.comment"): Entry(PUBLIC, PUBLIC_ENTRY),
    ("POST", "public_stage.report"): Entry(PUBLIC, p(slug="stage_slug", comment_id="comment_id")),
    ("POST", "public_stage.forget"): Entry(PUBLIC, p(slug="stage_slug")),
    ("GET", "public_stage.verify"): Entry(PUBLIC, p(slug="stage_slug")),
    ("POST", "public_stage.verify"): Entry(PUBLIC, p(slug="stage_slug")),
    ("GET", "public_stage.verify_link"): Entry(PUBLIC, p(slug="stage_slug",
                                                         token=BAD_TOKEN)),
    ("GET", "public_stage.verify_code"): Entry(PUBLIC, p(slug="stage_slug")),
    ("POST", "public_stage.verify_code"): Entry(PUBLIC, p(slug="stage_slug")),
    ("POST", "public_stage.verify_again"): Entry(PUBLIC, p(slug="stage_slug")),
    # ---- nominations ----
    ("GET", "nominations.mine"): Entry(SIGNED_IN),
    ("GET", "nominations.start"): Entry(SIGNED_IN, p(slug="open_slug")),
    ("POST", "nominations.start"): Entry(SIGNED_IN, p(slug="open_slug")),
    ("GET", "nominations.show"): Entry(OWNER_OR_ADMIN, OWN),
    ("GET", "nominations.confirmation"): Entry(OWNER_OR_ADMIN, OWN),
    ("GET", "nominations.attachment"): Entry(OWNER_OR_ADMIN, p(nomination_id="own_nomination_id",
                                                               attachment_id="own_attachment_id")),
    ("GET", "nominations.edit"): Entry(OWNER, OWN),
    ("POST", "nominations.save"): Entry(OWNER, OWN),
    ("POST", "nominations.submit"): Entry(OWNER, OWN),
    ("GET", "nominations.submit_reloaded"): Entry(OWNER, OWN),
    ("GET", "nominations.withdraw"): Entry(OWNER, OWN),
    ("POST", "nominations.withdraw"): Entry(OWNER, OWN, late=1),
    # The nominee's consent link is the only key: an unknown one is a 404 for everyone.
    ("GET", "nominations.consent"): Entry(row(404), p(token=BAD_TOKEN)),
    ("POST", "nominations.consent"): Entry(row(404), p(token=BAD_TOKEN)),
    # An author's consent link, the same.
    ("GET", "authors.consent"): Entry(row(404), p(token=BAD_TOKEN)),
    ("POST", "authors.consent"): Entry(row(404), p(token=BAD_TOKEN)),
    # ---- the juror's pages ----
    ("GET", "jury.dashboard"): Entry(SIGNED_IN),
    ("GET", "jury.next_unscored"): Entry(SIGNED_IN),
    ("GET", "jury.score"): Entry(OWN_ASSIGNMENT, own_assignment()),
    ("POST", "jury.save"): Entry(OWN_ASSIGNMENT, own_assignment()),
    ("GET", "jury.attachment"): Entry(OWN_ASSIGNMENT,
                                      own_assignment(attachment_id="entry_attachment_id")),
    ("GET", "jury.view_attachment"): Entry(OWN_ASSIGNMENT,
                                           own_assignment(attachment_id="entry_attachment_id")),
    # Only the chair sees the panel's scores of an entry.
    ("GET", "jury.panel"): Entry(row(404, visitor=LOGIN, chair=OK), own_assignment()),
    ("GET", "jury.recuse"): Entry(OWN_ASSIGNMENT, own_assignment()),
    ("POST", "jury.recuse"): Entry(OWN_ASSIGNMENT, own_assignment(), late=2),
    ("POST", "jury.reopen"): Entry(OWN_ASSIGNMENT, own_assignment()),
    # An invitation is for the address it was sent to: any other account gets 403, a visitor
    # is asked to sign in or register.
    ("GET", "jury_admin.invitation"): Entry(row(403, visitor=OK),
                                            p(token="=" + INVITATION_TOKEN)),
    ("POST", "jury_admin.invitation"): Entry(row(403, visitor=OK),
                                             p(token="=" + INVITATION_TOKEN)),
    # ---- administration: calls, categories, forms, programmes ----
    ("GET", "admin.dashboard"): Entry(ADMIN_ONLY),
    ("GET", "admin.programmes"): Entry(ADMIN_ONLY),
    ("GET", "admin.programme_new"): Entry(ADMIN_ONLY),
    ("POST", "admin.programme_new"): Entry(ADMIN_ONLY),
    ("GET", "admin.programme_edit"): Entry(ADMIN_ONLY, p(programme_id="programme_id")),
    ("POST", "admin.programme_edit"): Entry(ADMIN_ONLY, p(programme_id="programme_id")),
    ("GET", "admin.call_new"): Entry(ADMIN_ONLY),
    ("POST", "admin.call_new"): Entry(ADMIN_ONLY),
    ("GET", "admin.call_detail"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("GET", "admin.call_edit"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("POST", "admin.call_edit"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("GET", "admin.call_move"): Entry(ADMIN_ONLY, p(call_id="open_call_id", action="=close")),
    # The call has nominations: going back to draft is refused (409), nothing changes.
    ("POST", "admin.call_move"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                     action="=back_to_draft")),
    ("GET", "admin.call_clone"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("POST", "admin.call_clone"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("GET", "admin.categories"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "admin.category_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "admin.category_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "admin.category_edit"): Entry(ADMIN_ONLY, CATEGORY),
    ("POST", "admin.category_edit"): Entry(ADMIN_ONLY, CATEGORY),
    ("POST", "admin.category_move"): Entry(ADMIN_ONLY, p(call_id="jury_call_id",
                                                         category_id="jury_category_id",
                                                         direction="=down")),
    ("POST", "admin.category_delete"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                           category_id="spare_category_id"),
                                             late=2),
    ("GET", "admin.award_level_new"): Entry(ADMIN_ONLY, CATEGORY),
    ("POST", "admin.award_level_new"): Entry(ADMIN_ONLY, CATEGORY),
    ("GET", "admin.award_level_edit"): Entry(ADMIN_ONLY, LEVEL),
    ("POST", "admin.award_level_edit"): Entry(ADMIN_ONLY, LEVEL),
    ("POST", "admin.award_level_move"): Entry(ADMIN_ONLY, p(call_id="jury_call_id",
                                                            category_id="jury_category_id",
                                                            level_id="level_id",
                                                            direction="=down")),
    ("POST", "admin.award_level_delete"): Entry(ADMIN_ONLY, p(call_id="jury_call_id",
                                                              category_id="jury_category_id",
                                                              level_id="spare_level_id"),
                                                late=2),
    ("GET", "admin.form_fields"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("GET", "admin.form_field_new"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                         field_type="=short_text")),
    ("POST", "admin.form_field_new"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                          field_type="=short_text")),
    ("GET", "admin.form_field_edit"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                          field_id="field_id")),
    ("POST", "admin.form_field_edit"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                           field_id="field_id")),
    ("POST", "admin.form_field_move"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                           field_id="field_id",
                                                           direction="=down")),
    ("POST", "admin.form_field_delete"): Entry(ADMIN_ONLY, p(call_id="open_call_id",
                                                             field_id="spare_field_id"),
                                               late=2),
    # ---- administration: screening ----
    ("GET", "screening.index"): Entry(ADMIN_ONLY),
    ("GET", "screening.list"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("POST", "screening.bulk"): Entry(ADMIN_ONLY, OPEN_CALL),
    ("GET", "screening.show"): Entry(ADMIN_ONLY, OWN),
    ("POST", "screening.decide"): Entry(ADMIN_ONLY, OWN),
    # ---- administration: jury ----
    ("GET", "jury_admin.rounds"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "jury_admin.round_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "jury_admin.round_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "jury_admin.round_edit"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.round_edit"): Entry(ADMIN_ONLY, ROUND),
    # The confirmation page of closing the (open) round; the post asks to open it, which an
    # administrator gets past the permission check for and is refused (409: already open).
    ("GET", "jury_admin.round_move"): Entry(ADMIN_ONLY, p(round_id="round_id", action="=close")),
    ("POST", "jury_admin.round_move"): Entry(ADMIN_ONLY, p(round_id="round_id", action="=open")),
    ("GET", "jury_admin.rubric"): Entry(ADMIN_ONLY, ROUND),
    ("GET", "jury_admin.criterion_new"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.criterion_new"): Entry(ADMIN_ONLY, ROUND),
    ("GET", "jury_admin.criterion_edit"): Entry(ADMIN_ONLY, p(round_id="round_id",
                                                              criterion_id="criterion_id")),
    ("POST", "jury_admin.criterion_edit"): Entry(ADMIN_ONLY, p(round_id="round_id",
                                                               criterion_id="criterion_id")),
    ("POST", "jury_admin.criterion_delete"): Entry(ADMIN_ONLY, p(round_id="round_id",
                                                                 criterion_id="criterion_id"),
                                                   late=2),
    ("GET", "jury_admin.entries"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.entries_add"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.entries_add_eligible"): Entry(ADMIN_ONLY, ROUND),
    ("GET", "jury_admin.progress"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.remind"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.assignment_add"): Entry(ADMIN_ONLY, ROUND),
    ("GET", "jury_admin.auto_assign"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "jury_admin.auto_assign_save"): Entry(ADMIN_ONLY, ROUND, late=1),
    ("POST", "jury_admin.assignment_remove"): Entry(ADMIN_ONLY,
                                                    p(assignment_id="spare_assignment_id"),
                                                    late=2),
    ("GET", "jury_admin.panel_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "jury_admin.panel_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "jury_admin.panel"): Entry(ADMIN_ONLY, p(panel_id="panel_id")),
    ("POST", "jury_admin.invite"): Entry(ADMIN_ONLY, p(panel_id="panel_id")),
    ("GET", "jury_admin.member_edit"): Entry(ADMIN_ONLY, p(member_id="spare_member_id")),
    ("POST", "jury_admin.member_edit"): Entry(ADMIN_ONLY, p(member_id="spare_member_id")),
    ("POST", "jury_admin.member_resend"): Entry(ADMIN_ONLY, p(member_id="spare_member_id")),
    ("GET", "jury_admin.member_remove"): Entry(ADMIN_ONLY, p(member_id="spare_member_id")),
    ("POST", "jury_admin.member_remove_confirm"): Entry(ADMIN_ONLY,
                                                        p(member_id="spare_member_id"), late=2),
    ("GET", "jury_admin.conflicts"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "jury_admin.conflict_add"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "jury_admin.conflict_delete"): Entry(ADMIN_ONLY, p(conflict_id="spare_conflict_id"),
                                                  late=2),
    # ---- administration: ranking (the chair of the call's panel may read) ----
    ("GET", "ranking.round_view"): Entry(CHAIR_OR_ADMIN, ROUND),
    ("GET", "ranking.entry"): Entry(CHAIR_OR_ADMIN, p(round_id="round_id",
                                                      nomination_id="entry_id")),
    ("GET", "ranking.export"): Entry(ADMIN_ONLY, p(round_id="round_id", fmt="=csv")),
    ("GET", "ranking.import_view"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "ranking.import_view"): Entry(ADMIN_ONLY, ROUND),
    ("GET", "ranking.confirm_advance"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "ranking.advance"): Entry(ADMIN_ONLY, ROUND, late=1),
    ("POST", "ranking.decide"): Entry(ADMIN_ONLY, ROUND),
    ("POST", "ranking.revoke"): Entry(ADMIN_ONLY, p(round_id="round_id",
                                                    decision_id="spare_decision_id"), late=1),
    # ---- administration: results ----
    ("GET", "results_admin.overview"): Entry(ADMIN_ONLY, RESULTS_CALL),
    ("GET", "results_admin.citation"): Entry(ADMIN_ONLY, WINNER),
    ("POST", "results_admin.citation"): Entry(ADMIN_ONLY, WINNER),
    ("GET", "results_admin.confirm_publish"): Entry(ADMIN_ONLY, RESULTS_CALL),
    ("POST", "results_admin.publish"): Entry(ADMIN_ONLY, RESULTS_CALL, late=1),
    ("POST", "results_admin.correction"): Entry(ADMIN_ONLY, RESULTS_CALL, late=1),
    ("POST", "results_admin.reschedule"): Entry(ADMIN_ONLY, SCHEDULED, late=1),
    ("POST", "results_admin.withdraw"): Entry(ADMIN_ONLY, SCHEDULED, late=2),
    ("GET", "results_admin.photo"): Entry(ADMIN_ONLY, p(name="photo_name")),
    # ---- administration: news ----
    ("GET", "announcements_admin.index"): Entry(ADMIN_ONLY),
    ("GET", "announcements_admin.new"): Entry(ADMIN_ONLY),
    # A cover chosen before a preview: only its administrator's signed reference opens it.
    ("GET", "announcements_admin.pending_cover"): Entry(row(403, visitor=LOGIN, admin=404),
                                                        p(token="=not-a-reference")),
    ("POST", "announcements_admin.new"): Entry(ADMIN_ONLY),
    ("GET", "announcements_admin.edit"): Entry(ADMIN_ONLY, NEWS),
    ("POST", "announcements_admin.edit"): Entry(ADMIN_ONLY, NEWS),
    ("POST", "announcements_admin.image_delete"): Entry(ADMIN_ONLY,
                                                        p(announcement_id="announcement_id",
                                                          image_id="image_id"), late=2),
    ("GET", "announcements_admin.delete"): Entry(ADMIN_ONLY,
                                                 p(announcement_id="spare_announcement_id")),
    ("POST", "announcements_admin.delete"): Entry(ADMIN_ONLY,
                                                  p(announcement_id="spare_announcement_id"),
                                                  late=2),
    # ---- administration: the public stage ----
    ("GET", "public_stage_admin.stage"): Entry(ADMIN_ONLY, STAGE),
    ("POST", "public_stage_admin.stage"): Entry(ADMIN_ONLY, STAGE),
    ("GET", "public_stage_admin.entries"): Entry(ADMIN_ONLY, STAGE),
    ("POST", "public_stage_admin.entries"): Entry(ADMIN_ONLY, STAGE),
    ("GET", "public_stage_admin.votes"): Entry(ADMIN_ONLY, STAGE),
    ("POST", "public_stage_admin.annul"): Entry(ADMIN_ONLY, p(call_id="stage_call_id",
                                                              vote_id="vote_id"), late=1),
    ("GET", "public_stage_admin.comments"): Entry(ADMIN_ONLY, STAGE),
    ("POST", "public_stage_admin.moderate"): Entry(ADMIN_ONLY, p(call_id="stage_call_id",
                                                                 comment_id="comment_id"),
                                                   late=1),
    ("GET", "public_stage_admin.close"): Entry(ADMIN_ONLY, STAGE),
    ("POST", "public_stage_admin.close"): Entry(ADMIN_ONLY, STAGE, late=2),
    ("POST", "public_stage_admin.advance"): Entry(ADMIN_ONLY, STAGE, late=2),
    # The commission's pages, asked of a scoring round: not found for everyone (its own rules
    # are checked in tests/integration/test_commission.py).
    ("GET", "commission.index"): Entry(SIGNED_IN),
    **{(method, f"commission.{name}"): Entry(row(404, visitor=LOGIN), ROUND)
       for method, name in (("GET", "ballot"), ("POST", "ballot"), ("GET", "receipt"),
                            ("POST", "receipt"), ("GET", "chair"), ("POST", "open_ballot"),
                            ("POST", "close_ballot"), ("POST", "apply_outcome"),
                            ("GET", "ballots_json"), ("GET", "ballots_csv"),
                            ("GET", "protocol"))},
    ("GET", "commission_admin.rounds"): Entry(ADMIN_ONLY, JURY_CALL),
    ("GET", "commission_admin.round_new"): Entry(ADMIN_ONLY, JURY_CALL),
    ("POST", "commission_admin.round_new"): Entry(ADMIN_ONLY, JURY_CALL),
    **{(method, f"commission_admin.{name}"): Entry(row(403, visitor=LOGIN, admin=404), ROUND)
       for method, name in (("GET", "round_view"), ("POST", "round_view"),
                            ("POST", "member_invite"))},
    ("POST", "commission_admin.member_chair"): Entry(
        row(403, visitor=LOGIN, admin=404), p(round_id="round_id", member_id="spare_member_id")),
    ("POST", "commission_admin.member_remove"): Entry(
        row(403, visitor=LOGIN, admin=404), p(round_id="round_id", member_id="spare_member_id")),
    # ---- the JSON API ----
    ("GET", "api.index"): Entry(API_PUBLIC),
    ("GET", "api.docs"): Entry(API_PUBLIC),
    ("GET", "api.openapi"): Entry(API_PUBLIC),
    ("GET", "api.me"): Entry(API_SIGNED_IN),
    ("GET", "api.list_calls"): Entry(API_PUBLIC),
    ("GET", "api.get_call"): Entry(API_PUBLIC, p(slug="open_slug")),
    ("GET", "api.list_categories"): Entry(API_PUBLIC, p(slug="open_slug")),
    ("GET", "api.list_results"): Entry(API_PUBLIC),
    ("GET", "api.get_result"): Entry(API_PUBLIC, p(slug="results_slug")),
    ("GET", "api.get_result_version"): Entry(API_PUBLIC, p(slug="results_slug", version="=1")),
    ("GET", "api.list_announcements"): Entry(API_PUBLIC),
    ("GET", "api.get_announcement"): Entry(API_PUBLIC, p(slug="announcement_slug")),
    ("GET", "api.list_nominations"): Entry(API_SIGNED_IN),
    ("POST", "api.create_nomination"): Entry(API_SIGNED_IN),
    ("GET", "api.get_nomination"): Entry(api_row(404, applicant=OK, admin=OK), OWN),
    ("PATCH", "api.update_nomination"): Entry(api_row(404, applicant=OK), OWN),
    ("POST", "api.submit_nomination"): Entry(api_row(404, applicant=OK), OWN, late=1),
    ("POST", "api.withdraw_nomination"): Entry(api_row(404, applicant=OK), OWN, late=2),
    ("GET", "api.list_assignments"): Entry(API_SIGNED_IN),
    ("GET", "api.get_assignment"): Entry(api_row(404, juror=OK, chair=OK), own_assignment()),
    ("PUT", "api.save_review"): Entry(api_row(404, juror=OK, chair=OK), own_assignment()),
    ("POST", "api.submit_review"): Entry(api_row(404, juror=OK, chair=OK), own_assignment()),
    ("GET", "api.round_ranking"): Entry(api_row(403, chair=OK, admin=OK), ROUND),
    ("GET", "api.list_decisions"): Entry(API_ADMIN_ONLY, p(slug="jury_slug")),
    ("POST", "api.create_decision"): Entry(API_ADMIN_ONLY, p(slug="jury_slug")),
    ("POST", "api.revoke_decision"): Entry(API_ADMIN_ONLY, p(slug="jury_slug",
                                                             decision_id="spare_decision_id"),
                                           late=1),
}


# ---- the world and one client per role ------------------------------------------------------


@dataclass
class Matrix:
    app: Any
    world: MatrixWorld
    clients: dict[str, Any] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    api_client: Any = None


def _database(tmp_path_factory, database_template, worker_id):
    return module_database(tmp_path_factory, database_template, worker_id, "matrix")


def _csrf_of(client, url: str) -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def _signed_in_client(app, role: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if role != V:
        login(client, EMAILS[role])
    return client


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, database_template, worker_id, cheap_password_hashing):
    url, drop = _database(tmp_path_factory, database_template, worker_id)
    instance = tmp_path_factory.mktemp("matrix-instance")
    app = create_app({
        "TESTING": True, "ENV": "testing", "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_RETRY_BASE_SECONDS": 30,
    })
    app.test_client_class = IsolatedClient
    world = arrange(app, lambda session: build_world(session, app))
    m = Matrix(app, world)
    for role in ROLES:
        m.clients[role] = _signed_in_client(app, role)
        m.csrf[role] = _csrf_of(m.clients[role], "/account/login" if role == V else "/")
    m.api_client = app.test_client()
    yield m
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


# ---- asking and judging ---------------------------------------------------------------------


def _rules(app, method: str, endpoint: str):
    return [r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods]


def _is_login_redirect(response) -> bool:
    return (response.status_code in (301, 302, 303)
            and urlsplit(response.headers.get("Location", "")).path == "/account/login")


def _verdict(expected: Any, response) -> str | None:
    """None when the response is what the role must get, else why not."""
    status = response.status_code
    where = response.headers.get("Location", "")
    got = f"{status}" + (f" -> {where}" if where else "")
    if status >= 500:
        return f"got {got} (a server error)"
    if expected == OK:
        if status in (401, 403, 404, 405) or _is_login_redirect(response):
            return f"got {got}, expected to be let through"
        return None
    if expected == LOGIN:
        return None if _is_login_redirect(response) else f"got {got}, expected the login page"
    allowed = expected if isinstance(expected, set | frozenset) else {expected}
    return None if status in allowed else f"got {got}, expected {expected}"


def _ask(m: Matrix, rule, method: str, role: str, entry: Entry, client=None):
    values = entry.params(m.world, role) if entry.params else {}
    _, path = rule.build(values, append_unknown=False)
    if rule.endpoint.startswith("api."):
        headers = bearer(m.world.secrets.get(role))
        body = {} if method in WRITE_METHODS else None
        return path, (client or m.api_client).open(path, method=method, headers=headers,
                                                  json=body)
    client = client or m.clients[role]
    data = {"csrf_token": m.csrf[role]} if method in WRITE_METHODS else None
    if client is not m.clients.get(role) and data is not None:
        data["csrf_token"] = _csrf_of(client, "/account/login" if role == V else "/")
    return path, client.open(path, method=method, data=data)


def _check(m: Matrix, method: str, endpoint: str, roles, *, fresh: bool = False) -> list[str]:
    entry = MATRIX[(method, endpoint)]
    rules = _rules(m.app, method, endpoint)
    if not rules:
        return [f"{method} {endpoint}: no such route any more (remove its entry)"]
    failures = []
    for rule in rules:
        for role in roles:
            client = None
            if fresh and not rule.endpoint.startswith("api."):
                client = _signed_in_client(m.app, role)
            path, response = _ask(m, rule, method, role, entry, client)
            problem = _verdict(entry.expect[role], response)
            if problem:
                failures.append(f"{role:>16}  {method} {path}: {problem}")
    return failures


def _roles_of(entry: Entry, endpoint: str):
    return API_ROLES if endpoint.startswith("api.") else ROLES


def _is_allowed_write(method: str, entry: Entry, role: str) -> bool:
    return method in WRITE_METHODS and entry.expect[role] == OK


# ---- the tests ------------------------------------------------------------------------------


def test_every_route_has_an_entry(matrix):
    """A route added without saying who may use it fails here."""
    present = set()
    missing = []
    for rule in matrix.app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            present.add((method, rule.endpoint))
            if (method, rule.endpoint) not in MATRIX:
                missing.append(f"    ({method!r}, {rule.endpoint!r}),  # {rule.rule}")
    stale = sorted(f"    ({m!r}, {e!r})," for m, e in set(MATRIX) - present)
    message = []
    if missing:
        message.append("Routes with no entry in MATRIX (say who may use them):\n"
                       + "\n".join(sorted(set(missing))))
    if stale:
        message.append("Entries in MATRIX for routes that no longer exist:\n" + "\n".join(stale))
    assert not message, "\n".join(message)


def test_every_entry_names_every_role():
    for (method, endpoint), entry in MATRIX.items():
        roles = set(_roles_of(entry, endpoint))
        assert set(entry.expect) == roles, f"{method} {endpoint}"


@pytest.mark.parametrize(("method", "endpoint"), [
    pytest.param(method, endpoint, id=f"{method} {endpoint}") for method, endpoint in MATRIX
])
def test_route(matrix, method, endpoint):
    """Reads for every role; writes for the roles that must be refused."""
    entry = MATRIX[(method, endpoint)]
    roles = [r for r in _roles_of(entry, endpoint) if not _is_allowed_write(method, entry, r)]
    failures = _check(matrix, method, endpoint, roles)
    assert not failures, "\n" + "\n".join(failures)


LATE = sorted(
    ((entry.late, method, endpoint) for (method, endpoint), entry in MATRIX.items()
     if any(_is_allowed_write(method, entry, r) for r in _roles_of(entry, endpoint))),
)


@pytest.mark.parametrize(("method", "endpoint"), [
    pytest.param(method, endpoint, id=f"{method} {endpoint}") for _, method, endpoint in LATE
])
def test_allowed_writes(matrix, method, endpoint):
    """The writes the allowed roles make, after everything else, removals last."""
    entry = MATRIX[(method, endpoint)]
    roles = [r for r in _roles_of(entry, endpoint) if _is_allowed_write(method, entry, r)]
    failures = _check(matrix, method, endpoint, roles, fresh=entry.fresh)
    assert not failures, "\n" + "\n".join(failures)

