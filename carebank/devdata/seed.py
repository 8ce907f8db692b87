"""A believable city at scale, for benchmarks: `flask --app app seed --members 10000 ...`.

The demo goes through the services; a million transactions that way would take hours. Here
the rows are generated in Python and bulk-inserted with explicit ids (executemany on SQLite,
COPY on PostgreSQL) in one database transaction. The generator keeps the rules the services
keep: postings that balance, no debit below the floor, a pool that never goes below zero,
reversals that mirror a visit, seals chained from the genesis hash, cached balances and visit
totals that match the postings. `flask --app app ledger verify` proves it afterwards.

Post titles, memos and profiles are data members would have written, so they are not
translated: Korean for Korean speakers, English for English speakers.
"""
from __future__ import annotations

import importlib
import itertools
import random
import re
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from carebank.core.policy import Policy
from carebank.devdata import DEFAULT_PASSWORD, EMAIL_DOMAIN, MINIMUM_MEMBERS  # noqa: F401  (the seed's own settings)
from carebank.ledger.models import LedgerSeal
from carebank.ledger.services import GENESIS_HASH, seal_hash
from carebank.members.models import Member
from carebank.posts.categories import CATEGORIES

MEMBERS_PER_CENTRE = 1000

# Time as integer microseconds since the Unix epoch (UTC): cheap to add and compare.
SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR
KST_OFFSET = 9 * HOUR  # Korea keeps no daylight saving time
HISTORY_DAYS = 730
ACTIVE_FROM_HOUR, ACTIVE_HOURS = 8, 13  # visits and transfers happen 08:00-21:00 in Seoul
OPEN_POST_MAX_AGE_DAYS = 29  # posts live 30 days: all of these are still open
EPOCH = datetime(1970, 1, 1)  # naive: SQLite stores UTC text without a zone

# The membership grows: 30% were there when the history starts, the rest join steadily.
FOUNDING_SHARE = 0.3
# A member takes part in exchanges from two weeks after joining (their post came first).
SETTLING_IN = 14 * DAY

# Shares of transaction kinds; whatever is left over is gifts.
VISIT_SHARE, GIFT_SHARE, DONATION_SHARE, GRANT_SHARE, REVERSAL_SHARE = 0.85, 0.06, 0.03, 0.03, 0.01
CATEGORY_LIST = list(CATEGORIES)
VISITS_PER_EXCHANGE = (5, 15)
VISIT_MINUTES = tuple(range(30, 241, 15))
GIFT_MINUTES = (30, 60, 60, 90, 120, 180)
DONATION_MINUTES = (30, 60, 90, 120, 180)
GRANT_MINUTES = (60, 90, 120, 180, 240)
RECENT_VISITS = 1000  # reversals correct one of the latest visits
CHUNK = 50_000  # transactions generated and written at a time

RESIDENT_SHARE = 0.05  # registered by a coordinator: no email, no password, a card
ENGLISH_SHARE = 0.08
CARER_SHARE = 0.4  # of members with a login: those who mostly give
VETTED_SHARE = 0.5  # of carers
WINDOW_SHARE = 0.3  # of open posts: a time window is given

# Seoul neighbourhoods (dong) by district (gu); each centre serves a few neighbouring ones.
DONGS = (
    ("종로구", "효자동"), ("종로구", "삼청동"), ("종로구", "부암동"), ("종로구", "사직동"),
    ("종로구", "청운동"), ("종로구", "평창동"), ("종로구", "혜화동"), ("종로구", "이화동"),
    ("종로구", "가회동"), ("종로구", "창신동"), ("종로구", "숭인동"), ("종로구", "교남동"),
    ("성북구", "성북동"), ("성북구", "정릉동"), ("성북구", "돈암동"), ("성북구", "안암동"),
    ("성북구", "보문동"), ("성북구", "길음동"), ("성북구", "종암동"), ("성북구", "월곡동"),
    ("마포구", "망원동"), ("마포구", "연남동"), ("마포구", "합정동"), ("마포구", "서교동"),
    ("마포구", "성산동"), ("마포구", "상암동"), ("마포구", "공덕동"), ("마포구", "아현동"),
    ("마포구", "도화동"), ("마포구", "염리동"), ("서대문구", "연희동"), ("서대문구", "홍제동"),
    ("서대문구", "북아현동"), ("서대문구", "남가좌동"), ("서대문구", "북가좌동"),
    ("서대문구", "천연동"), ("은평구", "응암동"), ("은평구", "역촌동"), ("은평구", "불광동"),
    ("은평구", "갈현동"), ("은평구", "구산동"), ("은평구", "녹번동"), ("용산구", "후암동"),
    ("용산구", "이태원동"), ("용산구", "한남동"), ("용산구", "효창동"), ("용산구", "청파동"),
    ("용산구", "용문동"),
)
CENTRE_NAMES = ("{dong} 나눔돌봄센터", "{dong} 마을돌봄센터", "{gu} {dong} 이웃돌봄센터")

# Surnames with their rough share in Korea; given names from several generations.
SURNAMES = {
    "김": 21, "이": 15, "박": 8, "최": 5, "정": 4, "강": 2, "조": 2, "윤": 2, "장": 2, "임": 2,
    "한": 1, "오": 1, "서": 1, "신": 1, "권": 1, "황": 1, "안": 1, "송": 1, "류": 1, "전": 1,
    "홍": 1, "고": 1, "문": 1, "양": 1, "손": 1, "배": 1, "백": 1, "허": 1, "남": 1, "노": 1,
}
OLDER_GIVEN_NAMES = (
    "영자", "순자", "정숙", "영숙", "옥순", "말순", "춘자", "복순", "순례", "명숙", "경자", "정자",
    "영수", "영철", "상철", "종수", "광수", "병철", "용호", "정호", "성수", "재철", "만복", "덕순",
)
GIVEN_NAMES = OLDER_GIVEN_NAMES + (
    "미경", "은주", "현정", "지영", "혜진", "정민", "성민", "준호", "민수", "상훈", "동현", "영훈",
    "서연", "하은", "지우", "민준", "서준", "도윤", "지호", "예린", "수빈", "지훈", "유진", "현우",
    "미숙", "경희", "수진", "은영", "진호", "태호", "승민", "재원", "소영", "윤서", "다은", "시우",
)
ENGLISH_GIVEN_NAMES = (
    "Margaret", "James", "Sarah", "Daniel", "Emily", "Michael", "Olivia", "David", "Grace",
    "Thomas", "Hannah", "Peter", "Laura", "John", "Chloe", "Andrew", "Rachel", "Ben", "Sophie",
)
ENGLISH_SURNAMES = (
    "Lee", "Kim", "Park", "Smith", "O'Neill", "Brown", "Wilson", "Taylor", "Choi", "Martin",
    "Walker", "Hughes", "Evans", "Clarke", "Murphy",
)
LANGUAGES = {"ko": ("한국어", "한국어", "한국어", "한국어, English", "한국어, 中文"),
             "en": ("English", "English, 한국어", "English, 한국어 조금")}
