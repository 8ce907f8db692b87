"""Delivering notifications: a committed event's e-mail reaches a real SMTP server on loopback
once, in the member's language, with one-click unsubscribe; failures are retried after the
back-off and, after the third, shown on the centre's console; quiet hours hold what is not
urgent; two workers never send one delivery twice; the worker runs on SQLite and Redis."""
from __future__ import annotations

import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller
from conftest import Inbox, free_port, logged_in

from carebank import create_app
from carebank.core import tasks
from carebank.core.database import utcnow
from carebank.core.extensions import db
from carebank.members.models import Role
from carebank.members.services import register_resident
from carebank.notifications import delivery, preferences
from carebank.notifications.models import Delivery, Notification
from carebank.notifications.services import notify
from config import TestConfig

SEOUL = timedelta(hours=9)
UNSUBSCRIBE = re.compile(r"<http://localhost:5000(/notifications/unsubscribe/[^>]+)>")


@pytest.fixture(autouse=True)
def daytime_in_seoul():
    """Yesterday at 11:00 in Seoul, the clock running: outside the default quiet hours (21–08),
    so news goes out at once whenever the suite runs; in the past, so a worker process on the
    real clock finds it due too. Tests of quiet hours travel on from here."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with time_machine.travel(datetime(yesterday.year, yesterday.month, yesterday.day, 2, tzinfo=UTC), tick=True):
        yield


@pytest.fixture(autouse=True)
def queue(app, daytime_in_seoul):
    """The app's task queue (in memory for tests: nothing runs until `drain`)."""
    if tasks.EXTENSION not in app.extensions:  # until create_app binds it
        tasks.init_app(app)
    return tasks.tasks_of(app).huey


