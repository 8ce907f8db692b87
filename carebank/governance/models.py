"""The co-op's self-government: its register of members by class, its bylaws, proposals and
their ballots between meetings, the general assembly in person, pool grants decided by members,
and board seats (for the voice report)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carebank.core.database import Base, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:  # relationships name their classes; SQLAlchemy finds them by name
    from carebank.members.models import Member


class MemberClass(enum.StrEnum):
    """The co-op's member classes (조합원 유형): who the member is to the service."""

    CARE_RECEIVER = "care_receiver"  # care receivers and their families
    CARER = "carer"  # carers and providers
    VOLUNTEER = "volunteer"
    STAFF = "staff"  # coordinators and other staff
    SUPPORTER = "supporter"
    PARTNER = "partner"  # partner organisations: the district, the community, other co-ops


class RegisterEntry(Base):
    """What the centre set in the co-op's register for a member: their class, when they
    joined and left, and the shares they hold. A member without a line is in the register
    from the day they signed up, class not yet set. Shares never weigh a vote."""

    __tablename__ = "register_entries"

    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    member_class: Mapped[MemberClass | None] = mapped_column(enum_column(MemberClass, "member_class"))
    joined_on: Mapped[date] = mapped_column(sa.Date)
    left_on: Mapped[date | None] = mapped_column(sa.Date)
    shares: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def is_member_on(self, day: date) -> bool:
        """In the register on that day (the record date of a ballot or an assembly)."""
        return self.joined_on <= day and (self.left_on is None or self.left_on > day)


class Bylaw(Base):
    """A bylaw the co-op changed from its default (governance.bylaws holds the defaults and
    the rules of each value). Changed only by a motion the general assembly adopted: the
    articles are the assembly's, never an online ballot's."""

    __tablename__ = "bylaws"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    motion_id: Mapped[int] = mapped_column(sa.ForeignKey("motions.id"))


class ProposalKind(enum.StrEnum):
    ADVISORY = "advisory"  # a straw poll: it advises, decides nothing
    BOARD = "board"  # a decision of the board between meetings
    MEMBER = "member"  # a ballot of all members between meetings
    BUDGET = "budget"  # members split a month's pool among grant requests


class Tally(enum.StrEnum):
    """How an advisory poll counts: one member one vote, or each class counted apart and
    given an equal weight (allowed only for advisory polls, and labelled as such)."""

    ONE_MEMBER_ONE_VOTE = "one_member_one_vote"
    PER_CLASS = "per_class"
    CLASS_WEIGHTED = "class_weighted"


