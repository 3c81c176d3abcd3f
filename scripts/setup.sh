#!/usr/bin/env bash
# Sets up everything vposlab needs on a Debian machine: Debian's chromium (when missing), a virtualenv in .venv
# and the project with its dev dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "vposlab needs Python 3.11+")'

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium (Playwright's own browser download cannot work here)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v -i "warning" || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v -i "warning" || true
.venv/bin/python -c "import gateway, simulator, reports, lab, playwright" # fails loudly if the install did not work
echo "setup done: .venv ready, chromium at /usr/bin/chromium"