@pytest.fixture
def smtp_down(app):
    """Point the app at a loopback port nothing listens on."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())


def drain(app, session) -> int:
    session.commit()  # the test holds no lock while the worker writes
    return tasks.run_pending(app)


def deliveries(session, member, channel="email") -> list[Delivery]:
    session.commit()
    return list(session.scalars(sa.select(Delivery).join(Delivery.notification).where(
        Notification.member_id == member.id, Delivery.channel == channel).order_by(Delivery.id)))


def gift(client, to, minutes=30):
    response = client.post("/api/v1/transfers", json={"to_member_id": to.id, "minutes": minutes})
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.fixture
def giver(session, queue, make_member, earn):
    """A member with ten hours earned to give. The news of the exchange and visit that earned
    them counts as delivered, so the deliveries a test sees are its own."""
    member = make_member("Park Min-su")
    earn(member, 600)
    session.execute(sa.update(Delivery).values(status="sent", sent_at=utcnow()))
    session.commit()
    queue.flush()
    return member


@pytest.fixture
def korean(make_member):
    return make_member("김순자", locale="ko", email="soonja@example.org")


@pytest.fixture
def english(make_member):
    return make_member("Jane Doe", locale="en", email="jane@example.org")


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


# ---- the outbox and the relay -------------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_delivery_and_sends_nothing(app, session, queue, korean, inbox):
    notify(session, korean.id, "gift_received", name="Park", minutes=30)
    session.flush()
    session.rollback()
    session.commit()  # a later commit must not relay what was rolled back
    assert deliveries(session, korean) == []
    assert len(queue) == 0 and drain(app, session) == 0
    assert inbox == []


def test_a_committed_gift_is_mailed_once_in_korean_with_one_click_unsubscribe(app, session, giver, korean,
                                                                              inbox):
    gift(logged_in(app, giver), korean)
    assert drain(app, session) == 2  # e-mail and push
    assert drain(app, session) == 0
    [message] = inbox
    assert message["To"] == "soonja@example.org"
    assert message["Subject"] == "시간 선물을 받았어요"
    assert message["Content-Language"] == "ko"
    assert "Park Min-su 님이 30분을 선물했어요." in text_of(message)
    assert "Park Min-su 님이 30분을 선물했어요." in html_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert UNSUBSCRIBE.fullmatch(message["List-Unsubscribe"])
    [sent] = deliveries(session, korean)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)
    # The same delivery handed to a worker again is not sent again.
    with app.app_context():
        assert delivery.deliver(sent.id) is None
    assert len(inbox) == 1


def test_an_english_member_gets_it_in_english_with_a_link_to_the_page(app, session, giver, english, inbox):
    gift(logged_in(app, giver), english)
    drain(app, session)
    [message] = inbox
    assert message["Subject"] == "You received a gift of time"
    assert message["Content-Language"] == "en"
    assert "Park Min-su gave you 30 min." in text_of(message)
    assert re.search(r"http://localhost:5000/\S*", text_of(message))


# ---- failures, retries, the console -------------------------------------------------------------


def test_a_failed_mail_is_retried_after_the_back_off_and_delivered_once(app, session, giver, english,
                                                                        smtp_down):
    gift(logged_in(app, giver), english)
    drain(app, session)
    [held] = deliveries(session, english)
    assert (held.status, held.attempts) == ("queued", 1)
    assert "Connection refused" in held.last_error or "ConnectionRefused" in held.last_error
    failed_at = held.not_before - delivery.BACKOFF[0]

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=app.config["MAIL_PORT"])
    controller.start()
    try:
        with app.app_context():
            assert delivery.relay(session, failed_at + timedelta(seconds=30)) == []  # not yet due
            assert delivery.relay(session, held.not_before) == [held.id]
            assert delivery.deliver(held.id, now=held.not_before) == "sent"
            assert delivery.deliver(held.id, now=held.not_before + timedelta(minutes=30)) is None
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    [sent] = deliveries(session, english)
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_two_workers_given_one_delivery_send_it_once(app, session, giver, english, inbox):
    gift(logged_in(app, giver), english)
    [queued] = deliveries(session, english)
    barrier, answers = threading.Barrier(4), []

    def work():
        barrier.wait()
        with app.app_context():
            answers.append(delivery.deliver(queued.id))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers.count("sent") == 1 and answers.count(None) == 3
    assert len(inbox) == 1


def test_after_three_failures_it_is_failed_and_shows_on_its_centres_console(
        app, session, giver, english, smtp_down, coordinator, make_centre, make_member):
    gift(logged_in(app, giver), english)
    drain(app, session)
    [held] = deliveries(session, english)
    with app.app_context():
        when = held.not_before
        assert delivery.deliver(held.id, now=when) == "queued"
        assert delivery.deliver(held.id, now=when + delivery.BACKOFF[1]) == "failed"
        session.commit()
        assert delivery.relay(session, when + timedelta(days=1)) == []  # not tried again
    [failed] = deliveries(session, english)
    assert (failed.status, failed.attempts) == ("failed", 3)

    page = logged_in(app, coordinator).get("/console/notifications/failures").get_data(as_text=True)
    assert "Jane Doe" in page and "E-mail" in page and "Connection" in page
    other = make_member("Other Coordinator", role=Role.COORDINATOR,
                        centre_id=make_centre("Sinchon Centre").id)
    assert "Jane Doe" not in logged_in(app, other).get("/console/notifications/failures").get_data(as_text=True)


def test_only_coordinators_see_the_failures_page(app, english):
    assert logged_in(app, english).get("/console/notifications/failures").status_code == 403


# ---- quiet hours ------------------------------------------------------------------------------


def test_quiet_hours_hold_a_mail_until_eight_and_an_urgent_one_goes_at_once(app, session, english, inbox):
    evening = datetime(2026, 12, 1, 22, 0, tzinfo=UTC) - SEOUL  # 22:00 in Seoul
    with time_machine.travel(evening, tick=False):
        notify(session, english.id, "gift_received", name="Park", minutes=30)
        notify(session, english.id, "exchange_cancelled", urgent=True, name="Park", title="Lunch")
        session.commit()
        drain(app, session)
        assert [m["Subject"] for m in inbox] == ["An exchange was cancelled"]
        with app.app_context():
            assert delivery.relay(session, utcnow()) == []
    with time_machine.travel(evening + timedelta(hours=9, minutes=59), tick=False), app.app_context():  # 07:59
        assert delivery.relay(session, utcnow()) == []
    with time_machine.travel(evening + timedelta(hours=10), tick=False):  # 08:00
        with app.app_context():
            delivery.sweep()
        drain(app, session)
    assert [m["Subject"] for m in inbox] == ["An exchange was cancelled", "You received a gift of time"]


# ---- one-click unsubscribe -------------------------------------------------------------------------


def test_one_click_unsubscribe_stops_that_kind_of_mail_and_a_get_changes_nothing(
        app, session, giver, english, inbox, client):
    sender = logged_in(app, giver)
    gift(sender, english)
    drain(app, session)
    path = UNSUBSCRIBE.fullmatch(inbox[0]["List-Unsubscribe"]).group(1)

    page = client.get(path)
    assert page.status_code == 200 and "Stop e-mail to Jane Doe" in page.get_data(as_text=True)
    assert preferences.preferences_of(session, english)["email"]["gift_received"] is True

    # As a mail program sends it: no session, no CSRF token.
    answer = client.post(path, data="List-Unsubscribe=One-Click", with_csrf=False,
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    session.commit()
    chosen = preferences.preferences_of(session, english)["email"]
    assert chosen["gift_received"] is False and chosen["exchange_cancelled"] is True

    gift(sender, english)
    drain(app, session)
    assert len(inbox) == 1
    assert client.post(path.replace("unsubscribe/", "unsubscribe/x"), with_csrf=False).status_code == 404


def test_mail_turned_off_after_it_was_queued_is_skipped(app, session, giver, english, inbox):
    gift(logged_in(app, giver), english)
    preferences.update_preferences(session, english, {"email": {"gift_received": False}})
    drain(app, session)
    assert inbox == []
    assert [d.status for d in deliveries(session, english)] == ["skipped"]


def test_push_without_a_subscription_is_skipped_and_call_is_left_for_the_centre(app, session, giver,
                                                                                 english, coordinator, inbox):
    resident = register_resident(session, coordinator, name="Kim Young-ja", consent_note="Signed form")
    session.commit()
    gift(logged_in(app, giver), english)
    gift(logged_in(app, giver), resident)
    drain(app, session)
    assert [d.status for d in deliveries(session, english, "push")] == ["skipped"]
    assert [d.status for d in deliveries(session, resident, "call")] == ["queued"]
    assert deliveries(session, resident, "email") == []


# ---- the worker on its storages -------------------------------------------------------------------


def wait_until_sent(session, member, timeout=30.0) -> bool:
    """Whether the member's e-mail delivery was recorded sent within `timeout` (a worker thread
    is sending it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if [d.status for d in deliveries(session, member)] == ["sent"]:
            return True
        time.sleep(0.05)
    return False


