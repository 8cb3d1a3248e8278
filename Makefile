# Every target installs what it needs first (idempotently), so any of them
# works as the first command on a fresh clone.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python <= 3.10; the action server runs on 3.11.
PY310 ?= $(or $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10.13/bin/python),$(shell command -v python3.10))
PY311 ?= $(or $(shell command -v python3.11),python3)

RASA_VENV := .venv/rasa
ACTIONS_VENV := .venv/actions
RASA_PY := $(RASA_VENV)/bin/python
ACTIONS_PY := $(ACTIONS_VENV)/bin/python
MODEL := models/vi-bot.tar.gz

# Service defaults; each can be overridden from the environment.
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export ACTION_ENDPOINT_URL ?= http://localhost:$(ACTION_PORT)/webhook
export TRACKER_DB_DIALECT ?= sqlite
export TRACKER_DB ?= run/tracker.db
export TRACKER_DB_HOST ?=
export TRACKER_DB_USER ?=
export TRACKER_DB_PASSWORD ?=
export HOTLINE_NUMBER ?= 1800 1096
export CATALOGUE ?=
export INDEX_DIR ?= models/index
export DESK_DB ?= run/desk.db
# Empty: `make run` starts the portal simulator and points the bot at it.
export PORTAL_API_URL ?=
export PORTAL_API_TOKEN ?=
# 1: `make run` trains the query adapter if missing and the bot uses it (an option: README).
export QUERY_ADAPTER ?= 0

