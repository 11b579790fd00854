"""Imports every feature's models so the metadata (and Alembic) sees the whole schema."""

from awards.audit import AuditEvent  # noqa: F401
from awards.auth.models import User  # noqa: F401
from awards.mail import OutgoingMail  # noqa: F401
