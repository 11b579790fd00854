"""The public discussion: visitors' comments, their moderation (audited) and reports of abuse."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards import audit
from awards.db import utcnow
from awards.enums import (
    CommentStatus,
    StageKind,
)
from awards.public_stage.common import COMMENT_MAX, NAME_MAX, REASON_MAX, StageError, check_open
from awards.public_stage.models import (
    CommentReport,
    PublicStage,
    StageComment,
    StageEntry,
    Voter,
)


def post_comment(*, session: Session, stage: PublicStage, voter: Voter, entry: StageEntry,
                 author_name: str, body: str, ip: str, now: datetime | None = None) -> StageComment:
    now = now or utcnow()
    check_open(stage, now, StageKind.DISCUSSION)
    author_name, body = (author_name or "").strip(), (body or "").strip()
    if not author_name:
        raise StageError(_l("Give your name."), field="author_name", status=400)
    if not body:
        raise StageError(_l("Write your comment."), field="body", status=400)
    comment = StageComment(stage_id=stage.id, nomination_id=entry.nomination_id,
                           voter_id=voter.id, author_name=author_name[:NAME_MAX],
                           body=body[:COMMENT_MAX], ip=ip[:45], created_at=now)
    session.add(comment)
    session.flush()
    return comment


def approved_comments(session: Session, stage: PublicStage,
                      nomination_id: int) -> list[StageComment]:
    return list(session.scalars(
        select(StageComment).where(StageComment.stage_id == stage.id,
                                   StageComment.nomination_id == nomination_id,
                                   StageComment.status == CommentStatus.APPROVED)
        .order_by(StageComment.created_at, StageComment.id)
    ))


def moderation_queue(session: Session, stage: PublicStage) -> list[StageComment]:
    return list(session.scalars(
        select(StageComment).where(StageComment.stage_id == stage.id,
                                   StageComment.status == CommentStatus.PENDING)
        .options(selectinload(StageComment.nomination), selectinload(StageComment.reports))
        .order_by(StageComment.created_at, StageComment.id)
    ))


def moderate_comment(*, session: Session, actor, comment: StageComment, approve: bool,
                     reason: str = "", now: datetime | None = None) -> None:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise StageError(_l("Give the reason for rejecting the comment."), field="reason",
                         status=400)
    if comment.status != CommentStatus.PENDING:
        raise StageError(_l("This comment was already moderated."))
    now = now or utcnow()
    before = {"status": str(comment.status), "reports": comment.report_count}
    comment.status = CommentStatus.APPROVED if approve else CommentStatus.REJECTED
    comment.moderated_at = now
    comment.moderated_by_id = getattr(actor, "id", None)
    comment.moderation_reason = reason[:REASON_MAX]
    for report in comment.reports:
        if report.resolved_at is None:
            report.resolved_at = now
    # A comment approved again starts over; those who reported it cannot report it again.
    comment.report_count = 0
    session.flush()
    audit.record(session, action="public_stage.comment_" + ("approve" if approve else "reject"),
                 object_type="stage_comment", object_id=comment.id, actor=actor,
                 call_id=comment.stage.call_id, before=before,
                 after={"status": str(comment.status), "reason": comment.moderation_reason})


def report_comment(*, session: Session, comment: StageComment, voter: Voter, ip: str,
                   reason: str = "") -> bool:
    """One report per voter. Returns True when this report sent the comment back to the
    moderation queue."""
    if comment.status != CommentStatus.APPROVED:
        raise StageError(_l("This comment is not published."), status=404)
    exists = session.scalar(select(CommentReport.id).where(
        CommentReport.comment_id == comment.id, CommentReport.voter_id == voter.id))
    if exists:
        raise StageError(_l("You have already reported this comment."))
    session.add(CommentReport(comment_id=comment.id, voter_id=voter.id, ip=ip[:45],
                              reason=(reason or "").strip()[:REASON_MAX]))
    comment.report_count += 1
    session.flush()
    if comment.report_count < int(current_app.config["PUBLIC_COMMENT_REPORTS_TO_REQUEUE"]):
        return False
    comment.status = CommentStatus.PENDING
    session.flush()
    audit.record(session, action="public_stage.comment_requeue", object_type="stage_comment",
                 object_id=comment.id, actor=None, call_id=comment.stage.call_id,
                 after={"reports": comment.report_count})
    return True