class Proposal(Base):
    """A question put to the members (or the board) between meetings, with its discussion,
    options and closing time. Results are hidden until it closes."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[ProposalKind] = mapped_column(enum_column(ProposalKind, "proposal_kind"))
    tally: Mapped[Tally] = mapped_column(enum_column(Tally, "proposal_tally"),
                                         default=Tally.ONE_MEMBER_ONE_VOTE)
    secret: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    # Who may vote: members in the register on this day (and the board, for board ballots).
    record_date: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After closing: what was decided, by whom, and when to look at it again.
    outcome: Mapped[str] = mapped_column(sa.Text, default="")
    outcome_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    review_on: Mapped[date | None] = mapped_column(sa.Date)
    # A budget ballot's pool minutes each member may split among the requests.
    budget_minutes: Mapped[int | None] = mapped_column()

    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    options: Mapped[list[ProposalOption]] = relationship(
        back_populates="proposal", order_by="ProposalOption.position")

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes_at

    @property
    def is_weighted(self) -> bool:
        return self.tally is not Tally.ONE_MEMBER_ONE_VOTE


class ProposalOption(Base):
    """One answer on the ballot: yes / no / abstain, a choice, or (budget) a grant request."""

    __tablename__ = "proposal_options"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"))
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(sa.String(200))
    # An abstention is counted as taking part, never for or against.
    abstain: Mapped[bool] = mapped_column(default=False)
    grant_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grant_requests.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="options")


class Vote(Base):
    """An open ballot's vote: who chose what. One per member; a change replaces it. A budget
    ballot's vote is one row per chosen request."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "member_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal_options.id"))
    # The class the member was in when voting, for per-class advisory tallies and the report.
    member_class: Mapped[MemberClass | None] = mapped_column(enum_column(MemberClass, "vote_member_class"))
    # A coordinator recorded it for a member without a phone (participation through the centre).
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BallotReceipt(Base):
    """A secret ballot's record that a member voted, never what: it stops a second vote and
    counts turnout. The member keeps the receipt code; only its hash is on the ballot."""

    __tablename__ = "ballot_receipts"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    member_class: Mapped[MemberClass | None] = mapped_column(enum_column(MemberClass, "receipt_member_class"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    # The day only: a time to the second would pair a receipt with its ballot.
    cast_on: Mapped[date] = mapped_column(sa.Date)


class SecretBallot(Base):
    """A secret ballot's choice, with no member, no time and a random key, so nothing ties it
    to a receipt row; the receipt's hash lets the member check it was counted, or change it."""

    __tablename__ = "secret_ballots"
    # No hidden rowid on SQLite: its order would pair each ballot with its receipt.
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # random, not a sequence
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal_options.id"))
    receipt_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    # Only for per-class advisory polls (labelled as such): the class, never the member.
    member_class: Mapped[MemberClass | None] = mapped_column(enum_column(MemberClass, "ballot_member_class"))


class ProposalMessage(Base):
    """A member's word in a proposal's discussion."""

    __tablename__ = "proposal_messages"
    __table_args__ = (sa.Index("ix_proposal_messages_proposal_id_id", "proposal_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member] = relationship(foreign_keys=[author_id])


class Assembly(Base):
    """A general assembly (총회), held in person: its notice, the register at the door, the
    motions and their tallies, and its minutes."""

    __tablename__ = "assemblies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    agenda: Mapped[str] = mapped_column(sa.Text, default="")
    # Who may attend and vote: members in the register on this day.
    record_date: Mapped[date] = mapped_column(sa.Date)
    called_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chair_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    teller_one_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    teller_two_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The signed minutes: the PDF as it was closed and its SHA-256 (also in the audit log).
    minutes_pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    minutes_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    called_by: Mapped[Member] = relationship(foreign_keys=[called_by_id])
    chair: Mapped[Member | None] = relationship(foreign_keys=[chair_id])
    motions: Mapped[list[Motion]] = relationship(back_populates="assembly", order_by="Motion.position")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class AttendanceMethod(enum.StrEnum):
    CARD = "card"  # the member card's QR at the door
    PIN = "pin"  # member number and PIN
    LIST = "list"  # ticked on the coordinator's list


class Attendance(Base):
    """One member present at an assembly, or one proxy a present member holds for an absent
    one (with the written proof recorded). A proxy represents one member only."""

    __tablename__ = "attendances"
    __table_args__ = (
        # Present once; represented once.
        sa.Index("uq_attendances_present_once", "assembly_id", "member_id", unique=True,
                 sqlite_where=sa.text("proxy_for_member_id IS NULL"),
                 postgresql_where=sa.text("proxy_for_member_id IS NULL")),
        sa.UniqueConstraint("assembly_id", "proxy_for_member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(sa.ForeignKey("assemblies.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    proxy_for_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    proxy_proof: Mapped[str] = mapped_column(sa.String(300), default="")
    method: Mapped[AttendanceMethod] = mapped_column(
        enum_column(AttendanceMethod, "attendance_method"), default=AttendanceMethod.LIST)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    proxy_for: Mapped[Member | None] = relationship(foreign_keys=[proxy_for_member_id])


class Motion(Base):
    """An item put to the vote at an assembly, counted by two tellers. Special resolutions
    (articles, dissolution, merger, expulsion) need two-thirds of those present."""

    __tablename__ = "motions"
    __table_args__ = (sa.UniqueConstraint("assembly_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(sa.ForeignKey("assemblies.id"))
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200))
    special: Mapped[bool] = mapped_column(default=False)
    # The proposal it carries to the assembly, if any (never a class-weighted poll).
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id"))
    # A bylaw change it makes when passed (applied once).
    bylaw_key: Mapped[str | None] = mapped_column(sa.String(60))
    bylaw_value: Mapped[str | None] = mapped_column(sa.String(200))
    bylaw_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tellers' count, and what it came to.
    votes_for: Mapped[int | None] = mapped_column()
    votes_against: Mapped[int | None] = mapped_column()
    votes_abstain: Mapped[int | None] = mapped_column()
    present: Mapped[int | None] = mapped_column()
    threshold: Mapped[int | None] = mapped_column()
    quorum_met: Mapped[bool | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column()
    tallied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tallied_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))

    assembly: Mapped[Assembly] = relationship(back_populates="motions")

    @property
    def is_tallied(self) -> bool:
        return self.tallied_at is not None


class MinutesSigner(Base):
    """A member elected at the meeting to sign its minutes beside the chair."""

    __tablename__ = "minutes_signers"
    __table_args__ = (sa.UniqueConstraint("assembly_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(sa.ForeignKey("assemblies.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))

    member: Mapped[Member] = relationship()


class GrantRequestStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the ballot or the budget
    GRANTED = "granted"
    REFUSED = "refused"


class GrantRequest(Base):
    """A request for time from the community pool above what a coordinator may grant alone,
    decided by a ballot of the board or the members, or in a month's budget ballot."""

    __tablename__ = "grant_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    minutes: Mapped[int] = mapped_column()
    # The kind of care it pays for (a post category), shown to members without the name.
    need: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(500))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id"))
    status: Mapped[GrantRequestStatus] = mapped_column(
        enum_column(GrantRequestStatus, "grant_request_status"), default=GrantRequestStatus.OPEN)
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[Member] = relationship(foreign_keys=[recipient_id])


class PoolGrantRecord(Base):
    """What members may see of each pool grant: when, how many minutes, for what kind of need,
    how it was decided, and the beneficiary's class (never the name)."""

    __tablename__ = "pool_grant_records"

    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"), primary_key=True)
    need: Mapped[str] = mapped_column(sa.String(40), default="")
    beneficiary_class: Mapped[MemberClass | None] = mapped_column(
        enum_column(MemberClass, "beneficiary_member_class"))
    # "coordinator", "board", "members" or "budget".
    decided_by: Mapped[str] = mapped_column(sa.String(20))
    grant_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("grant_requests.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


BOARD = "board"  # the body of a seat on the board (other bodies are committees)


class BoardSeat(Base):
    """A seat on the board or a committee, held from one day to another (for the report)."""

    __tablename__ = "board_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    body: Mapped[str] = mapped_column(sa.String(80), default=BOARD)  # BOARD or a committee's name
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)

    member: Mapped[Member] = relationship()

    def is_held_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on > day)
