"""public votes: one index for burst detection (network, stage, time)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 09:00:00

The burst check counts, for every vote, the votes of its network in its stage since a time.
With an index on the network alone, PostgreSQL's plan for that count could combine it with the
stage's index and read every vote of the stage, more of them with each vote. The index on
(network, stage, time) replaces the one on the network alone: queries by network still use it.
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_public_votes_network_stage_id_cast_at', 'public_votes',
                    ['network', 'stage_id', 'cast_at'], unique=False)
    op.drop_index('ix_public_votes_network', table_name='public_votes')


def downgrade() -> None:
    op.create_index('ix_public_votes_network', 'public_votes', ['network'], unique=False)
    op.drop_index('ix_public_votes_network_stage_id_cast_at', table_name='public_votes')
