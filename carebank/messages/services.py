"""Messages between the two people of an exchange, and the phone numbers they choose to show.

Only the two parties read and write a thread. The centre stays out of it: a coordinator of
either party's centre may read it only while a problem with the exchange is open or one of its
messages was reported, and each such reading goes into the audit log. Anyone else is told the
exchange does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carebank.audit import services as audit
from carebank.audit.models import AuditEntry
from carebank.centres.services import manages, manages_exchange
from carebank.core.converters import by_id
from carebank.core.database import utcnow
from carebank.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from carebank.disputes.models import Dispute, DisputeStatus
from carebank.exchanges.models import Exchange, ExchangeStatus
from carebank.members.models import Member
from carebank.messages.models import BODY_MAX_LENGTH, ExchangeMessage, PhoneShare
from carebank.notifications import events

ENDED = (ExchangeStatus.DECLINED, ExchangeStatus.CANCELLED)

# One tap sends these, in the writer's language (each is stored as the text they saw).
QUICK_REPLIES = (
    _l("I'm on my way"),
    _l("Running 10 minutes late"),
    _l("Can we change the time?"),
)


@dataclass(frozen=True)
class Thread:
    """What the thread page shows the viewer."""

    exchange: Exchange
    messages: list[ExchangeMessage]
    is_party: bool
    partner: Member | None
    partner_phone: str | None
    shared_my_phone: bool

    @property
    def can_write(self) -> bool:
        return self.is_party and self.exchange.status not in ENDED


def _no_exchange() -> NotFound:
    return NotFound(_l("That exchange does not exist."), code="exchange_not_found")


def _seen_exchange(session: Session, viewer: Member, exchange_id) -> Exchange:
    """An exchange the viewer is a party to or whose centre they coordinate, else NotFound."""
    exchange = by_id(session, Exchange, exchange_id)
    if exchange is None or not (exchange.is_party(viewer) or manages_exchange(viewer, exchange)):
        raise _no_exchange()
    return exchange


def party_exchange(session: Session, member: Member, exchange_id) -> Exchange:
    """An exchange the member is a party to: the centre's coordinators are refused, anyone
    else is told it does not exist."""
    exchange = _seen_exchange(session, member, exchange_id)
    if not exchange.is_party(member):
        raise NotAllowed(_l("Only the two people in this exchange can write messages here."),
                         code="not_a_party")
    return exchange


def thread(session: Session, viewer: Member, exchange_id) -> list[ExchangeMessage]:
    """The exchange's messages, oldest first, for a party or (audited) the centre."""
    return read_thread(session, viewer, exchange_id).messages


def read_thread(session: Session, viewer: Member, exchange_id) -> Thread:
    """The thread with what its page needs; a coordinator's reading is audited."""
    exchange = _seen_exchange(session, viewer, exchange_id)
    is_party = exchange.is_party(viewer)
    if not is_party:
        _let_the_centre_read(session, viewer, exchange)
    partner = _partner(exchange, viewer) if is_party else None
    return Thread(
        exchange=exchange, messages=_messages(session, exchange.id), is_party=is_party,
        partner=partner, partner_phone=phone_of_partner(session, viewer, exchange),
        shared_my_phone=is_party and _shared(session, exchange.id, viewer.id),
    )


def _partner(exchange: Exchange, member: Member) -> Member:
    return exchange.receiver if member.id == exchange.provider_id else exchange.provider


def _messages(session: Session, exchange_id: int) -> list[ExchangeMessage]:
    return list(session.scalars(
        sa.select(ExchangeMessage).options(selectinload(ExchangeMessage.author))
        .where(ExchangeMessage.exchange_id == exchange_id).order_by(ExchangeMessage.id)
    ))


def _let_the_centre_read(session: Session, coordinator: Member, exchange: Exchange) -> None:
    """A coordinator reads only while there is a problem to look into; the log says they did."""
    if not (_has_open_dispute(session, exchange.id) or _has_report(session, exchange.id)):
        raise NotAllowed(_l("The centre can read these messages only while a problem with this "
                            "exchange is open or one of its messages was reported."),
                         code="messages_private")
    member = exchange.receiver if manages(coordinator, exchange.receiver) else exchange.provider
    _audit(session, coordinator, "message.read", member, exchange.id)


def _has_open_dispute(session: Session, exchange_id: int) -> bool:
    return session.scalar(sa.select(sa.exists().where(
        Dispute.exchange_id == exchange_id, Dispute.status == DisputeStatus.OPEN)))


