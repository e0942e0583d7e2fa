# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test install install-test translations lint format migrate seed screenshots clean

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ").")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

migrate: install translations
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed

run: seed
	@echo ""
	@echo "  Participation runs on http://127.0.0.1:5000  (stop with Ctrl+C)"
	@echo "  E-mails (confirmation and reset links, notifications) are printed here within seconds."
	@echo ""
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# One test process per core; PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= auto

test: install-test translations
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The README's screenshots, from the demo data in Debian's Chromium (scripts/screenshots.py).
screenshots: install-test translations
	$(BIN)/python scripts/screenshots.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the catalogs after adding or changing user-facing strings.
catalogs: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --project participation .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
