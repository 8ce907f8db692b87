"""finished exchanges: a stored state, when and by whom; needs asked for just once

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD = ('proposed', 'accepted', 'declined', 'cancelled')
NEW = OLD + ('finished',)


def _status_check(values: tuple[str, ...]) -> str:
    return "status IN (%s)" % ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finished_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_exchanges_finished_by_id_members'), 'members',
                                    ['finished_by_id'], ['id'])
        # The status is a string with a CHECK (core.database.enum_column): a new value
        # means a new CHECK.
        batch_op.drop_constraint(op.f('ck_exchanges_exchange_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_exchanges_exchange_status'), _status_check(NEW))
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # A finished exchange was agreed: it reads as agreed again.
    op.execute("UPDATE exchanges SET status = 'accepted' WHERE status = 'finished'")
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('once')
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_exchanges_exchange_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_exchanges_exchange_status'), _status_check(OLD))
        batch_op.drop_constraint(batch_op.f('fk_exchanges_finished_by_id_members'), type_='foreignkey')
        batch_op.drop_column('finished_by_id')
        batch_op.drop_column('finished_at')
