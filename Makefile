# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_EXPORT := $(VENV)/.installed-export
# The browser page's runtime (npm, exact versions from deploy/web/package-lock.json) and the
# headless Chromium its tests drive (Debian's package; installed when missing and we are root).
WEB_DIR := deploy/web
STAMP_NPM := $(WEB_DIR)/node_modules/.installed
STAMP_CHROMIUM := $(VENV)/.installed-chromium
DEMO_DIR ?= output/demo
# Every install goes through the lock (exact versions, transitive ones included), so a fresh
# machine gets the same bytes next month. `make lock` refreshes it from setup.py's ranges.
LOCK := requirements/lock.txt
HOLDS := requirements/holds.txt
PIN := -c $(LOCK)
# the isolated build env of `pip install -e` would fetch the newest setuptools: use the locked one
EDITABLE := --no-build-isolation -e
LOCK_VENV := .venv-lock

.PHONY: demo test install install-test clean-demo lock web

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIN) pip setuptools

$(STAMP_BASE): setup.py $(LOCK) | $(PY)
	$(PIP) install -q $(PIN) pip setuptools
	$(PIP) install -q $(PIN) $(EDITABLE) .
	touch $@

$(STAMP_EXPORT): $(STAMP_BASE)
	$(PIP) install -q $(PIN) $(EDITABLE) ".[export]"
	touch $@

$(STAMP_TEST): $(STAMP_BASE) $(STAMP_NPM) $(STAMP_CHROMIUM)
	$(PIP) install -q $(PIN) $(EDITABLE) ".[test,export]"
	$(PIP) install -q $(PIN) --no-deps paddleseg
	touch $@

$(STAMP_NPM): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	npm ci --prefix $(WEB_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# tests/web fail under CI without Chromium; elsewhere they skip, so a non-root `make test` works
$(STAMP_CHROMIUM): | $(PY)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium (headless browser tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "warning: no chromium and not root: tests/web will skip (apt-get install -y chromium)"; fi
	@if command -v chromium >/dev/null 2>&1; then touch $@; fi

install: $(STAMP_BASE)
install-test: $(STAMP_TEST)
# what `python tools/serve_web.py` needs besides the venv: the page's npm files
web: $(STAMP_NPM) $(STAMP_EXPORT)

test: $(STAMP_TEST)
	$(PY) -m pytest -q tests

demo: $(STAMP_EXPORT)
	$(PY) tools/demo.py --save_dir $(DEMO_DIR)

# Resolve setup.py's ranges (and requirements/holds.txt) in a fresh venv and write the lock.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q -U pip setuptools
	$(LOCK_VENV)/bin/python -m pip install -q -c $(HOLDS) -e ".[test,export]"
	$(LOCK_VENV)/bin/python -m pip install -q -c $(HOLDS) --no-deps paddleseg
	$(LOCK_VENV)/bin/python tools/write_lock.py --venv $(LOCK_VENV) --out $(LOCK)
	rm -rf $(LOCK_VENV)

clean-demo:
	rm -rf $(DEMO_DIR) data/synthetic_humanseg
