"""Settings of the Observatoire IA Hauts-de-France.

Every value is read from the environment, with its default written next to it, so that a
fresh checkout runs on SQLite with Celery executing tasks in-process and nothing else to set
up. Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS; the secure
defaults below switch on whenever debug is off.
"""

from datetime import timedelta
from pathlib import Path

import environ
import plotly
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The default key is deliberately marked insecure: `check --deploy` refuses it, and with debug
# off the application does not start with it (sessions and reset links would be forgeable).
INSECURE_SECRET_KEY = "django-insecure-observatoire-ia-hdf-local-only"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=True)
if not DEBUG and SECRET_KEY.strip() in ("", INSECURE_SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY est absente ou laissée à sa valeur par défaut alors que DJANGO_DEBUG=0 : "
        'donnez-lui une valeur secrète et aléatoire (par exemple python -c "import secrets; '
        'print(secrets.token_urlsafe(50))"), voir .env.example.'
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "axes",
    "csp",
    # Project apps, in dependency order (skills <- companies <- trainings <- observatory).
    "skills",
    "companies",
    "trainings",
    "observatory",
    "explorer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # NUL and other control characters in a parameter or a field: 400 before any view.
    "observatory.middleware.RefuseControlCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it refuses logins after too many failures.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response: scripts, styles, images and requests from the site
# itself only, no inline script (figures travel as application/json data read by static
# scripts), no framing. Styles allow inline: plotly.js writes its own <style> elements.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "observatory.urls"
WSGI_APPLICATION = "observatory.wsgi.application"

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
                "observatory.context_processors.roles",
            ],
        },
    },
]

# SQLite by default so a checkout just works; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# A kept connection is checked before a request reuses it (one round trip, not per query).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The session starts in UTC (what Django asks for with USE_TZ and no TIME_ZONE of its own):
    # Django then skips its `SET TIME ZONE` round trip on every new connection.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "timezone" not in _options.get("options", ""):
        _options["options"] = f"{_options.get('options', '')} -c timezone=UTC".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a computation writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis cache when REDIS_URL is set, process memory otherwise.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The role names of each user (companies/roles.py) are cached only in a cache every process
# shares: a role taken away in one process must not survive in another's memory.
ROLE_NAMES_CACHE = bool(REDIS_URL)
# The same for the signed-in user, read on every request (companies/accounts/backends.py).
USER_CACHE = bool(REDIS_URL)
# Sessions are read on every page: from the cache when it is shared by every worker (Redis),
# written through to the database so that they survive a flush. A per-process cache would
# let another worker keep a session that a logout deleted, so it keeps the database alone.
SESSION_ENGINE = env(
    "DJANGO_SESSION_ENGINE",
    default="django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db",
)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, reading the signed-in user from the shared cache.
    "companies.accounts.backends.CachedModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# django-axes: lock a username+IP pair after 5 failures for one hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# plotly.js comes from the installed plotly package (no CDN): static/plotly/plotly.min.js.
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).resolve().parent / "package_data")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "DJANGO_STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="observatoire@localhost")

# Celery: an empty broker means tasks run eagerly in the calling process (the local default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=30 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=35 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task is acknowledged once it has run, and given back to the broker when its worker dies
# (killed, out of memory): the runs and imports it computes are idempotent. Redis redelivers an
# unacknowledged message after the visibility timeout, which must outlast the longest task (the
# grid's hard limit, 65 minutes) or a running task would be delivered twice; Redis's default is
# one hour.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=75 * 60),
}
# Jobs always end (grid runs, catalogue imports). A running job beats every
# RUN_HEARTBEAT_INTERVAL seconds; the reaper, every RUN_REAPER_INTERVAL seconds, fails one
# whose heartbeat stopped for RUN_HEARTBEAT_TIMEOUT seconds (its worker died: it can be
# relaunched at once), and sends again a job still pending RUN_PENDING_TIMEOUT seconds after
# it was due (its message never reached the broker, or the broker lost it), at most
# RUN_MAX_RESENDS times before failing it. The timeout spans many beats, so that a step that
# holds the interpreter for a while is not taken for a dead worker.
RUN_HEARTBEAT_INTERVAL = env.float("RUN_HEARTBEAT_INTERVAL", default=30)
RUN_HEARTBEAT_TIMEOUT = env.int("RUN_HEARTBEAT_TIMEOUT", default=5 * 60)
RUN_PENDING_TIMEOUT = env.int("RUN_PENDING_TIMEOUT", default=10 * 60)
RUN_MAX_RESENDS = env.int("RUN_MAX_RESENDS", default=3)
RUN_REAPER_INTERVAL = env.int("RUN_REAPER_INTERVAL", default=60)
if RUN_HEARTBEAT_INTERVAL * 3 > RUN_HEARTBEAT_TIMEOUT:
    raise ImproperlyConfigured("RUN_HEARTBEAT_TIMEOUT must span at least three RUN_HEARTBEAT_INTERVAL.")
# A run whose positions lie in at least this many régions is aggregated one part per région
# by as many Celery tasks, then merged (observatory/national_runs.py); 0: always one process.
GRID_SPLIT_MIN_REGIONS = env.int("GRID_SPLIT_MIN_REGIONS", default=2)

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat copies this into its database schedule.
CELERY_BEAT_SCHEDULE = {
    # Nightly recomputation of every lens.
    "recompute-grids-nightly": {
        "task": "observatory.compute_current_grids",
        "schedule": crontab(hour=env.int("OBSERVATORY_NIGHTLY_HOUR", default=2), minute=30),
    },
    # The reapers; a message older than one interval is dropped, so that reapers queued
    # behind a long task do not all run once it ends (`expire_seconds`: the database
    # scheduler's name for the message's `expires`).
    "reap-grid-runs": {
        "task": "observatory.reap_grid_runs",
        "schedule": timedelta(seconds=RUN_REAPER_INTERVAL),
        "options": {"expire_seconds": RUN_REAPER_INTERVAL},
    },
    "reap-import-jobs": {
        "task": "trainings.reap_import_jobs",
        "schedule": timedelta(seconds=RUN_REAPER_INTERVAL),
        "options": {"expire_seconds": RUN_REAPER_INTERVAL},
    },
}

# New field data (an import, a submitted diagnostic) queues one recomputation after this
# many seconds, so a burst of submissions gives a single run.
OBSERVATORY_AUTO_RECOMPUTE = env.bool("OBSERVATORY_AUTO_RECOMPUTE", default=True)
OBSERVATORY_RECOMPUTE_DELAY = env.int("OBSERVATORY_RECOMPUTE_DELAY", default=300)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens (created in the admin) for scripts that read the API. Listed first so that an
        # anonymous request gets 401 with `WWW-Authenticate: Token` rather than a bare 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Observatoire IA Hauts-de-France — API",
    "VERSION": "1.0.0",
    # Swagger UI and Redoc served from the installed sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema's address to validator.swagger.io for a badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Every operation also documents the error answers it can give (observatory.api).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "observatory.api.document_error_responses",
    ],
}

# Where `make run` and `load_reference` look for the official files when REFERENCE_DATA is set.
REFERENCE_DATA = env("REFERENCE_DATA", default="")

# Secure defaults whenever debug is off (they make `check --deploy` pass).
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
