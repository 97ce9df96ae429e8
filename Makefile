# skytally: `make help` lists the targets. Every target sets up what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==0.13.8"
	@$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@
	@echo "installed skytally and its locked dependencies into $(VENV)"

install: $(STAMP) ## Create .venv and install the locked dependencies and skytally

demo: $(STAMP) ## Run the service on an embedded broker, fed with sample reports (Ctrl-C stops)
	$(BIN)/skytally demo

demo-once: $(STAMP) ## Same, but exit after the sample feed is processed
	$(BIN)/skytally demo --once

system-deps: ## Install the Debian packages the tests use (Alertmanager, Prometheus, Chromium)
	@bash scripts/system-deps.sh

test: $(STAMP) system-deps lint ## Set everything up and run the whole test suite (lint included)
	@if command -v java >/dev/null 2>&1; then $(BIN)/python -m tests.support.kafka_jars; else echo "no java: integration tests use the embedded Tansu broker"; fi
	$(BIN)/pytest -q

test-faults: $(STAMP) system-deps ## Only the fault suite (two workers, SIGKILLs mid-stream, exact counts)
	@if command -v java >/dev/null 2>&1; then $(BIN)/python -m tests.support.kafka_jars; fi
	$(BIN)/pytest -q -m fault

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check service tests
	$(BIN)/mypy

bench: $(STAMP) ## Run the benchmarks under tests/bench (not part of `make test`; takes ~15 min)
	$(BIN)/python tests/bench/bench_extract.py
	$(BIN)/python -m tests.bench.bench_stages --reports 5000
	$(BIN)/python -m tests.bench.bench_e2e --broker kafka --messages 10000 --size 1-4KB --workers 1,2 --runs 2
	$(BIN)/python -m tests.bench.bench_latency --broker kafka --rate 200 --seconds 60

compile: $(STAMP) ## Compile the extractor with mypyc into build/mypyc (use: PYTHONPATH=build/mypyc)
	@rm -rf build/mypyc && mkdir -p build/mypyc && cp -r service pyproject.toml README.md build/mypyc/
	@find build/mypyc -name __pycache__ -prune -exec rm -rf {} +
	cd build/mypyc && ../../$(BIN)/mypyc service/extract/ > mypyc.log
	@echo "compiled: PYTHONPATH=build/mypyc $(BIN)/skytally ... or tests/bench/bench_extract.py --compiled"

test-compiled: compile ## The extraction unit tests against the mypyc-compiled extractor
	@rm -rf build/mypyc/tests && cp -r tests build/mypyc/
	cd build/mypyc && ../../$(BIN)/python -c "import service.extract.text as t; assert t.__file__.endswith('.so'), t.__file__"
	cd build/mypyc && ../../$(BIN)/pytest -q -p no:cacheprovider tests/unit/extract

bench-compiled: compile ## Extraction benchmark of the mypyc-compiled extractor
	$(BIN)/python tests/bench/bench_extract.py --compiled

lock: ## Re-pin requirements.lock from pyproject.toml
	$(BIN)/uv pip compile -q pyproject.toml --extra test -o requirements.lock

schemas: $(STAMP) ## Regenerate schemas/ from the message models
	$(BIN)/skytally schemas

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) skytally-data .pytest_cache build

.PHONY: help install demo demo-once system-deps test test-faults lint bench compile test-compiled bench-compiled lock schemas clean
