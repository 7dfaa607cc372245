"""One settings module for every deployment, driven by environment variables.

Embedded default (no variables set): SQLite, SqliteHuey, local media, in-memory channel
layer. Scaled out: DATABASE_URL (PostgreSQL), REDIS_URL (RedisHuey + channels_redis).
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from projects.vocabulary import STAGE_ORDER, Preset
from storyboard_site.secret_key import secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # A worker repeats the same few statements for every job, a live page the same
            # few per update: bound and prepared by the server, PostgreSQL parses and plans
            # each once per connection (a quarter less database CPU per job). Turn off
            # behind a pooler in transaction mode (PgBouncer), which can't keep them.
            "OPTIONS": (
                {"server_side_binding": True, "prepare_threshold": 2}
                if env_bool("DATABASE_PREPARED_STATEMENTS", True)
                else {}
            ),
        }
    if parsed.scheme == "sqlite":
        return sqlite_database(Path(unquote(parsed.path)))
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Opening SQLite and setting its pragmas costs more than a job's queries; a
        # worker keeps its connection across tasks.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        # The web server and the huey worker write to one file: WAL lets readers run
        # beside a writer, and IMMEDIATE transactions take the write lock up front so
        # two processes never deadlock upgrading a read lock.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # A file, not :memory:, so a real huey worker process can share the test data;
        # one per test process so two test runs on one machine don't collide.
        "TEST": {"NAME": str(path.with_name(f"test-{os.getpid()}-{path.name}"))},
    }


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_str("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

DATA_DIR = Path(env_str("STORYBOARD_DATA_DIR", str(BASE_DIR / "data"))).resolve()
# SQLite and the huey queue file live here; a fresh clone has no such folder yet.
DATA_DIR.mkdir(parents=True, exist_ok=True)

REDIS_URL = env_str("REDIS_URL", "")
# Scaled out: PostgreSQL or Redis, so processes on several machines.
SCALED_OUT = bool(REDIS_URL) or urlparse(os.environ.get("DATABASE_URL", "")).scheme.startswith(
    "postgres"
)
# Embedded: made once in the data folder. Scaled out: from the environment, or no start.
SECRET_KEY = secret_key(os.environ.get("SECRET_KEY", ""), DATA_DIR, SCALED_OUT)

# HTTPS, behind a proxy that terminates it. HTTPS=true turns on secure cookies, the
# redirect to https:// and HSTS; each can still be set on its own.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)


def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` (the header the proxy sets to "https") as Django wants it."""
    if not value:
        return None
    name = value.strip()
    if not name.replace("-", "").isalnum():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={value!r} must be a header name, e.g. X-Forwarded-Proto"
        )
    return "HTTP_" + name.upper().replace("-", "_"), "https"


SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_str("SECURE_PROXY_SSL_HEADER", ""))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "csp",
    "axes",
    "huey.contrib.djhuey",
    "template_partials",
    "accounts",
    "projects",
    "generation",
    "exports",
    "storyboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so it sees every error under /api/ (CSRF, no such URL, wrong method) and
    # answers it as JSON.
    "projects.http.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# No inline script anywhere: the page's behaviour is storyboard/static/storyboard.js, and
# htmx runs without eval (hx-on and `js:` values need it, so use a listener in storyboard.js).
# Styles may be inline: progress bars set their width in a style attribute.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        # 'self' covers the page's own ws:/wss: origin too.
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

CSRF_FAILURE_VIEW = "projects.http.csrf_failure"

ROOT_URLCONF = "storyboard_site.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "storyboard_site.asgi.application"

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
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(DATA_DIR / "db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a locked-out username/address pair before checking.
    "accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused for AXES_COOLOFF_MINUTES (the lockout page says how long).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
# A refused try while locked out changes nothing, so "try again in N minutes" holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The page's script, stylesheet and icon are the storyboard app's (storyboard/static/),
# found by the app-directories finder.
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media"))).resolve()
# Serve static files from Django itself on the embedded default.
SERVE_FILES = env_bool("SERVE_FILES", True)
# Media is private: a view checks the owner, then sends the bytes itself ("django",
# with Range requests), or has the proxy send them: "accel" answers X-Accel-Redirect
# (nginx, Caddy) to MEDIA_ACCEL_PREFIX + the file's path, "sendfile" X-Sendfile (Apache).
MEDIA_SERVING = env_choice("MEDIA_SERVING", "django", ("django", "accel", "sendfile"))
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "/protected-media/")

HUEY_WORKER_DELAY = env_float("HUEY_WORKER_DELAY", 0.01)
HUEY_WORKER_MAX_DELAY = env_float("HUEY_WORKER_MAX_DELAY", 0.05)
_huey_consumer = {
    # One worker per GPU: a worker owns the models it has loaded.
    "workers": env_int("HUEY_WORKERS", 1, minimum=1),
    "worker_type": "thread",
    # Huey's default idle back-off grows to 10 s on SqliteHuey; a creator who clicks
    # "Generate" expects the first job to start at once, and polling SQLite every
    # 50 ms costs nothing.
    "initial_delay": HUEY_WORKER_DELAY,
    "max_delay": HUEY_WORKER_MAX_DELAY,
    "backoff": 1.15,
    "periodic": True,
    "check_worker_health": True,
    # Two log lines per task cost more than an instant job; our own code logs what matters.
    "verbose": env_bool("HUEY_VERBOSE", False),
}


