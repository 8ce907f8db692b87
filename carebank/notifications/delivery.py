"""Delivering notifications from the outbox: the relay puts committed deliveries on the task
queue, a worker claims each one and sends it on its channel, at most once.

- **Relay.** Right after a session commits the Delivery rows it flushed (a session event notes
  their ids; only committed rows go, so a rolled-back request sends nothing), and every minute
  by a periodic task, which sends what quiet hours held and what waits for a retry.
- **Claim.** `deliver` takes a delivery with one conditional UPDATE … RETURNING (still queued
  and due → attempts + 1, held for `LEASE`), so of two workers given the same id one sends and
  the other finds nothing; a worker that died mid-send is retried after the lease.
- **Attempts.** A failure is kept in `last_error` and retried after 1, then 5 minutes; the
  third failure marks it failed, and it shows on the centre's console. A channel with no
  address (no e-mail, no push subscription, e-mail for the kind turned off since) is skipped.
- "call" deliveries are never sent here: the centre ticks them off its call list.

Each step runs in the task's own app context and session and commits in
`carebank.core.tasks.task_transaction`; nothing is held while a mail or push goes out.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from sqlalchemy.orm import Session

from carebank.centres import services as centres
from carebank.core import tasks
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.members.models import Member
from carebank.notifications import digest, email, events, preferences
from carebank.notifications.kinds import words
from carebank.notifications.models import Delivery, Notification, NotificationPreference
from carebank.push import services as push

QUEUED, SENT, FAILED, SKIPPED = "queued", "sent", "failed", "skipped"
SENT_BY_WORKER = ("email", "push")
MAX_ATTEMPTS = 3
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25))
# Longer than any one send (SMTP gives up after 10 s): no second claim while one is in flight.
LEASE = timedelta(minutes=15)
ERROR_LENGTH = 500
TASK = "carebank.notifications.deliver"
NEW = "carebank.new_deliveries"  # session.info: (id, due) of the deliveries flushed, not yet committed
log = logging.getLogger(__name__)


def register_tasks(app: Flask) -> None:
    """The app's delivery task, the minute's sweep, and the relay after each commit."""
    app.extensions[TASK] = tasks.task(app, deliver)
    tasks.periodic_task(app, sweep, crontab(minute="*"))
    tasks.periodic_task(app, tell_of_ending_posts, crontab(minute="5"))
    # Mondays at 00:30 UTC: 09:30 in Seoul, as the week's work begins.
    tasks.periodic_task(app, send_weekly_digests, crontab(day_of_week="1", hour="0", minute="30"))
    if app.extensions.setdefault(NEW, False):
        return  # the relay is listening already (the task queue was bound anew)
    app.extensions[NEW] = True
    with app.app_context():
        maker = db.sessionmaker
    sa.event.listen(maker, "after_flush", _note_new)
    sa.event.listen(maker, "after_commit", partial(_relay_new, app))
    sa.event.listen(maker, "after_rollback", _forget_new)


def _note_new(session: Session, flush_context) -> None:
    session.info.setdefault(NEW, []).extend(
        (d.id, d.not_before) for d in session.new if isinstance(d, Delivery) and d.channel in SENT_BY_WORKER)


def _forget_new(session: Session) -> None:
    session.info.pop(NEW, None)


def _relay_new(app: Flask, session: Session) -> None:
    noted, now = session.info.pop(NEW, []), utcnow()
    enqueue(app, [delivery_id for delivery_id, due in noted if due is None or due <= now])


def enqueue(app: Flask, delivery_ids: list[int]) -> None:
    """One task per delivery. A queue that cannot take them (Redis down) loses nothing: the
    rows stay queued and the next sweep sends them."""
    try:
        for delivery_id in delivery_ids:
            app.extensions[TASK](delivery_id)
    except Exception:  # whatever the storage raises, the request that committed stands
        log.exception("could not enqueue deliveries %s; the sweep will", delivery_ids)


def due_deliveries(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(sa.select(Delivery.id).where(
        Delivery.status == QUEUED, Delivery.channel.in_(SENT_BY_WORKER), Delivery.not_before <= now,
    ).order_by(Delivery.not_before, Delivery.id)))


def relay(session: Session, now: datetime) -> list[int]:
    """Put every queued delivery that is due on the task queue; their ids."""
    due = due_deliveries(session, now)
    enqueue(current_app._get_current_object(), due)
    return due


def sweep() -> None:
    """The minute's relay: held (quiet hours) and retried deliveries go out when due. The ids
    are read in a transaction of their own and queued after it: waiting on the queue's storage
    must never hold the bank's write lock (SQLite)."""
    with tasks.task_transaction() as session:
        due = due_deliveries(session, utcnow())
    enqueue(current_app._get_current_object(), due)


def tell_of_ending_posts() -> None:
    """The hour's notice to owners whose open post leaves the list within 3 days (once a post)."""
    with tasks.task_transaction() as session:
        events.posts_expiring(session, utcnow())


def send_weekly_digests() -> None:
    with tasks.task_transaction() as session:
        digest.weekly_digests(session, utcnow())


@dataclass(frozen=True)
class Job:
    """A claimed delivery with what sending it needs, read before the claim committed."""

    delivery_id: int
    channel: str
    attempts: int
    member_id: int
    name: str
    locale: str
    address: str | None  # the e-mail address, None when there is none or it was turned off
    kind: str
    params: dict
    path: str


