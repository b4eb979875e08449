#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine with Python 3.11: the apt packages hilft's local
# stack and tests need, and the project's virtualenv. Called by `make setup` (and so by
# `make demo`, `make dev`, `make test`). Set HILFT_SKIP_BROWSER=1 to skip Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
if ! command -v gcloud >/dev/null 2>&1 || [ ! -d "$(dirname "$(readlink -f "$(command -v gcloud)")")/../platform/cloud-firestore-emulator" ]; then
  missing+=(google-cloud-cli google-cloud-cli-firestore-emulator)
fi
if [ "${HILFT_SKIP_BROWSER:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
command -v terraform >/dev/null 2>&1 || echo "setup: terraform not found: Terraform checks will be skipped (install it for make plan/deploy)."

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "setup: could not install ${missing[*]}." >&2
    echo "       The Firestore emulator comes from Google's Cloud SDK apt repository (package" >&2
    echo "       google-cloud-cli-firestore-emulator); see https://cloud.google.com/sdk/docs/install#deb" >&2
    exit 1
  fi
fi

stamp=.venv/.hilft-setup
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv and installing hilft with its dev tools"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# checkov (Terraform policy checks) pins many libraries: it gets a virtualenv of its own.
if [ "${HILFT_SKIP_CHECKOV:-0}" != "1" ] && [ ! -x .venv-checkov/bin/checkov ]; then
  echo "setup: installing checkov into .venv-checkov"
  env -u PYTHONPATH "$PY" -m venv .venv-checkov
  env -u PYTHONPATH .venv-checkov/bin/python -m pip install -q --upgrade pip
  env -u PYTHONPATH .venv-checkov/bin/python -m pip install -q "checkov>=3.2,<4"
fi
echo "setup: ok"
