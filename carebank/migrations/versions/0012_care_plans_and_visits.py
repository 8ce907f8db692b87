"""care plans, centre closures, visits and calendar feeds

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feeds',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_calendar_feeds_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash'))
    )
    op.create_table('centre_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_centre_closures_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_centre_closures_created_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centre_closures')),
    sa.UniqueConstraint('centre_id', 'day', name='one_closure_a_day')
    )
    with op.batch_alter_table('centre_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_centre_closures_centre_id'), ['centre_id'], unique=False)

    op.create_table('care_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('rrule', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('place', sa.Enum('home', 'centre', name='visit_place', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('holiday_policy', sa.Enum('skip', 'move', name='holiday_policy', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'ended', name='plan_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('generated_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_care_plans_positive_minutes')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['members.id'], name=op.f('fk_care_plans_accepted_by_id_members')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_care_plans_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['members.id'], name=op.f('fk_care_plans_proposed_by_id_members')),
    sa.ForeignKeyConstraint(['replaces_id'], ['care_plans.id'], name=op.f('fk_care_plans_replaces_id_care_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_plans'))
    )
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plans_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('care_plan_id', sa.Integer(), nullable=True),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('original_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'checked_in', 'checked_out', 'credited', 'cancelled', 'no_show', 'disputed', name='visit_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('moved_for_holiday', sa.Boolean(), nullable=False),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('check_in_method', sa.String(length=16), nullable=False),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_minutes', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('no_show_party', sa.String(length=16), nullable=False),
    sa.Column('reminded_day_before_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_soon_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirm_nudged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('overdue_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_visits_positive_minutes')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['members.id'], name=op.f('fk_visits_cancelled_by_id_members')),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_visits_care_plan_id_care_plans')),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['members.id'], name=op.f('fk_visits_checked_in_by_id_members')),
    sa.ForeignKeyConstraint(['checked_out_by_id'], ['members.id'], name=op.f('fk_visits_checked_out_by_id_members')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['members.id'], name=op.f('fk_visits_confirmed_by_id_members')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_visits_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['overdue_resolved_by_id'], ['members.id'], name=op.f('fk_visits_overdue_resolved_by_id_members')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_visits_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('care_plan_id', 'original_start', name='one_visit_per_occurrence'),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_visits_transaction_id'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_care_plan_id'), ['care_plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_exchange_id'), ['exchange_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index('ix_visits_status_starts_at', ['status', 'starts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_status_starts_at')
        batch_op.drop_index(batch_op.f('ix_visits_starts_at'))
        batch_op.drop_index(batch_op.f('ix_visits_exchange_id'))
        batch_op.drop_index(batch_op.f('ix_visits_care_plan_id'))

    op.drop_table('visits')
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plans_exchange_id'))

    op.drop_table('care_plans')
    with op.batch_alter_table('centre_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_centre_closures_centre_id'))

    op.drop_table('centre_closures')
    op.drop_table('calendar_feeds')
