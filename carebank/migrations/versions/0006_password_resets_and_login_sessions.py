"""password reset tokens and server-side login sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- login_sessions: one row per logged-in phone or browser; its token (stored as a SHA-256) is
  what the session and remember-me cookies carry, so a logout, a password change or reset
  and a deactivation end copied cookies too. Cookies holding a bare member id from before
  this revision no longer log in: every member logs in once more.
- password_resets: single-use links valid for an hour, stored as a SHA-256 of the token.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_login_sessions_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_sessions_token_hash'))
    )
    op.create_index(op.f('ix_login_sessions_member_id'), 'login_sessions', ['member_id'], unique=False)
    op.create_table('password_resets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_password_resets_member_id_members')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['members.id'],
                            name=op.f('fk_password_resets_requested_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_resets_token_hash'))
    )
    op.create_index(op.f('ix_password_resets_member_id'), 'password_resets', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_password_resets_member_id'), table_name='password_resets')
    op.drop_table('password_resets')
    op.drop_index(op.f('ix_login_sessions_member_id'), table_name='login_sessions')
    op.drop_table('login_sessions')
