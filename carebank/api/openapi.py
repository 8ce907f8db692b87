"""The OpenAPI 3.1 description of API v1, served at GET /api/openapi.json.

Enums and limits are read from the code that enforces them (categories, model enums, field
lengths, the bank's minutes policy), so the description cannot drift from the rules; a test
checks that every route is described and only those, and the fuzzing test checks every
answer against it.
"""
from __future__ import annotations

from flask import jsonify

from carebank.api import api
from carebank.careplans.models import HolidayPolicy, PlanStatus, VisitPlace
from carebank.confirmations.services import ALPHABET, CODE_LENGTH
from carebank.core import idempotency
from carebank.core.converters import MAX_ID
from carebank.core.policy import Policy, current_policy
from carebank.exchanges import services as exchanges
from carebank.exchanges.models import ExchangeStatus
from carebank.governance import assemblies, bylaws, pool, proposals, voice
from carebank.governance.models import AttendanceMethod, GrantRequestStatus, MemberClass, Tally
from carebank.ledger import services as ledger
from carebank.ledger.models import TransactionKind
from carebank.members import services as members
from carebank.members.models import Role
from carebank.messages.models import BODY_MAX_LENGTH
from carebank.notifications import preferences
from carebank.notifications import services as notifications
from carebank.notifications.kinds import KINDS
from carebank.notifications.preferences import CHANNELS
from carebank.posts import services as posts
from carebank.posts.categories import CATEGORIES
from carebank.posts.models import PostKind, PostStatus
from carebank.visits.models import VisitStatus

PREFIX = "/api/v1"
SPEC_PATH = "/api/openapi.json"

# --- schema helpers -----------------------------------------------------------------------------

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE_TIME = {"type": "string", "format": "date-time"}
# A text field that must hold more than spaces (the server strips it first).
NOT_BLANK = r"\S"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def enum_of(enum_class) -> dict:
    return {"type": "string", "enum": [member.value for member in enum_class]}


