"""Demo data for this feature, added by ``flask awards seed`` after the demo calls exist."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed(session: Session) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    return False
