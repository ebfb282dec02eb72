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

.PHONY: venv run test test-sqlite test-postgres lint format bench chromium migrate clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 ou plus est requis (pyenv install 3.12)."; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

test: venv chromium axe-core
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	@echo "== Suite complète sur SQLite =="
	$(BIN)/pytest -q

# PostgreSQL run: skipped when no server answers, except in CI where that is a failure.
test-postgres:
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(CHOEUR_TEST_POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== Suite complète sur PostgreSQL ($(CHOEUR_TEST_POSTGRES_URL)) =="; \
		DATABASE_URL='$(CHOEUR_TEST_POSTGRES_URL)' $(BIN)/pytest -q; \
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

clean:
	rm -rf $(VENV) var/*.sqlite3*
