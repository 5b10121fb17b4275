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
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
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
    # /dev/outbox shows the outbox in the browser: development only.
    DEV_OUTBOX_PAGE = False
    # With no MAIL_SERVER, write due emails to the log (development, tests). Otherwise they
    # stay in the outbox until a server is configured.
    OUTBOX_LOG_WITHOUT_MAIL_SERVER = False

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Requests per client address to pages opened by a secret link (/manage/..., /book/<token>).
    LINK_RATE_LIMIT = os.environ.get("LINK_RATE_LIMIT", "60 per minute; 600 per day")
    # Staff sign-in: attempts per client address, and failed attempts per account.
    SIGN_IN_ADDRESS_LIMIT = "30 per minute"
    SIGN_IN_ACCOUNT_LIMIT = "5 per 15 minutes"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Flask-WTF refuses HTTPS form posts that carry no Referer, but pages opened by a secret
    # link and staff pages send none (Referrer-Policy: no-referrer). The signed token in the
    # form and the SameSite session cookie are the protection against forged posts.
    WTF_CSRF_SSL_STRICT = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Security headers (clinic/security_headers.py). Who may show the patient pages in a
    # frame: 'none', 'self' or space-separated origins (https://www.clinic.example).
    CLINIC_FRAME_ANCESTORS = os.environ.get("CLINIC_FRAME_ANCESTORS", "'none'")
    STRICT_TRANSPORT_SECURITY = False  # HSTS, sent only on HTTPS responses
    # Proxies in front of the app whose X-Forwarded-For, -Proto and -Host are trusted.
    # 0: none, so a client can't claim another address with those headers.
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    MAX_CONTENT_LENGTH = 64 * 1024
    # Days of free times shown per page of the slot picker.
    BOOKING_DAYS_PER_PAGE = 7


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


class TestingConfig(Config):
    TESTING = True
    OUTBOX_LOG_WITHOUT_MAIL_SERVER = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"


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