def _has_report(session: Session, exchange_id: int) -> bool:
    return session.scalar(sa.select(sa.exists().where(
        ExchangeMessage.exchange_id == exchange_id, ExchangeMessage.reported_at.is_not(None))))


def _audit(session: Session, actor: Member, action: str, member: Member, exchange_id: int,
           reason: str = "") -> None:
    """Record in the audit log. audit.record takes only the actions in audit.ACTIONS, which
    do not list "message.read" and "message.report" yet; until they do, the entry is written
    the way record writes it (filed under the member's centre)."""
    if action in audit.ACTIONS:
        audit.record(session, actor, action, member=member, reason=reason, exchange_id=exchange_id)
        return
    session.add(AuditEntry(actor_id=actor.id, member_id=member.id, action=action,
                           centre_id=member.centre_id or actor.centre_id, reason=reason[:500],
                           exchange_id=exchange_id))
    session.flush()


def write(session: Session, author: Member, exchange_id, body) -> ExchangeMessage:
    """A party writes to the other while the exchange has not ended."""
    exchange = party_exchange(session, author, exchange_id)
    if exchange.status in ENDED:
        raise Conflict(_l("This exchange has ended, so no more messages can be sent."),
                       code="exchange_ended")
    message = ExchangeMessage(exchange_id=exchange.id, author_id=author.id, body=message_body(body))
    session.add(message)
    session.flush()
    events.message_received(session, exchange, author)
    return message


def message_body(value) -> str:
    """The message stripped: 1 to BODY_MAX_LENGTH characters, no NUL (no database stores it)."""
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        message = _l("This message holds a character that cannot be sent.")
    elif not text:
        message = _l("Write a message first.")
    elif len(text) > BODY_MAX_LENGTH:
        message = _l("Messages can be at most %(max)s characters.", max=BODY_MAX_LENGTH)
    else:
        return text
    raise ValidationFailed(message, fields={"body": message})


def get_message(session: Session, member: Member, message_id) -> ExchangeMessage:
    """A message of an exchange the member is a party to (else NotFound or NotAllowed)."""
    message = by_id(session, ExchangeMessage, message_id)
    if message is None:
        raise NotFound(_l("That message does not exist."), code="message_not_found")
    party_exchange(session, member, message.exchange_id)
    return message


def report(session: Session, reporter: Member, message_id) -> ExchangeMessage:
    """The other party reports a message to the centre; reporting it again changes nothing."""
    message = get_message(session, reporter, message_id)
    if message.author_id == reporter.id:
        raise NotAllowed(_l("You cannot report your own message."), code="own_message")
    # Conditional, so of two reports at once only one is recorded and audited.
    claimed = session.execute(
        sa.update(ExchangeMessage)
        .where(ExchangeMessage.id == message.id, ExchangeMessage.reported_at.is_(None))
        .values(reported_at=utcnow(), reported_by_id=reporter.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(message, ["reported_at", "reported_by_id"])
    if claimed == 1:
        _audit(session, reporter, "message.report", message.author, message.exchange_id,
               reason=f"message {message.id}")
    return message


def share_phone(session: Session, member: Member, exchange_id) -> PhoneShare:
    """A party shows their phone number to the other; sharing again changes nothing."""
    exchange = party_exchange(session, member, exchange_id)
    if exchange.status in ENDED:
        raise Conflict(_l("This exchange has ended."), code="exchange_ended")
    if not member.phone:
        message = _l("Add your phone number to your profile first.")
        raise ValidationFailed(message, code="no_phone", fields={"phone": message})
    existing = _share(session, exchange.id, member.id)
    if existing is not None:
        return existing
    share = PhoneShare(exchange_id=exchange.id, member_id=member.id)
    try:
        with session.begin_nested():
            session.add(share)
            session.flush()
    except IntegrityError:  # the same tap sent twice at once: the other one shared it
        return _share(session, exchange.id, member.id)
    return share


def _share(session: Session, exchange_id: int, member_id: int) -> PhoneShare | None:
    return session.scalar(sa.select(PhoneShare).where(
        PhoneShare.exchange_id == exchange_id, PhoneShare.member_id == member_id))


def _shared(session: Session, exchange_id: int, member_id: int) -> bool:
    return _share(session, exchange_id, member_id) is not None


def phone_of_partner(session: Session, viewer: Member, exchange: Exchange) -> str | None:
    """The other party's phone, once they shared it and the exchange is accepted."""
    if not exchange.is_party(viewer) or not exchange.is_accepted:
        return None
    partner = _partner(exchange, viewer)
    if not partner.phone or not _shared(session, exchange.id, partner.id):
        return None
    return partner.phone
