# The two commands a new user needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := server

.PHONY: run test stress install translations browser lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)
	$(BIN)/pybabel -q compile -d server/translations

# After adding translatable strings: update the catalog, then fill in the Chinese.
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -o /tmp/zoufang-messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching -i /tmp/zoufang-messages.pot -d server/translations

# Debian's Chromium drives the end-to-end tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk)

# The job worker (registry imports) runs beside the web server and stops with it.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed --if-empty
	$(BIN)/flask jobs worker & trap 'kill $$!' EXIT INT TERM; \
	  $(BIN)/flask run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install browser lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The fuzzing of tests/test_fuzz.py at length: many more generated calls per operation and role.
stress: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(BIN)/pytest -q tests/test_fuzz.py

bench: install
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/selfreport.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
