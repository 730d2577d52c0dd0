# Two commands matter: `make demo` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ARGS ?=

.PHONY: install lock demo serve test lint format worker clean-demo bench audit loadtest faults quality

# DEBUG is off by default (config/settings.py); the development targets run with it on unless
# DEBUG is set. The drills and the load test set DEBUG=0 for the processes they measure.
demo serve worker test bench loadtest faults quality: export DEBUG ?= 1
# The demo's mail (its worker sends the week's digests as it starts, and password-reset links)
# goes to one file per message in var/mail/ instead of flooding the terminal.
demo: export EMAIL_URL ?= file://$(CURDIR)/var/mail

install: $(VENV)/.installed

# Exactly the versions in requirements.lock, each checked against its hashes; then the project
# itself (editable, its dependencies already there).
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Resolve pyproject.toml's ranges again (newest versions they allow, every platform) into
# requirements.lock. Review the diff, then `make test`.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --upgrade --quiet --output-file requirements.lock

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_taxonomy
	$(BIN)/python manage.py seed_demo --if-empty $(DEMO_ARGS)
	$(BIN)/python manage.py retrain
	$(BIN)/python manage.py demo_logins --url http://$(HOST):$(PORT)
	@# A worker beside the server: per-member refreshes and admin-started retrains run at once.
	OPENBLAS_NUM_THREADS=1 $(BIN)/python manage.py qcluster & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

serve: install
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install
	OPENBLAS_NUM_THREADS=1 $(BIN)/python manage.py qcluster

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# Known vulnerabilities in the locked dependencies, from PyPI's advisory data (its per-version
# JSON) or OSV (AUDIT_SERVICE=osv); needs a machine that reaches them. CI does not run it.
AUDIT_SERVICE ?= pypi
audit: install
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements.lock \
		--vulnerability-service $(AUDIT_SERVICE) --progress-spinner off

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-demo:
	rm -f var/db.sqlite3

# Benchmark scale on PostgreSQL: 100k members, 10k courses, 2M interactions (seeded once).
# BENCH_SCALE=10: ten times the members and interactions, in a database of its own.
BENCH_SCALE ?= 1
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/skillpath_bench$(if $(filter-out 1,$(BENCH_SCALE)),_x$(BENCH_SCALE))
BENCH_ARGS ?=
bench: install
	psql "$(dir $(BENCH_DATABASE_URL))postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 \
		|| psql "$(dir $(BENCH_DATABASE_URL))postgres" -c "CREATE DATABASE $(notdir $(BENCH_DATABASE_URL))"
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) OPENBLAS_NUM_THREADS=1 $(BIN)/python manage.py bench \
		--scale $(BENCH_SCALE) $(BENCH_ARGS)

# The site under gunicorn on the benchmark database, driven by locust; then the same load during
# a full retrain + precompute. Needs `make bench` first. See docs/operations.md.
LOADTEST_ARGS ?=
loadtest: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python tools/load/run_loadtest.py --database-url $(BENCH_DATABASE_URL) $(LOADTEST_ARGS)

# Fault drills (killed workers, a PostgreSQL restart, interrupted event batches) on a scratch
# database seeded on first use. Restarts the machine's PostgreSQL for a few seconds.
FAULTS_ARGS ?=
faults: install
	$(BIN)/python tools/faults/run_faults.py $(FAULTS_ARGS)

# The project's recommendations and skill tags on the real development data (QUALITY_DATA_DIR),
# each through the real commands on a scratch database, beside baselines computed in the same
# run; figures also in var/quality.json. See docs/operations.md.
QUALITY_DATA_DIR ?= ../shared/data/dev
QUALITY_ARGS ?=
quality: install
	OPENBLAS_NUM_THREADS=1 $(BIN)/python tools/quality/run_quality.py \
		--data-dir "$(QUALITY_DATA_DIR)" $(QUALITY_ARGS)
