# Two commands on a fresh machine:  `make demo` (ingest sample filings, answer questions, offline)
# and `make test`. Both create .venv and install what they need the first time.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[torch,serve,llm,graph,server,bench,dev]"
	touch $(STAMP)

.PHONY: install demo test test-fast lint bench
install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/finrag demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# The developer's loop: everything but the tests marked slow or integration (those start servers or run
# whole ingests); CI runs the full `make test`.
test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow and not integration"

lint: $(STAMP)
	$(BIN)/ruff check finrag tests bench
	$(BIN)/ruff format --check finrag tests bench
