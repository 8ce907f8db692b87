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
        "schemas": {**answer_schemas(policy), **request_schemas(policy), **visit_schemas(policy)},
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
                       security=MEMBER_CSRF, body=json_body("Grant")),
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


def describe(policy: Policy) -> dict:
    """The whole OpenAPI document for this bank's policy (its minutes limits)."""
    paths = {**session_paths(), **reset_paths(), **post_paths(), **exchange_paths(policy), **message_paths(),
             **ledger_paths(), **notification_paths(), **push_paths(), **care_plan_paths(), **visit_paths()}
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
