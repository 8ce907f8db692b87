"""Demo data: a small, believable neighbourhood for trying the app (`flask --app app demo`).

Everything goes through the real services, so the demo obeys the same rules as real use:
every visit is confirmed with a redeemed code and `flask --app app ledger verify` stays clean.
Post titles and profiles are data written by members, so they are not translated.

The history is spread over the last five weeks at the hours people keep (members joining, posts,
answers, weekly visits, messages, gifts), each written while the clock says when it happened
(`clock_at`), so a newcomer sees a believable month.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from carebank.cards import services as cards
from carebank.centres.services import save_centre
from carebank.confirmations import services as confirmations
from carebank.core.database import clock_at, utcnow
from carebank.core.policy import Policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import Exchange
from carebank.governance import assemblies, pool, proposals, register, voice
from carebank.governance.models import MemberClass, ProposalKind, Tally
from carebank.ledger import services as ledger
from carebank.ledger.models import Transaction
from carebank.members import on_behalf
from carebank.members.models import Member, Role, VettingStatus
from carebank.members.services import create_member, register_resident
from carebank.messages import services as messages
from carebank.posts import services as posts
from carebank.posts.models import Post

PASSWORD = "demo1234"
EMAIL_DOMAIN = "demo.carebank"
# Korea keeps no daylight saving time, so a fixed offset is exact.
KST = timezone(timedelta(hours=9), "KST")
COORDINATOR = "migyeong"

# name, address, phone, neighbourhoods served
CENTRES = (
    ("종로 나눔돌봄센터", "서울 종로구 자하문로 1", "02-730-1234", "종로구 효자동\n종로구 삼청동"),
    ("부암동 마을돌봄센터", "서울 종로구 창의문로 5", "02-391-5678", "종로구 부암동"),
)
# A resident without a phone whom the coordinator registered: she uses a printed card.
RESIDENT = ("박순례", "효자동", "2026-11 방문 상담 때 종이 동의서에 서명하심")
RESIDENT_PIN = "2580"
RESIDENT_NEED = ("통인시장 장보기 같이 가 주세요", "무거운 장바구니를 들어 주실 분. 전화가 없으니 센터로 연락 주세요.", 90)
RESIDENT_CARER = "minsu"
# Carers the centre has checked.
VERIFIED = ("minsu", "sarah", "james")

# key (also the email's local part): name, neighbourhood, locale, languages, what I can offer
MEMBERS = {
    "youngja": ("김영자", "효자동", "ko", "한국어",
                "옛날 이야기 들려드리기, 김치 담그는 법 알려드려요"),
    "soonja": ("이순자", "삼청동", "ko", "한국어", "뜨개질을 가르쳐 드릴 수 있어요"),
    "boksun": ("오복순", "삼청동", "ko", "한국어", "나물 반찬을 넉넉히 만들어 나눠요"),
    "jeongho": ("최정호", "부암동", "ko", "한국어", "텃밭 40년, 채소 기르는 법 알려드려요"),
    "margaret": ("Margaret Lee", "부암동", "en", "English, 한국어 조금",
                 "Baking, and reading aloud in English to children"),
    "minsu": ("박민수", "효자동", "ko", "한국어, English",
              "스마트폰·컴퓨터 도움, 장보기, 병원 동행"),
    "haeun": ("정하은", "효자동", "ko", "한국어, English",
              "초등학생 수학·영어 숙제, 방과 후 아이 돌봄"),
    "seojun": ("윤서준", "부암동", "ko", "한국어", "차가 있어요: 병원 모셔다 드리기, 짐 나르기"),
    "sarah": ("Sarah Kim", "삼청동", "en", "English, 한국어",
              "English conversation, tutoring, cleaning help, dog walking"),
    "james": ("James O'Neill", "삼청동", "en", "English",
              "Small repairs: shelves, door handles, leaking taps, bicycles"),
    "daniel": ("Daniel Park", "효자동", "en", "English, 한국어",
               "Forms and letters in English, translating official mail"),
    "migyeong": ("한미경", "효자동", "ko", "한국어, English",
                 "동네 코디네이터: 처음 오신 분을 도와드려요"),
}

# key: author, kind, category, title, description, minutes, days since posted,
# and a time window (days ahead, start hour in Seoul, hours long) or None.
POSTS = {
    "escort_clinic": ("youngja", "need", "escort", "병원 가는 길 동행해 주세요",
                      "서울대병원 정기검진이에요. 지하철 계단이 힘들어서 같이 가 주실 분.", 120, 33, None),
    "thursday_chat": ("soonja", "need", "companionship", "매주 목요일 오후 말벗이 필요해요",
                      "혼자 지내서 이야기 나눌 사람이 그리워요. 차 한잔 같이 해요.", 60, 35, None),
    "leaking_tap": ("jeongho", "need", "repairs", "부엌 수도꼭지가 새요",
                    "밤새 똑똑 물이 떨어져요. 공구는 집에 있어요.", 60, 19, None),
    "district_letters": ("margaret", "need", "paperwork", "Help reading letters from the district office",
                         "Two letters about my health insurance that I cannot quite follow.", 60, 9, None),
    "winter_duvets": ("boksun", "need", "housework", "겨울 이불 빨래 도와주세요",
                      "이불이 무거워서 혼자 못 옮겨요. 빨래방까지 같이 가 주세요.", 90, 1, (3, 10, 2)),
    "saturday_kids": ("seojun", "need", "childcare", "토요일 오전 아이 돌봐주실 분",
                      "7살, 5살 남매예요. 병원 진료가 있어서 세 시간만 부탁드려요.", 180, 1, (5, 9, 3)),
    "korean_practice": ("james", "need", "learning", "Korean conversation practice",
                        "I can read Hangul but freeze when I speak. Tea is on me.", 60, 3, None),
    "porridge": ("youngja", "need", "meals", "감기에 걸려서 죽 좀 부탁해요",
                 "며칠 장을 못 봤어요. 흰죽이나 전복죽이면 좋겠어요.", 45, 0, (1, 12, 2)),
    "phone_help": ("minsu", "offer", "tech_help", "스마트폰 사용법 알려드려요",
                   "영상통화, 카카오톡, 사진 보내기 천천히 알려드려요.", 60, 30, None),
    "market_run": ("minsu", "offer", "errands", "통인시장 장보기 대신 해드려요",
                   "목록만 주시면 장 봐서 집 앞까지 가져다 드려요.", 60, 1, (1, 16, 2)),
    "english_chat": ("sarah", "offer", "learning", "English conversation for beginners",
                     "Relaxed practice over coffee; complete beginners welcome.", 60, 5, None),
    "spring_clean": ("sarah", "offer", "housework", "Help with a big clean",
                     "Windows, high shelves, moving furniture: I am tall and have a free Sunday.",
                     120, 2, (6, 13, 3)),
    "small_repairs": ("james", "offer", "repairs", "Small repairs around the house",
                      "Shelves, door handles, dripping taps. I bring my own tools.", 90, 7, None),
    "homework": ("haeun", "offer", "learning", "초등학생 수학 숙제 도와줘요",
                 "교대생이에요. 평일 저녁에 한 시간씩 가능해요.", 60, 4, None),
    "after_school": ("haeun", "offer", "childcare", "방과 후 아이 돌봄",
                     "학교에서 데려와서 부모님 오실 때까지 같이 있어요.", 120, 2, (2, 15, 3)),
    "side_dishes": ("boksun", "offer", "meals", "나물 반찬 나눠드려요",
                    "시금치, 고사리, 도라지 나물을 넉넉히 했어요.", 30, 1, None),
    "vegetable_garden": ("jeongho", "offer", "gardening", "텃밭 가꾸는 법 알려드려요",
                         "상추, 고추, 방울토마토 심을 때예요. 화분도 괜찮아요.", 60, 3, None),
    "english_forms": ("daniel", "offer", "paperwork", "Help with English forms and letters",
                      "Visa, bank and insurance paperwork. 영문 서류도 도와드려요.", 60, 8, None),
    "clinic_drive": ("seojun", "offer", "escort", "차로 병원 모셔다 드려요",
                     "부암동, 효자동에서 세브란스나 서울대병원까지.", 90, 2, (4, 9, 4)),
    "reading_aloud": ("margaret", "offer", "companionship", "Tea and reading aloud in English",
                      "Come for tea; I read to children or to anyone who likes a story.", 60, 6, None),
}

# Agreements: post, the member who responded, their message.
ACCEPTED = (
    ("escort_clinic", "minsu", "제가 모셔다 드릴게요. 10시에 댁 앞으로 갈게요."),
    ("thursday_chat", "sarah", "I would love to come every Thursday. 한국어 연습도 할게요!"),
    ("phone_help", "margaret", "I want to video call my grandchildren in Sydney."),
    ("leaking_tap", "james", "I can come on Saturday with a new washer."),
    ("district_letters", "daniel", "Happy to go through them with you this week."),
)
PROPOSED = (("winter_duvets", "seojun", "차로 빨래방까지 같이 가요."),)

# Confirmed visits: post of the exchange, who shows the code (the other redeems), minutes, and
# when the code was shown: days ago, hour and minute in Seoul. The weekly chat is on Thursdays
# (WEEKLY_CHAT: its weeks ago), a code each time, shown by each of them in turn.
VISITS = (
    ("escort_clinic", "minsu", 120, (30, 12, 20)),
    ("phone_help", "margaret", 60, (27, 15, 5)),
    ("leaking_tap", "james", 45, (17, 11, 40)),
)
WEEKLY_CHAT = ("thursday_chat", ("sarah", "soonja"), 60, (4, 3, 2, 1), (16, 10))
# Messages in agreed exchanges: post, author, text, (days ago, hour, minute).
MESSAGES = (
    ("escort_clinic", "youngja", "민수 씨, 10시에 아파트 정문에서 기다릴게요.", (31, 20, 15)),
    ("escort_clinic", "minsu", "네, 할머니. 내일 10시에 뵐게요!", (31, 20, 42)),
    ("thursday_chat", "soonja", "목요일에 유자차 준비해 둘게요.", (22, 18, 30)),
    ("thursday_chat", "sarah", "Thank you! 저는 떡을 가져갈게요.", (22, 19, 5)),
    ("phone_help", "margaret", "Could we also try sending photos next time?", (26, 9, 50)),
    ("leaking_tap", "jeongho", "토요일 오전 11시 괜찮으세요?", (18, 8, 40)),
    ("leaking_tap", "james", "Yes, 11 is perfect. I will bring a new washer.", (18, 12, 10)),
    ("district_letters", "margaret", "The letters are on my kitchen table whenever you can come.", (7, 10, 25)),
    ("district_letters", "daniel", "I can come on Friday afternoon, around 3.", (6, 20, 30)),
)

# What to look at when logging in as someone, for the summary.
HINTS = {
    "youngja": "older, mostly receives: a confirmed clinic visit, a gift and a pool grant",
    "soonja": "weekly Thursday chats with Sarah Kim, four of them confirmed",
    "boksun": "has a pending offer of help to accept or decline",
    "margaret": "English speaker; an accepted exchange whose visit is still to come",
    "minsu": "younger, mostly gives; shows codes and has gifted time",
    "sarah": "English speaker who gives weekly and donated to the pool",
    "migyeong": "coordinator of 종로 나눔돌봄센터: the console at /console/",
}

# Gifts, donations and grants, each with when: (days ago, hour, minute).
GIFTS = (("minsu", "youngja", 60, "할머니, 건강하세요", (29, 19, 30)),)
DONATIONS = (("sarah", 60, "For neighbours who cannot give back", (12, 20, 10)),
             ("james", 30, "동네를 위해", (15, 17, 45)))
# recipient, minutes, reason, the kind of care it pays for (members see only the kind), when.
GRANTS = (("youngja", 60, "병원 동행이 더 필요하실 때 쓰세요", "escort", (10, 11, 0)),)
# When members joined (days ago), the coordinator first; the resident was registered later.
JOINED_DAYS_AGO = 38
RESIDENT_REGISTERED = (21, 14, 10)
# The hours posts are written at, in turn (morning, after lunch, evening).
POST_HOURS = ((9, 40), (14, 15), (20, 5), (10, 30), (16, 50), (19, 20), (11, 10), (21, 0))


# The co-op's register: each member's class, set by the centre when they joined.
CLASSES = {
    "youngja": MemberClass.CARE_RECEIVER, "soonja": MemberClass.CARE_RECEIVER,
    "boksun": MemberClass.CARE_RECEIVER, "margaret": MemberClass.CARE_RECEIVER,
    "minsu": MemberClass.CARER, "haeun": MemberClass.CARER, "seojun": MemberClass.CARER,
    "jeongho": MemberClass.VOLUNTEER, "sarah": MemberClass.VOLUNTEER, "james": MemberClass.VOLUNTEER,
    "daniel": MemberClass.SUPPORTER, "migyeong": MemberClass.STAFF,
}
# The board: a care receiver, a carer and the coordinator.
BOARD = ("youngja", "minsu", "migyeong")
# A ballot of all members, open now: author, title, text, opened and closing (days ago/ahead),
# and the votes so far (member, answer position).
OPEN_BALLOT = ("soonja", "목요일 이야기 모임을 경로당에서 열까요?",
               "센터 2층이 좁아서, 다음 달부터 삼청동 경로당 1층에서 모이면 어떨까 해요. "
               "경로당은 엘리베이터가 없지만 1층이라 괜찮아요.", 2, 5,
               (("youngja", 0), ("boksun", 0), ("sarah", 1)))
# An advisory poll that closed last week, with its outcome.
CLOSED_POLL = ("migyeong", "센터 문 여는 시간, 언제가 좋으세요?", "의견을 듣고 이사회에서 정해요.",
               ("평일 오전 9시", "평일 오전 10시", "토요일 오전에도 열기"), 12, 5,
               (("youngja", 0), ("soonja", 2), ("minsu", 2), ("sarah", 1), ("james", 2), ("margaret", 2)),
               "토요일 오전 10시~12시에도 열기로 했어요 (1월부터, 석 달 해 보고 다시 살펴봐요).")
ASSEMBLY = ("2027년 정기총회", 24, "종로 나눔돌봄센터 2층",
            "1. 2026년 활동과 시간 기금 보고\n2. 2027년 계획과 예산\n3. 정관 개정: 코디네이터가 혼자 지원할 수 있는 시간\n4. 이사 선출")


class DemoNotEmpty(Exception):
    """The demo only fills an empty database; it never mixes with real members."""


def load_demo(session: Session, now: datetime | None = None, policy: Policy | None = None) -> str:
    """Fill an empty database with the demo neighbourhood; returns a summary to print.
    Flushes but does not commit: the caller commits."""
    if session.scalar(sa.select(sa.func.count()).select_from(Member)):
        raise DemoNotEmpty("the database already has members")
    now = now or utcnow()
    policy = policy or Policy()
    with _when(session, _at(now, (JOINED_DAYS_AGO + 2, 9, 0))):
        _create_centres(session)
    members = _create_members(session, now)
    resident = _centre_work(session, members, now)
    _register(session, members, resident, now)
    created = _create_posts(session, members, policy, now)
    _resident_need(session, members, resident, policy, now)
    agreed = _agree(session, members, created, now)
    _history(session, members, agreed, policy, now)
    _co_op(session, members, now)
    return _summary(session, members)


def _at(now: datetime, when: tuple[int, int, int]) -> datetime:
    """(days ago, hour, minute) in Seoul, as UTC; never later than `now` (today's evening
    before it has come is a few minutes ago instead)."""
    days, hour, minute = when
    day = now.astimezone(KST).date() - timedelta(days=days)
    moment = datetime.combine(day, time(hour, minute), tzinfo=KST).astimezone(UTC)
    return min(moment, now - timedelta(minutes=5))


def _awake(moment: datetime, now: datetime) -> datetime:
    """`moment`, or if it falls in the night (21:00–08:00 in Seoul) the next morning's 08:40;
    never later than a few minutes ago."""
    local = moment.astimezone(KST)
    if local.hour >= 21 or local.hour < 8:
        day = local.date() + timedelta(days=1 if local.hour >= 21 else 0)
        moment = datetime.combine(day, time(8, 40), tzinfo=KST).astimezone(UTC)
    return min(moment, now - timedelta(minutes=3))


@contextmanager
def _when(session: Session, moment: datetime) -> Iterator[None]:
    """What the block writes happened at `moment` (flushed before the clock moves on)."""
    with clock_at(moment):
        yield
        session.flush()


def _create_centres(session: Session) -> None:
    for name, address, phone, neighbourhoods in CENTRES:
        save_centre(session, None, name=name, address=address, phone=phone,
                    neighbourhoods=neighbourhoods)


def _centre_work(session: Session, members: dict[str, Member], now: datetime) -> Member:
    """What the coordinator has done: vetted some carers, registered a resident with a PIN."""
    coordinator = members[COORDINATOR]
    for key in VERIFIED:
        members[key].vetting = VettingStatus.VERIFIED
        members[key].vetted_at = _at(now, (33, 15, 0))
        members[key].vetted_by_id = coordinator.id
    name, neighbourhood, consent = RESIDENT
    with _when(session, _at(now, RESIDENT_REGISTERED)):
        resident = register_resident(session, coordinator, name=name, neighbourhood=neighbourhood,
                                     locale="ko", consent_note=consent)
        cards.set_pin(session, resident, RESIDENT_PIN, coordinator)
    return resident


def _resident_need(session: Session, members: dict[str, Member], resident: Member, policy: Policy,
                   now: datetime) -> None:
    """The coordinator posts the resident's need for her; a vetted carer offers, and the
    coordinator accepts for her: the visit is then confirmed with her card and PIN."""
    coordinator, carer = members[COORDINATOR], members[RESIDENT_CARER]
    title, text, minutes = RESIDENT_NEED
    posted = _at(now, (2, 10, 20))
    with _when(session, posted):
        need = on_behalf.post_for(session, coordinator, resident, policy=policy, kind="need",
                                  category="errands", title=title, description=text, minutes=minutes,
                                  now=posted)
    with _when(session, _at(now, (2, 13, 45))):
        exchange = exchanges.respond(session, carer, need.id, "수요일 오전에 같이 가요.")
    with _when(session, _at(now, (1, 9, 30))):
        on_behalf.accept_for(session, coordinator, resident, exchange.id)


def _register(session: Session, members: dict[str, Member], resident: Member, now: datetime) -> None:
    """The centre set each of its members' class in the co-op's register (부암동's centre has
    not yet: their class shows as not set); three hold board seats."""
    coordinator = members[COORDINATOR]
    with _when(session, _at(now, (JOINED_DAYS_AGO - 3, 16, 0))):
        for key, member_class in CLASSES.items():
            if members[key].centre_id == coordinator.centre_id:
                register.set_entry(session, coordinator, members[key].id, member_class=member_class)
        register.set_entry(session, coordinator, resident.id, member_class=MemberClass.CARE_RECEIVER)
        for key in BOARD:
            voice.add_seat(session, coordinator, members[key].id, "board", utcnow().date())


def _co_op(session: Session, members: dict[str, Member], now: datetime) -> None:
    """The co-op between meetings: a closed advisory poll with its outcome, a ballot open now,
    and the general assembly called for next month."""
    author, title, text, options, opened, closed, votes, outcome = CLOSED_POLL
    with _when(session, _at(now, (opened, 10, 0))):
        poll = proposals.create_proposal(
            session, members[author], title=title, body=text, options=list(options),
            closes_at=_at(now, (closed, 18, 0)), secret=False, kind=ProposalKind.ADVISORY,
            tally=Tally.ONE_MEMBER_ONE_VOTE)
    _vote(session, members, poll, votes, now, opened - 1)
    with _when(session, _at(now, (closed - 1, 10, 30))):
        proposals.record_outcome(session, members[COORDINATOR], poll.id, outcome)
    author, title, text, opened, closing, votes = OPEN_BALLOT
    with _when(session, _at(now, (opened, 9, 50))):
        ballot = proposals.create_proposal(
            session, members[author], title=title, body=text, options=None,
            closes_at=now + timedelta(days=closing), secret=False, kind=ProposalKind.MEMBER)
    _vote(session, members, ballot, votes, now, opened - 1)
    title, days_ahead, place, agenda = ASSEMBLY
    with _when(session, _at(now, (1, 11, 0))):
        assemblies.call_assembly(session, members[COORDINATOR], title=title,
                                 held_at=_at(now, (0, 14, 0)) + timedelta(days=days_ahead),
                                 place=place, agenda=agenda)


def _vote(session, members, proposal, votes, now, days_ago: int) -> None:
    for n, (key, position) in enumerate(votes):
        with _when(session, _at(now, (days_ago, 9 + n, 15))):
            proposals.cast_vote(session, members[key], proposal.id, proposal.options[position].id)


def _create_members(session: Session, now: datetime) -> dict[str, Member]:
    """The neighbours joined over a few days, the coordinator first."""
    members = {}
    order = sorted(MEMBERS, key=lambda key: key != COORDINATOR)
    for n, key in enumerate(order):
        name, neighbourhood, locale, languages, offers = MEMBERS[key]
        with _when(session, _at(now, (JOINED_DAYS_AGO - n // 3, 10 + (n * 3) % 10, (n * 17) % 60))):
            members[key] = create_member(
                session, name=name, email=f"{key}@{EMAIL_DOMAIN}", password=PASSWORD,
                neighbourhood=neighbourhood, locale=locale, languages=languages, offers_text=offers,
                role=Role.COORDINATOR if key == COORDINATOR else Role.MEMBER,
            )
    return {key: members[key] for key in MEMBERS}


def _create_posts(session: Session, members: dict[str, Member], policy: Policy,
                  now: datetime) -> dict[str, Post]:
    created = {}
    # Oldest first, so ids follow the dates as they do in real use.
    for key, (author, kind, category, title, text, minutes, age, window) in sorted(
            POSTS.items(), key=lambda item: -item[1][6]):
        starts_at, ends_at = _window(now, window)
        posted = _at(now, (age, *POST_HOURS[len(created) % len(POST_HOURS)]))
        with _when(session, posted):
            created[key] = posts.create_post(
                session, members[author], kind=kind, category=category, title=title,
                description=text, minutes=minutes, starts_at=starts_at, ends_at=ends_at,
                policy=policy, now=posted,
            )
    return created


def _window(now: datetime, window: tuple[int, int, int] | None) -> tuple[datetime | None, ...]:
    """A window `days` ahead starting at a whole hour of Seoul time, stored in UTC."""
    if window is None:
        return None, None
    days, hour, hours = window
    local_day = (now.astimezone(KST) + timedelta(days=days)).date()
    start = datetime(local_day.year, local_day.month, local_day.day, hour, tzinfo=KST)
    return start.astimezone(UTC), (start + timedelta(hours=hours)).astimezone(UTC)


def _agree(session: Session, members: dict[str, Member], created: dict[str, Post],
           now: datetime) -> dict[str, Exchange]:
    """Responses to posts, a few hours after each was posted; the post's owner accepts those in
    ACCEPTED that evening."""
    agreed = {}
    for key, responder, message in ACCEPTED + PROPOSED:
        post = created[key]
        answered = _awake(post.created_at + timedelta(hours=2, minutes=25), now)
        with _when(session, answered):
            exchange = exchanges.respond(session, members[responder], post.id, message)
        if (key, responder, message) in ACCEPTED:
            with _when(session, _awake(answered + timedelta(hours=3, minutes=10), now)):
                exchanges.accept(session, post.member, exchange.id)
        agreed[key] = exchange
    return agreed


def _history(session: Session, members: dict[str, Member], agreed: dict[str, Exchange],
             policy: Policy, now: datetime) -> None:
    """Visits, messages, gifts, donations and grants, each written at its moment, in the order
    they happened (the ledger's ids then follow its dates, as in real use)."""
    events = [*_visits(session, members, agreed, policy, now), *_messages(session, members, agreed, now),
              *_moves(session, members, policy, now)]
    for moment, write in sorted(events, key=lambda event: event[0]):
        with _when(session, moment):
            write(moment)


def _visits(session, members, agreed, policy, now) -> list[tuple[datetime, Callable]]:
    """Each visit as it happens in real use: one party makes a code at the end of the visit,
    the other redeems it a minute and a half later."""
    def confirm(key: str, shown_by: str, minutes: int):
        def write(moment: datetime) -> None:
            exchange = agreed[key]
            _code, token = confirmations.make_code(session, members[shown_by], exchange.id, minutes,
                                                   policy, now=moment)
            redeemer = session.get(Member, exchange.other_party_id(members[shown_by]))
            redeemed = moment + timedelta(minutes=1, seconds=30)
            with clock_at(redeemed):
                confirmations.redeem(session, redeemer, token, policy, now=redeemed)
        return write

    found = [(_at(now, when), confirm(key, shown_by, minutes)) for key, shown_by, minutes, when in VISITS]
    key, showers, minutes, weeks, (hour, minute) = WEEKLY_CHAT
    last_thursday = (now.astimezone(KST).weekday() - 3) % 7 or 7  # days back to the last one before today
    for n, weeks_ago in enumerate(weeks):
        moment = _at(now, (last_thursday + 7 * (weeks_ago - 1), hour, minute))
        found.append((moment, confirm(key, showers[n % len(showers)], minutes)))
    return found


def _messages(session, members, agreed, now) -> list[tuple[datetime, Callable]]:
    return [(_at(now, when), lambda _moment, key=key, author=author, text=text: messages.write(
                session, members[author], agreed[key].id, text))
            for key, author, text, when in MESSAGES]


def _moves(session, members, policy, now) -> list[tuple[datetime, Callable]]:
    """Gifts, donations and grants (grants spend what was donated before them)."""
    moves = [(when, lambda _m, s=s, r=r, m=m, memo=memo: ledger.gift(
                session, members[s], members[r].id, m, memo, policy)) for s, r, m, memo, when in GIFTS]
    moves += [(when, lambda _m, d=d, m=m, memo=memo: ledger.donate_to_pool(
                session, members[d], m, memo, policy)) for d, m, memo, when in DONATIONS]
    moves += [(when, lambda _m, r=r, m=m, memo=memo, need=need: pool.grant(
                session, members[COORDINATOR], members[r].id, m, memo, need, policy))
              for r, m, memo, need, when in GRANTS]
    return [(_at(now, when), write) for when, write in moves]


def _summary(session: Session, members: dict[str, Member]) -> str:
    def count(model) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(model))

    logins = [f"  {m.email:<26} {m.name} ({m.neighbourhood}, {m.balance_minutes:+d} min)"
              + (f": {HINTS[key]}" if key in HINTS else "")
              for key, m in members.items()]
    return "\n".join([
        f"Demo neighbourhood ready: {count(Member)} members, {count(Post)} posts, "
        f"{count(Exchange)} exchanges, {count(Transaction)} transactions.",
        f"Every demo login uses the password: {PASSWORD}",
        f"{RESIDENT[0]} has no login: print her card in the console; her PIN is {RESIDENT_PIN}.",
        "Logins to try:",
        *logins,
    ])
