"""members posts exchanges ledger and codes

Revision ID: 0001
Revises: 
Create Date: 2026-11-22

The ledger tables are append-only: triggers refuse UPDATE and DELETE on postings and
transactions, so a correction can only be a new, reversing transaction.
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('neighbourhood', sa.String(length=80), nullable=False),
    sa.Column('languages', sa.String(length=80), nullable=False),
    sa.Column('offers_text', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('timezone', sa.String(length=50), nullable=True),
    sa.Column('role', sa.Enum('member', 'coordinator', 'admin', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('email', name=op.f('uq_members_email'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('member', 'pool', name='account_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('balance_minutes', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(kind = 'member') = (member_id IS NOT NULL)", name=op.f('ck_accounts_member_account_has_member')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_accounts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('member_id', name=op.f('uq_accounts_member_id'))
    )
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('need', 'offer', name='post_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('neighbourhood', sa.String(length=80), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('open', 'matched', 'closed', name='post_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_posts_minutes_positive')),
    sa.CheckConstraint('starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at', name=op.f('ck_posts_window_ordered')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_posts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_posts_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_posts_status_kind_created', ['status', 'kind', 'created_at'], unique=False)

    op.create_table('exchanges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('receiver_id', sa.Integer(), nullable=False),
    sa.Column('responder_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'cancelled', name='exchange_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('provider_id <> receiver_id', name=op.f('ck_exchanges_distinct_parties')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_exchanges_post_id_posts')),
    sa.ForeignKeyConstraint(['provider_id'], ['members.id'], name=op.f('fk_exchanges_provider_id_members')),
    sa.ForeignKeyConstraint(['receiver_id'], ['members.id'], name=op.f('fk_exchanges_receiver_id_members')),
    sa.ForeignKeyConstraint(['responder_id'], ['members.id'], name=op.f('fk_exchanges_responder_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchanges'))
    )
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchanges_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchanges_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchanges_receiver_id'), ['receiver_id'], unique=False)

    op.create_table('ledger_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'gift', 'donation', 'grant', 'reversal', name='transaction_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_ledger_transactions_created_by_id_members')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_ledger_transactions_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id'))
    )
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('confirmation_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('redeemer_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_confirmation_codes_minutes_positive')),
    sa.ForeignKeyConstraint(['exchange_id'], ['exchanges.id'], name=op.f('fk_confirmation_codes_exchange_id_exchanges')),
    sa.ForeignKeyConstraint(['made_by_id'], ['members.id'], name=op.f('fk_confirmation_codes_made_by_id_members')),
    sa.ForeignKeyConstraint(['redeemer_id'], ['members.id'], name=op.f('fk_confirmation_codes_redeemer_id_members')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_confirmation_codes_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmation_codes')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_confirmation_codes_token_hash')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_confirmation_codes_transaction_id'))
    )
    with op.batch_alter_table('confirmation_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confirmation_codes_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes <> 0', name=op.f('ck_postings_minutes_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_postings_account_id_accounts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_postings_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postings'))
    )
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_postings_transaction_id'), ['transaction_id'], unique=False)

    op.execute(
        sa.text("INSERT INTO accounts (kind, member_id, balance_minutes) VALUES ('pool', NULL, 0)")
    )
    for statement in APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)


APPEND_ONLY_TABLES = ("postings", "ledger_transactions")
APPEND_ONLY = {
    "sqlite": [
        f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
        for table in APPEND_ONLY_TABLES
        for action in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        *[
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change()"
            for table in APPEND_ONLY_TABLES
        ],
    ],
}


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION refuse_ledger_change() CASCADE")
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postings_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_postings_account_id'))

    op.drop_table('postings')
    with op.batch_alter_table('confirmation_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confirmation_codes_exchange_id'))

    op.drop_table('confirmation_codes')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_exchange_id'))

    op.drop_table('ledger_transactions')
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchanges_receiver_id'))
        batch_op.drop_index(batch_op.f('ix_exchanges_provider_id'))
        batch_op.drop_index(batch_op.f('ix_exchanges_post_id'))

    op.drop_table('exchanges')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_status_kind_created')
        batch_op.drop_index(batch_op.f('ix_posts_member_id'))

    op.drop_table('posts')
    op.drop_table('accounts')
    op.drop_table('members')

