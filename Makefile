# Amani: `make run` starts the demo, `make test` runs the suite, `make bench` the benchmarks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO   := DJANGO_DEBUG=true

.PHONY: install run test test-fast bench lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Amani needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## The demo: SQLite, tasks in-process, no Redis, no Twilio account.
run: install
	$(DEMO) $(BIN)/python manage.py migrate --noinput
	$(DEMO) $(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(DEMO) $(BIN)/python manage.py seed_demo_campaign
	@# The demo's beat runs beside the server and stops with it.
	$(DEMO) $(BIN)/python manage.py demo_ticker & ticker=$$!; \
	trap "kill $$ticker 2>/dev/null" EXIT INT TERM; \
	$(DEMO) PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

## The whole suite on PostgreSQL and Redis (DATABASE_URL / REDIS_URL override the localhost defaults).
test: install
	$(BIN)/pytest

## Unit tests only, without the ones that start a Celery worker.
test-fast: install
	$(BIN)/pytest -m "not integration"

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
