# The two commands a new user needs: `make demo` and `make test`. Both create .venv and
# install everything (Python packages and the Debian packages OCR and the report need).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out
# Debian packages: Tesseract with models for the scripts of Qwen3's languages (the list the
# Dockerfile installs too, packaging/tesseract-packages.txt); Chromium for the report test;
# bubblewrap, the code sandbox of `synth` (synth/sandbox.py); libgl1 and libglib2.0-0, which
# OpenCV (under the `rapidocr` extra) loads.
APT_PACKAGES := $(shell grep -v '^\#' packaging/tesseract-packages.txt) chromium bubblewrap libgl1 libglib2.0-0

.PHONY: demo test check venv sysdeps bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,search,rapidocr]'
	# An editable install leaves our own modules uncompiled, and where PYTHONDONTWRITEBYTECODE
	# is set every process (each CLI call, each Beam worker) would compile them again (~0.1 s).
	$(BIN)/python -m compileall -q corpusmill commands pipelines extractors annotators mixers synth dedup
	touch $(STAMP)

# Installs the Debian packages only when missing; needs root (as on CI) or sudo.
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: venv sysdeps
	$(BIN)/corpusmill demo --out $(DEMO_OUT)

# Static checks first (seconds), then the suite.
test: venv sysdeps check
	$(BIN)/python -m pytest -q

check: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# mypy on the core and the domain rooms, as installed under `corpusmill.*` (see the script).
	$(BIN)/python packaging/typecheck.py

bench: venv sysdeps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
