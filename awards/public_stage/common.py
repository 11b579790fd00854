"""What the public stage's services share: their refusal, the limits of what a visitor types and
the check that a stage is open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from awards.enums import StageKind
from awards.public_stage.models import PublicStage
from awards.refusals import Refusal

IMAGE_TYPES = ("image/jpeg", "image/png")
NAME_MAX = 120
COMMENT_MAX = 2000
REASON_MAX = 2000


class StageError(Refusal):
    """A refusal with a message for the person and the HTTP status that fits it."""

    status = 409

    def __init__(self, message, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NeedsChoice(StageError):
    """Tie rule ``admin_choice``: entries are tied at the cut and nobody chose among them."""

    def __init__(self, pending: list[dict[str, Any]]):
        super().__init__(_l("Entries are tied at the cut. Choose which of them advance."))
        self.pending = pending



def check_open(stage: PublicStage, now: datetime, kind: StageKind) -> None:
    if stage.kind != kind:
        raise StageError(_l("This call has no public vote.") if kind == StageKind.VOTE
                         else _l("This call has no public discussion."), status=404)
    if stage.closed_at is not None or now >= stage.closes_at:
        raise StageError(_l("The public stage is closed."))
    if now < stage.opens_at:
        raise StageError(_l("The public stage has not opened yet."))