CONSENT_NOTES = ("방문 상담 때 종이 동의서에 서명하심", "자녀가 함께한 자리에서 동의서 작성",
                 "주민센터 상담 창구에서 서면 동의")

# Per category: typical minutes, and titles with descriptions by kind and language. A need
# and an offer of one category share words, as real ones do (matching compares the words).
POST_TEMPLATES = {
    "companionship": ((60, 90, 120), {
        ("need", "ko"): (("말벗이 되어 주실 분 찾아요", "혼자 지내서 이야기 나눌 사람이 그리워요. 차 한잔 같이 해요."),
                         ("주말 오후 산책 같이 해요", "무릎이 안 좋아 천천히 걸어요. 동네 한 바퀴 같이 걸어 주실 분.")),
        ("need", "en"): (("Someone to chat with over tea", "I live alone and would love a weekly visit and a chat."),),
        ("offer", "ko"): (("어르신 말벗 해드려요", "평일 오후에 찾아가서 이야기 나누고 차 한잔 해요."),
                          ("같이 산책해요", "동네 산책길을 천천히 같이 걸어요. 말벗도 해드려요.")),
        ("offer", "en"): (("Tea and a chat, once a week", "I can visit for tea and a chat in English or simple Korean."),),
    }),
    "meals": ((45, 60, 90), {
        ("need", "ko"): (("반찬 좀 나눠 주실 분", "요즘 장을 못 봐서 밑반찬이 필요해요."),
                         ("죽 좀 부탁드려요", "감기에 걸려서 며칠 흰죽이나 전복죽이 필요해요.")),
        ("need", "en"): (("Home-cooked meals for a few days", "Just out of hospital; a few simple meals would help."),),
        ("offer", "ko"): (("나물 반찬 나눠드려요", "시금치, 고사리, 도라지 나물을 넉넉히 했어요."),
                          ("죽 끓여 드려요", "아프신 분께 흰죽, 전복죽 끓여서 가져다 드려요.")),
        ("offer", "en"): (("Soup and simple meals", "I cook too much soup every week; happy to share meals."),),
    }),
    "errands": ((45, 60, 90), {
        ("need", "ko"): (("시장 장보기 도와주세요", "무거운 장바구니를 들어 주실 분을 찾아요."),
                         ("약국 다녀와 주실 분", "처방전 약을 대신 받아다 주세요.")),
        ("need", "en"): (("Help with the weekly shopping", "The bags are too heavy for me; someone to come to the market."),),
        ("offer", "ko"): (("장보기 대신 해드려요", "목록만 주시면 시장에서 장 봐서 집 앞까지 가져다 드려요."),
                          ("약국 심부름 해드려요", "약국, 우체국 심부름 대신 다녀와요.")),
        ("offer", "en"): (("Shopping and errands", "Give me your list; I bring the shopping to your door."),),
    }),
    "escort": ((90, 120, 180), {
        ("need", "ko"): (("병원 가는 길 동행해 주세요", "정기검진이에요. 지하철 계단이 힘들어서 같이 가 주실 분."),
                         ("복지관까지 같이 가 주세요", "길이 낯설어서 복지관 가는 길에 동행이 필요해요.")),
        ("need", "en"): (("Someone to come to the hospital with me", "A check-up at the hospital; I would rather not go alone."),),
        ("offer", "ko"): (("병원 동행 해드려요", "병원 접수부터 약 받는 것까지 같이 다녀요."),
                          ("차로 병원 모셔다 드려요", "차가 있어요. 병원이나 복지관까지 모셔다 드려요.")),
        ("offer", "en"): (("Company to hospital appointments", "I can go with you to the hospital and help at reception."),),
    }),
    "housework": ((60, 90, 120), {
        ("need", "ko"): (("겨울 이불 빨래 도와주세요", "이불이 무거워서 혼자 못 옮겨요. 빨래방까지 같이 가 주세요."),
                         ("대청소 도와주실 분", "높은 선반이랑 창문 청소가 힘들어요.")),
        ("need", "en"): (("Help with a big clean", "Windows and high shelves are beyond me now."),),
        ("offer", "ko"): (("청소 도와드려요", "창문, 높은 선반, 가구 옮기기 도와드려요."),
                          ("이불 빨래 같이 해요", "무거운 이불 빨래방까지 날라 드려요.")),
        ("offer", "en"): (("Cleaning help on Sundays", "Windows, high shelves, moving furniture: I have a free Sunday."),),
    }),
    "repairs": ((45, 60, 90), {
        ("need", "ko"): (("부엌 수도꼭지가 새요", "밤새 물이 떨어져요. 공구는 집에 있어요."),
                         ("형광등 갈아 주실 분", "천장이 높아서 혼자 못 갈아요.")),
        ("need", "en"): (("A dripping tap to fix", "The kitchen tap drips all night; I have the tools."),),
        ("offer", "ko"): (("집 안 간단한 수리 해드려요", "수도꼭지, 형광등, 문고리 고쳐 드려요. 공구는 제가 가져가요."),
                          ("자전거 고쳐 드려요", "펑크, 브레이크, 체인 손봐 드려요.")),
        ("offer", "en"): (("Small repairs around the house", "Shelves, door handles, dripping taps. I bring my own tools."),),
    }),
    "gardening": ((60, 90), {
        ("need", "ko"): (("텃밭 정리 도와주세요", "허리가 아파서 텃밭 풀 뽑기가 힘들어요."),
                         ("화분 분갈이 도와주실 분", "베란다 화분이 많아서 분갈이를 못 하고 있어요.")),
        ("need", "en"): (("Help in the garden", "Weeding and planting; my back will not let me do it all."),),
        ("offer", "ko"): (("텃밭 가꾸는 법 알려드려요", "상추, 고추, 방울토마토 심을 때예요. 화분도 괜찮아요."),
                          ("화분 분갈이 해드려요", "베란다 화분 분갈이와 물주기 요령 알려드려요.")),
        ("offer", "en"): (("Gardening help", "Weeding, planting and pots on the balcony."),),
    }),
    "childcare": ((120, 180, 240), {
        ("need", "ko"): (("토요일 오전 아이 돌봐주실 분", "병원 진료가 있어서 세 시간만 부탁드려요."),
                         ("어린이집 하원 도와주세요", "퇴근이 늦는 날 아이를 데려와 주실 분.")),
        ("need", "en"): (("Someone to mind the children on Saturday", "Two children, 5 and 7, for a morning."),),
        ("offer", "ko"): (("방과 후 아이 돌봄", "학교에서 데려와서 부모님 오실 때까지 같이 있어요."),
                          ("주말 아이 돌봐 드려요", "놀이터, 도서관에 같이 가요. 아이 둘 키웠어요.")),
        ("offer", "en"): (("After-school childcare", "I pick the children up and stay until you are home."),),
    }),
    "tech_help": ((30, 45, 60), {
        ("need", "ko"): (("스마트폰 사용법 알려주세요", "영상통화랑 카카오톡 사진 보내기를 배우고 싶어요."),
                         ("키오스크 주문이 어려워요", "식당 키오스크 쓰는 법을 같이 연습해 주세요.")),
        ("need", "en"): (("Help setting up my phone", "A new phone and I cannot move my photos and contacts."),),
        ("offer", "ko"): (("스마트폰 사용법 알려드려요", "영상통화, 카카오톡, 사진 보내기 천천히 알려드려요."),
                          ("키오스크 연습 같이 해요", "식당, 병원 키오스크 쓰는 법 같이 연습해요.")),
        ("offer", "en"): (("Phone and computer help", "Video calls, messages, photos: slowly and patiently."),),
    }),
    "learning": ((60, 90), {
        ("need", "ko"): (("한글 공부 도와주실 분", "늦게라도 글을 제대로 읽고 쓰고 싶어요."),
                         ("아이 수학 숙제 봐 주실 분", "초등학생 수학 숙제를 봐 줄 사람이 필요해요.")),
        ("need", "en"): (("Korean conversation practice", "I can read Hangul but freeze when I speak."),),
        ("offer", "ko"): (("초등학생 수학 숙제 도와줘요", "교대생이에요. 평일 저녁에 한 시간씩 가능해요."),
                          ("한글 공부 같이 해요", "어르신 한글 공부, 천천히 같이 읽고 써요.")),
        ("offer", "en"): (("English conversation for beginners", "Relaxed practice over coffee; complete beginners welcome."),),
    }),
    "paperwork": ((45, 60, 90), {
        ("need", "ko"): (("주민센터 서류 작성 도와주세요", "기초연금 신청 서류가 너무 복잡해요."),
                         ("우편물 읽어 주실 분", "구청에서 온 편지를 잘 모르겠어요.")),
        ("need", "en"): (("Help reading letters from the district office", "Letters about health insurance I cannot quite follow."),),
        ("offer", "ko"): (("서류 작성 도와드려요", "주민센터, 구청 서류 같이 읽고 작성해 드려요."),
                          ("영문 서류 번역 도와드려요", "영어로 된 편지나 서류를 읽어 드려요.")),
        ("offer", "en"): (("Help with forms and letters", "Visa, bank and insurance paperwork, in English or Korean."),),
    }),
}
RESPONSES = {"ko": ("제가 도와드릴게요.", "이번 주에 시간 돼요. 연락 주세요.", "저도 근처 살아요. 같이 해요!"),
             "en": ("Happy to help!", "I can come this week.", "I live nearby; let's do it.")}
