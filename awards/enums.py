"""The fixed vocabularies of the domain. Values are what the database stores and the API shows,
so they never change once released; add new members instead.

This module stays importable without third-party packages, because the pure ``judging``
package uses it too."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Enum as SAEnum


class CallStatus(StrEnum):
    """The phase of a call; ``awards.lifecycle`` holds the transitions between them."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    SCREENING = "screening"
    PUBLIC_STAGE = "public_stage"
    JUDGING = "judging"
    # Deliberation: the jury's work is done and the administrators decide the winners. The
    # stored value keeps its first name, so existing databases need no migration.
    DECIDED = "decided"
    DELIBERATION = "decided"
    RESULTS_SCHEDULED = "results_scheduled"
    PUBLISHED = "published"
    # A published result is being corrected: decisions may change, nothing else may; the next
    # publication is a new version.
    CORRECTING = "correcting"
    ARCHIVED = "archived"


class NominatorKind(StrEnum):
    SELF = "self"
    OTHER = "other"
    ORGANISATION = "organisation"


class FieldType(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    EMAIL = "email"
    URL = "url"
    PHONE = "phone"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"
    FILE = "file"
    # The work's authors as people: names, roles, e-mails for consent (nominations.authors).
    AUTHORS = "authors"


class NominationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    WITHDRAWN = "withdrawn"


class RoundKind(StrEnum):
    SCORING = "scoring"
    VOTE = "vote"
    # The commission's secret ballot on the final stage (awards.commission).
    COMMISSION = "commission"


class RoundStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class TotalMethod(StrEnum):
    SUM = "sum"
    MEAN = "mean"


class AggregationMethod(StrEnum):
    MEAN = "mean"
    MEDIAN = "median"
    TRIMMED = "trimmed"
    ZSCORE = "zscore"
    RANK = "rank"
    BORDA = "borda"


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    RECUSED = "recused"
    REMOVED = "removed"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ConflictSource(StrEnum):
    DECLARED = "declared"
    ADMIN = "admin"


class JurorStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    LEFT = "left"
    DECLINED = "declined"  # said no to the invitation; the administrator may invite again


class DecisionKind(StrEnum):
    ADVANCE = "advance"
    AWARD = "award"


class VoteChoice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class PublicationStatus(StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class StageKind(StrEnum):
    VOTE = "vote"
    DISCUSSION = "discussion"


class VoteTieRule(StrEnum):
    # Everyone tied at the cut advances (the list grows past N).
    INCLUDE_ALL = "include_all"
    # Among those tied at the cut, the entry submitted earlier advances.
    EARLIER_SUBMISSION = "earlier_submission"
    # The administrator picks among those tied at the cut before advancing.
    ADMIN_CHOICE = "admin_choice"


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


ENUM_LENGTH = 20


def column_type(enum_cls: type[StrEnum]) -> SAEnum:
    """The column type for an enum: a plain VARCHAR(20) on every backend (no native type and no
    CHECK, so adding a member needs no migration), loaded back as the enum member and refusing
    unknown strings before they reach the database."""
    from sqlalchemy import Enum  # imported here so ``judging`` can use the enums without it

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=ENUM_LENGTH,
        validate_strings=True,
        values_callable=lambda cls: [member.value for member in cls],
    )
