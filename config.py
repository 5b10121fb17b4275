"""Configuration classes, read from the environment (a ``.env`` file is loaded first).

``CLINIC_ENV`` picks the class: ``production`` (the default, for ``gunicorn wsgi:app``),
``development`` (what ``make run`` uses) or ``testing``.
"""

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'clinic.db'}"
    )
    # How long a SQLite writer waits for another's write lock before the request gives up.
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000"))
    CLINIC_BASE_URL = os.environ.get("CLINIC_BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "bookings@clinic.example")
    MAIL_SUPPRESS_SEND = False  # Flask-Mail would otherwise not send when TESTING is set
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "20"))  # seconds, per SMTP operation
    # Attempts before a message is marked failed (retries back off from 1 minute to 1 hour).
    OUTBOX_MAX_ATTEMPTS = 10
    # How long a worker holds the messages it claimed. A worker that dies mid-batch leaves them
    # claimed this long; then another worker sends them (a message it had already sent goes
    # again, with the same Message-ID). Keep it well above the longest batch: 20 messages,
    # each allowed MAIL_TIMEOUT per SMTP step.
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "900"))
    # /dev/outbox shows the outbox in the browser: development only.
    DEV_OUTBOX_PAGE = False
    # With no MAIL_SERVER, write due emails to the log (development, tests). Otherwise they
    # stay in the outbox until a server is configured.
    OUTBOX_LOG_WITHOUT_MAIL_SERVER = False

    # Rate limits per client address, in Flask-Limiter's notation ("; " between several); what
    # each covers and why the defaults suit one office sharing an address:
    # clinic/web/rate_limits.py.
    # memory:// counts per process: use Redis when several processes or hosts serve. Should
    # Redis fail, each process counts in memory until it is back, rather than refuse requests.
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "clinic")
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False  # clinic/web/error_pages.py sets Retry-After on a 429 itself
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "20 per minute; 100 per hour")
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    API_BOOKING_RATE_LIMIT = os.environ.get("API_BOOKING_RATE_LIMIT", "20 per minute; 100 per hour")
    LINK_RATE_LIMIT = os.environ.get("LINK_RATE_LIMIT", "60 per minute; 2000 per day")
    SIGN_IN_ADDRESS_LIMIT = os.environ.get("SIGN_IN_ADDRESS_LIMIT", "30 per minute")
    SIGN_IN_ACCOUNT_LIMIT = os.environ.get("SIGN_IN_ACCOUNT_LIMIT", "5 per 15 minutes")

    # How new staff passwords are hashed (werkzeug's notation): its default, scrypt, is slow
    # on purpose, against guessing from a stolen hash.
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Flask-WTF refuses HTTPS form posts that carry no Referer, but pages opened by a secret
    # link and staff pages send none (Referrer-Policy: no-referrer). The signed token in the
    # form and the SameSite session cookie are the protection against forged posts.
    WTF_CSRF_SSL_STRICT = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Security headers (clinic/web/headers.py). Who may show the patient pages in a
    # frame: 'none', 'self' or space-separated origins (https://www.clinic.example).
    CLINIC_FRAME_ANCESTORS = os.environ.get("CLINIC_FRAME_ANCESTORS", "'none'")
    STRICT_TRANSPORT_SECURITY = False  # HSTS, sent only on HTTPS responses
    # Proxies in front of the app whose X-Forwarded-For, -Proto and -Host are trusted.
    # 0: none, so a client can't claim another address with those headers.
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    MAX_CONTENT_LENGTH = 64 * 1024
    # Days per page of the slot pickers: the patient's pages show one at a time beside a strip
    # of them, the staff's pickers all of them.
    BOOKING_DAYS_PER_PAGE = 7
    # Seconds an anonymous answer of /book or /api/v1/slots is served again as it was
    # (clinic/web/kept_answers.py); 0 turns this off.
    RECENT_ANSWER_SECONDS = float(os.environ.get("RECENT_ANSWER_SECONDS", "2"))
    # Practitioners' own calendars (clinic/own_calendars). The keys that encrypt their secrets:
    # Fernet keys, comma-separated, the first encrypting and every one decrypting (to rotate,
    # put a new key first). Needed in production before a calendar can be connected; elsewhere
    # one is derived from SECRET_KEY.
    CALENDAR_SECRETS_KEY = os.environ.get("CALENDAR_SECRETS_KEY", "")
    CALENDAR_KEY_FROM_SECRET_KEY = False
    # Calendar servers on private or loopback addresses (a clinic's own Nextcloud on its LAN).
    CALENDAR_ALLOW_PRIVATE_HOSTS = _flag("CALENDAR_ALLOW_PRIVATE_HOSTS")
    CALENDAR_MAX_BYTES = int(os.environ.get("CALENDAR_MAX_BYTES", str(5 * 1024 * 1024)))
    # Minutes between two reads of a practitioner's calendar by `flask worker`.
    CALENDAR_SYNC_MINUTES = float(os.environ.get("CALENDAR_SYNC_MINUTES", "5"))
    # Hours without a good read after which staff pages say a calendar's busy times are old.
    CALENDAR_STALE_HOURS = float(os.environ.get("CALENDAR_STALE_HOURS", "24"))


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    STRICT_TRANSPORT_SECURITY = True

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production (see README, Configuration)")


class DevelopmentConfig(Config):
    SECRET_KEY = Config.SECRET_KEY or "development-only-secret"
    DEV_OUTBOX_PAGE = True
    OUTBOX_LOG_WITHOUT_MAIL_SERVER = True
    CALENDAR_KEY_FROM_SECRET_KEY = True


class TestingConfig(Config):
    TESTING = True
    OUTBOX_LOG_WITHOUT_MAIL_SERVER = True
    CALENDAR_KEY_FROM_SECRET_KEY = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Unthrottled, except where a test sets a limit on purpose (running_app(..., NAME="3 per
    # minute")). Failed sign-ins per account keep their real limit: tests assert it. Counters
    # stay in each test app's own memory whatever the environment says.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    BOOKING_RATE_LIMIT = API_RATE_LIMIT = API_BOOKING_RATE_LIMIT = "100000 per minute"
    LINK_RATE_LIMIT = SIGN_IN_ADDRESS_LIMIT = "100000 per minute"
    # Cheap hashes: the suite creates and signs into accounts thousands of times, and scrypt
    # costs a tenth of a second each. Tests of the production method set it back.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def from_environment() -> Config:
    name = os.environ.get("CLINIC_ENV", "production")
    if name not in CONFIGS:
        raise RuntimeError(f"CLINIC_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
