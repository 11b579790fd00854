# make run   - set everything up on a fresh clone and serve http://127.0.0.1:5000 with demo data
# make test  - the whole test suite, on SQLite and then on PostgreSQL (scripts/test.sh)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The address links in e-mails and on diplomas point to: the one `make run` serves on, unless
# AWARDS_BASE_URL is set (a proxy or a public name in front of it) or the instance's config.py
# sets BASE_URL (the environment would override that file, so nothing is passed then).
BASE_URL := $(or $(AWARDS_BASE_URL),http://$(HOST):$(PORT))
INSTANCE_CONFIG := $(or $(AWARDS_INSTANCE_PATH),instance)/config.py
WITH_BASE_URL := $(if $(shell grep -qs '^BASE_URL' '$(INSTANCE_CONFIG)' && echo set),,AWARDS_BASE_URL='$(BASE_URL)')
FLASK  := $(BIN)/flask --app app

TRANSLATIONS := awards/translations
LANGUAGES    := kk ru en
POT          := $(TRANSLATIONS)/messages.pot
# Flask-Babel's lazy helpers, on top of pybabel's defaults (_, gettext, ngettext, pgettext, ...).
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

.PHONY: help run test lint install install-test compile-translations translations mail-worker \
        db-upgrade seed clean screenshots bench-load bench-vote

help:
	@echo "make run           set up (.venv, translations, database, demo data) and serve on $(HOST):$(PORT)"
	@echo "make test          lint, then run the test suite on SQLite and on PostgreSQL"
	@echo "make lint          ruff check (the rules are in pyproject.toml)"
	@echo "make translations  extract messages and update the kk/ru/en catalogs"
	@echo "make mail-worker   deliver queued e-mail, keep watching the outbox"
	@echo "make screenshots   refresh the README screenshots in docs/screenshots/"
	@echo "make bench-load    load benchmarks: public pages and results day (gunicorn, nginx), then"
	@echo "                   reads, submissions, scoring (gunicorn + PostgreSQL)"
	@echo "make bench-vote    public vote benchmark: 50,000 votes against gunicorn + PostgreSQL"

# ---- environment ------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes (or the venv is new).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The .mo files are build products (git-ignored); no catalog yet is not an error.
compile-translations: $(VENV)/.installed
	@if compgen -G '$(TRANSLATIONS)/*/LC_MESSAGES/messages.po' > /dev/null; then \
		$(BIN)/pybabel -q compile -d $(TRANSLATIONS); \
	else \
		echo "no translation catalogs yet: pages are shown in English (make translations creates them)"; \
	fi

# ---- running ----------------------------------------------------------------------------------

db-upgrade: $(VENV)/.installed
	$(FLASK) awards db upgrade

seed: db-upgrade
	@if [ "$${AWARDS_ENV:-}" = production ]; then \
		echo "AWARDS_ENV=production: refusing to load demo accounts" >&2; exit 1; fi
	$(WITH_BASE_URL) $(FLASK) awards seed

run: compile-translations seed
	@echo
	@echo "  Awards is running at http://$(HOST):$(PORT)"
	@echo "  Log in as admin@example.com, jury1@example.com ... jury5@example.com or"
	@echo "  applicant@example.com, password: awards-demo"
	@echo
	$(WITH_BASE_URL) FLASK_DEBUG=0 $(FLASK) run --host $(HOST) --port $(PORT) --no-reload

mail-worker: $(VENV)/.installed
	$(FLASK) awards mail send --watch

# ---- tests ------------------------------------------------------------------------------------

LINT_PATHS := app.py awards tests bench scripts migrations

# ruff is pinned in the test extras (pyproject.toml), installed from PyPI.
lint: install-test
	$(BIN)/ruff check $(LINT_PATHS)

# Extra pytest arguments: make test PYTEST_ARGS="-k register -x"
test: install-test compile-translations
	scripts/test.sh $(PYTEST_ARGS)

# Needs the test extras (Playwright) and Debian's chromium, like the browser tests.
screenshots: install-test compile-translations
	$(BIN)/python scripts/screenshots.py

# ---- translations -----------------------------------------------------------------------------

translations: $(VENV)/.installed
	@mkdir -p $(TRANSLATIONS)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=TRANSLATORS: \
		--sort-by-file --project=awards -o $(POT) .
	@for lang in $(LANGUAGES); do \
		$(BIN)/pybabel update --init-missing -i $(POT) -d $(TRANSLATIONS) -l $$lang || exit 1; \
	done
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

# ---- benchmarks -------------------------------------------------------------------------------

# Against gunicorn + PostgreSQL on 127.0.0.1:5432; figures in bench/RESULTS.md.
# Extra arguments: make bench-load BENCH_ARGS="--duration 60"; one suite: BENCH_ARGS="public"
bench-load: $(VENV)/.installed
	scripts/bench-load.sh $(BENCH_ARGS)

bench-vote: $(VENV)/.installed
	scripts/bench-vote.sh $(BENCH_ARGS)

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
