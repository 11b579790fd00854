"""Imports every feature's models so the metadata (and Alembic) sees the whole schema."""

from awards.announcements.models import Announcement, AnnouncementImage  # noqa: F401
from awards.api.models import ApiToken  # noqa: F401
from awards.audit import AuditEvent  # noqa: F401
from awards.auth.models import User  # noqa: F401
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme  # noqa: F401
from awards.commission.models import Ballot, BallotBox, Participation  # noqa: F401
from awards.jury.models import (  # noqa: F401
    Assignment,
    Conflict,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    RoundEntry,
    Rubric,
    Score,
    jury_member_categories,
)
from awards.mail import OutgoingMail  # noqa: F401
from awards.nominations.authors import NominationAuthor  # noqa: F401
from awards.nominations.models import (  # noqa: F401
    Answer,
    Attachment,
    Nomination,
    NominationVersion,
    ReferenceCounter,
    StatusChange,
)
from awards.public_stage.models import (  # noqa: F401
    CommentReport,
    PublicStage,
    PublicVote,
    StageComment,
    StageEntry,
    Voter,
)
from awards.ranking.models import Decision  # noqa: F401
from awards.results.models import Certificate, Citation, Publication  # noqa: F401
