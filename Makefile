# Guild Ledger — `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/guild_ledger
# `make bench` drops and recreates this database and its migrated template, BENCH_DB_template
# (only names starting guild_ledger_bench).
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= guild_ledger_bench
BENCH_URL := $(BENCH_PG)/$(BENCH_DB)
BENCH_TEMPLATE := $(BENCH_DB)_template
BENCH_SCRIPTS ?= $(sort $(filter-out __init__ common,$(basename $(notdir $(wildcard bench/*.py)))))

.PHONY: help install install-dev run demo serve test lint migrations-check schema-check typecheck \
        pytest test-postgres test-sqlite smoke bench fuzz fuzz-ci audit clean

help:
	@echo "make run    - install, migrate the SQLite default, load the demo, serve on :8000"
	@echo "make test   - ruff, migrations check, schema check, mypy, the whole pytest suite"
	@echo "              (on PostgreSQL when DATABASE_URL points there)"
	@echo "make bench  - benchmarks against PostgreSQL, written to bench/results.json"
	@echo "make audit  - known vulnerabilities in the installed dependencies (pip-audit, PyPI)"
	@echo "make fuzz   - Schemathesis against a live server (PostgreSQL), staff and payroll"
	@echo "              (a release's run: 200 examples per operation; CI runs make fuzz-ci)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools

install: $(PY)
	$(PY) -m pip install --quiet -e .

install-dev: $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	$(PY) manage.py runserver 127.0.0.1:8000

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

# The served schema, generated without a warning, then checked against the OpenAPI specification
# (openapi-spec-validator) and linted with Redocly CLI's recommended rules (redocly.yaml), an exact
# release fetched by npx from the npm registry into var/npm-cache.
REDOCLY_CLI ?= @redocly/cli@2.77.0
schema-check: install-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular \
		--validate --fail-on-warn --file var/schema.yml
	$(BIN)/openapi-spec-validator var/schema.yml
	npm_config_cache=$(CURDIR)/var/npm-cache npx --yes $(REDOCLY_CLI) lint --config redocly.yaml \
		var/schema.yml

# mypy with the Django and DRF plugins (pyproject.toml: [tool.mypy] names the files it checks and
# the strict modules; [tool.django-stubs] the settings its plugin loads).
typecheck: install-dev
	$(BIN)/mypy

# The suite on PYTEST_WORKERS pytest-xdist workers, each with its own test database; the tests that
# drive real parts (Celery workers, gunicorn, Chromium, the fault cluster) share one worker, one
# after another (tests/conftest.py). PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 2
PYTEST_XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)
pytest: install-dev
	$(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

test: lint migrations-check schema-check typecheck pytest

# What CI runs: the whole suite on PostgreSQL, then SQLite.
test-postgres:
	DATABASE_URL=$(PG_URL) $(MAKE) test

test-sqlite:
	env -u DATABASE_URL $(MAKE) pytest PYTEST_ARGS='-m "not postgres"'

# Every bench script, each on a fresh, migrated PostgreSQL database of its own (a copy of a
# template migrated once): a script's world never meets the one an earlier script built. Figures
# in bench/results.json; each script's wall time and the total are printed at the end.
# BENCH_SCRIPTS="consent load" runs only those.
bench: install-dev
	$(PY) -m bench.common reset-db $(BENCH_PG)/$(BENCH_TEMPLATE)
	DATABASE_URL=$(BENCH_PG)/$(BENCH_TEMPLATE) DJANGO_SETTINGS_MODULE=config.settings.test \
		$(PY) manage.py migrate --noinput -v 0
	rm -f bench/results.json
	set -e; started=$$(date +%s); times=""; for script in $(BENCH_SCRIPTS); do \
		$(PY) -m bench.common reset-db $(BENCH_URL) $(BENCH_TEMPLATE); \
		begun=$$(date +%s); \
		DATABASE_URL=$(BENCH_URL) DJANGO_SETTINGS_MODULE=config.settings.test \
			$(PY) -m bench.$$script; \
		times="$$times$$(printf '%-14s %6ss' $$script $$(( $$(date +%s) - begun )))\n"; \
	done; \
	printf '\nbench wall time per script:\n%b%-14s %6ss\n' "$$times" total \
		$$(( $$(date +%s) - started ))

# Schemathesis against the served OpenAPI schema: a fresh PostgreSQL database (FUZZ_DB, default
# gl_fuzz, dropped first), gunicorn with the production settings, a staff and a payroll run.
# Reports in var/test-output/fuzz/.
fuzz: install-dev
	$(PY) -m tests.fuzz.run

# CI's budget: every operation and phase, every check, seed 42, FUZZ_CI_EXAMPLES examples per
# operation, staff and payroll at once against the same server.
FUZZ_CI_EXAMPLES ?= 100
fuzz-ci: install-dev
	FUZZ_MAX_EXAMPLES=$(FUZZ_CI_EXAMPLES) FUZZ_CONCURRENT=1 $(PY) -m tests.fuzz.run

# Every installed distribution against PyPI's vulnerability data. --strict: a package that
# cannot be looked up fails the audit (it is not skipped), and so does an unreachable service.
audit: install-dev
	$(BIN)/pip-audit --strict --vulnerability-service pypi --skip-editable --progress-spinner off

smoke: install
	bash .ci/smoke

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache *.egg-info
