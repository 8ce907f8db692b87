"""city scale: indexes for browsing, matching and history; cached visit totals per account

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

- posts: open posts newest first without a kind, the neighbourhoods that have open posts
  (one seek each), and match candidates by kind and category or
  by kind and neighbourhood, read off an index instead of sorting every open post;
- postings: (account_id, transaction_id) replaces the single-column account index, so a
  member's history comes newest first straight off the index;
- accounts: given_minutes / received_minutes, the minutes given and received in confirmed
  visits net of reversals (reciprocity in match ranking read one row per candidate instead
  of summing their postings), filled here from the ledger.
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Visits and the reversals of visits: the provider's side is the one credited by the visit.
VISIT_TOTALS = """
SELECT p.account_id AS account_id,
       sum(CASE WHEN t.kind = 'visit' AND p.minutes > 0 THEN p.minutes
                WHEN t.kind = 'reversal' AND p.minutes < 0 THEN p.minutes ELSE 0 END) AS given,
       sum(CASE WHEN t.kind = 'visit' AND p.minutes < 0 THEN -p.minutes
                WHEN t.kind = 'reversal' AND p.minutes > 0 THEN -p.minutes ELSE 0 END) AS received
FROM postings AS p
JOIN ledger_transactions AS t ON t.id = p.transaction_id
LEFT JOIN ledger_transactions AS o ON o.id = t.reverses_id
WHERE t.kind = 'visit' OR (t.kind = 'reversal' AND o.kind = 'visit')
GROUP BY p.account_id
"""


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.add_column(sa.Column('given_minutes', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('received_minutes', sa.BigInteger(), server_default='0', nullable=False))
    connection = op.get_bind()
    totals = connection.execute(sa.text(VISIT_TOTALS)).all()
    if totals:
        connection.execute(
            sa.text("UPDATE accounts SET given_minutes = :given, received_minutes = :received WHERE id = :account_id"),
            [{"account_id": a, "given": g, "received": r} for a, g, r in totals],
        )
    op.create_index('ix_posts_status_created', 'posts', ['status', 'created_at'])
    op.create_index('ix_posts_status_neighbourhood', 'posts', ['status', 'neighbourhood'])
    op.create_index('ix_posts_status_kind_category_created', 'posts', ['status', 'kind', 'category', 'created_at'])
    op.create_index('ix_posts_status_kind_neighbourhood_created', 'posts', ['status', 'kind', 'neighbourhood', 'created_at'])
    op.create_index('ix_postings_account_transaction', 'postings', ['account_id', 'transaction_id'])
    op.drop_index('ix_postings_account_id', table_name='postings')


def downgrade() -> None:
    op.create_index('ix_postings_account_id', 'postings', ['account_id'])
    op.drop_index('ix_postings_account_transaction', table_name='postings')
    op.drop_index('ix_posts_status_kind_neighbourhood_created', table_name='posts')
    op.drop_index('ix_posts_status_kind_category_created', table_name='posts')
    op.drop_index('ix_posts_status_neighbourhood', table_name='posts')
    op.drop_index('ix_posts_status_created', table_name='posts')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('received_minutes')
        batch_op.drop_column('given_minutes')
