#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, front-end units, Python tests (including the
# notebooks, real kernels and real JupyterLab + Chromium browser tests).
# Usage: ./test.sh [pytest arguments...]      e.g.  ./test.sh -m "not browser" -x
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python
echo "==> installing nbclaude with its test dependencies (builds the widget bundle with npm)"
"$PY" -m pip install --quiet --upgrade pip
"$PY" -m pip install --quiet -e ".[test,browser,gateway]"
# LiteLLM 1.82.7 and 1.82.8 shipped a credential stealer as litellm_init.pth (run at every Python
# start): refuse to go on if one is installed, before any other Python runs.
if find .venv -name 'litellm_init.pth' -print -quit | grep -q .; then
    echo "!! litellm_init.pth is installed (LiteLLM credential stealer): refusing to run" >&2
    exit 1
fi

echo "==> front end: npm ci + vitest"
npm ci --no-audit --no-fund --loglevel=error
npm test
npm run typecheck

echo "==> ruff, mypy"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m mypy

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Chromium for the browser tests (apt)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "!! Chromium is missing (sudo apt-get install chromium): browser tests will fail" >&2
    fi
fi

echo "==> pytest"
exec "$PY" -m pytest "$@"
