"""centres, member cards, card check-ins, disputes and the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Local centres and their coordinators: members belong to a centre and may be registered by a
coordinator without an email or password (so both become nullable); printed member cards
(only a hash of each card's secret); visits confirmed by card and PIN or by a coordinator's
approval; disputes; and an append-only audit log of what coordinators do for members.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('centres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('neighbourhoods', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_centres')),
    sa.UniqueConstraint('name', name=op.f('uq_centres_name'))
    )
    op.create_table('member_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('active', 'blocked', 'replaced', name='card_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_by_id', sa.Integer(), nullable=True),
    sa.Column('block_reason', sa.String(length=200), nullable=False),
    sa.Column('pin_failures', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['blocked_by_id'], ['members.id'], name=op.f('fk_member_cards_blocked_by_id_members')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['members.id'], name=op.f('fk_member_cards_issued_by_id_members')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_cards_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_cards')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_member_cards_secret_hash'))
    )
    with op.batch_alter_table('member_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_cards_member_id'), ['member_id'], unique=False)
        batch_op.create_index('uq_member_cards_one_active', ['member_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('exchange_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['members.id'], name=op.f('fk_audit_log_actor_id_members')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_audit_log_centre_id_centres')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_audit_log_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_audit_log_member_id_members')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_audit_log_post_id_posts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_audit_log_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_member_id'), ['member_id'], unique=False)

    op.create_table('card_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('carer_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('consent', sa.Enum('pin', 'coordinator', name='checkin_consent', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', name='checkin_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('request_token', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_card_checkins_minutes_positive')),
    sa.ForeignKeyConstraint(['card_id'], ['member_cards.id'], name=op.f('fk_card_checkins_card_id_member_cards')),
    sa.ForeignKeyConstraint(['carer_id'], ['members.id'], name=op.f('fk_card_checkins_carer_id_members')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['members.id'], name=op.f('fk_card_checkins_decided_by_id_members')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_card_checkins_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_card_checkins_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_checkins')),
    sa.UniqueConstraint('request_token', name=op.f('uq_card_checkins_request_token')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_card_checkins_transaction_id'))
    )
    with op.batch_alter_table('card_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_checkins_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_checkins_carer_id'), ['carer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_checkins_exchange_id'), ['exchange_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_checkins_status'), ['status'], unique=False)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', 'dismissed', name='dispute_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('resolution', sa.String(length=500), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_disputes_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['members.id'], name=op.f('fk_disputes_raised_by_id_members')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['members.id'], name=op.f('fk_disputes_resolved_by_id_members')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_disputes_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_exchange_id'), ['exchange_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_status'), ['status'], unique=False)
        batch_op.create_index('uq_disputes_one_open', ['exchange_id', 'raised_by_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('centre_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('registered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_note', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('vetting', sa.Enum('unverified', 'verified', 'suspended', name='vetting_status', native_enum=False, create_constraint=True, length=20), nullable=False, server_default='unverified'))
        batch_op.add_column(sa.Column('vetted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('vetted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=True)
        batch_op.alter_column('password_hash',
               existing_type=sa.VARCHAR(length=255),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_members_centre_id'), ['centre_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_members_registered_by_id_members'), 'members', ['registered_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_members_centre_id_centres'), 'centres', ['centre_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_members_vetted_by_id_members'), 'members', ['vetted_by_id'], ['id'])

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_posts_created_by_id_members'), 'members', ['created_by_id'], ['id'])

    for statement in APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)


# The audit log is evidence, like the ledger: refuse UPDATE and DELETE in the database too.
APPEND_ONLY = {
    "sqlite": [
        f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        for action in ("UPDATE", "DELETE")
    ],
    # refuse_ledger_change() comes from revision 0001.
    "postgresql": [
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change()"
    ],
}



def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_posts_created_by_id_members'), type_='foreignkey')
        batch_op.drop_column('created_by_id')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_members_vetted_by_id_members'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_members_centre_id_centres'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_members_registered_by_id_members'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_members_centre_id'))
        batch_op.alter_column('password_hash',
               existing_type=sa.VARCHAR(length=255),
               nullable=False)
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=False)
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('vetted_by_id')
        batch_op.drop_column('vetted_at')
        batch_op.drop_column('vetting')
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('consent_note')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('registered_by_id')
        batch_op.drop_column('centre_id')

    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('uq_disputes_one_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_disputes_status'))
        batch_op.drop_index(batch_op.f('ix_disputes_exchange_id'))

    op.drop_table('disputes')
    with op.batch_alter_table('card_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_checkins_status'))
        batch_op.drop_index(batch_op.f('ix_card_checkins_exchange_id'))
        batch_op.drop_index(batch_op.f('ix_card_checkins_carer_id'))
        batch_op.drop_index(batch_op.f('ix_card_checkins_card_id'))

    op.drop_table('card_checkins')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_member_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_centre_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))

    op.drop_table('audit_log')  # its triggers go with it
    with op.batch_alter_table('member_cards', schema=None) as batch_op:
        batch_op.drop_index('uq_member_cards_one_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_member_cards_member_id'))

    op.drop_table('member_cards')
    op.drop_table('centres')
