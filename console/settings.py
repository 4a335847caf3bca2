"""Settings come from the environment, with defaults that need no setup.

Unset DATABASE_URL means a SQLite file under var/; unset SECRET_KEY and
ENCRYPTION_KEYS mean keys generated once into var/.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def key_from_file(name, make):
    """Read a key kept in var/, creating it on first use."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_flag("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY") or key_from_file(
    "secret_key", lambda: secrets.token_urlsafe(50)
)
# Fernet keys, newest first: the first encrypts, all decrypt (rotation).
ENCRYPTION_KEYS = (
    os.environ.get("ENCRYPTION_KEYS")
    or key_from_file("encryption_keys", lambda: Fernet.generate_key().decode())
).split(",")

ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # /api/docs from local static files (no CDN, no inline script)
    "console.accounts",
    "console.api",
    "console.system",
    "console.connections",
    "console.datamodels",
    "console.syncs",
    "console.targets",
    "console.engine",
    "console.bulk",
    "console.audit",
    "console.access",
    "console.schemas",
    "console.queries",
    "console.proxy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "console.security.ContentSecurityPolicyMiddleware",
    "console.api.middleware.ApiConventionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.accounts.middleware.CurrentOrganizationMiddleware",
    "console.accounts.middleware.RoleMiddleware",
    "console.audit.middleware.AuditMiddleware",
    "console.connections.middleware.ProbesBusyMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.accounts.context_processors.organizations",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'console.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        # A transaction takes the write lock when it begins, so a concurrent writer waits for it
        # (timeout) instead of failing with "database is locked" when it reads before writing.
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that worker processes in tests see the same data;
    # one per test run, so that runs side by side don't share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "signin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_flag("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "engine-sweep": {"task": "engine.sweep", "schedule": 30.0},
    "engine-dispatch-due-syncs": {"task": "engine.dispatch_due_syncs", "schedule": 20.0},
    "bulk-sweep": {"task": "bulk.sweep", "schedule": 30.0},
    "bulk-dispatch-due-syncs": {"task": "bulk.dispatch_due_syncs", "schedule": 20.0},
    "queries-expire": {"task": "queries.expire", "schedule": 600.0},
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# Calls per minute per API key (or per client address without a key); sign-in
# attempts per email per 15 minutes.
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))
SIGNIN_ATTEMPTS_PER_15_MINUTES = int(os.environ.get("SIGNIN_ATTEMPTS_PER_15_MINUTES", "10"))
# Per client address: sign-in attempts (any account) per 15 minutes, wrong API keys per
# 15 minutes, sign-ups per hour.
SIGNIN_ATTEMPTS_PER_IP_PER_15_MINUTES = int(os.environ.get("SIGNIN_ATTEMPTS_PER_IP_PER_15_MINUTES", "30"))
API_KEY_FAILURES_PER_IP_PER_15_MINUTES = int(os.environ.get("API_KEY_FAILURES_PER_IP_PER_15_MINUTES", "30"))
SIGNUPS_PER_IP_PER_HOUR = int(os.environ.get("SIGNUPS_PER_IP_PER_HOUR", "5"))
# Anyone may create an organization at /signup only when this is on; otherwise the first
# admin comes from `manage.py create_admin` (or the demo) and admins add members.
ALLOW_SIGNUP = env_flag("ALLOW_SIGNUP", default=False)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # pages send the token from the template, never read the cookie
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# OAuth consent opens in a popup that comes back to our callback and tells its opener;
# "same-origin" would cut the popup from its opener once it visits the provider.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin-allow-popups"
# Production behind HTTPS: SECURE_COOKIES=1 marks cookies Secure and sends HSTS (on HTTPS
# requests); SECURE_SSL_REDIRECT=1 also redirects plain HTTP, and a TLS-terminating proxy
# says so with X-Forwarded-Proto when TRUST_X_FORWARDED_PROTO=1.
SECURE_COOKIES = env_flag("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = 31_536_000 if SECURE_COOKIES else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=False)
if env_flag("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Where each provider lives. Production keeps the real hosts; the demo and the
# tests point them at the sandbox server.
SANDBOX_URL = os.environ.get("SANDBOX_URL", "").rstrip("/")
SNOWFLAKE_ENDPOINT = os.environ.get("SNOWFLAKE_ENDPOINT", "")
# The folder whose files SQLite connections may open (paths relative to it); unset, SQLite
# connections are not offered and stored ones fail. `make run` sets it to var/demo-files.
FILE_CONNECTIONS_DIR = os.environ.get("FILE_CONNECTIONS_DIR", "")
# Private, loopback, link-local and other non-public addresses a tenant's connection may
# still reach: CIDRs or host:port (integrations/egress.py). `make run` allows the sandbox
# and the demo warehouse.
EGRESS_ALLOW = [entry.strip() for entry in os.environ.get("EGRESS_ALLOW", "").split(",") if entry.strip()]

# A web request that talks to a tenant's warehouse or provider (connection tests, discovery,
# previews) ends within PROBE_TIMEOUT_SECONDS; at most PROBE_CONCURRENCY of them run at once
# per process, which must stay below WEB_THREADS (the waitress threads `make run` starts).
PROBE_TIMEOUT_SECONDS = float(os.environ.get("PROBE_TIMEOUT_SECONDS", "10"))
PROBE_CONCURRENCY = int(os.environ.get("PROBE_CONCURRENCY", "8"))
WEB_THREADS = int(os.environ.get("WEB_THREADS", "16"))
# Ad-hoc queries (POST /api/connections/{id}/query): how long their results are kept, and
# how many rows of one are kept at most.
QUERY_RESULTS_HOURS = float(os.environ.get("QUERY_RESULTS_HOURS", "24"))
QUERY_MAX_ROWS = int(os.environ.get("QUERY_MAX_ROWS", "10000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