GIFT_MEMOS = {"ko": ("고마워요, 건강하세요", "지난번 반찬 정말 맛있었어요", "이웃사랑 나눠요", ""),
              "en": ("Thank you for the soup!", "For a neighbour", "")}
DONATION_MEMOS = {"ko": ("형편이 어려운 이웃을 위해", "동네를 위해", ""),
                  "en": ("For neighbours who cannot give back", "")}
GRANT_REASONS = {"ko": ("퇴원 후 돌봄이 더 필요하셔서 센터에서 지원", "혼자 지내시는 어르신 겨울철 돌봄 지원",
                        "새로 오신 주민 환영 시간"),
                 "en": ("Extra help after a hospital stay", "Winter support for a neighbour living alone")}
REVERSAL_REASONS = {"ko": ("같은 방문이 두 번 확인되어 정정", "방문 시간이 잘못 입력되어 바로잡음"),
                    "en": ("Visit confirmed twice by mistake", "The visit did not happen; corrected after a call")}

# Column lists of the bulk inserts, in the order of the generated rows.
COLUMNS = {
    "centres": ("id", "name", "address", "phone", "created_at"),
    "neighbourhoods": ("centre_id", "name", "district", "created_at"),
    "members": ("id", "email", "password_hash", "name", "neighbourhood", "languages", "offers_text",
                "phone", "locale", "timezone", "role", "created_at", "centre_id", "registered_by_id",
                "consent_at", "consent_note", "pin_hash", "vetting", "vetted_at", "vetted_by_id",
                "deactivated_at"),
    "accounts": ("id", "kind", "member_id", "balance_minutes", "given_minutes", "received_minutes"),
    "posts": ("id", "member_id", "kind", "category", "title", "description", "minutes",
              "neighbourhood", "starts_at", "ends_at", "status", "created_at", "expires_at",
              "created_by_id"),
    "exchanges": ("id", "post_id", "provider_id", "receiver_id", "responder_id", "message",
                  "status", "created_at", "decided_at"),
    "ledger_transactions": ("id", "kind", "exchange_id", "reverses_id", "created_by_id", "memo",
                            "created_at"),
    "postings": ("id", "transaction_id", "account_id", "minutes"),
    "ledger_seals": ("transaction_id", "prev_hash", "hash"),
    "audit_log": ("id", "actor_id", "member_id", "centre_id", "action", "reason", "post_id",
                  "exchange_id", "transaction_id", "created_at"),
}
# Tables written in bulk once the members are in.
LOADED_TABLES = ("posts", "exchanges", "ledger_transactions", "postings", "ledger_seals", "audit_log")
# The seal guards of migration 0004 that fire on every inserted row.
_INSERT_TRIGGER = re.compile(r"CREATE (?:CONSTRAINT )?TRIGGER (\w+) (?:BEFORE|AFTER) INSERT ON (\w+)")


class CityNotEmpty(Exception):
    """The seed fills an empty database only; it never mixes with real members."""


@dataclass(frozen=True)
class CitySize:
    members: int
    posts: int
    transactions: int


@dataclass(slots=True, eq=False)
class Person:
    """A member as the generator needs them."""

    id: int
    account_id: int
    centre: CentrePlan
    name: str
    locale: str
    neighbourhood: str
    joined: int
    role: str = "member"
    has_login: bool = True
    carer: bool = False


