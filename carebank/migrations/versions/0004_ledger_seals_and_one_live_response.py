"""ledger seals (a hash chain over transactions) and one live response per member and post

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Every transaction gets a seal: the SHA-256 of the previous seal and its contents, so
`ledger verify` notices a row changed behind the app's back. Existing transactions are sealed
in id order here, so verify passes right after upgrading.

The database guards the chain and the zero sum itself:
- a seal is refused unless its transaction has two or more postings summing to zero, and
  unless it follows the last seal (its prev_hash is unique too, so the chain cannot fork);
- seals are append-only, like postings and transactions;
- on PostgreSQL a deferred constraint trigger refuses, at commit, any transaction whose
  postings do not sum to zero. SQLite has no deferred triggers: there the seal trigger and
  `ledger verify` stand in for it.

Also a partial unique index: a member has at most one live (proposed or accepted) response
to a post, even when two requests race.
"""
import itertools
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from carebank.core.database import UTCDateTime
from carebank.ledger.services import GENESIS_HASH, seal_hash

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LIVE = "status IN ('proposed', 'accepted')"


def upgrade() -> None:
    op.create_table('ledger_seals',
    sa.Column('transaction_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_seals_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('transaction_id', name=op.f('pk_ledger_seals')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_ledger_seals_prev_hash'))
    )
    # Sealed before the triggers exist: an old transaction that does not balance is sealed
    # as it is, and `ledger verify` keeps reporting it, rather than the upgrade failing.
    seal_existing_transactions(op.get_bind())
    for statement in GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)

    cancel_duplicate_live_responses()
    op.create_index('uq_exchanges_one_live_response', 'exchanges', ['post_id', 'responder_id'], unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def seal_existing_transactions(connection) -> None:
    """Chain every transaction already written, in id order, starting from the genesis hash."""
    seals, prev_hash = [], GENESIS_HASH
    for fields, postings in old_transactions(connection):
        hash_ = seal_hash(prev_hash, fields, postings)
        seals.append({"transaction_id": fields[0], "prev_hash": prev_hash, "hash": hash_})
        prev_hash = hash_
    table = sa.table('ledger_seals', sa.column('transaction_id'), sa.column('prev_hash'), sa.column('hash'))
    for start in range(0, len(seals), 5000):
        connection.execute(table.insert(), seals[start:start + 5000])


def old_transactions(connection) -> list:
    """Each transaction's sealed fields (in the order of ledger.SEALED_COLUMNS, as the database
    returns them untyped, like verify reads them) and its postings, in id order. Tables as
    they are at this revision, not as the models may have them later."""
    t = sa.table('ledger_transactions', *map(sa.column, ('id', 'kind', 'exchange_id', 'reverses_id', 'created_by_id', 'memo', 'created_at')))
    p = sa.table('postings', *map(sa.column, ('transaction_id', 'account_id', 'minutes')))
    rows = connection.execute(
        sa.select(t.c.id, t.c.kind, t.c.exchange_id, t.c.reverses_id, t.c.created_by_id, t.c.memo, t.c.created_at, p.c.account_id, p.c.minutes)
        .select_from(t.outerjoin(p, p.c.transaction_id == t.c.id)).order_by(t.c.id)
    ).all()  # read everything first: SQLite should not write while a cursor still reads
    return [
        (tuple(group[0][:7]), [(row[7], row[8]) for row in group if row[7] is not None])
        for group in (list(g) for _, g in itertools.groupby(rows, key=lambda row: row[0]))
    ]


def cancel_duplicate_live_responses() -> None:
    """Before the unique index: a member's second live response to a post (from a race the
    index now prevents) is cancelled, keeping the accepted one, else the first."""
    op.get_bind().execute(
        sa.text(
            "UPDATE exchanges SET status = 'cancelled', decided_at = :now "
            "WHERE status = 'proposed' AND EXISTS (SELECT 1 FROM exchanges AS other "
            "WHERE other.post_id = exchanges.post_id AND other.responder_id = exchanges.responder_id "
            "AND other.id <> exchanges.id AND (other.status = 'accepted' "
            "OR (other.status = 'proposed' AND other.id < exchanges.id)))"
        ).bindparams(sa.bindparam("now", datetime.now(UTC), type_=UTCDateTime))
    )


BALANCED = "(SELECT count(*) FROM postings WHERE transaction_id = NEW.transaction_id) >= 2 " \
    "AND (SELECT coalesce(sum(minutes), 0) FROM postings WHERE transaction_id = NEW.transaction_id) = 0"
LAST_HASH = f"coalesce((SELECT hash FROM ledger_seals ORDER BY transaction_id DESC LIMIT 1), '{GENESIS_HASH}')"
LAST_ID = "coalesce((SELECT max(transaction_id) FROM ledger_seals), 0)"

GUARDS = {
    "sqlite": [
        "CREATE TRIGGER ledger_seals_balanced BEFORE INSERT ON ledger_seals "
        f"WHEN NOT ({BALANCED}) "
        "BEGIN SELECT RAISE(ABORT, 'ledger_seals: the transaction does not balance, so it cannot be sealed'); END",
        "CREATE TRIGGER ledger_seals_chained BEFORE INSERT ON ledger_seals "
        f"WHEN NEW.prev_hash IS NOT {LAST_HASH} OR NEW.transaction_id <= {LAST_ID} "
        "BEGIN SELECT RAISE(ABORT, 'ledger_seals: a seal must follow the last seal'); END",
        *[
            f"CREATE TRIGGER ledger_seals_no_{action.lower()} BEFORE {action} ON ledger_seals "
            "BEGIN SELECT RAISE(ABORT, 'ledger_seals are append-only'); END"
            for action in ("UPDATE", "DELETE")
        ],
    ],
    "postgresql": [
        "CREATE FUNCTION ledger_seal_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NOT ({BALANCED}) THEN RAISE EXCEPTION "
        "'ledger_seals: transaction % does not balance, so it cannot be sealed', NEW.transaction_id; END IF; "
        f"IF NEW.prev_hash IS DISTINCT FROM {LAST_HASH} OR NEW.transaction_id <= {LAST_ID} THEN "
        "RAISE EXCEPTION 'ledger_seals: a seal must follow the last seal'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER ledger_seals_guard BEFORE INSERT ON ledger_seals "
        "FOR EACH ROW EXECUTE FUNCTION ledger_seal_guard()",
        # refuse_ledger_change() comes from revision 0001.
        "CREATE TRIGGER ledger_seals_append_only BEFORE UPDATE OR DELETE ON ledger_seals "
        "FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change()",
        # Checked at COMMIT, when all of a transaction's postings are in.
        "CREATE FUNCTION postings_zero_sum() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE total bigint; BEGIN "
        "SELECT coalesce(sum(minutes), 0) INTO total FROM postings WHERE transaction_id = NEW.transaction_id; "
        "IF total <> 0 THEN RAISE EXCEPTION "
        "'postings of transaction % sum to %, not 0', NEW.transaction_id, total; END IF; "
        "RETURN NULL; END $$",
        "CREATE CONSTRAINT TRIGGER postings_zero_sum AFTER INSERT ON postings "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION postings_zero_sum()",
    ],
}


def downgrade() -> None:
    op.drop_index('uq_exchanges_one_live_response', table_name='exchanges', sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER postings_zero_sum ON postings")
        op.execute("DROP FUNCTION postings_zero_sum()")
    op.drop_table('ledger_seals')  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_seal_guard()")
