"""Random sequences of visits, gifts, donations, grants and reversals (hypothesis) keep the
ledger whole after every step: all balances sum to zero, each cached balance is the sum of its
postings, no balance is below its floor unless a reversal put it there, `verify` finds
nothing, and a refused operation changes nothing."""
from dataclasses import replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from carebank.confirmations import services as confirmations
from carebank.core.errors import Conflict, DomainError, ValidationFailed
from carebank.exchanges.models import Exchange
from carebank.ledger import services as ledger
from carebank.ledger.models import Account, AccountKind, Posting, Transaction, TransactionKind
from carebank.members.models import Member, Role

# Bounded so the test stays well under a minute on PostgreSQL; derandomized so CI replays
# the same sequences every run (a failure found once is found again).
BOUNDED = settings(
    max_examples=30, stateful_step_count=15, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def cast(session, make_member, make_exchange):
    """A coordinator and three neighbours, with an accepted exchange for every ordered pair
    of neighbours (provider, receiver), committed once for all examples."""
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    neighbours = [make_member(name) for name in ("Alice", "Bora", "Chul")]
    exchange_ids = [make_exchange(p, r).id for p in neighbours for r in neighbours if p is not r]
    return [coordinator.id, *(m.id for m in neighbours)], exchange_ids


def cached_balances(session) -> dict[int, int]:
    return dict(session.execute(sa.select(Account.id, Account.balance_minutes)).all())


def posted_balances(session) -> dict[int, int]:
    sums = dict(session.execute(
        sa.select(Posting.account_id, sa.func.sum(Posting.minutes)).group_by(Posting.account_id)
    ).all())
    return {account_id: sums.get(account_id, 0) for account_id in cached_balances(session)}


def transaction_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Transaction))


def test_ledger_stays_whole_under_random_operations(session, policy, cast):
    member_ids, exchange_ids = cast
    # A floor of 4 hours, so that a few steps reach it and refusals are common.
    policy = replace(policy, min_balance_minutes=-240)
    outcomes = {"done": set(), "refused": set()}  # operation kinds seen, over all examples
    everyone = st.integers(0, len(member_ids) - 1)  # index 0 is the coordinator

    class LedgerMachine(RuleBasedStateMachine):
        """Each example runs in one database transaction, rolled back at its end, so every
        example starts from the same committed cast (and a failure replays exactly)."""

        def __init__(self):
            super().__init__()
            # Also here, not only in teardown: hypothesis may abandon an example mid-way
            # (too much data drawn) without tearing it down.
            session.rollback()
            self.people = [session.get(Member, member_id) for member_id in member_ids]
            self.coordinator = self.people[0]
            self.open = []  # made in this example, neither a reversal nor reversed
            self.reversed = []
            self.reversals = []

        def teardown(self):
            session.rollback()

        # --- operations -------------------------------------------------------------------

        @rule(exchange_id=st.sampled_from(exchange_ids), minutes=st.integers(1, 300))
        def visit(self, exchange_id, minutes):
            exchange = session.get(Exchange, exchange_id)
            _, token = confirmations.make_code(session, exchange.provider, exchange_id, minutes, policy)
            self.attempt(lambda: confirmations.redeem(session, exchange.receiver, token, policy)[0])

        @rule(giver=everyone, recipient=everyone, minutes=st.integers(1, 600))
        def gift(self, giver, recipient, minutes):
            # Giving to oneself is refused; so is going below the floor.
            to = self.people[recipient].id
            self.attempt(lambda: ledger.gift(session, self.people[giver], to, minutes, "thanks", policy))

        @rule(donor=everyone, minutes=st.integers(1, 600))
        def donate(self, donor, minutes):
            self.attempt(lambda: ledger.donate_to_pool(session, self.people[donor], minutes, "", policy))

        @rule(recipient=everyone, minutes=st.integers(1, 300))
        def grant(self, recipient, minutes):
            # Refused when the pool is short, or when the coordinator would grant to themselves.
            to = self.people[recipient].id
            self.attempt(lambda: ledger.grant_from_pool(
                session, self.coordinator, to, minutes, "winter help", policy))

        @precondition(lambda self: self.open)
        @rule(data=st.data())
        def reverse(self, data):
            original = self.open.pop(data.draw(st.integers(0, len(self.open) - 1)))
            # Floors do not bind a correction, so a reversal always goes through.
            reversal = ledger.reverse(session, self.coordinator, original, "entered by mistake")
            self.reversed.append(original)
            self.reversals.append(reversal.id)
            outcomes["done"].add(reversal.kind)

        @precondition(lambda self: self.reversed)
        @rule(data=st.data())
        def reverse_again(self, data):
            original = data.draw(st.sampled_from(self.reversed))
            self.attempt(lambda: ledger.reverse(session, self.coordinator, original, "again"),
                         refusal=Conflict)

        @precondition(lambda self: self.reversals)
        @rule(data=st.data())
        def reverse_a_reversal(self, data):
            reversal = data.draw(st.sampled_from(self.reversals))
            self.attempt(lambda: ledger.reverse(session, self.coordinator, reversal, "undo it"),
                         refusal=ValidationFailed)

        def attempt(self, operation, refusal=DomainError) -> None:
            """Run an operation that may be refused; a refusal must change nothing."""
            before = cached_balances(session), transaction_count(session)
            try:
                transaction = operation()
            except refusal as refused:
                assert (cached_balances(session), transaction_count(session)) == before
                outcomes["refused"].add(refused.code)
                return
            assert refusal is DomainError, f"expected {refusal.__name__}, but it went through"
            self.open.append(transaction.id)
            outcomes["done"].add(transaction.kind)

        # --- invariants -------------------------------------------------------------------

        @invariant()
        def all_balances_sum_to_zero(self):
            assert sum(cached_balances(session).values()) == 0

        @invariant()
        def each_balance_is_the_sum_of_its_postings(self):
            assert cached_balances(session) == posted_balances(session)

        @invariant()
        def no_balance_below_its_floor_unless_a_reversal_touched_it(self):
            touched = set(session.scalars(
                sa.select(Posting.account_id).join(Transaction)
                .where(Transaction.kind == TransactionKind.REVERSAL)
            ))
            accounts = session.execute(
                sa.select(Account.id, Account.kind, Account.balance_minutes)
            ).all()  # read to the end: a failing assertion must not leave a cursor open
            for account_id, kind, balance in accounts:
                floor = ledger.POOL_FLOOR if kind is AccountKind.POOL else policy.min_balance_minutes
                assert account_id in touched or balance >= floor, (account_id, kind, balance)

        @invariant()
        def verify_finds_nothing(self):
            assert ledger.verify(session) == []

    run_state_machine_as_test(LedgerMachine, settings=BOUNDED)

    # The sequences did reach every kind of transaction and every kind of refusal.
    assert outcomes["done"] == set(TransactionKind)
    # invalid_input: a reversal of a reversal.
    assert outcomes["refused"] == {"insufficient_balance", "self_transfer", "self_grant",
                                   "already_reversed", "invalid_input"}
