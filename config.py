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
    # so every worker shares them.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # PIN tries per carer (one phone testing many cards); each card also locks after 5 wrong PINs.
    CHECKIN_PIN_RATE_LIMIT = "10 per minute"
    # Balances at or below this show in the centre's "far below zero" report (10 hours).
    REPORT_LOW_BALANCE_MINUTES = -600
    # Run Alembic migrations when app.py is loaded, so `flask --app app run` needs no set-up.
    AUTO_MIGRATE = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Phones keep a page open for hours; a token that lives as long as the session avoids
    # "the form expired" after a long visit.
    WTF_CSRF_TIME_LIMIT = None


class TestConfig(Config):
    """Used by the test suite: no auto-migration (fixtures migrate), deterministic locale."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    AUTO_MIGRATE = False
    SERVER_NAME = None
