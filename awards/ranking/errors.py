"""The ranking's refusals: each carries a translated ``message`` and the HTTP ``status``."""

from __future__ import annotations


class RankingError(Exception):
    """A request refused by a rule; nothing was changed. ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleState(RankingError):
    """Someone else changed the decisions since the page was loaded."""

    status = 409


class CallPublished(RankingError):
    status = 409


class NotInThisPhase(RankingError):
    """The call's phase (or the person) does not allow it; ``status`` comes from the policy."""

    def __init__(self, message, status: int = 409):
        super().__init__(message)
        self.status = status


class LevelFull(RankingError):
    pass


class EntryReviewed(RankingError):
    """An "advance" cannot be revoked: the entry is already reviewed in the next round."""

    status = 409


class NoNextRound(RankingError):
    status = 409
