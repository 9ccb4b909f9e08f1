"""Settings shared by every environment. Everything that differs between machines comes from the
environment (see `.env.example`)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from this site (no CDN)
    "simple_history",
    "django_celery_beat",
    "axes",  # before core: its lock-out check runs before core's log-in event is written
    "core",
    "ledger",
    "consent",
    "compensation",
    "reports",
    "privacy",
    "portal",
    # Last, so that the apps' admin templates (reports' base_site.html and index.html: the
    # stylesheet and the dashboard) override the stock ones.
    "django.contrib.admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.security.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lock-out into a 429
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Site-wide admin overrides (the capped result count of core.admin.pagination).
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
# Consent evidence (signed writings, riders) is kept through the storage API; larger uploads are
# refused with `evidence_too_large`.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=25 * 1024 * 1024)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="guild-ledger@localhost")
# Where people reach the product: the links in its e-mails (open items, signing and personal
# pages) are built on it, never on the Host header of whichever request sent them.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long the link of a consent request stays valid (a reminder sends a new one).
CONSENT_REQUEST_LINK_DAYS = env.int("CONSENT_REQUEST_LINK_DAYS", default=14)
# Requests a minute one address may make to the signing and personal pages.
PORTAL_RATE_LIMIT = env.int("PORTAL_RATE_LIMIT", default=30)
# How long the link to a person's own page, and the page's session it opens, stay valid.
PERSONAL_LINK_MINUTES = env.int("PERSONAL_LINK_MINUTES", default=30)

# The installation's Ed25519 key (base64 of the 32-byte private key): it signs the ledger's
# checkpoints and the statements the product publishes. Its public key is published at
# /.well-known/guild-ledger-keys.json. Local and test settings use a fixed key anyone can read.
SIGNING_KEY = env("SIGNING_KEY", default="")
TEST_SIGNING_KEY = "nHnsYbtQBNhlEpbd6amOb50bqa2zwoCoNxReXbRiWWA="

# Published AI disclosure labels (reports.label): off, every public label address is not found.
# On, the label's PDF and PNG carry Content Credentials (C2PA) signed with this certificate chain
# and key (PEM text or a PEM file's path each). Local and test settings use the public test chain
# of config/c2pa_test; production refuses to start with it, or with none.
DISCLOSURE_LABELS_PUBLISHED = env.bool("DISCLOSURE_LABELS_PUBLISHED", default=True)
C2PA_SIGNING_CERT = env("C2PA_SIGNING_CERT", default="")
C2PA_SIGNING_KEY = env("C2PA_SIGNING_KEY", default="")

# The named user that commands and tasks act as, so history always says who.
SYSTEM_USERNAME = "system"

SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ledger.payroll.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ledger.access.ScopedAccess"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON nested past core.api.parsers.MAX_JSON_DEPTH is a 400, never a RecursionError. JSON
    # only: a form body reads an omitted yes/no as false, and a schema offering three bodies for
    # each operation makes generated clients that send the wrong one. The file uploads name
    # multipart on their own views; any other body is a 415 (`unsupported_media_type`).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.IdCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "core.api.common.ErrorAwareAutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Guild Ledger API",
    "DESCRIPTION": (
        "Consent, compensation and the payment ledger for AI use of performers', writers' and "
        "crews' work under SAG-AFTRA, WGA and IATSE agreements. Authenticate with a session or "
        "with `Authorization: Api-Key <key>`. Errors are `{code, message, fields}`."
    ),
    "VERSION": "1.0.0",
    "SERVERS": [{"url": SITE_URL, "description": "This installation."}],
    # 3.1: the messages sent to webhook endpoints are documented beside the paths (`webhooks`).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": ["ledger.webhooks.api.payables_created"],
    # No base class's docstring stands for a component or an operation that has none.
    "GET_LIB_DOC_EXCLUDES": "core.api.schema.lib_doc_excludes",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.postprocess_nullable_types",
    ],
    # Swagger UI is served from this site's static files (drf-spectacular-sidecar): the docs page
    # loads nothing from another host and works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's default is to show a badge fetched from validator.swagger.io; not here.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "core.money.Currency",
        "ConsentKindEnum": "consent.models.ConsentKind",
        "UseKindEnum": "consent.models.UseKind",
        "UnionNoticeKindEnum": "consent.models.UnionNoticeKind",
        "AlterationExceptionEnum": "consent.models.AlterationException",
        # Who signs: a consent's signer and a consent request's.
        "CapacityEnum": "consent.models.Capacity",
        # A consent's status and a consent request's are two sets of their own.
        "ConsentStatusEnum": "consent.api.CONSENT_STATUSES",
        "ConsentRequestStatusEnum": "consent.models.ConsentRequest.Status",
        "EvidenceTierEnum": "compensation.models.EvidenceTier",
        # Pay runs and residual runs share their statuses.
        "RunStatusEnum": "compensation.models.RunStatus",
        # A production is answered by two components (attach adds its warnings).
        "ProductionKindEnum": "ledger.models.ProductionKind",
        "ProductionStatusEnum": "ledger.models.ProductionStatus",
        # A payable's payee kind: the payee's `kind` and the payables filter `payee_kind`.
        "PayeeKindEnum": "ledger.payroll.api.PAYEE_KINDS",
    },
}

# Celery: with no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A request that publishes a task answers promptly even when the broker is away: at most 2 s to
# connect and two quick retries, then the publish is given up and the row it was for stays
# waiting for the dispatch sweep (core/outbox.py), which publishes it once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# How long work waits for its first publish before the sweep publishes it again.
DISPATCH_GRACE_SECONDS = env.int("DISPATCH_GRACE_SECONDS", default=60)
# The hour (UTC) of the daily digest of notifications (reports.notifications): what a user who
# chose a daily e-mail is told is due then.
NOTIFICATION_DIGEST_HOUR = env.int("NOTIFICATION_DIGEST_HOUR", default=7)

# Two-person approval of compensation and residual runs: on, the user who started a run cannot
# approve it (compensation.runs.run_approve).
RUN_TWO_PERSON_APPROVAL = env.bool("RUN_TWO_PERSON_APPROVAL", default=False)

# Schedules live in the database, editable in the admin (django-celery-beat). Run exactly one
# beat per environment: two would send every scheduled report twice (the report tasks are
# idempotent, but the duplicate work is waste).
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- security (core/security/: login_guard.py, events.py, headers.py) ---------------------------
# The default cache holds the bad-API-key counters: point CACHE_URL at a shared cache (Redis)
# when several processes serve the API, or each process counts on its own.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Staff log-in lock-out: this many failures for one username from one address lock that pair
# out for the cool-off; a success resets the count. Failed attempts are kept in the database
# (axes' AccessAttempt); successful log-ins are not (they are security events already).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "core.security.events.client_ip"
AXES_LOCKOUT_CALLABLE = "core.security.login_guard.lockout_response"
AXES_VERBOSE = False
# No admin pages for the attempts (they hold usernames and addresses); unlock with
# `manage.py axes_reset_username <username>` or wait for the cool-off.
AXES_ENABLE_ADMIN = False
# Bad API keys from one address within the window before it is throttled (429) for the rest.
API_KEY_FAILURE_LIMIT = env.int("API_KEY_FAILURE_LIMIT", default=20)
API_KEY_FAILURE_WINDOW = env.int("API_KEY_FAILURE_WINDOW", default=300)

# How far ahead of the server's clock a caller may date an event (a payment's `paid_at`, a consent
# event's `at`): clocks drift, but an instant years ahead would wedge the record it belongs to.
CLOCK_SKEW_TOLERANCE = timedelta(seconds=env.int("CLOCK_SKEW_TOLERANCE_SECONDS", default=300))
# Webhook endpoints must be https and must not resolve to loopback, private, link-local, multicast
# or reserved addresses; plain http (and loopback) only where this is on, for local development.
WEBHOOK_ALLOW_INSECURE = env.bool("WEBHOOK_ALLOW_INSECURE", default=False)
# Headers (Django's defaults, stated; CSP and Permissions-Policy by core.security.headers).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A looser policy per path prefix (core.security.headers); none is needed: the API docs load
# Swagger UI from this site and start it with a script file of their own (config/urls.py).
CONTENT_SECURITY_POLICY_BY_PATH: dict[str, str] = {}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"security_json": {"()": "core.security.events.SecurityJsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # Security events as JSON lines on a stream of their own, to ship to a separate store.
        "security": {"class": "logging.StreamHandler", "formatter": "security_json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # The PDF renderer and its font subsetter log every step at INFO.
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
        "guild_ledger.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}
