# Two commands set everything up on a fresh machine:
#   make sweep   - create .venv, install, run the offline sweep on the embedded default
#   make test    - create .venv, install with test extras, run the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: sweep test bench lint clean browser

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

sweep: $(STAMP)
	$(PY) -m runners.sweep scenarios/free_paid.yaml

# as root the browser can be installed, so a missing one is a failure there, not a skip
test: $(STAMP) browser
	AFSIM_REQUIRE_BROWSER=$$([ "$$(id -u)" = 0 ] && echo 1) $(PY) -m pytest

# The report's browser test drives Debian's chromium headless. Installed here when missing and we
# are root; if it cannot be installed the test skips with the reason (but fails on CI).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian chromium for the report's browser test"; \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
		echo "warning: could not install chromium; the browser test will skip (fails on CI)"; \
	fi

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) runs .afsim-cache
