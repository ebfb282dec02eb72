# Chœur — developer entry points. `make run` and `make test` install whatever is missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python >= 3.12: pyenv's shim honours .python-version; otherwise the first python3.1x found.
PYTHON ?= $(shell for p in python3.12 python3.13 python3.14 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then command -v $$p; break; fi; done)
CHOEUR_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
CHROMIUM := /usr/bin/chromium
STAMP := $(VENV)/.installed
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
LOCK_FLAGS = --universal --python-version 3.12 --generate-hashes --quiet $(if $(UPGRADE),--upgrade)

.PHONY: venv lock lock-check run serve test test-sqlite test-postgres lint format bench proof proof-validation chromium axe-core migrate clean

venv: $(STAMP)

# Installed from the lock (exact versions, every file checked against its SHA-256), so that two machines
# get the same dependencies; the project itself goes on top without resolving anything again.
$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -n "$(PYTHON)" || { echo "Python 3.12 ou plus est requis (pyenv install 3.12)."; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Regenerates both locks from pyproject.toml (after adding or raising a dependency), with uv from PyPI.
# UPGRADE=1 takes the newest versions allowed; otherwise the locked ones are kept where still allowed.
lock:
	@command -v uv >/dev/null 2>&1 || test -x $(BIN)/uv || { test -d $(VENV) || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet uv; }
	$(eval UV := $(shell command -v uv 2>/dev/null || echo $(BIN)/uv))
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra prod -o $(LOCK)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra prod --extra dev --extra bench -o $(DEV_LOCK)

# What a fresh machine does: a new venv, the production lock from PyPI only (this machine's pip mirrors and
# caches ignored), the project on top, `choeur check`. Takes a minute or two and downloads ~150 Mo.
lock-check:
	rm -rf /tmp/choeur-lock-check && $(PYTHON) -m venv /tmp/choeur-lock-check/venv
	PIP_CONFIG_FILE=/dev/null /tmp/choeur-lock-check/venv/bin/python -m pip install --quiet --isolated --no-cache-dir \
		--index-url https://pypi.org/simple --require-hashes -r $(LOCK)
	PIP_CONFIG_FILE=/dev/null /tmp/choeur-lock-check/venv/bin/python -m pip install --quiet --isolated --no-deps .
	CHOEUR_VAR_DIR=/tmp/choeur-lock-check/var /tmp/choeur-lock-check/venv/bin/choeur check

# Browser tests drive Debian's Chromium; never a browser download.
chromium:
	@test -x $(CHROMIUM) || { echo "Installation de Chromium (Debian)…"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
		|| { echo "Impossible d'installer chromium : lancez « apt-get install -y chromium » en root."; exit 1; }; }

# axe-core (npm, pinned by package-lock.json): the accessibility check the browser tests inject into pages.
axe-core:
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund

migrate: venv
	@mkdir -p var
	CHOEUR_DEBUG=true $(BIN)/choeur migrate --no-input

run: migrate
	CHOEUR_DEBUG=true $(BIN)/choeur seed_demo
	CHOEUR_DEBUG=true $(BIN)/choeur demo_credentials
	@echo "Chœur sur http://127.0.0.1:8000 — worker de tâches et planificateur en arrière-plan (journaux dans var/)"
	@CHOEUR_DEBUG=true $(BIN)/choeur db_worker --queue-name '*' --no-reload >var/worker.log 2>&1 & worker=$$!; \
	CHOEUR_DEBUG=true $(BIN)/choeur run_periodic >var/scheduler.log 2>&1 & scheduler=$$!; \
	trap "kill $$worker $$scheduler 2>/dev/null" EXIT INT TERM; \
	CHOEUR_DEBUG=true $(BIN)/choeur runserver 127.0.0.1:8000

# Production stack (choeur serve): HTTP server, task workers and scheduler under one supervisor, on the
# PostgreSQL database of DATABASE_URL, migrated at start; DEMO=1 loads the demo data. HOST/PORT to change.
HOST ?= 127.0.0.1
PORT ?= 8000
serve: venv
	@test -n "$${DATABASE_URL:-}" || { echo "Définissez DATABASE_URL (par exemple postgres://choeur:MOT_DE_PASSE@127.0.0.1:5432/choeur)."; exit 1; }
	@mkdir -p var
	HOST=$(HOST) PORT=$(PORT) DEMO=$${DEMO:-} $(BIN)/choeur serve

test: venv chromium axe-core
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== Suite complète sur SQLite =="
	$(BIN)/pytest -q

# PostgreSQL run: skipped when no server answers, except in CI where that is a failure. It runs every test that
# uses the database (tests/conftest.py, CHOEUR_TEST_DATABASE_ONLY); the others — validation engine, parsers, pure
# computations — and the browser journeys (the same views over the same ORM) have run on SQLite just before.
test-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(CHOEUR_TEST_POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== Suite complète sur PostgreSQL ($(CHOEUR_TEST_POSTGRES_URL)) =="; \
		DATABASE_URL='$(CHOEUR_TEST_POSTGRES_URL)' CHOEUR_TEST_DATABASE_ONLY=1 $(BIN)/pytest -q -m "not browser"; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "PostgreSQL injoignable sur $(CHOEUR_TEST_POSTGRES_URL) : échec en CI."; exit 1; \
	else \
		echo "PostgreSQL injoignable sur $(CHOEUR_TEST_POSTGRES_URL) : exécution PostgreSQL ignorée (hors CI)."; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CHOEUR_DEBUG=true $(BIN)/choeur makemigrations --check --dry-run

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	CHOEUR_DEBUG=true $(BIN)/python -m bench

# The attack part of the proof (tests/proof): authorization matrix, stored XSS, hostile catalogue, and a longer
# fuzzing run than CI's (PROOF_FUZZ_EXAMPLES). Prints the figures for the closing note.
PROOF_FUZZ_EXAMPLES ?= 2000
proof: venv
	PROOF_FUZZ_EXAMPLES=$(PROOF_FUZZ_EXAMPLES) $(BIN)/pytest tests/proof -q

# Native engine vs the official CEN artefacts on generated invoices, every core (COUNT=… to change the 100,000).
proof-validation: venv
	CHOEUR_DEBUG=true $(BIN)/python -m tests.flows.native.proof --count $(or $(COUNT),100000)

clean:
	rm -rf $(VENV) var/*.sqlite3*
