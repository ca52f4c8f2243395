# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test install install-test browser clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "siting needs Python 3.11+"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# Leaflet and its plugins from the npm registry, inlined into every map (offline maps).
ASSETS := src/siting/static/node_modules/.installed
$(ASSETS): src/siting/static/package.json src/siting/static/package-lock.json
	npm ci --prefix src/siting/static --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed $(ASSETS)
	$(PIP) install -e '.[test]'
	touch $@

install: $(VENV)/.installed $(ASSETS)
install-test: $(VENV)/.installed-test

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(VENV)/bin/siting demo

test: install-test browser
	$(PY) -m pytest

bench: install-test
	$(PY) bench/reach.py
	$(PY) bench/county.py

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info src/siting/static/node_modules
