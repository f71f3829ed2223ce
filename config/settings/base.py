"""Settings read from the environment (django-environ).

Every variable is listed, with its default, in the README's Configuration table.
With DJANGO_DEBUG=true (the demo) nothing is required; in production the
secrets have no default and a missing one stops the process at start-up.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Production secrets have no default: the process refuses to start without them.
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="insecure-demo-key-only-for-debug" if DEBUG else environ.Env.NOTSET
)
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: a long random string (it signs sessions).")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL of this service, used for webhook URLs and signature checks.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "outreach",
    "campaigns",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "console.context.console",
            ],
        },
    },
]

# PostgreSQL everywhere: in production, in the tests, and in the demo, whose private server
# (config.demo, started by `make run`) listens on a socket under .demo/postgres/.
DEMO_DIR = Path(env.str("AMANI_DEMO_DIR", default="") or BASE_DIR / ".demo")
DEMO_DATABASE_URL = f"postgres://postgres@/amani?host={DEMO_DIR / 'postgres'}&port=5432"
DATABASES = {
    "default": env.db("DATABASE_URL", default=DEMO_DATABASE_URL if DEBUG else environ.Env.NOTSET)
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's PostgreSQL backend, health-checked without a round trip (config/postgresql/base.py).
POSTGRESQL_ENGINE = "config.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
# A streaming replica the funder reports read from (config/db_router.py); empty: none.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "ENGINE": POSTGRESQL_ENGINE,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
    }
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "outreach.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The console's languages; an organization is offered those it writes in (and English).
LANGUAGES = [("en", "English"), ("sw", "Kiswahili"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "console" / "locale"]
LOGIN_URL = "console:sign-in"
LOGIN_REDIRECT_URL = "console:home"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Behind a TLS-terminating proxy (docker-compose puts one in front in production).
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG and env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Fernet keys for secrets at rest (channel auth tokens), newest first; derived from the secret
# key when unset. See outreach/encryption.py.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# Signed bundles between Amani servers (campaigns/bundles.py): this server's name and its Ed25519
# key (base64 of a 32-byte seed); derived from the secret key when unset.
AMANI_SERVER_NAME = env.str("AMANI_SERVER_NAME", default="") or PUBLIC_BASE_URL.split("://")[-1]
AMANI_BUNDLE_SIGNING_KEY = env.str("AMANI_BUNDLE_SIGNING_KEY", default="")

# --- Twilio -------------------------------------------------------------------
# Points the official SDK at a Twilio-compatible endpoint (a compatible provider, or tests).
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)

# --- Meta (WhatsApp Cloud API, Messenger, Page posts) and Telegram -----------
# Where their HTTP APIs are: the real ones by default, a local server in tests.
META_GRAPH_BASE_URL = env.str("META_GRAPH_BASE_URL", default="https://graph.facebook.com/v21.0")
TELEGRAM_API_BASE_URL = env.str("TELEGRAM_API_BASE_URL", default="https://api.telegram.org")
# Seconds a call to Meta's or Telegram's API may take before it counts as in doubt.
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
# Provider calls in flight per dispatching worker: enough to fill a channel's rate when each
# call takes a few hundred milliseconds.
DISPATCH_CONCURRENCY = env.int(
    "DISPATCH_CONCURRENCY",
    default=16 if env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="")) else 1,
)  # one at a time in the demo, whose tasks run in-process
# A claimed message not recorded within this long goes back to the queue (its worker died).
DISPATCH_LEASE_SECONDS = env.int("DISPATCH_LEASE_SECONDS", default=120)
# Dispatchers working one channel at once, across all workers (slots in Redis).
DISPATCHERS_PER_CHANNEL = env.int("DISPATCHERS_PER_CHANNEL", default=2)

# --- Redis and Celery -------------------------------------------------------
# Without a broker (the demo) Celery runs every task in-process, at once.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Shared by every process (API throttling counts across gunicorn workers); per-process in the demo.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request ½ s at most; the throttle fails open.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Never used (tasks run in-process), but kombu, asked about a broker, wants one to name.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Tasks are written to be idempotent, so a message is acknowledged only once the
# task is done and goes back to the queue if the worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Redis redelivers an unacknowledged task after this long: it must exceed the time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 4}
# Redis keeps a list per priority step and workers take from priority 0 first: a STOP's
# routing and its goodbye (priority 0) overtake the welcomes (5) waiting in the same queue.
CELERY_TASK_DEFAULT_PRIORITY = 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "priority"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so a request without credentials gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["outreach.api.permissions.HasOrganizationRole"],
    "DEFAULT_PARSER_CLASSES": [
        "outreach.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "outreach.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "outreach.api.errors.exception_handler",
    # Counted in the cache (Redis); while it is down requests pass, with a log line a minute.
    "DEFAULT_THROTTLE_CLASSES": ["outreach.api.throttling.FailOpenUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_RATE", default="6000/hour")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Amani API",
    "DESCRIPTION": (
        "Peace messaging for NGOs. Authenticate with `Authorization: Token <key>`; "
        "a member of several organizations picks one with the `X-Organization` header "
        '(its slug). Every error has the shape `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from this process (drf-spectacular-sidecar): the docs need no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "persistAuthorization": True},
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations grouped by area, each area described (config.openapi.AREAS).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.group_by_area",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelKindEnum": "outreach.models.channels.ChannelKind",
        "ConsentKindEnum": "outreach.models.subscribers.ConsentKind",
        "WaveStatusEnum": "campaigns.models.WaveStatus",
        "MemberStatusEnum": "campaigns.models.MemberStatus",
        "VersionStateEnum": "campaigns.models.VersionState",
        "CountryStateEnum": "campaigns.models.CountryState",
        "TermStateEnum": "campaigns.models.TermState",
        "LibraryDecisionEnum": "campaigns.models.Decision",
    },
}

# --- Logging: one line per event, never a phone number (see outreach.privacy) -----
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_phone_numbers": {"()": "outreach.privacy.MaskPhoneNumbers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_phone_numbers"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's own console handler, so each line is printed (and masked) once.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # The SDK logs every request at INFO; ours say what matters, without numbers.
        "twilio": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # logs each request URL at INFO (a bot token is in it)
        "httpcore": {"level": "WARNING"},
    },
}

# Health: how long each readiness probe may take before it counts as down.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=1.0)
# The bearer token Prometheus scrapes /metrics with; empty: there is no /metrics (404).
AMANI_METRICS_TOKEN = env.str("AMANI_METRICS_TOKEN", default="")