@dataclass(eq=False)
class CentrePlan:
    id: int
    name: str
    gu: str
    neighbourhoods: list[str]
    districts: list[str]  # the 구 of each neighbourhood, in the same order
    people: list[Person] = field(default_factory=list)  # in the order they joined
    joins: list[int] = field(default_factory=list)
    coordinators: list[Person] = field(default_factory=list)


@dataclass
class City:
    centres: list[CentrePlan]
    people: list[Person]  # in the order they joined
    joins: list[int]
    admin: Person


@dataclass(slots=True, eq=False)
class LiveExchange:
    id: int
    provider: Person
    receiver: Person
    title: str
    minutes: int
    visits_left: int
    post_id: int
    slot: int = 0  # its place in History.live, for removal in constant time


@dataclass
class Ids:
    """The next free id of each table, so a seed never collides with rows already there."""

    centre: int
    member: int
    account: int
    post: int
    exchange: int
    transaction: int
    posting: int
    audit: int


@dataclass
class Chunk:
    """Rows for one bulk write, in the order their foreign keys need."""

    posts: list = field(default_factory=list)
    exchanges: list = field(default_factory=list)
    transactions: list = field(default_factory=list)
    postings: list = field(default_factory=list)
    seals: list = field(default_factory=list)
    audit: list = field(default_factory=list)


def instant(us: int) -> str:
    """A time as the database keeps it: UTC text with microseconds (PostgreSQL reads it in
    UTC, the zone of the seed's session)."""
    return (EPOCH + timedelta(microseconds=us)).isoformat(" ", "microseconds")


def kst_midnight(us: int) -> int:
    return (us + KST_OFFSET) // DAY * DAY - KST_OFFSET


# ---- the people -----------------------------------------------------------------------------


def plan_city(rng: random.Random, size: CitySize, ids: Ids, history_start: int) -> City:
    """Centres, each serving a few neighbourhoods, and members who join over time: founding
    members during the year before the history starts, the rest steadily through it."""
    centres = _plan_centres(rng, max(2, round(size.members / MEMBERS_PER_CENTRE)), ids)
    joins = _join_times(rng, size.members, history_start)
    people = []
    surnames, weights = list(SURNAMES), list(SURNAMES.values())
    for index in range(size.members):
        centre = _centre_of(rng, index, centres)
        english = index > len(centres) * 2 and rng.random() < ENGLISH_SHARE
        if english:
            name = f"{rng.choice(ENGLISH_GIVEN_NAMES)} {rng.choice(ENGLISH_SURNAMES)}"
        else:
            name = rng.choices(surnames, weights)[0] + rng.choice(GIVEN_NAMES)
        person = Person(id=ids.member + index, account_id=ids.account + index, centre=centre, name=name, locale="en" if english else "ko",
                        neighbourhood=rng.choice(centre.neighbourhoods), joined=joins[index])
        people.append(person)
        centre.people.append(person)
        centre.joins.append(person.joined)
    admin = people[0]
    admin.role = "admin"
    _appoint_coordinators(rng, centres, admin)
    for person in people:
        if person.role != "member":
            person.carer = True
        elif rng.random() < RESIDENT_SHARE:
            person.has_login = False
            person.locale = "ko"
            person.name = rng.choices(surnames, weights)[0] + rng.choice(OLDER_GIVEN_NAMES)
        else:
            person.carer = rng.random() < CARER_SHARE
    return City(centres=centres, people=people, joins=joins, admin=admin)


def _plan_centres(rng: random.Random, count: int, ids: Ids) -> list[CentrePlan]:
    """Neighbouring dongs in groups of two to four; past the list, numbered dongs (망원2동)."""
    centres, position, round_ = [], 0, 0
    for index in range(count):
        served = []
        for _ in range(rng.randint(2, 4)):
            if position == len(DONGS):
                position, round_ = 0, round_ + 1
            gu, dong = DONGS[position]
            served.append((gu, dong if round_ == 0 else f"{dong[:-1]}{round_ + 1}동"))
            position += 1
        gu, first = served[0]
        name = rng.choice(CENTRE_NAMES).format(gu=gu, dong=first)
        centres.append(CentrePlan(id=ids.centre + index, name=name, gu=gu,
                                  neighbourhoods=[dong for _, dong in served],
                                  districts=[gu for gu, _ in served]))
    return centres


def _join_times(rng: random.Random, count: int, history_start: int) -> list[int]:
    founding = max(1, int(count * FOUNDING_SHARE))
    before = sorted(history_start - rng.randrange(365 * DAY) for _ in range(founding))
    span = (HISTORY_DAYS - 1) * DAY  # the last ones joined by yesterday
    after = sorted(history_start + (index - founding) * span // max(1, count - founding) + rng.randrange(HOUR)
                   for index in range(founding, count))
    return before + after


def _centre_of(rng: random.Random, index: int, centres: list[CentrePlan]) -> CentrePlan:
    # The first members found each centre (the admin, then its coordinators).
    if index < len(centres) * 2 + 1:
        return centres[max(index - 1, 0) % len(centres)]
    return rng.choice(centres)


def _appoint_coordinators(rng: random.Random, centres: list[CentrePlan], admin: Person) -> None:
    """One or two coordinators per centre: its earliest members (so they were there to
    register residents and vet carers)."""
    for centre in centres:
        staff = [p for p in centre.people[:3] if p is not admin]
        for person in staff[: rng.randint(1, 2)]:
            person.role = "coordinator"
            centre.coordinators.append(person)


def centre_rows(rng: random.Random, city: City, history_start: int) -> list[tuple]:
    return [
        (c.id, c.name, f"서울특별시 {c.gu} {c.neighbourhoods[0]} {rng.randint(1, 300)}-{rng.randint(1, 30)}",
         f"02-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", instant(history_start - 400 * DAY))
        for c in city.centres
    ]


def neighbourhood_rows(city: City, history_start: int) -> list[tuple]:
    """Each centre's list: the 행정동 it serves, with their 구."""
    return [(c.id, dong, gu, instant(history_start - 400 * DAY))
            for c in city.centres for gu, dong in zip(c.districts, c.neighbourhoods, strict=True)]


