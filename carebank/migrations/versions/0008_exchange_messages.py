"""messages between the two people of an exchange

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

The parties of an exchange write to each other (a message may be reported to the centre), and
each may choose to show their phone number to the other.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_exchange_messages_author_id_members')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_exchange_messages_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['members.id'], name=op.f('fk_exchange_messages_reported_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_messages'))
    )
    with op.batch_alter_table('exchange_messages', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_messages_exchange_id_id', ['exchange_id', 'id'], unique=False)

    op.create_table('phone_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_phone_shares_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_phone_shares_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_shares')),
    sa.UniqueConstraint('exchange_id', 'member_id', name=op.f('uq_phone_shares_exchange_id'))
    )


def downgrade() -> None:
    op.drop_table('phone_shares')
    with op.batch_alter_table('exchange_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_messages_exchange_id_id')

    op.drop_table('exchange_messages')
