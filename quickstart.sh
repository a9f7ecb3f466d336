#!/usr/bin/env bash
# Set up nbclaude and open the quickstart notebook in JupyterLab.
# Without ANTHROPIC_API_KEY it runs on nbclaude's offline fake API (no key, no network) and says so.
#   ./quickstart.sh             JupyterLab on notebooks/01-quickstart.ipynb
#   ./quickstart.sh --execute   run the notebook headless and print its outputs (what CI does)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -e ".[lab]"

if [ -z "${ANTHROPIC_API_KEY:-}" ] && [ -z "${ANTHROPIC_AUTH_TOKEN:-}" ]; then
    export NBCLAUDE_OFFLINE=1
    echo "No ANTHROPIC_API_KEY: running on nbclaude's OFFLINE fake API (no model is called)."
    echo "Set ANTHROPIC_API_KEY in your environment to talk to Claude."
fi

mode=${1:-}
if [ -z "$mode" ] && [ ! -t 1 ]; then
    mode=--execute  # not a terminal (CI, a pipe): run headless
fi
if [ "$mode" = "--execute" ]; then
    exec "$PY" -m nbclaude.testing.notebook notebooks/01-quickstart.ipynb
fi
exec "$PY" -m jupyterlab notebooks/01-quickstart.ipynb