def member_rows(rng: random.Random, city: City, password_hash: str, now: int) -> Iterator[tuple]:
    for number, person in enumerate(city.people, start=1):
        centre = person.centre
        registrar = centre.coordinators[0]
        resident = not person.has_login
        vetted = (person.carer and person.role == "member" and person.joined + 8 * DAY < now
                  and rng.random() < VETTED_SHARE)
        vetted_at = min(person.joined + rng.randint(7, 60) * DAY, now - DAY) if vetted else None
        yield (
            person.id,
            None if resident else f"m{number:05d}@{EMAIL_DOMAIN}",
            None if resident else password_hash,
            person.name,
            person.neighbourhood,
            rng.choice(LANGUAGES[person.locale]),
            _offers_text(rng, person),
            _phone(rng, resident),
            person.locale,
            None,
            person.role,
            instant(person.joined),
            centre.id,
            registrar.id if resident else None,
            instant(person.joined) if resident else None,
            consent_note(person) if resident else "",
            None,
            "verified" if vetted else "unverified",
            instant(vetted_at) if vetted else None,
            registrar.id if vetted else None,
            None,
        )


def consent_note(resident: Person) -> str:
    return CONSENT_NOTES[resident.id % len(CONSENT_NOTES)]


def _offers_text(rng: random.Random, person: Person) -> str:
    if not person.carer and rng.random() < 0.6:
        return ""
    categories = rng.sample(list(POST_TEMPLATES), 2)
    return ", ".join(_template(rng, c, "offer", person.locale)[0] for c in categories)


def _phone(rng: random.Random, resident: bool) -> str | None:
    if resident:
        return f"02-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}" if rng.random() < 0.6 else None
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None


def account_rows(city: City) -> Iterator[tuple]:
    # Balances and visit totals are set once the ledger is written (see finish_accounts).
    return ((p.account_id, "member", p.id, 0, 0, 0) for p in city.people)


def _template(rng: random.Random, category: str, kind: str, locale: str) -> tuple[str, str]:
    return rng.choice(POST_TEMPLATES[category][1][(kind, locale)])


# ---- the ledger -----------------------------------------------------------------------------


def transaction_times(rng: random.Random, count: int, history_start: int) -> Iterator[int]:
    """`count` strictly increasing instants over the history, in Seoul's waking hours, busier
    as the membership grows."""
    active_day = ACTIVE_HOURS * HOUR
    active_total = HISTORY_DAYS * active_day
    mean_gap = 0.99 / max(count, 1)  # a little slack, so the random walk ends inside the history
    position, previous = 0.0, 0
    for _ in range(count):
        position += rng.expovariate(1.0) * mean_gap
        grown = _busier_later(min(position, 1.0))
        day, within = divmod(min(int(grown * active_total), active_total - 1), active_day)
        instant_us = history_start + day * DAY + ACTIVE_FROM_HOUR * HOUR + within
        previous = max(instant_us, previous + 1)
        yield previous


def _busier_later(share: float) -> float:
    """How far through the history (0 to 1) a `share` of all transactions has happened, when
    activity grows with the membership from FOUNDING_SHARE to all: the inverse of the
    cumulative distribution."""
    a, b = (1 - FOUNDING_SHARE) / 2, FOUNDING_SHARE
    return (-b + (b * b + 4 * a * share * (a + b)) ** 0.5) / (2 * a)


