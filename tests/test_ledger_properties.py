"""Random sequences of visits, gifts, donations, grants and reversals (hypothesis) keep the
ledger whole after every step: all balances sum to zero, each cached balance is the sum of its
postings, no balance is below its floor unless a reversal put it there, the community pool is
never below zero, a gift or donation never leaves its giver below zero, `verify` finds
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
def cast(session, make_member, make_exchange, earn):
    """A coordinator and three neighbours, each with 200 minutes earned (gifts and donations
    spend only time one has), an accepted exchange for every ordered pair of neighbours
    (provider, receiver), and a colleague who corrects, committed once for all examples."""
    coordinator = make_member("Coordinator Park", role=Role.COORDINATOR)
    colleague = make_member("Coordinator Oh", role=Role.COORDINATOR)
    neighbours = [make_member(name) for name in ("Alice", "Bora", "Chul")]
    for member in (coordinator, *neighbours):
        earn(member, 200)
    exchange_ids = [make_exchange(p, r).id for p in neighbours for r in neighbours if p is not r]
    return [coordinator.id, *(m.id for m in neighbours)], colleague.id, exchange_ids


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
    member_ids, colleague_id, exchange_ids = cast
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
            self.colleague = session.get(Member, colleague_id)  # never a party
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
            # Many visits to one exchange within the hour: each confirmed on purpose.
            self.attempt(lambda: confirmations.redeem(session, exchange.receiver, token, policy,
                                                      confirm_again=True)[0])

        @rule(giver=everyone, recipient=everyone, minutes=st.integers(1, 600))
        def gift(self, giver, recipient, minutes):
            # Giving to oneself is refused; so is giving more than one has.
            to, giver = self.people[recipient].id, self.people[giver]
            if self.attempt(lambda: ledger.gift(session, giver, to, minutes, "thanks", policy)):
                assert ledger.balance_of(session, giver.id) >= 0

        @rule(donor=everyone, minutes=st.integers(1, 600))
        def donate(self, donor, minutes):
            donor = self.people[donor]
            if self.attempt(lambda: ledger.donate_to_pool(session, donor, minutes, "", policy)):
                assert ledger.balance_of(session, donor.id) >= 0

        @rule(recipient=everyone, minutes=st.integers(1, 300))
        def grant(self, recipient, minutes):
            # Refused when the pool is short, or when the coordinator would grant to themselves.
            to = self.people[recipient].id
            self.attempt(lambda: ledger.grant_from_pool(
                session, self.coordinator, to, minutes, "winter help", policy))

        @precondition(lambda self: self.open)
        @rule(data=st.data(), by_colleague=st.booleans())
        def reverse(self, data, by_colleague):
            original = self.open.pop(data.draw(st.integers(0, len(self.open) - 1)))
            # Members' floors do not bind a correction; the pool's does, and the coordinator
            # cannot correct a transaction of their own.
            by = self.colleague if by_colleague else self.coordinator
            reversal = self.attempt(lambda: ledger.reverse(session, by, original, "entered by mistake"),
                                    opens=False)
            if reversal:
                self.reversed.append(original)
                self.reversals.append(reversal.id)

        @precondition(lambda self: self.reversed)
        @rule(data=st.data())
        def reverse_again(self, data):
            original = data.draw(st.sampled_from(self.reversed))
            self.attempt(lambda: ledger.reverse(session, self.colleague, original, "again"),
                         refusal=Conflict)

        @precondition(lambda self: self.reversals)
        @rule(data=st.data())
        def reverse_a_reversal(self, data):
            reversal = data.draw(st.sampled_from(self.reversals))
            self.attempt(lambda: ledger.reverse(session, self.colleague, reversal, "undo it"),
                         refusal=ValidationFailed)

        def attempt(self, operation, refusal=DomainError, opens=True) -> Transaction | None:
            """Run an operation that may be refused; a refusal must change nothing. The
            transaction it made, or None."""
            before = cached_balances(session), transaction_count(session)
            try:
                transaction = operation()
            except refusal as refused:
                assert (cached_balances(session), transaction_count(session)) == before
                outcomes["refused"].add(refused.code)
                return None
            assert refusal is DomainError, f"expected {refusal.__name__}, but it went through"
            if opens:
                self.open.append(transaction.id)
            outcomes["done"].add(transaction.kind)
            return transaction

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
        def the_pool_is_never_below_zero(self):
            assert ledger.pool_account(session).balance_minutes >= ledger.POOL_FLOOR

        @invariant()
        def verify_finds_nothing(self):
            assert ledger.verify(session) == []

    run_state_machine_as_test(LedgerMachine, settings=BOUNDED)

    # The sequences did reach every kind of transaction and every kind of refusal.
    assert outcomes["done"] == set(TransactionKind)
    # invalid_input: a reversal of a reversal.
    assert outcomes["refused"] == {"insufficient_balance", "self_transfer", "self_grant",
                                   "self_reversal", "already_reversed", "invalid_input"}
