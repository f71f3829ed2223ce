# One image for web (gunicorn), the Celery workers and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.base

WORKDIR /app
RUN useradd --system --create-home --uid 1000 amani

COPY pyproject.toml README.md ./
COPY config ./config
COPY outreach ./outreach
COPY campaigns ./campaigns
COPY console ./console
RUN pip install .
COPY manage.py ./

# Static files (the API docs' Swagger UI among them) are built in, hashed, and served by whitenoise.
RUN DJANGO_SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput

USER amani
EXPOSE 8000
# config/gunicorn.py: bind, workers, and an access log with the path only and numbers masked.
CMD ["gunicorn", "--config", "python:config.gunicorn", "config.wsgi"]
