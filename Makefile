# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_EXPORT := $(VENV)/.installed-export
DEMO_DIR ?= output/demo

.PHONY: demo test install install-test clean-demo

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip

$(STAMP_BASE): setup.py | $(PY)
	$(PIP) install -q -e .
	touch $@

$(STAMP_EXPORT): $(STAMP_BASE)
	$(PIP) install -q -e ".[export]"
	touch $@

$(STAMP_TEST): $(STAMP_BASE)
	$(PIP) install -q -e ".[test,export]"
	$(PIP) install -q --no-deps paddleseg==2.8.0
	touch $@

install: $(STAMP_BASE)
install-test: $(STAMP_TEST)

test: $(STAMP_TEST)
	$(PY) -m pytest -q tests

demo: $(STAMP_EXPORT)
	$(PY) tools/demo.py --save_dir $(DEMO_DIR)

clean-demo:
	rm -rf $(DEMO_DIR) data/synthetic_humanseg
