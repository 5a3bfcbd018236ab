# The social security card assistant. `make run` starts it; `make test` checks it.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test db demo clean

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

# Lint first (cheap), then the whole suite; set TEST_DATABASE_URL to run the database tests on PostgreSQL too.
test: install
	$(VENV)/bin/ruff check bot tests migrations bench
	$(VENV)/bin/ruff format --check bot tests migrations bench
	$(PY) -m pytest

db: install
	$(PY) -m bot db upgrade

demo: db
	$(PY) -m bot demo seed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
