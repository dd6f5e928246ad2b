# acs_auth: set-up, run, test and deployment commands. See README.md.
#   make run    first run on a laptop: virtualenv, dependencies, database, demo data, server
#   make test   the whole test suite (SQLite, in-memory rate limits); it never stops, restarts
#               or flushes the machine's PostgreSQL or Redis (the e2e suites start their own)

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?= -q
# `make test-pg`: this machine's PostgreSQL (trust auth) and Redis; override as needed.
PG_TEST_DB ?= acs_auth_test
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

# ACS_CONFIG from the environment wins; otherwise each target picks the sensible one.
run seed migrate worker: ACS_CONFIG ?= development
serve: ACS_CONFIG ?= production
test test-pg screenshots: ACS_CONFIG ?= testing
export ACS_CONFIG

.PHONY: help run test test-pg screenshots lint format serve migrate seed worker chatbot

help:
	@echo "make run      set up .venv, migrate the SQLite database, seed demo data, serve :$(PORT)"
	@echo "make test     run the whole test suite (SQLite)"
	@echo "make test-pg  run it on PostgreSQL + Redis ($(PG_TEST_URL))"
	@echo "make screenshots  refresh docs/screenshots with the browser suites (on purpose only)"
	@echo "make lint     ruff check + ruff format --check + lint-imports (import contracts)"
	@echo "make serve    gunicorn with gunicorn.conf.py (production settings)"
	@echo "make migrate  flask db upgrade;  make seed  merge the demo allowlist again;  make worker  mail worker"
	@echo "make chatbot  the example program back end on :$(CHATBOT_PORT), signing in through :$(PORT)"

# The virtualenv and its dependencies; pip runs again only when a requirements file changed.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements.stamp: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.requirements-dev.stamp: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# Development secrets, generated once and kept out of git (instance/ is ignored), so that links
# emailed by a CLI command work in the server process and sessions survive a restart.
# A SECRET_KEY / JWT_SECRET_KEY already in the environment wins.
instance/dev-secrets.env: | $(BIN)/python
	mkdir -p instance
	umask 077 && $(BIN)/python -c 'import secrets; \
	print("SECRET_KEY=\"$${SECRET_KEY:-%s}\"" % secrets.token_urlsafe(48)); \
	print("JWT_SECRET_KEY=\"$${JWT_SECRET_KEY:-%s}\"" % secrets.token_urlsafe(48))' > $@

# Emailed links point at the address `make run` serves on, unless APP_URL says otherwise.
DEV_ENV := set -a && . ./instance/dev-secrets.env && APP_URL="$${APP_URL:-http://$(HOST):$(PORT)}" \
	&& set +a

run: $(VENV)/.requirements.stamp instance/dev-secrets.env
	$(DEV_ENV) && $(FLASK) db upgrade
	$(DEV_ENV) && $(FLASK) seed-demo
	@echo "Serving on http://$(HOST):$(PORT)  (emails: this console and instance/outbox/*.eml)"
	$(DEV_ENV) && $(FLASK) run --host $(HOST) --port $(PORT)

migrate: $(VENV)/.requirements.stamp
	$(FLASK) db upgrade

# `make run` seeds once (seed-demo skips an allowlist that was imported into before, so an
# administrator's edits survive a restart); `make seed` merges the demo file again on purpose.
seed: $(VENV)/.requirements.stamp instance/dev-secrets.env
	$(DEV_ENV) && $(FLASK) seed-demo --force

worker: $(VENV)/.requirements.stamp
	$(FLASK) mail worker

# The example chatbot (examples/chatbot): registered once as a first-party client of the portal
# that `make run` serves, then run on CHATBOT_PORT. See README.md, "Single sign-on".
CHATBOT_PORT ?= 5001
CHATBOT_URL := http://$(HOST):$(CHATBOT_PORT)
chatbot: ACS_CONFIG ?= development
instance/chatbot-client.json: | $(VENV)/.requirements.stamp instance/dev-secrets.env
	$(DEV_ENV) && $(FLASK) db upgrade
	$(DEV_ENV) && umask 077 && $(FLASK) clients create --name "Chatbot (example)" \
		--redirect-uri $(CHATBOT_URL)/callback --post-logout-uri $(CHATBOT_URL)/ \
		--backchannel-uri $(CHATBOT_URL)/backchannel --first-party --json > $@
chatbot: $(VENV)/.requirements.stamp instance/chatbot-client.json
	$(BIN)/python -m pip install --disable-pip-version-check -q -r examples/chatbot/requirements.txt
	ACS_ISSUER=http://$(HOST):$(PORT) CHATBOT_URL=$(CHATBOT_URL) \
		CHATBOT_CLIENT_FILE=instance/chatbot-client.json $(BIN)/python examples/chatbot/app.py

# Tests never read a developer's .env: the suite must behave the same on every machine.
test: $(VENV)/.requirements-dev.stamp
	PYTHON_DOTENV_DISABLED=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: $(VENV)/.requirements-dev.stamp
	createdb -h 127.0.0.1 -U postgres $(PG_TEST_DB) 2>/dev/null || true
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(PG_TEST_URL)}" \
	TEST_REDIS_URL="$${TEST_REDIS_URL:-$(REDIS_TEST_URL)}" \
	PYTHON_DOTENV_DISABLED=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser suites save their screenshots under test-results/ (ignored) unless told where:
# this target is the one way docs/screenshots is rewritten, on purpose.
screenshots: $(VENV)/.requirements-dev.stamp
	E2E_SCREENSHOTS=docs/screenshots PYTHON_DOTENV_DISABLED=1 $(BIN)/python -m pytest $(PYTEST_ARGS) \
		tests/e2e/test_browser_flows.py tests/e2e/test_browser_admin.py tests/e2e/test_browser_layout.py

# Every check always runs, so one CI log shows every problem; any failing fails the target.
# lint-imports checks the import contracts in pyproject.toml (also run by make test).
lint: $(VENV)/.requirements-dev.stamp
	status=0; $(BIN)/ruff check . || status=1; $(BIN)/ruff format --check . || status=1; \
	$(BIN)/lint-imports --no-cache --no-logo || status=1; exit $$status

format: $(VENV)/.requirements-dev.stamp
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: $(VENV)/.requirements.stamp
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app