NLU_SOURCES := config.yml domain.yml $(shell find nlu_data bot -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: help install train index run test test-fast lint eval-nlu bench-nlu tune-fallback eval-retrieval eval-answers bench-answers bench-status bench-widget bench-zalo bench-console bench-learning adapt adapt-queries eval-adapted clean

help:
	@echo "make run    - install, train if stale, start Rasa + action server"
	@echo "make test   - install and run every test"
	@echo "make eval-nlu INTENTS=<jsonl>  - intent accuracy and macro-F1"
	@echo "make bench-nlu                 - parse latency (p50/p95)"
	@echo "make eval-retrieval QUESTIONS=<jsonl> [CATALOGUE=<jsonl>] - search metrics"
	@echo "make eval-answers QUESTIONS=<jsonl> [CATALOGUE=<jsonl>]    - first-reply accuracy over REST"
	@echo "make bench-answers                                        - REST latency, 1 and 20 users"
	@echo "make bench-status                                         - status lookups: healthy, outage, faults"
	@echo "make bench-widget                                         - portal widget: send to answer on screen"
	@echo "make bench-zalo                                           - Zalo webhook: acknowledgement times, retried events"
	@echo "make adapt                                                - fine-tune the embedding model on catalogue pairs (~30 min)"
	@echo "make adapt-queries                                        - train the query adapter (minutes)"
	@echo "make eval-adapted QUESTIONS=<jsonl>                       - base, query adapter, fine-tuned side by side"
	@echo "make bench-console                                        - staff console: typing stops to results on screen"
	@echo "make bench-learning                                       - half the FAQ titles taught through the console, the other half before/after"

$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa.lock
	test -x "$(PY310)" || { echo "Python 3.10 not found: set PY310=/path/to/python3.10"; exit 1; }
	test -x $(RASA_PY) || $(PY310) -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install -q --disable-pip-version-check "pip==24.0"
	$(RASA_PY) -m pip install -q --disable-pip-version-check -r requirements/rasa.txt -c requirements/rasa.lock
	touch $@

$(ACTIONS_VENV)/.installed: requirements/actions.txt requirements/actions.lock
	test -x $(ACTIONS_PY) || $(PY311) -m venv $(ACTIONS_VENV)
	$(ACTIONS_PY) -m pip install -q --disable-pip-version-check -r requirements/actions.txt -c requirements/actions.lock
	touch $@

# Domain adaptation and the sentence-transformers path (torch): only for the
# commands and tests that use them, never for the action server.
$(ACTIONS_VENV)/.adapt-installed: $(ACTIONS_VENV)/.installed requirements/adapt.txt requirements/actions.lock
	$(ACTIONS_PY) -m pip install -q --disable-pip-version-check -r requirements/adapt.txt -c requirements/actions.lock
	touch $@

# The portal widget's browser assets (socket.io-client), exactly as locked.
node_modules/.package-lock.json: package.json package-lock.json
	command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

install: $(RASA_VENV)/.installed $(ACTIONS_VENV)/.installed node_modules/.package-lock.json

# Retrains only when the data, domain, config or NLU code changed.
$(MODEL): $(RASA_VENV)/.installed $(NLU_SOURCES)
	$(RASA_VENV)/bin/rasa train --data nlu_data --domain domain.yml --config config.yml \
		--out models --fixed-model-name vi-bot
	touch $@

train: $(MODEL)

run: install $(MODEL)
	@mkdir -p run
	$(ACTIONS_PY) -m index build --if-stale
	@if [ "$(QUERY_ADAPTER)" = 1 ]; then $(ACTIONS_PY) -m index adapt --adapter --if-stale; fi
	RASA_BIN=$(RASA_VENV)/bin/rasa ACTIONS_PY=$(ACTIONS_PY) MODEL=$(MODEL) tools/serve.sh

# The search index over $(CATALOGUE) (default: the national catalogue in index/data/national).
index: $(ACTIONS_VENV)/.installed
	$(ACTIONS_PY) -m index build

# Questions are labelled against the national catalogue (shipped: the default).
eval-retrieval: $(ACTIONS_VENV)/.installed
	@test -n "$(QUESTIONS)" || { echo "usage: make eval-retrieval QUESTIONS=<jsonl> [CATALOGUE=<jsonl>]"; exit 2; }
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" \
		eval --questions "$(QUESTIONS)"

# Domain adaptation (index/adaptation/), on the national catalogue unless CATALOGUE=.
# The fine-tune is a build step: models/adapted/ with a manifest; EMBEDDER=adapted uses it.
adapt: $(ACTIONS_VENV)/.adapt-installed
	$(ACTIONS_PY) -m index --catalogue "$(ANSWER_CATALOGUE)" adapt

adapt-queries: $(ACTIONS_VENV)/.adapt-installed
	$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" adapt --adapter

# Base model, query adapter and fine-tuned model (those that exist), one after another.
eval-adapted: $(ACTIONS_VENV)/.adapt-installed
	@test -n "$(QUESTIONS)" || { echo "usage: make eval-adapted QUESTIONS=<jsonl> [CATALOGUE=<jsonl>]"; exit 2; }
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" \
		--no-adapter eval --questions "$(QUESTIONS)"
	@if [ -f models/index-eval/adapter.json ]; then $(ACTIONS_PY) -m index --index models/index-eval \
		--catalogue "$(ANSWER_CATALOGUE)" eval --questions "$(QUESTIONS)"; fi
	@if [ -f models/adapted/manifest.json ]; then $(ACTIONS_PY) -m index --index models/index-eval-adapted \
		--catalogue "$(ANSWER_CATALOGUE)" --embedder adapted eval --questions "$(QUESTIONS)"; fi

# Guidance answers end to end over REST (starts the stack on free ports).
ANSWER_CATALOGUE = $(or $(CATALOGUE),index/data/national/procedures.jsonl.xz)
eval-answers: install $(MODEL)
	@test -n "$(QUESTIONS)" || { echo "usage: make eval-answers QUESTIONS=<jsonl> [CATALOGUE=<jsonl>]"; exit 2; }
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(RASA_PY) -m tools.answer_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval \
		eval --questions "$(QUESTIONS)"

bench-answers: install $(MODEL)
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(RASA_PY) -m tools.answer_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval \
		bench --users 1,20

# Status lookups end to end: healthy, portal down, 1,000 with 20% faults.
bench-status: install $(MODEL)
	@$(RASA_PY) -m tools.status_bench

# The portal widget in headless Chromium: send to the first answer bubble on screen.
bench-widget: install $(MODEL)
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(RASA_PY) -m tools.widget_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval

# The Zalo webhook under 50 concurrent events, and 200 events each retried.
bench-zalo: install $(MODEL)
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(RASA_PY) -m tools.zalo_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval

# The staff console in headless Chromium: typing stops to the results on screen.
bench-console: install
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(RASA_PY) -m tools.console_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval

# Learning from staff: half of the labelled portal FAQ titles taught through the console's
# HTTP API into a fresh desk, the other half's retrieval before and after.
bench-learning: $(ACTIONS_VENV)/.installed
	@$(ACTIONS_PY) -m index --index models/index-eval --catalogue "$(ANSWER_CATALOGUE)" build --if-stale
	@$(ACTIONS_PY) -m tools.learning_bench --catalogue "$(ANSWER_CATALOGUE)" --index models/index-eval

lint: install
	$(RASA_VENV)/bin/ruff check bot actions console helpdesk index portal replies tests tools widget

test: install $(ACTIONS_VENV)/.adapt-installed
	$(RASA_VENV)/bin/ruff check bot actions console helpdesk index portal replies tests tools widget
	$(ACTIONS_PY) -m pytest -q tests/actions tests/helpdesk tests/replies tests/index tests/portal tests/widget tests/console
	TEST_MODEL= $(RASA_PY) -m pytest -q tests/bot tests/nlu tests/e2e

# Quick loop while editing: no training, no servers.
test-fast: install
	$(ACTIONS_PY) -m pytest -q -m "not slow" tests/actions tests/helpdesk tests/replies tests/index tests/portal tests/widget tests/console
	$(RASA_PY) -m pytest -q tests/bot

eval-nlu: install $(MODEL)
	@test -n "$(INTENTS)" || { echo "usage: make eval-nlu INTENTS=<jsonl>"; exit 2; }
	@$(RASA_PY) -m tools.eval_nlu --model $(MODEL) "$(INTENTS)"

bench-nlu: install $(MODEL)
	@$(RASA_PY) -m tools.bench_nlu --model $(MODEL)

tune-fallback: install
	$(RASA_PY) -m tools.tune_fallback

clean:
	rm -rf models results run .rasa
