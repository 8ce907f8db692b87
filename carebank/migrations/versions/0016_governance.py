"""governance: register, bylaws, proposals and ballots, assemblies, pool grants

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assemblies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('record_date', sa.Date(), nullable=False),
    sa.Column('called_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notice_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chair_id', sa.Integer(), nullable=True),
    sa.Column('teller_one_id', sa.Integer(), nullable=True),
    sa.Column('teller_two_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('minutes_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('minutes_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['called_by_id'], ['members.id'], name=op.f('fk_assemblies_called_by_id_members')),
    sa.ForeignKeyConstraint(['chair_id'], ['members.id'], name=op.f('fk_assemblies_chair_id_members')),
    sa.ForeignKeyConstraint(['teller_one_id'], ['members.id'], name=op.f('fk_assemblies_teller_one_id_members')),
    sa.ForeignKeyConstraint(['teller_two_id'], ['members.id'], name=op.f('fk_assemblies_teller_two_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assemblies'))
    )
    op.create_table('board_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=80), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_board_seats_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_seats'))
    )
    with op.batch_alter_table('board_seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_board_seats_member_id'), ['member_id'], unique=False)

    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('advisory', 'board', 'member', 'budget', name='proposal_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('tally', sa.Enum('one_member_one_vote', 'per_class', 'class_weighted', name='proposal_tally', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('record_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('outcome_by_id', sa.Integer(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('budget_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_proposals_author_id_members')),
    sa.ForeignKeyConstraint(['outcome_by_id'], ['members.id'], name=op.f('fk_proposals_outcome_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_closes_at'), ['closes_at'], unique=False)

    op.create_table('register_entries',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('member_class', sa.Enum('care_receiver', 'carer', 'volunteer', 'staff', 'supporter', 'partner', name='member_class', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_register_entries_member_id_members')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['members.id'], name=op.f('fk_register_entries_updated_by_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_register_entries'))
    )
    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('proxy_for_member_id', sa.Integer(), nullable=True),
    sa.Column('proxy_proof', sa.String(length=300), nullable=False),
    sa.Column('method', sa.Enum('card', 'pin', 'list', name='attendance_method', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_attendances_assembly_id_assemblies')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_attendances_member_id_members')),
    sa.ForeignKeyConstraint(['proxy_for_member_id'], ['members.id'], name=op.f('fk_attendances_proxy_for_member_id_members')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['members.id'], name=op.f('fk_attendances_recorded_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances')),
    sa.UniqueConstraint('assembly_id', 'proxy_for_member_id', name=op.f('uq_attendances_assembly_id'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_assembly_id'), ['assembly_id'], unique=False)
        batch_op.create_index('uq_attendances_present_once', ['assembly_id', 'member_id'], unique=True, sqlite_where=sa.text('proxy_for_member_id IS NULL'), postgresql_where=sa.text('proxy_for_member_id IS NULL'))

    op.create_table('ballot_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('member_class', sa.Enum('care_receiver', 'carer', 'volunteer', 'staff', 'supporter', 'partner', name='receipt_member_class', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('cast_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ballot_receipts_member_id_members')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballot_receipts_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['members.id'], name=op.f('fk_ballot_receipts_recorded_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_receipts')),
    sa.UniqueConstraint('proposal_id', 'member_id', name=op.f('uq_ballot_receipts_proposal_id'))
    )
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_receipts_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('minutes_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_minutes_signers_assembly_id_assemblies')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_minutes_signers_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_signers')),
    sa.UniqueConstraint('assembly_id', 'member_id', name=op.f('uq_minutes_signers_assembly_id'))
    )
    op.create_table('motions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assembly_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('special', sa.Boolean(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('bylaw_key', sa.String(length=60), nullable=True),
    sa.Column('bylaw_value', sa.String(length=200), nullable=True),
    sa.Column('bylaw_applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_against', sa.Integer(), nullable=True),
    sa.Column('votes_abstain', sa.Integer(), nullable=True),
    sa.Column('present', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.Column('quorum_met', sa.Boolean(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('tallied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tallied_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assembly_id'], ['assemblies.id'], name=op.f('fk_motions_assembly_id_assemblies')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_motions_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['tallied_by_id'], ['members.id'], name=op.f('fk_motions_tallied_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_motions')),
    sa.UniqueConstraint('assembly_id', 'position', name=op.f('uq_motions_assembly_id'))
    )
    op.create_table('proposal_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_proposal_messages_author_id_members')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_messages_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_messages'))
    )
    with op.batch_alter_table('proposal_messages', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_messages_proposal_id_id', ['proposal_id', 'id'], unique=False)

    op.create_table('bylaws',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('motion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['motion_id'], ['motions.id'], name=op.f('fk_bylaws_motion_id_motions')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_bylaws'))
    )
    op.create_table('grant_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('need', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'granted', 'refused', name='grant_request_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_grant_requests_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['recipient_id'], ['members.id'], name=op.f('fk_grant_requests_recipient_id_members')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['members.id'], name=op.f('fk_grant_requests_requested_by_id_members')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_grant_requests_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grant_requests'))
    )
    op.create_table('pool_grant_records',
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('need', sa.String(length=40), nullable=False),
    sa.Column('beneficiary_class', sa.Enum('care_receiver', 'carer', 'volunteer', 'staff', 'supporter', 'partner', name='beneficiary_member_class', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('decided_by', sa.String(length=20), nullable=False),
    sa.Column('grant_request_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grant_request_id'], ['grant_requests.id'], name=op.f('fk_pool_grant_records_grant_request_id_grant_requests')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_pool_grant_records_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('transaction_id', name=op.f('pk_pool_grant_records'))
    )
    op.create_table('proposal_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('abstain', sa.Boolean(), nullable=False),
    sa.Column('grant_request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['grant_request_id'], ['grant_requests.id'], name=op.f('fk_proposal_options_grant_request_id_grant_requests')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_options_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_options')),
    sa.UniqueConstraint('proposal_id', 'position', name=op.f('uq_proposal_options_proposal_id'))
    )
    op.create_table('secret_ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('receipt_hash', sa.String(length=64), nullable=False),
    sa.Column('member_class', sa.Enum('care_receiver', 'carer', 'volunteer', 'staff', 'supporter', 'partner', name='ballot_member_class', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.ForeignKeyConstraint(['option_id'], ['proposal_options.id'], name=op.f('fk_secret_ballots_option_id_proposal_options')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_secret_ballots_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secret_ballots')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('secret_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_secret_ballots_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_secret_ballots_receipt_hash'), ['receipt_hash'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('member_class', sa.Enum('care_receiver', 'carer', 'volunteer', 'staff', 'supporter', 'partner', name='vote_member_class', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_votes_member_id_members')),
    sa.ForeignKeyConstraint(['option_id'], ['proposal_options.id'], name=op.f('fk_votes_option_id_proposal_options')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_votes_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['members.id'], name=op.f('fk_votes_recorded_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('proposal_id', 'member_id', 'option_id', name=op.f('uq_votes_proposal_id'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_proposal_id'), ['proposal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_proposal_id'))

    op.drop_table('votes')
    with op.batch_alter_table('secret_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_secret_ballots_receipt_hash'))
        batch_op.drop_index(batch_op.f('ix_secret_ballots_proposal_id'))

    op.drop_table('secret_ballots')
    op.drop_table('proposal_options')
    op.drop_table('pool_grant_records')
    op.drop_table('grant_requests')
    op.drop_table('bylaws')
    with op.batch_alter_table('proposal_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_messages_proposal_id_id')

    op.drop_table('proposal_messages')
    op.drop_table('motions')
    op.drop_table('minutes_signers')
    with op.batch_alter_table('ballot_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_receipts_proposal_id'))

    op.drop_table('ballot_receipts')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index('uq_attendances_present_once', sqlite_where=sa.text('proxy_for_member_id IS NULL'), postgresql_where=sa.text('proxy_for_member_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_attendances_assembly_id'))

    op.drop_table('attendances')
    op.drop_table('register_entries')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_closes_at'))
        batch_op.drop_index(batch_op.f('ix_proposals_author_id'))

    op.drop_table('proposals')
    with op.batch_alter_table('board_seats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_board_seats_member_id'))

    op.drop_table('board_seats')
    op.drop_table('assemblies')