def text(max_length: int | None = None, **extra) -> dict:
    schema = {"type": "string", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def shape(properties: dict, required: list[str] | None = None) -> dict:
    """An answer's object: every property always present, nothing else."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


def request_shape(properties: dict, required: list[str]) -> dict:
    """A request body: other properties are ignored, so they are allowed."""
    return {"type": "object", "properties": properties, "required": required}


def minutes(maximum: int) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": maximum}


# --- components ---------------------------------------------------------------------------------

def answer_schemas(policy: Policy) -> dict:
    """The finished objects the API answers with (carebank/api/serialize.py)."""
    member = {"id": ID_SCHEMA, "name": text(), "neighbourhood": text()}
    with_balance = {**member, "balance_minutes": {"type": "integer"}}
    return {
        "Member": {**shape(member), "description": "What any member may see of another: no balance."},
        "MemberWithBalance": {**shape(with_balance), "description":
                              "The member as they themself, and their centre's coordinators, see them."},
        "Profile": shape({
            **with_balance, "email": nullable(text()), "languages": text(), "offers_text": text(),
            "phone": nullable(text()), "locale": nullable({"type": "string", "enum": list(members.SUPPORTED_LOCALES)}),
            "role": enum_of(Role),
            "phone_shared_with_partners": {"type": "boolean",
                                           "description": "Whether an agreed exchange's partner sees the phone."},
        }),
        "Post": shape({
            "id": ID_SCHEMA, "kind": enum_of(PostKind), "category": text(), "category_name": text(),
            "title": text(posts.TITLE_MAX_LENGTH), "description": text(posts.DESCRIPTION_MAX_LENGTH),
            "minutes": minutes(posts.MAX_POST_MINUTES), "neighbourhood": text(80), "status": enum_of(PostStatus),
            "member_id": ID_SCHEMA, "starts_at": nullable(DATE_TIME), "ends_at": nullable(DATE_TIME),
            "once": {"type": "boolean"},
            "created_at": DATE_TIME, "expires_at": DATE_TIME,
        }),
        "Exchange": shape({
            "id": ID_SCHEMA, "post_id": ID_SCHEMA, "provider_id": ID_SCHEMA, "receiver_id": ID_SCHEMA,
            "status": enum_of(ExchangeStatus), "message": text(exchanges.MESSAGE_MAX_LENGTH),
            "state": {"type": "string", "enum": list(exchanges.STATES), "description":
                      "Where it stands, as the pages say it: agreed and visited are accepted exchanges "
                      "without and with confirmed visits."},
            "visits": {"type": "integer", "minimum": 0, "description": "Confirmed visits, reversals left out."},
            "last_visit_on": nullable({"type": "string", "format": "date",
                                       "description": "The last confirmed visit's day, in the member's zone."}),
            "last_visit_at": nullable(DATE_TIME), "finished_at": nullable(DATE_TIME),
            "created_at": DATE_TIME,
        }),
        "Transaction": shape({
            "id": ID_SCHEMA, "kind": enum_of(TransactionKind), "exchange_id": nullable(ID_SCHEMA),
            # null: the community pool's side of a donation or a grant.
            "from_member_id": nullable(ID_SCHEMA), "to_member_id": nullable(ID_SCHEMA),
            "minutes": {"type": "integer", "minimum": 1}, "memo": text(ledger.MEMO_MAX_LENGTH),
            "created_at": DATE_TIME,
        }),
        "LedgerEntry": shape({
            "transaction_id": ID_SCHEMA, "kind": enum_of(TransactionKind),
            "minutes": {"type": "integer", "not": {"const": 0}, "description": "Signed: + received, − given."},
            "counterparty_id": nullable(ID_SCHEMA), "counterparty_name": nullable(text()),
            "exchange_id": nullable(ID_SCHEMA), "memo": text(ledger.MEMO_MAX_LENGTH), "created_at": DATE_TIME,
        }),
        "ConfirmationCode": shape({
            "id": ID_SCHEMA, "code": {"type": "string", "pattern": f"^[0-7][{ALPHABET}]{{{CODE_LENGTH - 1}}}$"},
            "display_code": text(description="The code in groups of four, to read aloud or type."),
            "url": text(description="The confirmation page for the code, shown as a QR code."),
            "minutes": minutes(policy.max_minutes), "exchange_id": ID_SCHEMA, "expires_at": DATE_TIME,
        }),
        "Category": shape({"slug": {"type": "string", "enum": list(CATEGORIES)}, "name": text()}),
        "ExchangeMessage": shape({"id": ID_SCHEMA, "author_id": ID_SCHEMA,
                                  "body": text(BODY_MAX_LENGTH, minLength=1), "created_at": DATE_TIME}),
        "Notification": shape({
            "id": ID_SCHEMA, "kind": {"type": "string", "enum": list(KINDS)},
            "title": text(minLength=1, description="Names no health detail: fit for a lock screen."),
            "body": text(description="The whole news, in the member's language."),
            "url": text(description="The page it is about (a path on this site), or empty."),
            "created_at": DATE_TIME, "read_at": nullable(DATE_TIME),
        }),
        "NotificationPreferences": preferences_schema(),
        "PushSubscription": shape({"id": ID_SCHEMA, "endpoint": text(description="The push service's URL.")}),
        "Error": shape({"error": shape({
            "code": text(minLength=1, description="Stable, for programs: e.g. insufficient_balance."),
            "message": text(minLength=1, description="For people, in the request's language."),
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "The message for each field that was refused."},
        }, required=["code", "message"])}),
    }


def request_schemas(policy: Policy) -> dict:
    """The JSON bodies the API accepts. Text never holds a NUL character (refused with 400)."""
    member_id = {**ID_SCHEMA, "description": "The member number."}
    memo = nullable(text(ledger.MEMO_MAX_LENGTH))
    return {
        "LogIn": request_shape({"email": text(), "password": text()}, ["email", "password"]),
        "SignUp": request_shape({
            "name": text(members.NAME_MAX_LENGTH, pattern=NOT_BLANK), "email": text(254, format="email"),
            "password": text(minLength=members.PASSWORD_MIN_LENGTH), "neighbourhood": nullable(text(80)),
            "locale": nullable(text(description="ko or en; anything else means the browser's language.")),
        }, ["name", "email", "password"]),
        "ProfileChange": request_shape({
            "name": text(members.NAME_MAX_LENGTH, pattern=NOT_BLANK), "neighbourhood": nullable(text(80)),
            "languages": nullable(text(80)), "offers_text": nullable(text(2000)),
            "phone": nullable(text(40, pattern=r"^[0-9+()\-\s]*$", description="Empty to remove it.")),
            "phone_shared_with_partners": {"type": "boolean"},
            "locale": nullable(text()),
        }, []),
        "NewPost": request_shape({
            "kind": enum_of(PostKind), "category": {"type": "string", "enum": list(CATEGORIES)},
            "title": text(posts.TITLE_MAX_LENGTH, pattern=NOT_BLANK),
            "description": nullable(text(posts.DESCRIPTION_MAX_LENGTH)), "minutes": minutes(posts.MAX_POST_MINUTES),
            "neighbourhood": nullable(text(description="Defaults to the member's own.")),
            "starts_at": nullable({**DATE_TIME, "description": "With a time zone."}),
            "ends_at": nullable({**DATE_TIME, "description": "With a time zone, after starts_at."}),
            "once": {"type": "boolean", "description": "A need asked for just once: its exchange is finished by "
                                                      "the first confirmed visit. Not for offers."},
        }, ["kind", "category", "title", "minutes"]),
        "Response": request_shape({"message": nullable(text(exchanges.MESSAGE_MAX_LENGTH))}, []),
        "NewCode": request_shape({"minutes": minutes(policy.max_minutes)}, ["minutes"]),
        "Redemption": request_shape({
            "code": text(description="The code as shown, typed (any case, with spaces or dashes) or its URL."),
            "confirm_again": {"type": "boolean", "description":
                              "Yes to a second visit of the same exchange within the hour (else 409 "
                              "recent_confirmation, saying when the last was)."},
        }, ["code"]),
        "Gift": request_shape({"to_member_id": member_id, "minutes": minutes(policy.max_minutes), "memo": memo},
                              ["to_member_id", "minutes"]),
        "Donation": request_shape({"minutes": minutes(policy.max_minutes), "memo": memo}, ["minutes"]),
        "NewMessage": request_shape({"body": text(BODY_MAX_LENGTH, pattern=NOT_BLANK)}, ["body"]),
        "ReadNotifications": request_shape({
            "ids": {"type": "array", "items": ID_SCHEMA, "maxItems": notifications.MAX_MARKED},
            "all": {"type": "boolean", "const": True},
        }, []),
        "PreferencesChange": request_shape({
            channel: request_shape({kind: {"type": "boolean"} for kind in KINDS}, []) for channel in CHANNELS
        } | {"quiet_hours": request_shape({"start": CLOCK, "end": CLOCK}, ["start", "end"])}, []),
        "NewPushSubscription": request_shape({
            "endpoint": text(2048, description="PushSubscription.endpoint: https:// (loopback http only where "
                                               "PUSH_ALLOW_LOOPBACK)."),
            "keys": request_shape({"p256dh": text(description="base64url of the browser's 65-byte uncompressed P-256 key."),
                                   "auth": text(description="base64url of the 16-byte auth secret.")},
                                  ["p256dh", "auth"]),
        }, ["endpoint", "keys"]),
        "ResetRequest": request_shape({"email": text(254)}, ["email"]),
        "NewPassword": request_shape({"password": text(minLength=members.PASSWORD_MIN_LENGTH)}, ["password"]),
        "Grant": request_shape({
            "to_member_id": member_id, "minutes": minutes(policy.max_minutes),
            "memo": text(ledger.MEMO_MAX_LENGTH, pattern=NOT_BLANK, description="The reason, shown to the member."),
            "need": nullable({"type": "string", "enum": ["", *CATEGORIES],
                              "description": "The kind of care it pays for (a post category), shown on the "
                                             "members' pool page without the name; empty or absent: none."}),
        }, ["to_member_id", "minutes", "memo"]),
    }


CLOCK = {"type": "string", "pattern": preferences.CLOCK.pattern, "description": "HH:MM, 24 hours."}


def preferences_schema() -> dict:
    switches = shape({kind: {"type": "boolean"} for kind in KINDS})
    return shape({**{channel: switches for channel in CHANNELS},
                  "quiet_hours": shape({"start": CLOCK, "end": CLOCK})})


ERRORS = {
    "400": "Refused input: not a JSON object (invalid_json), a field (`fields` names it), or a missing or "
           "stale CSRF token (csrf_failed).",
    "401": "Not logged in (unauthorized), or wrong email or password (invalid_credentials).",
    "403": "Not allowed for this member.",
    "404": "No such thing (or an id out of range).",
    "409": "The state does not allow it: already done, ended, or the balance floor (insufficient_balance).",
    "410": "The confirmation code has expired (code_expired), or the password reset link was used (reset_used) "
           "or has expired (reset_expired).",
    "413": "The body is larger than the bank takes (too_large; MAX_CONTENT_LENGTH, 256 KB by default): "
           "refused before it is read.",
    "422": "The Idempotency-Key was already used for a different request.",
    "429": "Too many tries: wait Retry-After seconds (too_many_requests).",
    "503": "The database is busy or full: nothing was saved; retry after Retry-After seconds (try_again).",
}
# Answers that say when to come back.
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.",
                               "schema": {"type": "integer", "minimum": 0}}}


def error_response(status: str) -> dict:
    response = {"description": ERRORS[status], "content": {"application/json": {"schema": ref("Error")}}}
    if status in ("429", "503"):
        response["headers"] = RETRY_AFTER
    return response


def components(policy: Policy) -> dict:
    return {
        "schemas": {**answer_schemas(policy), **request_schemas(policy), **visit_schemas(policy),
                    **governance_schemas(policy)},
        "responses": {status: error_response(status) for status in ERRORS},
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "The session cookie set by logging in or signing up."},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                     "description": "The csrf_token from GET /api/v1/session, on every unsafe method."},
        },
    }


# --- operations ---------------------------------------------------------------------------------

MEMBER = [{"session": []}]
MEMBER_CSRF = [{"session": [], "csrf": []}]
ANYONE = [{}, {"session": []}]


def json_body(schema_name: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema_name)}}}


def ok(description: str, properties: dict | None = None, schema: dict | None = None) -> dict:
    schema = schema or shape(properties)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def op(summary: str, success: dict, errors: str = "", *, security=MEMBER, body=None, parameters=(),
       description: str | None = None, database: bool = True) -> dict:
    """One operation: its success answers ({status: response}) and its error statuses (413 when
    it takes a body, 503 when it uses the database, which may be locked or full)."""
    responses = {str(status): answer for status, answer in success.items()}
    statuses = errors.split() + (["413"] if body else []) + (["503"] if database else [])
    responses.update({status: {"$ref": f"#/components/responses/{status}"} for status in statuses})
    operation = {"summary": summary, "security": security, "responses": responses}
    if body:
        operation["requestBody"] = body
    if parameters:
        operation["parameters"] = list(parameters)
    if description:
        operation["description"] = description
    return operation


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA}


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def one(name: str, schema: str, description: str) -> dict:
    return ok(description, {name: ref(schema)})


def many(name: str, schema: str, description: str) -> dict:
    return ok(description, {name: {"type": "array", "items": ref(schema)}})


def session_paths() -> dict:
    member_or_none = {"member": nullable(ref("MemberWithBalance")), "csrf_token": text(minLength=1)}
    own = {"member": ref("MemberWithBalance"), "profile": ref("Profile")}
    # Disjoint (balance_minutes is required in one and refused in the other), so oneOf holds.
    other = {"member": {"oneOf": [ref("MemberWithBalance"), ref("Member")]}}
    return {
        "/session": {
            "get": op("Who is logged in, and the CSRF token for unsafe methods",
                      {200: ok("The member (null when logged out) and a CSRF token.", member_or_none)},
                      security=ANYONE),
            "post": op("Log in", {200: one("member", "MemberWithBalance", "Logged in: the session cookie is set.")},
                       "400 401 429", security=MEMBER_CSRF, body=json_body("LogIn")),
            "delete": op("Log out", {204: {"description": "Logged out; the phone's cached data is cleared."}},
                         "400", security=MEMBER_CSRF),
        },
        "/members": {
            "post": op("Sign up (and log in)", {201: one("member", "MemberWithBalance", "The new member, at zero.")},
                       "400 409 429", security=MEMBER_CSRF, body=json_body("SignUp")),
        },
        "/me": {
            "get": op("The logged-in member with their profile", {200: ok("The member.", own)}, "401"),
            "patch": op("Change one's profile (only the fields sent)", {200: ok("The changed member.", own)},
                        "400 401", security=MEMBER_CSRF, body=json_body("ProfileChange")),
        },
        "/members/{member_id}": {
            "get": op("Another member (without their contact details)",
                      {200: ok("The member: with their balance for themself, their centre's coordinators "
                               "and admins; without it for anyone else.", other)},
                      "401 404", parameters=[path_id("member_id")]),
        },
        "/categories": {
            "get": op("The care categories", {200: many("categories", "Category", "Slugs with their names.")},
                      security=ANYONE, database=False),
        },
        "/neighbourhoods": {
            "get": op("The neighbourhoods the centres serve, to pick from", {200: ok("By centre.", {
                "centres": {"type": "array", "items": shape({
                    "id": ID_SCHEMA, "name": text(), "neighbourhoods": {"type": "array", "items": shape({
                        "id": ID_SCHEMA, "name": text(), "district": text(),
                        "label": text(description="District and name, as the pickers show it.")})}})}})},
                      security=ANYONE),
        },
    }


def reset_paths() -> dict:
    token = {"name": "token", "in": "path", "required": True, "schema": text(minLength=1),
             "description": "The token at the end of the mailed link."}
    return {
        "/password-resets": {
            "post": op("Ask for a password reset link by mail",
                       {202: {"description": "Accepted, whether or not the address belongs to a member: if "
                                             "it does, a single-use link valid for one hour is mailed."}},
                       "400 429", security=MEMBER_CSRF, body=json_body("ResetRequest")),
        },
        "/password-resets/{token}": {
            "post": op("Set a new password with a reset link",
                       {204: {"description": "The password is set; every login of the member has ended."}},
                       "400 404 410", security=MEMBER_CSRF, body=json_body("NewPassword"), parameters=[token]),
        },
    }


def post_paths() -> dict:
    post_id = path_id("post_id")
    filters = [
        query("kind", text(), "need or offer; other values do not filter."),
        query("category", text(), "A category slug; other values do not filter."),
        query("neighbourhood", text(), "Exact neighbourhood, any case."),
        query("q", text(), "Words in the title or description, any case."),
        query("offset", {"type": "integer"}, "Posts to skip (50 a page); out of range is clamped."),
    ]
    reason = shape({"code": text(minLength=1, description="e.g. same_care, nearby, free_at, has_given."),
                    "text": text(minLength=1, description="The reason in words, in the request's language.")})
    match = shape({"post": ref("Post"), "reasons": {"type": "array", "items": reason},
                   "score": {"type": "number", "minimum": 0, "maximum": 1, "deprecated": True,
                             "description": "Use reasons: a bare percentage misleads."}})
    return {
        "/posts": {
            "get": op("Open posts, newest first", {200: many("posts", "Post", "Up to 50 posts.")}, "400",
                      security=ANYONE, parameters=filters),
            "post": op("Post a need or an offer", {201: one("post", "Post", "The new, open post.")},
                       "400 401", security=MEMBER_CSRF, body=json_body("NewPost")),
        },
        "/posts/mine": {"get": op("One's own posts, open first", {200: many("posts", "Post", "The posts.")}, "401")},
        "/posts/{post_id}": {
            "get": op("A post", {200: one("post", "Post", "The post.")}, "404", security=ANYONE,
                      parameters=[post_id]),
        },
        "/posts/{post_id}/close": {
            "post": op("Close one's post (proposals not yet accepted are cancelled)",
                       {200: one("post", "Post", "The closed post.")}, "400 401 403 404 409",
                       security=MEMBER_CSRF, parameters=[post_id]),
        },
        "/posts/{post_id}/matches": {
            "get": op("Posts of the other kind that fit, best first", {200: ok("Up to 10 matches.", {
                "matches": {"type": "array", "items": match}})}, "401 404", parameters=[post_id]),
        },
        "/posts/{post_id}/responses": {
            "post": op("Respond to a post: proposes an exchange", {201: one("exchange", "Exchange", "Proposed.")},
                       "400 401 403 404 409", security=MEMBER_CSRF, parameters=[post_id],
                       body=json_body("Response", required=False)),
        },
    }


def exchange_paths(policy: Policy) -> dict:
    exchange_id = path_id("exchange_id")

    def action(summary: str) -> dict:
        return {"post": op(summary, {200: one("exchange", "Exchange", "The exchange.")}, "400 401 403 404 409",
                           security=MEMBER_CSRF, parameters=[exchange_id])}

    return {
        "/exchanges": {"get": op("One's exchanges", {200: many("exchanges", "Exchange", "Open ones first.")}, "401")},
        "/exchanges/{exchange_id}": {
            "get": op("An exchange (its two parties only)", {200: one("exchange", "Exchange", "The exchange.")},
                      "401 403 404", parameters=[exchange_id]),
        },
        "/exchanges/{exchange_id}/accept": action("The post's owner accepts a response"),
        "/exchanges/{exchange_id}/decline": action("The post's owner declines a response"),
        "/exchanges/{exchange_id}/cancel": action("Either party cancels the exchange (not after a confirmed "
                                                  "visit: 409 visit_confirmed; report a problem instead)"),
        "/exchanges/{exchange_id}/finish": action("Either party finishes an agreed exchange: no more visits count"),
        "/exchanges/{exchange_id}/confirmation-codes": {
            "post": op("A single-use code the other party redeems to confirm a visit",
                       {201: ok("The code and its URL (for a QR code).", schema=ref("ConfirmationCode"))},
                       "400 401 403 404 409", security=MEMBER_CSRF, parameters=[exchange_id],
                       body=json_body("NewCode"),
                       description=f"Valid for {policy.code_ttl_seconds} seconds; only the other party redeems it."),
        },
    }


def idempotency_key(description: str = "Retrying with the same key answers the first success again.") -> dict:
    return {"name": idempotency.HEADER, "in": "header", "required": False,
            "schema": {"type": "string", "pattern": f"^{idempotency.KEY_PATTERN.pattern}$"},
            "description": description}


def message_paths() -> dict:
    exchange_id = path_id("exchange_id")
    return {
        "/exchanges/{exchange_id}/messages": {
            "get": op("The messages between the exchange's two parties, oldest first",
                      {200: many("messages", "ExchangeMessage", "The thread.")}, "401 403 404",
                      parameters=[exchange_id],
                      description="The parties read it; a coordinator of their centre only while a problem "
                                  "is open or a message was reported, and that reading is in the audit log."),
            "post": op("Write to the other party", {201: one("message", "ExchangeMessage", "Sent.")},
                       "400 401 403 404 409 422 429", security=MEMBER_CSRF, parameters=[exchange_id, idempotency_key()],
                       body=json_body("NewMessage"),
                       description="With an Idempotency-Key (a phone's outbox sending what was written offline), "
                                   "a retry answers the first message again instead of writing it twice."),
        },
    }


def notification_paths() -> dict:
    unread = query("unread", text(), "1 or true: only the unread ones.")
    preferences_answer = ok("The member's choices, every kind on each channel.", schema=ref("NotificationPreferences"))
    return {
        "/notifications": {
            "get": op("One's notifications, newest first (up to 50)", {200: ok("The notifications.", {
                "notifications": {"type": "array", "items": ref("Notification")},
                "unread_count": {"type": "integer", "minimum": 0}})}, "400 401", parameters=[unread]),
        },
        "/notifications/read": {
            "post": op("Mark notifications read: some by id (others' ids change nothing), or all",
                       {204: {"description": "Marked."}}, "400 401", security=MEMBER_CSRF,
                       body=json_body("ReadNotifications")),
        },
        "/notification-preferences": {
            "get": op("What reaches one's phone and e-mail, and the quiet hours", {200: preferences_answer}, "401"),
            "put": op("Change them (the parts sent)", {200: preferences_answer}, "400 401",
                      security=MEMBER_CSRF, body=json_body("PreferencesChange")),
        },
    }


def push_paths() -> dict:
    return {
        "/push/vapid-public-key": {"get": op("The server's VAPID public key, for PushManager.subscribe", {200: ok(
            "base64url (no padding) of the uncompressed P-256 point: 65 bytes starting 0x04.",
            {"key": text(minLength=87, maxLength=87, pattern="^[A-Za-z0-9_-]+$")})}, "401")},
        "/push-subscriptions": {
            "get": op("The member's phones that receive notifications",
                      {200: many("subscriptions", "PushSubscription", "Oldest first.")}, "401"),
            "post": op("Turn on notifications for this browser (the same endpoint again updates it)",
                       {201: one("subscription", "PushSubscription", "Saved for this member.")}, "400 401",
                       security=MEMBER_CSRF, body=json_body("NewPushSubscription")),
        },
        "/push-subscriptions/{subscription_id}": {"delete": op(
            "Turn off notifications for one of the member's phones", {204: {"description": "Turned off."}},
            "400 401 404", security=MEMBER_CSRF, parameters=[path_id("subscription_id")])},
    }


def ledger_paths() -> dict:
    key = idempotency_key("Retrying with the same key answers the first success again, even after the "
                          "code expired.")
    transaction = {"transaction": ref("Transaction")}
    return {
        "/confirmations": {
            "post": op("Redeem a confirmation code: the visit's minutes move", {
                201: ok("Confirmed now.", transaction),
                200: ok("Already confirmed by this member: the same transaction.", transaction),
            }, "400 401 403 409 410 422 429", security=MEMBER_CSRF, body=json_body("Redemption"), parameters=[key]),
        },
        "/ledger": {
            "get": op("One's balance and history, newest first", {200: ok("Up to 200 entries.", {
                "balance_minutes": {"type": "integer"},
                "entries": {"type": "array", "items": ref("LedgerEntry")}})}, "401"),
        },
        "/transfers": {
            "post": op("Give minutes to another member", {201: one("transaction", "Transaction", "Given.")},
                       "400 401 404 409", security=MEMBER_CSRF, body=json_body("Gift")),
        },
        "/donations": {
            "post": op("Give minutes to the community pool", {201: one("transaction", "Transaction", "Given.")},
                       "400 401 409", security=MEMBER_CSRF, body=json_body("Donation")),
        },
        "/grants": {
            "post": op("A coordinator grants pool minutes to a member of their centre",
                       {201: one("transaction", "Transaction", "Granted.")}, "400 401 403 404 409",
                       security=MEMBER_CSRF, body=json_body("Grant"),
                       description="Up to the bylaw grant_coordinator_limit (600 minutes by default) alone; "
                                   "above it nothing moves and the answer is 409 grant_needs_ballot: put it "
                                   "to a ballot with POST /api/v1/governance/grant-requests."),
        },
        "/pool": {
            "get": op("The community pool's balance", {200: ok("The balance.", {
                "balance_minutes": {"type": "integer", "minimum": 0}})}, "401"),
        },
    }


def visit_schemas(policy: Policy) -> dict:
    """Care plans and their visits (carebank/careplans, carebank/visits)."""
    visit = {"id": ID_SCHEMA, "care_plan_id": nullable(ID_SCHEMA), "exchange_id": ID_SCHEMA,
             "starts_at": DATE_TIME, "ends_at": DATE_TIME, "minutes": {"type": "integer", "minimum": 1},
             "status": enum_of(VisitStatus)}
    card = text(description="The receiver's member card as scanned (its URL or the code printed on it).")
    pin = text(description="The card's PIN, typed by its holder; five wrong ones lock the card.")
    return {
        "CarePlan": shape({
            "id": ID_SCHEMA, "exchange_id": ID_SCHEMA,
            "rrule": text(description="RFC 5545 RRULE without DTSTART, COUNT or UNTIL, e.g. FREQ=WEEKLY;BYDAY=TU,TH."),
            "starts_at": DATE_TIME, "timezone": text(), "minutes": {"type": "integer", "minimum": 1},
            "until": {"type": "string", "format": "date", "description": "The last day a visit may fall on."},
            "place": enum_of(VisitPlace), "holiday_policy": enum_of(HolidayPolicy), "status": enum_of(PlanStatus),
            "replaces_id": nullable(ID_SCHEMA),
            "summary": text(description="The plan in words, in the request's language."),
        }),
        "Visit": shape(visit),
        "VisitDetail": shape({
            **visit, "checked_in_at": nullable(DATE_TIME), "checked_out_at": nullable(DATE_TIME),
            "late_flagged_at": nullable(DATE_TIME), "confirmed_minutes": nullable({"type": "integer"}),
            "transaction_id": nullable(ID_SCHEMA),
        }),
        "NewCarePlan": request_shape({
            "rrule": text(200), "starts_at": {**DATE_TIME, "description": "The first visit, with a time zone."},
            "minutes": minutes(policy.max_minutes), "until": {"type": "string", "format": "date"},
            "place": enum_of(VisitPlace), "holiday_policy": enum_of(HolidayPolicy),
            "timezone": text(64, description="Where the wall-clock time holds (default: the receiver's)."),
        }, ["rrule", "starts_at", "minutes", "until"]),
        "VisitCancel": request_shape({"reason": text(500, minLength=1)}, ["reason"]),
        "VisitCheckIn": request_shape({"card": card, "pin": pin}, []),
        "VisitConfirm": request_shape({"minutes": minutes(policy.max_minutes), "card": card, "pin": pin}, []),
        "CalendarAddress": shape({"url": text(description="The private iCalendar feed to subscribe to.")}),
    }


def care_plan_paths() -> dict:
    plan_id = path_id("plan_id")
    plan = {200: one("care_plan", "CarePlan", "The plan.")}
    return {
        "/exchanges/{exchange_id}/care-plans": {
            "post": op("A party (or the receiver's centre) proposes regular visits", {
                201: one("care_plan", "CarePlan", "The proposed plan.")}, "400 401 403 404 409",
                security=MEMBER_CSRF, parameters=[path_id("exchange_id")], body=json_body("NewCarePlan"),
                description="Korean public holidays and the centre's closure days are skipped or moved "
                            "(holiday_policy). The other party agrees it with .../accept."),
        },
        "/care-plans/{plan_id}": {"get": op("A care plan (its parties and their centre)", plan, "401 403 404",
                                            parameters=[plan_id])},
        "/care-plans/{plan_id}/accept": {
            "post": op("The other party (or the centre, for a card-only resident) agrees the plan", plan,
                       "401 403 404 409", security=MEMBER_CSRF, parameters=[plan_id],
                       description="The plan's first 8 weeks of visits exist when this answers."),
        },
        "/care-plans/{plan_id}/visits": {
            "get": op("The plan's visits, in start order", {200: many("visits", "Visit", "Its visits.")},
                      "401 403 404", parameters=[plan_id]),
        },
    }


def visit_paths() -> dict:
    visit_id = path_id("visit_id")
    detail = {200: one("visit", "VisitDetail", "The visit.")}

    def action(summary: str, errors: str, body: dict | None = None, replayable: bool = False) -> dict:
        parameters = [visit_id, idempotency_key()] if replayable else [visit_id]
        return {"post": op(summary, detail, errors, security=MEMBER_CSRF, parameters=parameters, body=body)}

    window = "A date (in the member's time zone) or a date and time with its offset."
    return {
        "/visits": {"get": op("One's visits (as carer or receiver) in start order", {
            200: many("visits", "Visit", "Today to 8 weeks ahead unless asked otherwise.")}, "400 401",
            parameters=[query("from", {"type": "string"}, window), query("to", {"type": "string"}, window)])},
        "/visits/{visit_id}": {"get": op("A visit (its parties and their centre)", detail, "401 403 404",
                                         parameters=[visit_id])},
        "/visits/{visit_id}/cancel": action("A party or the centre cancels a visit that has not begun",
                                            "400 401 403 404 409", json_body("VisitCancel")),
        "/visits/{visit_id}/check-in": action("The carer checks in (with the receiver's card, and PIN, for a "
                                              "card-only resident)", "400 401 403 404 409 422",
                                              json_body("VisitCheckIn", required=False), replayable=True),
        "/visits/{visit_id}/check-out": action("The carer checks out", "401 403 404 409"),
        "/visits/{visit_id}/confirm": action("The receiver (or the carer with their card and PIN, or the centre) "
                                             "confirms the minutes: one ledger transaction per visit",
                                             "400 401 403 404 409 422", json_body("VisitConfirm", required=False),
                                             replayable=True),
        "/me/calendar": {
            "get": op("One's private calendar address (made on first use)",
                      {200: ok("The address.", schema=ref("CalendarAddress"))}, "401"),
            "post": op("A new calendar address; the old one stops working",
                       {201: ok("The new address.", schema=ref("CalendarAddress"))}, "401", security=MEMBER_CSRF),
        },
    }


# --- governance: proposals, assemblies, the pool's grants, the voice report ---------------------

DATE = {"type": "string", "format": "date"}
COUNT = {"type": "integer", "minimum": 0}
SHARE = {"type": "number", "minimum": 0}
CATEGORY = {"type": "string", "enum": list(CATEGORIES)}
MEMBER_CLASS = nullable({**enum_of(MemberClass), "description": "null: the member's class is not set."})
GROUPS = proposals.RECEIPT_LENGTH // 4
RECEIPT = text(pattern=f"^[{proposals.RECEIPT_ALPHABET}]{{4}}(-[{proposals.RECEIPT_ALPHABET}]{{4}}){{{GROUPS - 1}}}$",
               description="Shown once, on the first vote: keep it to change the vote or check it is counted.")
# The voice report's figures that are shares; the others are counts.
VOICE_SHARES = {"share", "turnout", "representation_ratio"}


def governance_schemas(policy: Policy) -> dict:
    """Proposals and ballots, assemblies, the pool's grants and the voice report
    (carebank/governance/api.py), with their limits from the services that enforce them."""
    votes = {"type": "integer", "minimum": 0, "maximum": assemblies.MAX_VOTES}
    count_of = shape({"option": ID_SCHEMA, "votes": COUNT})
    counts = {"type": "array", "items": count_of}
    option_ids = {"type": "array", "items": ID_SCHEMA, "uniqueItems": True}
    officer_ids = {"type": "array", "items": ID_SCHEMA, "maxItems": 50}
    return {
        "ProposalOption": shape({
            "id": ID_SCHEMA, "position": COUNT, "label": text(description="In the reader's language."),
            "abstain": {"type": "boolean", "description": "Counts as taking part, never for or against."}}),
        "ProposalResults": shape({
            "counts": counts, "voters": COUNT, "eligible": COUNT, "turnout": SHARE,
            "through_centre": {**COUNT, "description": "Votes the centre recorded for members without a phone."},
            "by_class": {"type": "array", "description": "Per-class advisory polls only: each class's votes "
                                                         "(on a secret ballot a small class is withheld).",
                         "items": shape({"member_class": MEMBER_CLASS, "voters": COUNT,
                                         "withheld": {"type": "boolean"}, "counts": counts})},
            "weighted": {"type": "array", "items": shape({"option": ID_SCHEMA, "share": SHARE}),
                         "description": "Each option's share with every class weighing the same."},
        }),
        "Proposal": shape({
            "id": ID_SCHEMA, "title": text(proposals.TITLE_MAX_LENGTH),
            "body": text(proposals.BODY_TEXT_MAX_LENGTH),
            "kind": {"type": "string", "enum": [kind.value for kind in proposals.KINDS]},
            "tally": enum_of(Tally), "secret": {"type": "boolean"}, "advisory_label": nullable(text()),
            "author": ref("Member"), "record_date": {**DATE, "description": "Who may vote: the register that day."},
            "created_at": DATE_TIME, "closes_at": DATE_TIME, "closed": {"type": "boolean"},
            "options": {"type": "array", "items": ref("ProposalOption")},
            "may_vote": {"type": "boolean"}, "voted": {"type": "boolean"},
            "my_vote": nullable({**ID_SCHEMA, "description": "The option chosen; null on a secret ballot."}),
            "outcome": nullable(text(proposals.OUTCOME_MAX_LENGTH)), "review_on": nullable(DATE),
            "results": nullable({**ref("ProposalResults"), "description": "null until it closes, for everyone."}),
        }),
        "ProposalMessage": shape({"id": ID_SCHEMA, "author": ref("Member"),
                                  "body": text(BODY_MAX_LENGTH, minLength=1), "created_at": DATE_TIME}),
        "Assembly": shape({
            "id": ID_SCHEMA, "title": text(assemblies.TITLE_MAX_LENGTH), "held_at": DATE_TIME,
            "place": text(assemblies.PLACE_MAX_LENGTH), "agenda": text(assemblies.AGENDA_MAX_LENGTH),
            "record_date": {**DATE, "description": "Who may attend and vote: the register that day."},
            "chair_id": nullable(ID_SCHEMA),
            "teller_ids": {"type": "array", "items": ID_SCHEMA, "maxItems": assemblies.TELLERS},
            "closed_at": nullable(DATE_TIME),
            "minutes_sha256": nullable(text(pattern="^[0-9a-f]{64}$", description="The sealed minutes' SHA-256.")),
        }),
        "Motion": shape({
            "id": ID_SCHEMA, "assembly_id": ID_SCHEMA, "position": {"type": "integer", "minimum": 1},
            "title": text(assemblies.TITLE_MAX_LENGTH), "special": {"type": "boolean"},
            "proposal_id": nullable(ID_SCHEMA), "bylaw_key": nullable({"type": "string", "enum": list(bylaws.RULES)}),
            "bylaw_value": nullable(text(200)), "bylaw_applied": {"type": "boolean"},
            "votes_for": nullable(votes), "votes_against": nullable(votes), "abstain": nullable(votes),
            "present": nullable(COUNT), "threshold": nullable({"type": "integer", "minimum": 1}),
            "quorum_met": nullable({"type": "boolean"}), "passed": nullable({"type": "boolean"}),
        }),
        "GrantRequest": shape({
            "id": ID_SCHEMA, "recipient_id": ID_SCHEMA, "minutes": minutes(policy.max_minutes), "need": CATEGORY,
            "status": enum_of(GrantRequestStatus), "proposal_id": nullable(ID_SCHEMA),
            "transaction_id": nullable({**ID_SCHEMA, "description": "The grant, once granted."}),
        }),
        "VoiceReport": shape({
            "period": shape({"quarter": text(pattern=voice.QUARTER.pattern), "start": DATE,
                             "end": {**DATE, "description": "The last day."}}),
            "total_members": COUNT, "votes_cast": COUNT,
            "classes": {"type": "array", "items": shape({
                "member_class": MEMBER_CLASS,
                "suppressed": {"type": "boolean", "description": f"Fewer than {voice.SUPPRESS_BELOW} members: "
                                                                 "no figures (they would point at people)."},
                **{name: nullable(SHARE if name in VOICE_SHARES else COUNT) for name in voice.FIGURES}})},
        }),
        # Requests
        "NewProposal": request_shape({
            "title": text(proposals.TITLE_MAX_LENGTH, pattern=NOT_BLANK),
            "body": nullable(text(proposals.BODY_TEXT_MAX_LENGTH)),
            "options": nullable({"type": "array", "maxItems": proposals.MAX_OPTIONS,
                                 "items": text(proposals.OPTION_MAX_LENGTH),
                                 "description": f"{proposals.MIN_OPTIONS} to {proposals.MAX_OPTIONS} different "
                                                "answers; none: yes / no / abstain."}),
            "closes_at": {**DATE_TIME, "description": "With a time zone; from an hour to 90 days ahead."},
            "secret": nullable({"type": "boolean"}),
            "kind": {"type": "string", "enum": [kind.value for kind in proposals.KINDS],
                     "description": "board: coordinators only."},
            "tally": nullable({**enum_of(Tally), "description": "Other than one_member_one_vote: advisory only."}),
        }, ["title", "closes_at", "kind"]),
        "NewVote": request_shape({
            "option": {**ID_SCHEMA, "description": "One of the proposal's option ids."},
            "receipt": nullable(text(description="A secret ballot's receipt: needed to change its vote.")),
        }, ["option"]),
        "ReceiptCheck": request_shape({"receipt": text(description="As shown: any case, dashes or not.")},
                                      ["receipt"]),
        "NewAssembly": request_shape({
            "title": text(assemblies.TITLE_MAX_LENGTH, pattern=NOT_BLANK),
            "held_at": {**DATE_TIME, "description": "In the future, with a time zone."},
            "place": nullable(text(assemblies.PLACE_MAX_LENGTH)), "agenda": nullable(text(assemblies.AGENDA_MAX_LENGTH)),
            "record_date": nullable({**DATE, "description": "Not after the assembly; default: today."}),
        }, ["title", "held_at"]),
        "Attendance": {"anyOf": [
            request_shape({
                "member_id": {**ID_SCHEMA, "description": "The member present (or holding the proxy)."},
                "proxy_for_member_id": nullable({**ID_SCHEMA, "description": "The absent member represented."}),
                "proof": nullable(text(assemblies.PROOF_MAX_LENGTH, description="The proxy's written proof.")),
            }, ["member_id"]),
            request_shape({
                "card": text(minLength=1, description="The member card's QR as scanned, or the member number "
                                                      "(then the PIN is needed)."),
                "pin": nullable(text(description="The card's PIN, typed by its holder.")),
            }, ["card"]),
        ]},
        "NewMotion": request_shape({
            "title": text(assemblies.TITLE_MAX_LENGTH, pattern=NOT_BLANK), "special": {"type": "boolean"},
            "proposal_id": nullable({**ID_SCHEMA, "description": "A proposal the motion carries."}),
            "bylaw_key": nullable({"type": "string", "enum": list(bylaws.RULES),
                                   "description": "A bylaw the motion changes (a special resolution)."}),
            "bylaw_value": nullable(text(200)),
        }, ["title"]),
        "Officers": request_shape({
            "chair_id": ID_SCHEMA,
            "teller_ids": {**officer_ids, "description": f"{assemblies.TELLERS} different members present."},
            "signer_ids": {**officer_ids, "description": "Members present besides the chair, at least the bylaw "
                                                         "minutes_signers (3 by default)."},
        }, ["chair_id", "teller_ids", "signer_ids"]),
        "Tally": request_shape({"for": votes, "against": votes, "abstain": votes}, ["for", "against", "abstain"]),
        "NewGrantRequest": request_shape({
            "to_member_id": {**ID_SCHEMA, "description": "The member number."},
            "minutes": minutes(policy.max_minutes),
            "memo": text(ledger.MEMO_MAX_LENGTH, pattern=NOT_BLANK, description="The reason; stays with the centre."),
            "need": CATEGORY,
        }, ["to_member_id", "minutes", "memo", "need"]),
        "BudgetAllocation": request_shape({
            "option_ids": {**option_ids, "description": "The ballot's options to fund, together within its budget."},
        }, ["option_ids"]),
    }


def governance_paths() -> dict:
    proposal_id, assembly_id = path_id("proposal_id"), path_id("assembly_id")
    coordinators = "Coordinators only (403 for members)."
    proposal = {"proposal": ref("Proposal")}
    vote = {"vote": shape({"option": ID_SCHEMA, "replaced": {"type": "boolean"}}), "receipt": RECEIPT}
    vote_answer = {"type": "object", "properties": vote, "required": ["vote"], "additionalProperties": False}
    assembly = {"assembly": ref("Assembly")}
    grant_request = {200: one("grant_request", "GrantRequest", "Decided: granted (yes > no) or refused.")}
    return {
        "/proposals": {
            "get": op("Proposals open now (closing first) and the latest closed ones", {200: ok("The proposals.", {
                "open": {"type": "array", "items": ref("Proposal")},
                "closed": {"type": "array", "items": ref("Proposal"), "maxItems": proposals.RECENT_CLOSED}})},
                "401"),
            "post": op("Put a question to the members (or, a coordinator, to the board)",
                       {201: ok("The open proposal.", proposal)}, "400 401 403 409", security=MEMBER_CSRF,
                       body=json_body("NewProposal"),
                       description="403: the author is not in the register (not_in_register) or a member asks "
                                   "the board (board_by_coordinator); 409 no_board: no one holds a board seat."),
        },
        "/proposals/{proposal_id}": {
            "get": op("A proposal: its options, one's vote, and the results once it closed",
                      {200: ok("The proposal.", proposal)}, "401 404", parameters=[proposal_id]),
        },
        "/proposals/{proposal_id}/votes": {
            "post": op("Vote, or change one's vote", {
                201: ok("The first vote (a secret ballot's answer holds its receipt, given only now).",
                        schema=vote_answer),
                200: ok("It replaced one's earlier vote.", schema=vote_answer)},
                "400 401 403 404 409", security=MEMBER_CSRF, parameters=[proposal_id], body=json_body("NewVote"),
                description="403 not_eligible: not in the register on the record date (or not on the board); "
                            "409: closed (proposal_closed), or a secret ballot voted again without its "
                            "receipt (already_voted)."),
        },
        "/proposals/{proposal_id}/messages": {
            "get": op("The proposal's discussion, oldest first",
                      {200: many("messages", "ProposalMessage", "The thread.")}, "401 404", parameters=[proposal_id]),
            "post": op("A word in the discussion (voters and the author, until it closes)",
                       {201: one("message", "ProposalMessage", "Posted.")}, "400 401 403 404 409",
                       security=MEMBER_CSRF, parameters=[proposal_id], body=json_body("NewMessage")),
        },
        "/proposals/{proposal_id}/receipt": {
            "post": op("Whether a secret ballot's receipt is counted; after close, for which option", {
                200: ok("The check.", {"counted": {"type": "boolean"}, "option": nullable(
                    {**ID_SCHEMA, "description": "The option it counted for; null until the ballot closes."})})},
                "400 401 404 409", security=MEMBER_CSRF, parameters=[proposal_id], body=json_body("ReceiptCheck"),
                description="409 not_secret: an open ballot, whose votes show on the page."),
        },
        "/assemblies": {
            "post": op("Call a general assembly: its notice goes to every member in the register",
                       {201: ok("The assembly.", assembly)}, "400 401 403", security=MEMBER_CSRF,
                       body=json_body("NewAssembly"), description=coordinators),
        },
        "/assemblies/{assembly_id}": {
            "get": op("An assembly with its quorum now and its motions", {200: ok("The assembly.", {
                **assembly, "eligible": COUNT, "present": COUNT, "proxies": COUNT, "total": COUNT,
                "needed": {"type": "integer", "minimum": 1}, "quorum_met": {"type": "boolean"},
                "motions": {"type": "array", "items": ref("Motion")}})},
                "401 403 404", parameters=[assembly_id], description=coordinators),
        },
        "/assemblies/{assembly_id}/attendance": {
            "post": op("The register at the door: a member present, a proxy they hold, or a card (and PIN)", {
                201: ok("Recorded, with the quorum now.", {
                    "attendance": shape({"id": ID_SCHEMA, "member_id": ID_SCHEMA,
                                         "proxy_for_member_id": nullable(ID_SCHEMA),
                                         "method": enum_of(AttendanceMethod)}),
                    "present": COUNT, "proxies": COUNT, "quorum_met": {"type": "boolean"}})},
                "400 401 403 404 409", security=MEMBER_CSRF, parameters=[assembly_id],
                body=json_body("Attendance"),
                description=f"{coordinators} 409: closed, not in the register on the record date, already "
                            "present or represented, or a card that cannot be used."),
        },
        "/assemblies/{assembly_id}/motions": {
            "post": op("Put a motion on the agenda (a bylaw change is a special resolution)",
                       {201: one("motion", "Motion", "The motion, not yet counted.")}, "400 401 403 404 409",
                       security=MEMBER_CSRF, parameters=[assembly_id], body=json_body("NewMotion"),
                       description=coordinators),
        },
        "/assemblies/{assembly_id}/officers": {
            "post": op("The chair, the two tellers and the members who sign the minutes, all present", {
                200: ok("The assembly and its signers.", {**assembly, "signer_ids": {
                    "type": "array", "items": ID_SCHEMA}})}, "400 401 403 404 409", security=MEMBER_CSRF,
                parameters=[assembly_id], body=json_body("Officers"), description=coordinators),
        },
        "/motions/{motion_id}/tally": {
            "post": op("The tellers' count of a motion: final", {200: ok("Counted.", {
                "passed": {"type": "boolean"}, "threshold": {"type": "integer", "minimum": 1},
                "quorum_met": {"type": "boolean"}, "motion": ref("Motion")})},
                "400 401 403 404 409", security=MEMBER_CSRF, parameters=[path_id("motion_id")],
                body=json_body("Tally"),
                description=f"{coordinators} 409: already counted, tellers not chosen, or the assembly closed."),
        },
        "/assemblies/{assembly_id}/close": {
            "post": op("Close the assembly after it was held and seal its minutes",
                       {200: ok("Closed, with the minutes' SHA-256.", assembly)}, "400 401 403 404 409",
                       security=MEMBER_CSRF, parameters=[assembly_id],
                       description=f"{coordinators} 409: not yet held, officers not set, a motion not counted, "
                                   "or already closed."),
        },
        "/assemblies/{assembly_id}/minutes.pdf": {
            "get": op("The minutes: the sealed PDF once closed, else a fresh DRAFT", {200: {
                "description": "The PDF (Content-Disposition names it).",
                "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}}},
                "401 403 404", parameters=[assembly_id], description=coordinators),
        },
        "/governance/voice-report": {
            "get": op("Who takes part in the co-op's decisions, by member class, for a quarter",
                      {200: ok("The report.", schema=ref("VoiceReport"))}, "400 401",
                      parameters=[query("quarter", text(), "YYYY-Qn, e.g. 2026-Q3 (default: the last full "
                                                           "quarter); anything else is 400 invalid_quarter.")]),
        },
        "/governance/pool-grants": {
            "get": op("The community pool's rule and its latest grants, without names", {200: ok("The grants.", {
                "policy": text(description="The pool's rule in a sentence."),
                "grants": {"type": "array", "maxItems": 100, "items": shape({
                    "granted_at": DATE_TIME, "minutes": {"type": "integer", "minimum": 1},
                    "need": nullable(CATEGORY), "decided_by": {"type": "string", "enum": list(pool.HOW_DECIDED)},
                    "beneficiary_class": MEMBER_CLASS})}})}, "401"),
        },
        "/governance/grant-requests": {
            "post": op("Put a grant above the coordinator's limit to a ballot of the board or the members",
                       {201: one("grant_request", "GrantRequest", "Open, with its ballot.")}, "400 401 403 404 409",
                       security=MEMBER_CSRF, body=json_body("NewGrantRequest"), description=coordinators),
        },
        "/governance/grant-requests/{request_id}/decision": {
            "post": op("Carry out a closed grant ballot's decision, once", grant_request, "400 401 403 404 409",
                       security=MEMBER_CSRF, parameters=[path_id("request_id")],
                       description=f"{coordinators} 409: the ballot is still open (ballot_still_open), already "
                                   "decided, or the pool is short."),
        },
        "/governance/budgets/{proposal_id}/allocation": {
            "post": op("One's picks on a budget ballot, replacing earlier ones", {200: ok("The picks.", {
                "option_ids": {"type": "array", "items": ID_SCHEMA}})}, "400 401 403 404 409",
                security=MEMBER_CSRF, parameters=[proposal_id], body=json_body("BudgetAllocation"),
                description="400 over_budget: the picks come to more than the budget; 403 not_eligible; "
                            "409 ballot_closed."),
        },
    }


def describe(policy: Policy) -> dict:
    """The whole OpenAPI document for this bank's policy (its minutes limits)."""
    paths = {**session_paths(), **reset_paths(), **post_paths(), **exchange_paths(policy), **message_paths(),
             **ledger_paths(), **notification_paths(), **push_paths(), **care_plan_paths(), **visit_paths(),
             **governance_paths()}
    spec_path = {"get": {"summary": "This description", "security": [], "responses": {
        "200": ok("An OpenAPI 3.1 document.", schema={"type": "object"})}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "carebank API", "version": "1",
            "description": "The JSON API of the care time bank. Log in (POST /api/v1/session) to get the "
                           "session cookie; send the csrf_token from GET /api/v1/session as X-CSRFToken "
                           "with every POST, PATCH and DELETE. Minutes are whole numbers. Errors answer "
                           "{\"error\": {\"code\", \"message\", \"fields\"?}} in the request's language.",
        },
        "servers": [{"url": "/"}],
        "paths": {SPEC_PATH: spec_path, **{PREFIX + path: item for path, item in paths.items()}},
        "components": components(policy),
    }


def openapi_json():
    return jsonify(describe(current_policy()))


# Outside the blueprint's /api/v1 prefix, beside the versions it describes.
api.record_once(lambda state: state.app.add_url_rule(SPEC_PATH, "api.openapi", openapi_json, methods=["GET"]))