def worker_stages() -> list[str]:
    """STORYBOARD_WORKER_STAGES: the stages this worker takes (comma-separated)."""
    stages = STAGE_ORDER
    raw = env_str("STORYBOARD_WORKER_STAGES", "")
    chosen = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in stages]
    if unknown:
        raise ImproperlyConfigured(
            f"STORYBOARD_WORKER_STAGES: unknown stage {unknown[0]!r} (use audio, images, videos)."
        )
    return [s for s in stages if s in chosen] if chosen else stages


# A worker serves every stage unless told otherwise; each stage has its own huey queue
# (generation/queues.py), so a narration worker never receives a clip job.
STORYBOARD_WORKER_STAGES = worker_stages()
# Workers announce themselves this often; one silent for WORKER_STALE_AFTER is gone.
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 5.0)
WORKER_STALE_AFTER = env_float("WORKER_STALE_AFTER", 15.0)

if REDIS_URL:
    HUEY = {
        "huey_class": "generation.queues.StageRedisHuey",
        "stages": STORYBOARD_WORKER_STAGES,
        "name": env_str("HUEY_NAME", "storyboard"),
        "url": REDIS_URL,
        "immediate": env_bool("HUEY_IMMEDIATE", False),
        "consumer": _huey_consumer,
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHANNELS_PREFIX", "storyboard"),
            },
        }
    }
else:
    HUEY = {
        "huey_class": "generation.queues.StageSqliteHuey",
        "stages": STORYBOARD_WORKER_STAGES,
        "name": "storyboard",
        "filename": str(Path(env_str("HUEY_SQLITE", str(DATA_DIR / "huey.sqlite3")))),
        "immediate": env_bool("HUEY_IMMEDIATE", False),
        "consumer": _huey_consumer,
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# How often an open storyboard checks the rows for news: wake-ups from workers can't
# reach the web server without Redis, so the embedded default looks often; with Redis
# this only catches a wake-up a full channel dropped.
LIVE_POLL_SECONDS = env_float("LIVE_POLL_SECONDS", 2.0 if REDIS_URL else 0.1)

# Generation engine.
# A running job writes a heartbeat this often; one silent for JOB_STALE_AFTER seconds
# belongs to a dead worker and is re-enqueued, up to JOB_MAX_ATTEMPTS tries.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 2.0)
JOB_STALE_AFTER = env_float("JOB_STALE_AFTER", 30.0)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
# Takes kept per asset of a scene (older ones are deleted with their files, never the
# scene's current asset nor while an export is in progress); 0 keeps every take.
STORYBOARD_KEEP_TAKES = env_int("STORYBOARD_KEEP_TAKES", 10, minimum=0)
REAPER_INTERVAL_SECONDS = env_int("REAPER_INTERVAL_SECONDS", 10, minimum=1)
# A run pauses itself when this many jobs in a row fail with the same error (0: never).
RUN_PAUSE_AFTER_FAILURES = env_int("RUN_PAUSE_AFTER_FAILURES", 3, minimum=0)

# Generation backends (see generation/backends/). The factory is a dotted path to a
# callable (stage, preset) -> Backend: the place to plug in another model family.
STORYBOARD_BACKEND_FACTORY = env_str(
    "STORYBOARD_BACKEND_FACTORY", "generation.backends.registry.get_backend"
)
STORYBOARD_PRESET = env_choice("STORYBOARD_PRESET", Preset.DRAFT.value, tuple(Preset.values))
STORYBOARD_TTS_MODEL = env_str("STORYBOARD_TTS_MODEL", "tts_models/en/ljspeech/vits")
STORYBOARD_IMAGE_MODEL = env_str("STORYBOARD_IMAGE_MODEL", "stabilityai/sd-turbo")
STORYBOARD_IMAGE_STEPS = env_int("STORYBOARD_IMAGE_STEPS", 4, minimum=1)
STORYBOARD_IMAGE_GUIDANCE = env_float("STORYBOARD_IMAGE_GUIDANCE", 0.0)
STORYBOARD_VIDEO_BACKEND = env_choice("STORYBOARD_VIDEO_BACKEND", "camera", ("camera", "svd"))
STORYBOARD_SVD_MODEL = env_str(
    "STORYBOARD_SVD_MODEL", "stabilityai/stable-video-diffusion-img2vid-xt"
)
STORYBOARD_SVD_STEPS = env_int("STORYBOARD_SVD_STEPS", 25, minimum=1)
STORYBOARD_DEVICE = env_choice("STORYBOARD_DEVICE", "auto", ("auto", "cuda", "cpu"))
STORYBOARD_FREE_MODELS_BETWEEN_STAGES = env_bool("STORYBOARD_FREE_MODELS_BETWEEN_STAGES", False)
STORYBOARD_HUB_OFFLINE = env_bool("STORYBOARD_HUB_OFFLINE", True)
STORYBOARD_DRAFT_VOICE = env_str("STORYBOARD_DRAFT_VOICE", "")
# Image jobs one GPU worker renders in one model call; 0 means 4 on a GPU, 1 on the CPU.
STORYBOARD_IMAGE_BATCH = env_int("STORYBOARD_IMAGE_BATCH", 0, minimum=0)

# Scripts longer than this are refused with a message rather than split into a
# project nobody can review (1,000 scenes of ~15 words).
MAX_SCRIPT_WORDS = env_int("MAX_SCRIPT_WORDS", 15000, minimum=1)
MAX_SCENES = env_int("MAX_SCENES", 1000, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per login otherwise; lockouts are still logged.
        "axes": {"level": "WARNING"},
    },
}

# Project webhooks (generation/webhooks.py): a failed call is tried again after
# WEBHOOK_RETRY_SECONDS, doubling each time, WEBHOOK_MAX_ATTEMPTS tries in all.
WEBHOOK_RETRY_SECONDS = env_float("WEBHOOK_RETRY_SECONDS", 10.0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
