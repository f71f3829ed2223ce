"""Settings for the test suite: real PostgreSQL and Redis at localhost defaults."""

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/amani")
# Database 15 keeps test queues apart from a developer's own Redis data.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from .base import *  # noqa: F403
from .base import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Unit tests run tasks in-process; the integration tests start a real worker.
CELERY_TASK_ALWAYS_EAGER = True
# The production throttle without a rate; a test that needs one sets it (read per request).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": None}  # noqa: F405
# Serve static files from the apps, as in the demo, without a collectstatic step.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# A second connection to the test database under the name reports read from when a replica is
# configured; only tests that ask for it (databases=[..., "replica"]) and install the router
# (tests/test_db_router.py) use it.
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "ATOMIC_REQUESTS": False,
    "TEST": {"MIRROR": "default"},
}
