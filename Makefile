# broadcaster — set-up and test on Debian/Ubuntu. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# the web console's port for `make run PORT=8081` (empty: web_port of settings.toml, default 8080)
PORT   ?=
# what the station needs at run time, and what the tests add (a paced software sound card)
RUN_PKGS  := libportaudio2
TEST_PKGS := libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils chromium espeak-ng icecast2 iproute2

.PHONY: run test install sysdeps-run sysdeps-test bench clean

# Install the Debian packages in $(1) that are missing: with apt when root, else say what to run.
define ensure_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "Thiếu gói hệ thống:$$missing (cài bằng trình quản lý gói của máy)"; \
	  elif [ "$$(id -u)" = "0" ]; then \
	    echo "Cài gói hệ thống:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Thiếu gói hệ thống:$$missing — hãy chạy: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi
endef

$(BIN)/.installed: pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cần Python 3.11 trở lên (Python >= 3.11 required)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@

# byte-compile the package as a real install has it (a machine with PYTHONDONTWRITEBYTECODE=1 would
# otherwise compile every module on every run: ~0.17 s of each command's start-up); only stale files
install: $(BIN)/.installed
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m compileall -q broadcaster

sysdeps-run:
	$(call ensure_packages,$(RUN_PKGS))

sysdeps-test:
	$(call ensure_packages,$(TEST_PKGS))

run: sysdeps-run install
	$(BIN)/broadcaster init
	$(BIN)/broadcaster serve$(if $(PORT), --port $(PORT))

test: sysdeps-test install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
