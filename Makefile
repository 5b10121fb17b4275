# make run   - virtualenv, install, migrate, demo data when empty, serve on http://127.0.0.1:5000
#              (with the email worker beside it)
# make test  - the whole suite (SQLite and PostgreSQL, browser and concurrency tests included)
# make bench - the benchmark table (docs/performance.md says what each figure measures); installs
#              wrk, the HTTP load generator, from Debian's packages when it is missing

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
export CLINIC_ENV ?= development

.PHONY: run test bench lint format clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The outbox worker runs beside the site; with no MAIL_SERVER it prints each email to the log.
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask worker --interval 5 & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# On every core (pytest-xdist; TEST_WORKERS=0 runs in this one process); tests/conftest.py
# keeps the tests that start processes of their own on one worker, one after another.
TEST_WORKERS ?= auto
test: $(VENV)/.installed
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

bench: $(VENV)/.installed
	bash bench/install-tools
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis *.egg-info
