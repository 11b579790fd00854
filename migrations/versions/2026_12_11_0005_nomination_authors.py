"""authors as people: an entry's authors, a certificate per author, the organisation's diploma

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-11 12:00:00

Existing certificates are the nominee's (``recipient_kind`` "nominee", no author).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import awards.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nomination_authors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nomination_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name_kk', sa.String(length=300), nullable=False),
        sa.Column('name_ru', sa.String(length=300), nullable=False),
        sa.Column('name_en', sa.String(length=300), nullable=False),
        sa.Column('role', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('consent_token_hash', sa.String(length=64), nullable=True),
        sa.Column('consent_requested_at', awards.db.UTCDateTime(), nullable=True),
        sa.Column('consent_at', awards.db.UTCDateTime(), nullable=True),
        sa.Column('declined_at', awards.db.UTCDateTime(), nullable=True),
        sa.Column('created_at', awards.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'],
                                name=op.f('fk_nomination_authors_nomination_id_nominations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination_authors')),
        sa.UniqueConstraint('consent_token_hash',
                            name=op.f('uq_nomination_authors_consent_token_hash')),
    )
    with op.batch_alter_table('nomination_authors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_authors_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_nomination_authors_nomination_id'),
                              ['nomination_id'], unique=False)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recipient_kind', sa.String(length=20), nullable=False,
                                      server_default='nominee'))
        batch_op.add_column(sa.Column('recipient_names', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_certificates_author_id'), ['author_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_certificates_author_id_nomination_authors'),
                                    'nomination_authors', ['author_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_certificate', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('organisation_certificate')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificates_author_id_nomination_authors'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_certificates_author_id'))
        batch_op.drop_column('recipient_names')
        batch_op.drop_column('recipient_kind')
        batch_op.drop_column('author_id')
    with op.batch_alter_table('nomination_authors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomination_authors_nomination_id'))
        batch_op.drop_index(batch_op.f('ix_nomination_authors_email'))
    op.drop_table('nomination_authors')