def deliver(delivery_id: int, now: datetime | None = None) -> str | None:
    """The task: claim, send, record. The status it ends in, None when it was not ours.
    Nothing is sent while a transaction is open (on SQLite that would hold the bank's write
    lock for as long as a mail server or push service takes): the claim and, for a push, the
    member's phones are read in one short transaction, what the services said is kept in another."""
    with tasks.task_transaction() as session:
        job = claim(session, delivery_id, now or utcnow())
        phones = push.targets(session, job.member_id) if job and job.channel == "push" else []
    if job is None:
        return None
    status, error, answers = send(job, phones)
    with tasks.task_transaction() as session:
        if answers is not None:
            push.settle(session, answers)  # forget the phones their push service has forgotten
        return record(session, job, status, error, now or utcnow())


def claim(session: Session, delivery_id: int, now: datetime) -> Job | None:
    """Take the delivery for this worker, or None when another has it, it is not due or done.
    One statement reads and counts the attempt, so two workers cannot both see it unclaimed."""
    taken = session.execute(sa.update(Delivery).where(
        Delivery.id == delivery_id, Delivery.status == QUEUED, Delivery.channel.in_(SENT_BY_WORKER),
        Delivery.not_before <= now,
    ).values(attempts=Delivery.attempts + 1, not_before=now + LEASE)
        .returning(Delivery.channel, Delivery.attempts, Delivery.notification_id)
        .execution_options(synchronize_session=False)).first()
    return None if taken is None else _job(session, delivery_id, *taken)


def _job(session: Session, delivery_id: int, channel: str, attempts: int, notification_id: int) -> Job:
    found = session.execute(
        sa.select(Notification.kind, Notification.params, Notification.url, Member.id, Member.name,
                  Member.locale, Member.email, NotificationPreference.email.label("chosen"))
        .join(Member, Member.id == Notification.member_id)
        .outerjoin(NotificationPreference, NotificationPreference.member_id == Member.id)
        .where(Notification.id == notification_id)).one()
    # Asked again at sending: e-mail of this kind may have been turned off since.
    wanted = (found.chosen or {}).get(found.kind, preferences.DEFAULT_ON)
    return Job(delivery_id, channel, attempts, found.id, found.name, language_of(found.locale),
               found.email if wanted else None, found.kind, dict(found.params or {}), found.url or "/notifications/")


def language_of(locale: str | None) -> str:
    supported = current_app.config["LANGUAGES"]
    return locale if locale in supported else current_app.config["DEFAULT_LOCALE"]


def send(job: Job, phones: list) -> tuple[str, str, object | None]:
    """(SENT or SKIPPED, why) or (FAILED, the error) for this one attempt, and for a push what
    each phone's service answered."""
    try:
        if job.channel == "email":
            return (*_send_email(job), None)
        return _send_push(job, phones)
    except Exception as error:  # any failure of the channel is this attempt's, kept and retried
        log.warning("delivery %s (%s) failed: %r", job.delivery_id, job.channel, error)
        return FAILED, repr(error)[:ERROR_LENGTH], None


def _send_email(job: Job) -> tuple[str, str]:
    if job.address is None:
        return SKIPPED, "no e-mail address, or e-mail for this kind turned off"
    email.send_notification(current_app._get_current_object(), job)
    return SENT, ""


def _send_push(job: Job, phones: list) -> tuple[str, str, object | None]:
    if not phones:
        return SKIPPED, "no push subscription", None
    with force_locale(job.locale):
        # A lock screen shows it: the title (no health detail) and a generic line, never the body.
        title, body = words(job.kind, job.params)[0], _("Open the care time bank to read it.")
    answers = push.push_to(phones, title, body, job.path)
    if len(answers.failures) == answers.tried:
        return FAILED, "; ".join(answers.failures)[:ERROR_LENGTH], None
    return (SENT, "", answers) if answers.taken else (SKIPPED, "every phone's subscription had ended", answers)


def record(session: Session, job: Job, status: str, error: str, now: datetime) -> str:
    """Keep what the attempt came to: sent, skipped, a retry after the back-off, or failed."""
    values: dict = {"status": status, "last_error": error}
    if status == SENT:
        values["sent_at"] = now
    elif status == FAILED and job.attempts < MAX_ATTEMPTS:
        values.update(status=QUEUED, not_before=now + BACKOFF[job.attempts - 1])
    elif status == FAILED:
        values["not_before"] = now  # a failed delivery's not_before is when it failed
    session.execute(sa.update(Delivery).where(Delivery.id == job.delivery_id).values(**values)
                    .execution_options(synchronize_session=False))
    return values["status"]


FAILURES_SHOWN = 200


def failures(session: Session, coordinator: Member) -> list[sa.Row[tuple[Delivery, Member]]]:
    """Failed deliveries to members of the coordinator's centre (every centre's for an
    admin), the latest first."""
    return list(session.execute(
        sa.select(Delivery, Member).join(Delivery.notification).join(Member, Member.id == Notification.member_id)
        .where(Delivery.status == FAILED, centres.scope_filter(coordinator))
        .order_by(Delivery.not_before.desc(), Delivery.id.desc()).limit(FAILURES_SHOWN)))
