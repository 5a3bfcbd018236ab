#!/bin/sh
# One Rasa server in production mode, on port $1 (default RASA_PORT, else 5005).
# Fills in the lock store defaults, refuses unsafe settings (exit 3; `bot config check`'s check,
# without the CLI's imports: bot/platform/config_gate.py), then becomes `rasa run`
# (through `python -m rasa_addons`, which installs our additions to Rasa first and takes the API
# token from RASA_TOKEN in the environment, so no secret is ever on a command line). The model is
# RASA_MODEL if set, else the one last deployed (`python -m bot model deploy`; bot/training/trained_model.py), so a
# server restarted after a deployment comes back with the deployed model.
set -e
cd "$(dirname "$0")/.."
if [ -x .venv/bin/rasa ]; then PATH="$PWD/.venv/bin:$PATH"; fi
: "${LOCK_STORE_PORT:=6379}" "${LOCK_STORE_DB:=1}" "${LOCK_STORE_PASSWORD:=}" "${LOCK_STORE_KEY_PREFIX:=cards}"
: "${ACTION_ENDPOINT_URL:=http://127.0.0.1:${ACTIONS_PORT:-5055}/webhook}"
export LOCK_STORE_PORT LOCK_STORE_DB LOCK_STORE_PASSWORD LOCK_STORE_KEY_PREFIX ACTION_ENDPOINT_URL
python -m bot.platform.config_gate
exec python -m rasa_addons run --enable-api -i "${RASA_HOST:-127.0.0.1}" -p "${1:-${RASA_PORT:-5005}}" \
  -m "${RASA_MODEL:-$(python -m bot.training.trained_model)}" \
  --endpoints deploy/endpoints.production.yml --credentials credentials.yml
