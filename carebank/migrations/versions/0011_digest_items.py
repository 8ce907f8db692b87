"""digest items: the posts each member's weekly digest has named, so none is named twice

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_items',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_digest_items_member_id_members')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_digest_items_post_id_posts')),
    sa.PrimaryKeyConstraint('member_id', 'post_id', name=op.f('pk_digest_items'))
    )


def downgrade() -> None:
    op.drop_table('digest_items')
