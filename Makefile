# hilft — every command a developer or operator needs. `make help` lists them.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)/functions:$(CURDIR)/infra/local:$(CURDIR)
HILFT_PORT_BASE ?= 8700

.PHONY: help setup dev demo test test-fast lint bench fuzz requirements plan deploy destroy register-webhooks replay report clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

setup: ## install apt packages and the virtualenv (idempotent)
	@bash infra/local/setup.sh

dev: setup ## the local stack in the foreground (Firestore + Cloud Tasks emulators, every function)
	$(PY) -m stack --port-base $(HILFT_PORT_BASE)

demo: setup ## hilft's main job locally: the full stack, fake platforms, a replayed day, live view
	$(PY) -m demo

test: lint ## lint, then the whole test suite: unit, property, emulator, end-to-end, browser, infra checks
	$(PY) infra/local/gen_requirements.py --check
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast: setup ## unit and property tests only (no emulators)
	$(PY) -m pytest -q tests/unit

lint: setup ## ruff, import contracts (the core does no I/O), mypy
	.venv/bin/ruff check functions infra/local tests
	.venv/bin/lint-imports
	.venv/bin/mypy functions/hilft

bench: setup ## benchmarks: throughput, latency, alert lag, operations per post, cold start
	$(PY) -m bench --readme

fuzz: setup ## long fuzzing run of both webhooks (10,000 cases each)
	HILFT_FUZZ_EXAMPLES=10000 $(PY) -m pytest -q tests/fuzz -p no:cacheprovider

requirements: ## regenerate functions/requirements.txt from pyproject.toml
	$(PY) infra/local/gen_requirements.py

# plan/deploy/destroy need terraform and gcloud (deploy also python3), not .venv (tf.sh runs preflight.sh first).
plan: ## terraform plan against infra/terraform.tfvars
	bash infra/scripts/tf.sh plan

deploy: ## terraform apply: the whole stack into your GCP project
	bash infra/scripts/tf.sh apply

destroy: ## terraform destroy; with deletion protection Firestore (data, indexes, TTL) is kept, see infra/README.md
	bash infra/scripts/tf.sh destroy

register-webhooks: ## register X's webhook, subscriptions and radar rules; print Meta's settings (prints the plan unless CONFIRM=1; DRY_RUN=1 reads X and prints the diff)
	$(PY) infra/scripts/register_webhooks.py $(if $(filter 1,$(DRY_RUN)),--dry-run)

replay: ## X replays a window's events to x_webhook after downtime (FROM=2026-11-29T10:00Z TO=…, UTC; dry run unless CONFIRM=1)
	$(PY) infra/scripts/replay.py --from "$(FROM)" --to "$(TO)" $(if $(WEBHOOK_ID),--webhook-id "$(WEBHOOK_ID)")

report: setup ## the SLA report of the local stack's Firestore as HTML + CSV (FROM=, TO=, REPORT_LANG=de)
	$(PY) infra/local/report_cli.py

clean: ## remove caches and local artefacts (keeps .venv)
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis test-artifacts .dev infra/.build bench/results