class History:
    """Two years of a time bank, one transaction at a time, with every balance tracked so no
    debit passes the floor and no grant empties the pool."""

    def __init__(self, rng: random.Random, city: City, ids: Ids, *, pool_account_id: int,
                 pool_balance: int, prev_hash: str, visits_expected: int, policy: Policy) -> None:
        self.rng, self.city, self.ids = rng, city, ids
        self.pool_account_id, self.pool = pool_account_id, pool_balance
        self.prev_hash = prev_hash
        self.floor = policy.min_balance_minutes
        size = max(pool_account_id, *(p.account_id for p in city.people)) + 1
        self.balance, self.given, self.received = [0] * size, [0] * size, [0] * size
        # About one visit a week per exchange over the two years.
        self.live_target = max(2, round(visits_expected / (HISTORY_DAYS / 7)))
        self.live: list[LiveExchange] = []
        self.recent_visits: deque = deque(maxlen=RECENT_VISITS)
        self.reversed: set[int] = set()
        self.counts = dict.fromkeys(("visit", "gift", "donation", "grant", "reversal"), 0)
        self.exchange_count = 0
        self.pending_registrations = deque(p for p in city.people if not p.has_login)
        self.chunk = Chunk()

    # -- the loop --

    def run(self, times: Iterable[int]) -> Iterator[Chunk]:
        """One transaction per instant; a chunk of rows every CHUNK transactions."""
        rng = self.rng
        shares = (VISIT_SHARE, GIFT_SHARE, DONATION_SHARE, GRANT_SHARE, REVERSAL_SHARE)
        limits = list(itertools.accumulate(shares))
        makers = (self.visit, self.gift, self.donation, self.grant, self.reversal, self.gift)
        for count, now in enumerate(times, start=1):
            self._register_residents(now)
            makers[bisect_right(limits, rng.random())](now)
            if count % CHUNK == 0:
                yield self._take_chunk()
        self._register_residents(None)
        yield self._take_chunk()

    def _take_chunk(self) -> Chunk:
        chunk, self.chunk = self.chunk, Chunk()
        return chunk

    def _record(self, now: int, kind: str, postings: list[tuple[int, int]], *, created_by: Person,
                exchange_id: int | None = None, reverses_id: int | None = None, memo: str = "") -> int:
        """Write one transaction, its postings and its seal, and move the tracked balances."""
        tid = self.ids.transaction
        self.ids.transaction += 1
        created_at = instant(now)
        fields = (tid, kind, exchange_id, reverses_id, created_by.id, memo, created_at)
        self.chunk.transactions.append(fields)
        for account_id, minutes in postings:
            self.chunk.postings.append((self.ids.posting, tid, account_id, minutes))
            self.ids.posting += 1
            self.balance[account_id] += minutes
        hash_ = seal_hash(self.prev_hash, fields, postings)
        self.chunk.seals.append((tid, self.prev_hash, hash_))
        self.prev_hash = hash_
        self.counts[kind] += 1
        return tid

    def _audit(self, now: int, actor: Person, action: str, member: Person, reason: str, *,
               transaction_id: int | None = None, exchange_id: int | None = None) -> None:
        centre_id = member.centre.id
        self.chunk.audit.append((self.ids.audit, actor.id, member.id, centre_id, action, reason[:500],
                                 None, exchange_id, transaction_id, instant(now)))
        self.ids.audit += 1

    def _register_residents(self, now: int | None) -> None:
        """Audit entries for residents a coordinator registered, in time with the ledger."""
        pending = self.pending_registrations
        while pending and (now is None or pending[0].joined <= now):
            resident = pending.popleft()
            registrar = resident.centre.coordinators[0]
            self._audit(resident.joined, registrar, "member.register", resident, consent_note(resident))

    # -- picking people --

    def _anyone(self, now: int) -> Person:
        people = self.city.people
        return people[self.rng.randrange(max(1, bisect_right(self.city.joins, now - SETTLING_IN)))]

    def _neighbour(self, centre: CentrePlan, now: int) -> Person:
        known = max(1, bisect_right(centre.joins, now - SETTLING_IN))
        return centre.people[self.rng.randrange(known)]

    def _can_pay(self, person: Person, minutes: int) -> bool:
        return self.balance[person.account_id] - minutes >= self.floor

    def _neediest(self, centre: CentrePlan, now: int, tries: int = 4) -> Person:
        """Of a few neighbours, the one with the least time."""
        candidates = [self._neighbour(centre, now) for _ in range(tries)]
        return min(candidates, key=lambda p: self.balance[p.account_id])

    def _giver(self, now: int, minutes: int, threshold: int) -> Person:
        """Someone with a login and time to spare, else anyone with a login who has the minutes
        (the richest known member, if luck fails): one gives only time one has."""
        for wanted in (threshold, minutes):
            for _ in range(12):
                person = self._anyone(now)
                if person.has_login and self.balance[person.account_id] >= wanted:
                    return person
        known = self.city.people[: max(1, bisect_right(self.city.joins, now - SETTLING_IN))]
        return max((p for p in known if p.has_login), key=lambda p: self.balance[p.account_id])

    def _coordinator_for(self, member: Person, other: Person | None = None) -> Person:
        """A coordinator of the member's centre who is neither the member nor `other` (nobody
        grants to themselves or reverses their own transaction)."""
        staff = [c for c in member.centre.coordinators if c is not member and c is not other]
        return self.rng.choice(staff) if staff else self.city.admin

    # -- the kinds of transaction --

    def visit(self, now: int, *, or_gift: bool = True) -> None:
        """A visit in a live exchange whose receiver can still pay; an exchange whose receiver
        cannot ends there, and a new one starts when fewer than the target are live."""
        rng = self.rng
        for _ in range(4):
            if len(self.live) < self.live_target or not self.live:
                exchange = self._start_exchange(now)
                if exchange is None:
                    break
            else:
                exchange = self.live[rng.randrange(len(self.live))]
            minutes = exchange.minutes if rng.random() < 0.7 else rng.choice(VISIT_MINUTES)
            if not self._can_pay(exchange.receiver, minutes):
                self._end_exchange(exchange)
                continue
            self._visit(now, exchange, minutes)
            return
        self.gift(now, or_visit=or_gift)

    def _visit(self, now: int, exchange: LiveExchange, minutes: int) -> None:
        provider, receiver = exchange.provider, exchange.receiver
        # The receiver redeems the carer's code, or the carer scans a resident's card.
        confirmer = receiver if receiver.has_login and self.rng.random() < 0.5 else provider
        postings = [(receiver.account_id, -minutes), (provider.account_id, minutes)]
        tid = self._record(now, "visit", postings, created_by=confirmer, exchange_id=exchange.id,
                           memo=exchange.title[:200])
        self.given[provider.account_id] += minutes
        self.received[receiver.account_id] += minutes
        self.recent_visits.append((tid, exchange.id, provider, receiver, minutes))
        exchange.visits_left -= 1
        if exchange.visits_left == 0:
            self._end_exchange(exchange)

    def _end_exchange(self, exchange: LiveExchange) -> None:
        last = self.live.pop()
        if last is not exchange:
            self.live[exchange.slot] = last
            last.slot = exchange.slot

    def _start_exchange(self, now: int) -> LiveExchange | None:
        """A post from one neighbour, answered by another of the same centre and accepted,
        days before the first visit. The receiver has time for all the visits planned."""
        rng = self.rng
        category = rng.choice(CATEGORY_LIST)
        minutes = rng.choice(POST_TEMPLATES[category][0])
        visits = rng.randint(*VISITS_PER_EXCHANGE)
        for _ in range(8):
            centre = self._anyone(now).centre
            provider = self._carer(centre, now)
            receiver = self._receiver(centre, now, provider, visits * minutes)
            if provider is not None and receiver is not None:
                return self._open_exchange(now, centre, provider, receiver, category, minutes, visits)
        return None

    def _carer(self, centre: CentrePlan, now: int) -> Person | None:
        """Of two neighbours who give, the one with less time (so time keeps moving)."""
        found = []
        for _ in range(8):
            person = self._neighbour(centre, now)
            if person.has_login and (person.carer or self.rng.random() < 0.3):
                found.append(person)
                if len(found) == 2:
                    break
        return min(found, key=lambda p: self.balance[p.account_id]) if found else None

    def _receiver(self, centre: CentrePlan, now: int, provider: Person | None,
                  minutes: int) -> Person | None:
        """A neighbour with time for `minutes` more, more often one who does not give care."""
        for attempt in range(8):
            person = self._neighbour(centre, now)
            choosy = attempt < 4 and person.carer and self.rng.random() < 0.5
            if person is not provider and not choosy and self._can_pay(person, minutes):
                return person
        return None

    def _open_exchange(self, now: int, centre: CentrePlan, provider: Person, receiver: Person,
                       category: str, minutes: int, visits: int) -> LiveExchange:
        rng = self.rng
        # A resident's need is posted by a coordinator for them; otherwise either side posts.
        need = not receiver.has_login or rng.random() < 0.6
        author, responder = (receiver, provider) if need else (provider, receiver)
        title, description = _template(rng, category, "need" if need else "offer", author.locale)
        posted = now - rng.randint(2 * DAY, 12 * DAY)
        agreed = posted + rng.randint(HOUR, DAY)
        decided = agreed + rng.randint(10 * 60 * SECOND, (now - agreed) // 2)
        post_id, exchange_id = self.ids.post, self.ids.exchange
        self.ids.post += 1
        self.ids.exchange += 1
        posted_by = None if author.has_login else centre.coordinators[0].id
        # 'closed' when its visits are done; posts of exchanges still running become
        # 'matched' at the end (finish_posts).
        self.chunk.posts.append((
            post_id, author.id, "need" if need else "offer", category, title, description, minutes,
            author.neighbourhood, None, None, "closed", instant(posted), instant(posted + 30 * DAY),
            posted_by,
        ))
        self.chunk.exchanges.append((
            exchange_id, post_id, provider.id, receiver.id, responder.id,
            rng.choice(RESPONSES[responder.locale]), "accepted", instant(agreed), instant(decided),
        ))
        exchange = LiveExchange(exchange_id, provider, receiver, title, minutes, visits, post_id,
                                slot=len(self.live))
        self.live.append(exchange)
        self.exchange_count += 1
        return exchange

    def _affordable(self, giver: Person, minutes: int) -> int:
        """`minutes`, or what the giver has in whole quarter hours if that is less."""
        return min(minutes, max(0, self.balance[giver.account_id]) // 15 * 15)

    def gift(self, now: int, *, or_visit: bool = True) -> None:
        """A member gives time to a neighbour who has little (the Sarangori practice)."""
        minutes = self.rng.choice(GIFT_MINUTES)
        sender = self._giver(now, minutes, threshold=minutes)
        if self._affordable(sender, minutes) < 15 and or_visit:
            self.visit(now, or_gift=False)  # nobody has time to give yet: a visit earns some
            return
        # Only when no member of the town has a quarter hour (its very first transactions).
        minutes = self._affordable(sender, minutes) or 15
        recipient = self._neediest(sender.centre, now)
        if recipient is sender:
            recipient = next(p for p in sender.centre.people if p is not sender)
        self._record(now, "gift", [(sender.account_id, -minutes), (recipient.account_id, minutes)],
                     created_by=sender, memo=self.rng.choice(GIFT_MEMOS[sender.locale]))

    def donation(self, now: int) -> None:
        minutes = self.rng.choice(DONATION_MINUTES)
        donor = self._giver(now, minutes, threshold=minutes + 120)
        if self._affordable(donor, minutes) < 15:
            self.gift(now)
            return
        minutes = self._affordable(donor, minutes)
        self._record(now, "donation", [(donor.account_id, -minutes), (self.pool_account_id, minutes)],
                     created_by=donor, memo=self.rng.choice(DONATION_MEMOS[donor.locale]))
        self.pool += minutes

    def grant(self, now: int) -> None:
        """The centre gives pool time to a member who has little, with the reason; while the
        pool is nearly empty, a donation comes first."""
        minutes = min(self.rng.choice(GRANT_MINUTES), self.pool // 15 * 15)
        if minutes < 30:
            self.donation(now)
            return
        recipient = self._neediest(self._anyone(now).centre, now)
        coordinator = self._coordinator_for(recipient)
        reason = self.rng.choice(GRANT_REASONS[coordinator.locale])
        self.pool -= minutes
        tid = self._record(now, "grant", [(self.pool_account_id, -minutes), (recipient.account_id, minutes)],
                           created_by=coordinator, memo=reason)
        self._audit(now, coordinator, "pool.grant", recipient, reason, transaction_id=tid)

    def reversal(self, now: int) -> None:
        """A coordinator undoes one of the latest visits (never twice, never a reversal),
        as long as it leaves the carer above the floor; otherwise a gift instead."""
        rng = self.rng
        for _ in range(5):
            if not self.recent_visits:
                break
            tid, exchange_id, provider, receiver, minutes = self.recent_visits[
                rng.randrange(len(self.recent_visits))]
            if tid in self.reversed or not self._can_pay(provider, minutes):
                continue
            self.reversed.add(tid)
            coordinator = self._coordinator_for(receiver, provider)
            if coordinator in (receiver, provider):
                continue  # the admin was a party: another visit
            reason = rng.choice(REVERSAL_REASONS[coordinator.locale])
            # The original's postings negated, in its order (as ledger.reverse does).
            postings = [(receiver.account_id, minutes), (provider.account_id, -minutes)]
            reversal_id = self._record(now, "reversal", postings, created_by=coordinator,
                                       exchange_id=exchange_id, reverses_id=tid, memo=reason)
            self.given[provider.account_id] -= minutes
            self.received[receiver.account_id] -= minutes
            for member in sorted((provider, receiver), key=lambda p: p.id):
                self._audit(now, coordinator, "transaction.reverse", member, reason,
                            transaction_id=reversal_id, exchange_id=exchange_id)
            return
        self.gift(now)



def open_post_rows(rng: random.Random, city: City, ids: Ids, count: int, now: int) -> list[tuple]:
    """`count` open posts made in the last 29 days, oldest first: needs and offers in every
    category, in the author's language and neighbourhood, some with a time window."""
    drafts = []
    for index in range(count):
        author = rng.choice(city.people)
        posted = now - rng.randint(60 * SECOND, OPEN_POST_MAX_AGE_DAYS * DAY)
        if posted <= author.joined + HOUR:  # a newcomer: posted since joining
            posted = rng.randint(author.joined + HOUR, now - 60 * SECOND)
        category = CATEGORY_LIST[index] if index < len(CATEGORY_LIST) else rng.choice(CATEGORY_LIST)
        offer_chance = 0.0 if not author.has_login else 0.75 if author.carer else 0.4
        kind = "offer" if rng.random() < offer_chance else "need"
        drafts.append((posted, author, kind, category))
    drafts.sort(key=lambda draft: draft[0])
    rows = []
    for posted, author, kind, category in drafts:
        minutes_choices, _ = POST_TEMPLATES[category]
        title, description = _template(rng, category, kind, author.locale)
        starts_at = ends_at = None
        if rng.random() < WINDOW_SHARE:
            start = kst_midnight(posted) + rng.randint(1, 14) * DAY + rng.randint(9, 18) * HOUR
            starts_at, ends_at = instant(start), instant(start + rng.randint(1, 3) * HOUR)
        posted_by = None if author.has_login else author.centre.coordinators[0].id
        rows.append((ids.post, author.id, kind, category, title, description, rng.choice(minutes_choices),
                     author.neighbourhood, starts_at, ends_at, "open", instant(posted),
                     instant(posted + 30 * DAY), posted_by))
        ids.post += 1
    return rows


# ---- writing --------------------------------------------------------------------------------


class BulkWriter:
    """Inserts many rows through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.cursor = connection.connection.dbapi_connection.cursor()

    def insert(self, table: str, rows: Iterable[tuple]) -> None:
        columns = COLUMNS[table]
        if self.postgres:
            with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(self, sql: str, rows: list[tuple]) -> None:
        """`sql` with `?` placeholders, run once per row."""
        if rows:
            self.cursor.executemany(sql.replace("?", "%s") if self.postgres else sql, rows)

    def write_chunk(self, chunk: Chunk) -> None:
        self.insert("posts", chunk.posts)
        self.insert("exchanges", chunk.exchanges)
        self.insert("ledger_transactions", chunk.transactions)
        self.insert("postings", chunk.postings)
        self.insert("ledger_seals", chunk.seals)
        self.insert("audit_log", chunk.audit)


def finish_accounts(writer: BulkWriter, history: History, city: City) -> None:
    """The cached balances and visit totals, from the postings just written."""
    balance, given, received = history.balance, history.given, history.received
    writer.update(
        "UPDATE accounts SET balance_minutes = ?, given_minutes = ?, received_minutes = ? WHERE id = ?",
        [(balance[p.account_id], given[p.account_id], received[p.account_id], p.account_id)
         for p in city.people],
    )
    writer.update("UPDATE accounts SET balance_minutes = ? WHERE id = ?",
                  [(history.pool, history.pool_account_id)])


def finish_posts(writer: BulkWriter, history: History) -> None:
    """Posts of exchanges whose visits are still going on are matched, not closed."""
    writer.update("UPDATE posts SET status = 'matched' WHERE id = ?",
                  [(exchange.post_id,) for exchange in history.live])


def _insert_guards(dialect: str) -> list[tuple[str, str, str]]:
    """(trigger, table, its DDL) for each guard of migration 0004 that checks every inserted
    seal or posting: per row they cost more than the whole insert."""
    migration = importlib.import_module("carebank.migrations.versions.0004_ledger_seals_and_one_live_response")
    found = []
    for statement in migration.GUARDS[dialect]:
        match = _INSERT_TRIGGER.match(statement)
        if match:
            found.append((match.group(1), match.group(2), statement))
    return found


@contextmanager
def guards_lifted(connection: sa.Connection):
    """Without the per-row seal guards during the load; back, exactly as migration 0004 made
    them, before the transaction commits. `ledger verify` then proves what they would have."""
    guards = _insert_guards(connection.dialect.name)
    for trigger, table, _ddl in guards:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
    yield
    for trigger, table, ddl in guards:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        else:
            connection.exec_driver_sql(ddl)


@contextmanager
def foreign_keys_checked_at_end(connection: sa.Connection):
    """PostgreSQL checks foreign keys row by row, a third of the load's time; dropped and
    added back (as the catalogue defines them) before the commit, each is checked in one pass
    over its table, as PostgreSQL's manual advises for bulk loads. SQLite's checks are cheap."""
    if connection.dialect.name != "postgresql":
        yield
        return
    keys = connection.execute(
        sa.text("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables) ORDER BY conname"),
        {"tables": list(LOADED_TABLES)},
    ).all()
    for table, name, _definition in keys:
        connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    yield
    for table, name, definition in keys:
        connection.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


@contextmanager
def fast_sqlite(connection: sa.Connection):
    """On SQLite, no fsync and a large page cache while loading; the old settings after.
    Set outside the transaction, on the driver's connection (as database.upgrade_database)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    synchronous = raw.execute("PRAGMA synchronous").fetchone()[0]
    cache_size = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-100000")  # KiB
    try:
        yield
    finally:
        raw.execute(f"PRAGMA synchronous={int(synchronous)}")
        raw.execute(f"PRAGMA cache_size={int(cache_size)}")


def _next_ids(connection: sa.Connection) -> Ids:
    def next_id(table: str) -> int:
        return connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").scalar()

    return Ids(centre=next_id("centres"), member=next_id("members"), account=next_id("accounts"),
               post=next_id("posts"), exchange=next_id("exchanges"),
               transaction=next_id("ledger_transactions"), posting=next_id("postings"),
               audit=next_id("audit_log"))


def _reset_sequences(connection: sa.Connection) -> None:
    """PostgreSQL hands out ids from sequences the explicit ids did not move."""
    if connection.dialect.name != "postgresql":
        return
    for table in COLUMNS:
        if table != "ledger_seals":
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )


def seed_city(engine: sa.Engine, size: CitySize, *, password_hash: str, seed: int = 1,
              now: datetime | None = None, policy: Policy | None = None,
              progress: Callable[[str], None] = lambda line: None) -> dict[str, int]:
    """Fill an empty database with a city of `size`, in one database transaction; returns
    what was made. Raises CityNotEmpty if there are members already."""
    rng = random.Random(seed)
    now_us = int(((now or datetime.now(UTC)) - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    history_start = kst_midnight(now_us) - HISTORY_DAYS * DAY
    started = time.perf_counter()

    def say(line: str) -> None:
        progress(f"[{time.perf_counter() - started:6.1f} s] {line}")

    with engine.connect() as connection, fast_sqlite(connection), connection.begin():
        if connection.scalar(sa.select(sa.func.count()).select_from(Member)):
            raise CityNotEmpty("the database already has members")
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # the rows' times are UTC
        ids = _next_ids(connection)
        pool_account_id, pool_balance = connection.execute(
            sa.text("SELECT id, balance_minutes FROM accounts WHERE kind = 'pool'")).one()
        prev_hash = connection.scalar(
            sa.select(LedgerSeal.hash).order_by(LedgerSeal.transaction_id.desc()).limit(1)) or GENESIS_HASH
        writer = BulkWriter(connection)

        city = plan_city(rng, size, ids, history_start)
        writer.insert("centres", centre_rows(rng, city, history_start))
        writer.insert("neighbourhoods", neighbourhood_rows(city, history_start))
        writer.insert("members", member_rows(rng, city, password_hash, now_us))
        writer.insert("accounts", account_rows(city))
        say(f"{len(city.centres)} centres and {len(city.people):,} members")

        history = History(rng, city, ids, pool_account_id=pool_account_id, pool_balance=pool_balance,
                          prev_hash=prev_hash, visits_expected=round(size.transactions * VISIT_SHARE),
                          policy=policy or Policy())
        written = 0
        with guards_lifted(connection), foreign_keys_checked_at_end(connection):
            for chunk in history.run(transaction_times(rng, size.transactions, history_start)):
                writer.write_chunk(chunk)
                if chunk.transactions:
                    written += len(chunk.transactions)
                    say(f"{written:,} of {size.transactions:,} transactions")
            finish_accounts(writer, history, city)
            finish_posts(writer, history)
            writer.insert("posts", open_post_rows(rng, city, ids, size.posts, now_us))
            say(f"{size.posts:,} open posts")
        say("database guards back on")
        _reset_sequences(connection)
        connection.exec_driver_sql("ANALYZE")  # statistics for the planner
        say("analysed")
    return {
        "centres": len(city.centres),
        "members": len(city.people),
        "coordinators": sum(len(c.coordinators) for c in city.centres),
        "residents": sum(not p.has_login for p in city.people),
        "open_posts": size.posts,
        "exchanges": history.exchange_count,
        "transactions": written,
        **{f"{kind}s": count for kind, count in history.counts.items()},
        "pool_minutes": history.pool,
    }
