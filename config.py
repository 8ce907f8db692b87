"""Configuration classes; any value can be overridden by a CAREBANK_* environment variable."""


class Config:
    """Defaults for running the app; production values come from CAREBANK_* variables."""

    # None means: generate one on first start and keep it in instance/secret_key.
    SECRET_KEY = None
    # None means: an SQLite file in the instance folder.
    DATABASE_URL = None
    # Absolute origin used in QR codes, e.g. https://carebank.example.org; None = the request's.
    BASE_URL = None
    # Seconds a confirmation code stays valid: a day, so a visit without signal can be confirmed later.
    CONFIRMATION_CODE_TTL = 24 * 60 * 60
    MIN_BALANCE_MINUTES = -1200
    MAX_MINUTES_PER_TRANSFER = 1440
    POST_LIFETIME_DAYS = 30
    DEFAULT_LOCALE = "ko"
    DEFAULT_TIMEZONE = "Asia/Seoul"
    LANGUAGES = ("ko", "en")
    # Where rate-limit counters live: memory (one process), or e.g. redis://127.0.0.1:6379/0
    # so every worker shares them (memory under gunicorn with several workers: a warning at start).
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Said outright: Flask-Limiter otherwise inherits the last app's choice in this process.
    RATELIMIT_ENABLED = True
    # Redis down: count in this process's memory meanwhile, rather than fail every login.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Limits (carebank/rate_limits.py); "; " joins several. Failed logins on one account from
    # one address: a member who mistypes is never near it, a password guesser is.
    LOGIN_RATE_LIMIT = "10 per minute; 50 per hour"
    # Failed logins from one address, whatever accounts it tries. Above the one before: a
    # centre's Wi-Fi is one address for everyone there.
    LOGIN_ADDRESS_RATE_LIMIT = "20 per minute; 100 per hour"
    # Never a limit per account alone (anyone could lock a member out). Once an account has
    # had this many failed logins, from any addresses, each address that failed on it waits
    # FIRST_WAIT seconds before its next try, doubling with every further failure on the
    # account, up to MAX_WAIT. An address that has not failed (the member's phone) goes in.
    LOGIN_SLOWDOWN_AFTER = "10 per 15 minutes"
    LOGIN_SLOWDOWN_FIRST_WAIT = 2
    LOGIN_SLOWDOWN_MAX_WAIT = 60
    # Sign-up attempts per address. A centre helping many people sign up on its own Wi-Fi
    # (one address) raises it for the day.
    SIGNUP_RATE_LIMIT = "5 per hour"
    # Code redemptions per member: a phone sending a day's queued visits stays well inside it.
    REDEEM_RATE_LIMIT = "30 per minute"
    # PIN tries per carer (one phone testing many cards); each card also locks after 5 wrong PINs.
    CHECKIN_PIN_RATE_LIMIT = "10 per minute"
    # Password reset requests, per address asked for and per client address (pages and API together).
    RESET_RATE_LIMIT = "5 per hour"
    # Outgoing mail (password reset links). No server: each message is written to instance/mail/
    # as an .eml file instead. MAIL_USE_TLS: STARTTLS before logging in with the username.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "carebank@localhost"
    # Messages written by one member between the two people of an exchange, pages and API together.
    MESSAGE_RATE_LIMIT = "20 per minute"
    # The task queue (Huey) that delivers notifications: None keeps it in instance/tasks.sqlite3
    # and runs it inside the app, so nothing else need be started; redis://127.0.0.1:6379/1 for
    # a real bank, with `flask --app app worker` processes beside the web workers.
    TASK_QUEUE_URL = None
    # Web Push (VAPID): None generates a key pair once into instance/vapid_private_key.pem.
    VAPID_PRIVATE_KEY = None
    VAPID_SUBJECT = "mailto:carebank@localhost"
    # Push services must be https://; tests run one on loopback over plain HTTP.
    PUSH_ALLOW_LOOPBACK = False
    # Balances at or below this show in the centre's "far below zero" report (10 hours).
    REPORT_LOW_BALANCE_MINUTES = -600
    # Matches suggested for a post are ranked once and kept: ranked again when any post is added,
    # when one shown is no longer open, and at the latest after this many seconds (a neighbour's
    # languages or visits changed, posts aged); 0 ranks on every view.
    SUGGESTIONS_KEPT_SECONDS = 300
    # How long a request queues for SQLite's write lock before answering 503 "try again".
    SQLITE_BUSY_TIMEOUT_MS = 30000
    # The largest body a request may carry, in bytes: the longest form (a post's 4,000-character
    # description, percent-encoded) or JSON body is under 40 KB. Larger is refused with 413
    # before anything reads it. Parts of a multipart form, likewise (no form has 30 fields; a
    # URL-encoded form is one string, which the body limit bounds).
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_PARTS = 100
    # Run Alembic migrations when app.py is loaded, so `flask --app app run` needs no set-up.
    AUTO_MIGRATE = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Cookies travel over HTTPS only. carebank/security.py drops the flag on plain HTTP to
    # this machine (localhost, 127.0.0.1), where it protects nothing and some browsers would
    # refuse the cookie, so `flask --app app run` works as it is. To try the app over plain
    # HTTP from another device, set CAREBANK_SESSION_COOKIE_SECURE=false (and the same for
    # REMEMBER_COOKIE_SECURE) — never in production.
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # How many reverse proxies stand in front of the app: their X-Forwarded-For and
    # X-Forwarded-Proto are believed (client address for rate limits, HTTPS for HSTS and
    # cookies). 0: none, and those headers are ignored, since anyone can send them.
    TRUST_PROXY = 0
    # Phones keep a page open for hours; a token that lives as long as the session avoids
    # "the form expired" after a long visit.
    WTF_CSRF_TIME_LIMIT = None


class TestConfig(Config):
    """Used by the test suite: no auto-migration (fixtures migrate), deterministic locale."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    AUTO_MIGRATE = False
    SERVER_NAME = None
    # Limits stay on (every guarded view runs its key functions) but high enough that tests
    # logging in many phones or racing many redemptions never meet them; tests of the limits
    # set their own. Every create_app gives the limiter (one per process) fresh memory
    # counters, so each test's app starts from zero.
    LOGIN_RATE_LIMIT = SIGNUP_RATE_LIMIT = REDEEM_RATE_LIMIT = "1000 per minute"
    LOGIN_ADDRESS_RATE_LIMIT = "1000 per minute"
    LOGIN_SLOWDOWN_AFTER = "1000 per 15 minutes"
    RESET_RATE_LIMIT = "1000 per minute"
