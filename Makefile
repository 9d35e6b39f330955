# The two commands of the README: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address to open: a server listening on every interface (0.0.0.0) answers on 127.0.0.1.
BROWSE_HOST = $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST))
DEMO_COMPANIES ?= 2000

.PHONY: install run test lint check bench browsers clean

# Reinstall only when the dependencies change, so a second `make run` starts in seconds.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# axe-core, the accessibility rules the browser tests run in each page (tests/browser), goes
# into .npm/ only when missing; without npm those checks skip and nothing else is affected.
AXE_JS := .npm/node_modules/axe-core/axe.min.js

install: $(VENV)/.installed
	@test -f $(AXE_JS) || npm install --no-audit --no-fund --silent --prefix .npm axe-core@4 \
		|| echo "axe-core could not be installed: accessibility checks will be skipped"

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo --companies $(DEMO_COMPANIES)
	@echo ""
	@echo "Observatoire servi sur http://$(BROWSE_HOST):$(PORT)/ (HOST=$(HOST), PORT=$(PORT) ; Ctrl-C pour arrêter)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
