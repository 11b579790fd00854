"""audit log: the key each record's hash is keyed with

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 09:00:00

Records written before keep an empty key id: they are checked as plain SHA-256, and the first
record written after this upgrade is the keyed cut-over record that seals them (awards/audit.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    # Keyed records cannot be checked by the older version's plain SHA-256 after this.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
