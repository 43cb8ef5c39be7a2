# One entry point for people and CI. `make run` and `make test` set everything up first;
# re-running them when nothing changed installs nothing and embeds nothing.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml 2>/dev/null | sha1sum | cut -c1-12)
PORT   ?= 8501

.PHONY: setup run chat ingest test test-fast lint typecheck bench eval eval-gate lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)  ## create .venv, install the locked dependencies, convert the default model (each once)
	$(BIN)/python -m assistant.embedders.e5_export

ingest: setup  ## index ./corpus (incremental)
	$(BIN)/assistant ingest

run: ingest  ## the main job: index ./corpus, load the models, then print the chat's URL
	$(BIN)/python -m ui.serve --server.address 127.0.0.1 --server.port $(PORT)

chat: ingest  ## index ./corpus, then chat in the terminal
	$(BIN)/assistant chat

lint: setup  ## ruff lint + format check
	$(BIN)/ruff check assistant ui tests benchmarks
	$(BIN)/ruff format --check assistant ui tests benchmarks

typecheck: setup  ## mypy
	$(BIN)/mypy

test: lint typecheck  ## everything CI runs: lint, types, the whole test suite (slow tests included), the eval gate
	$(BIN)/python -m pytest
	$(MAKE) eval-gate

eval-gate: setup  ## answer the seed Q&A set and fail if a metric falls below evals/thresholds.toml
	$(BIN)/assistant --data-dir .cache/eval-seed eval evals/datasets/seed_qa.jsonl \
		--corpus corpus/containers-vs-vms.ja.md --thresholds evals/thresholds.toml --no-progress --fresh

test-fast: setup  ## the quick tests only
	$(BIN)/python -m pytest -m "not slow and not server"

bench: setup  ## benchmarks (ratios against a baseline measured in the same run)
	$(BIN)/python benchmarks/core.py

eval: ingest  ## evaluate the seed Q&A set against the default index and write the reports
	$(BIN)/assistant eval evals/datasets/seed_qa.jsonl

lock:  ## re-lock the dependencies from the current environment
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(llama[-_]cpp[-_]python|gemma3-270m)' > requirements.lock

clean:  ## remove the virtualenv and caches (not the index)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