def run_worker_until_sent(app, session, member) -> bool:
    consumer = tasks.start_consumer(tasks.tasks_of(app).huey, workers=2)
    try:
        return wait_until_sent(session, member)
    finally:
        consumer.stop(graceful=True)


def with_queue(app, url):
    """The same app on another queue storage, as `flask worker` with that URL would have it."""
    app.config["TASK_QUEUE_URL"] = url
    app.extensions[tasks.EXTENSION] = tasks.Tasks(app)
    delivery.register_tasks(app)
    return tasks.tasks_of(app).huey


def test_the_worker_delivers_from_sqlite_storage(app, session, giver, english, inbox, tmp_path):
    with_queue(app, f"sqlite:///{tmp_path / 'tasks.sqlite3'}")
    gift(logged_in(app, giver), english)
    assert run_worker_until_sent(app, session, english)
    assert len(inbox) == 1


def test_the_web_process_delivers_by_itself_on_the_embedded_sqlite_queue(app, database_url, session, giver,
                                                                         english, inbox, tmp_path):
    """As `flask --app app run` does with no worker: the first request starts the consumer."""
    web = create_app(TestConfig, DATABASE_URL=database_url, TASK_QUEUE_URL=f"sqlite:///{tmp_path / 't.sqlite3'}",
                     MAIL_SERVER=app.config["MAIL_SERVER"], MAIL_PORT=app.config["MAIL_PORT"])
    if tasks.EXTENSION not in web.extensions:
        tasks.init_app(web)
    web.test_client_class = type(app.test_client())
    try:
        gift(logged_in(web, giver), english)
        assert wait_until_sent(session, english)
        assert len(inbox) == 1
    finally:
        if tasks.tasks_of(web).consumer is not None:
            tasks.tasks_of(web).consumer.stop(graceful=True)
        with web.app_context():
            db.engine.dispose()


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_the_worker_delivers_from_redis(app, session, giver, english, inbox):
    queue = with_queue(app, "redis://127.0.0.1:6379/15")
    queue.storage.conn.flushdb()
    gift(logged_in(app, giver), english)
    assert run_worker_until_sent(app, session, english)
    assert len(inbox) == 1
    queue.storage.conn.flushdb()
