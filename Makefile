# The social security card assistant. `make run` starts it; `make test` checks it.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint check test run run-prod chat call train deploy-model db demo clean

install: $(STAMP) .env

# Python 3.10 from PATH, else from pyenv; Rasa 3.6 supports 3.8-3.10 only.
$(STAMP): requirements.txt constraints.txt
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  if python3.10 -c 'pass' 2>/dev/null; then py=$$(command -v python3.10); \
	  else py=$$(ls -d $$HOME/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V | tail -n 1); fi; \
	  if [ -z "$$py" ]; then echo "Python 3.10 is needed (Rasa 3.6 runs on 3.8-3.10): install python3.10 or 'pyenv install 3.10'" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $$py"; \
	  "$$py" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --upgrade 'pip==26.3' 'setuptools==70.3.0' 'wheel==0.45.1'; \
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt; \
	touch $(STAMP)

.env: | $(STAMP)
	$(PY) -m bot env init

LINTED := bot actions nlu rasa_addons webhooks tests migrations bench deploy

lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

# The quick loop: lint, then every test but the end-to-end ones (no Rasa, no model, no browser).
check: lint
	$(PY) -m pytest -m "not e2e"

# Lint first (cheap), then the whole suite; set TEST_DATABASE_URL to run the database tests on PostgreSQL too.
# What is skipped, and how to run it, is listed at the end (docs/testing.md).
test: lint
	@[ -x /usr/bin/chromium ] || echo "note: /usr/bin/chromium is missing, so the staff console's browser test will be skipped; 'apt-get install chromium' (what .ci/run does) runs it"
	$(PY) -m pytest

# Install, migrate, load the demo cardholders into an empty database, delete conversations older
# than TRACKER_RETENTION_DAYS, train if the model is missing or stale, then run every process of the
# Procfile under supervisord until Ctrl-C (which stops them all); a process that dies is restarted on
# its own; Rasa starts with the model recorded as served (after `make deploy-model`, the deployed one).
# `bot env exec` hands the supervisor the environment overlaid on .env, so a variable set here
# wins over .env.
run: install
	@$(PY) -m bot env init >/dev/null
	@$(PY) -m bot db upgrade
	@$(PY) -m bot demo seed --if-empty >/dev/null
	@$(PY) -m bot tracker purge
	@model=$$($(PY) -m bot model ensure --serve) && \
	port=$$(grep -s '^WEB_PORT=' .env | cut -d= -f2); port=$${WEB_PORT:-$${port:-8000}}; \
	echo "web chat:       http://127.0.0.1:$$port/"; \
	echo "staff console:  http://127.0.0.1:$$port/staff/ (first account: .venv/bin/python -m bot staff add-user NAME --role admin)"; \
	echo "health:         http://127.0.0.1:$$port/healthz"; \
	echo "Twilio SMS:     http://127.0.0.1:$$port/twilio/sms"; \
	echo "Twilio voice:   http://127.0.0.1:$$port/twilio/voice (status callback /twilio/status)"; \
	echo "model:          $$model"; \
	echo; echo "demo cardholders (fictional):"; $(PY) -m bot demo list; echo; \
	exec $(PY) -m bot env exec -- $(PY) -m bot supervise run Procfile

# Production mode on one machine (deploy/README.md): settings and secrets from the environment only
# (never .env), PostgreSQL and Redis; two Rasa servers, two action-server workers, gunicorn, all under
# supervisord. Old conversations are purged at each start; a long-running deployment adds the daily cron
# line there.
run-prod: $(STAMP)
	@export APP_ENV=production; $(PY) -m bot config check && \
	$(PY) -m bot db upgrade && $(PY) -m bot tracker purge && $(PY) -m bot model ensure --serve >/dev/null && \
	exec $(PY) -m bot supervise run Procfile.production

chat: install
	$(PY) -m webhooks.terminal_chat

call: install
	$(PY) -m webhooks.call_simulator

train: install
	$(PY) -m bot model ensure --force

# Train if the training data changed, refuse the model if a held-out score falls, else load it into
# each running Rasa server in turn (RASA_URLS, else RASA_PORT) without stopping any.
deploy-model: install
	$(PY) -m bot model deploy

db: install
	$(PY) -m bot db upgrade

demo: db
	$(PY) -m bot demo seed

# The benchmark report (docs/benchmarks.md): ours and a stock Rasa bot side by side, started on free
# ports over a temporary database. Takes about ten minutes; not part of `make test`.
.PHONY: bench
bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Production mode's scale curve: Procfile.production with two Rasa servers beside one, over
# throwaway PostgreSQL databases and Redis keys (needs both running locally). About four minutes.
.PHONY: bench-prod
bench-prod: install
	$(PY) -m bench.production $(BENCH_ARGS)
