#!/usr/bin/env bash
# Idempotent set-up for a stock Debian machine (12 or later): the apt packages hilft's local stack
# and tests need, and the project's virtualenv. Called by `make setup` (and so by `make demo`,
# `make dev`, `make test`). Set HILFT_SKIP_BROWSER=1 to skip Chromium, HILFT_SKIP_CHECKOV=1 to
# skip checkov's virtualenv.
#
# The Firestore emulator comes from Google's Cloud SDK apt repository. When it is missing, the
# repository and its key are added as Google documents (https://cloud.google.com/sdk/docs/install#deb):
# the key de-armoured into /usr/share/keyrings/cloud.google.gpg, the source signed-by that keyring.
# Anything that cannot be installed stops the script with one line saying what and why.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
GOOGLE_KEY_URL=https://packages.cloud.google.com/apt/doc/apt-key.gpg
GOOGLE_KEYRING=/usr/share/keyrings/cloud.google.gpg
GOOGLE_SOURCE=/etc/apt/sources.list.d/google-cloud-sdk.list
GOOGLE_REPO="deb [signed-by=$GOOGLE_KEYRING] https://packages.cloud.google.com/apt cloud-sdk main"
APT_LOG=${TMPDIR:-/tmp}/hilft-setup-apt.log
: >"$APT_LOG"

die() { echo "setup: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo"
fi
require_root() {
  [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ] || die "need root or sudo to $*"
}
apt_error() {  # apt's own last error line, so the one line we print says why
  local line
  line=$(grep -E '^(E|Err):' "$APT_LOG" 2>/dev/null | tail -n 1 || true)
  echo "${line:-apt-get failed}"
}

apt_updated=0
apt_update() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand (this script supports Debian)"
  require_root "install $*"
  $SUDO apt-get update -qq >>"$APT_LOG" 2>&1 || die "apt-get update failed: $(apt_error) (log: $APT_LOG)"
  apt_updated=1
}
apt_install() {
  [ "$apt_updated" -eq 1 ] || apt_update "$@"
  echo "setup: installing apt packages: $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$APT_LOG" 2>&1 \
    || die "could not install $*: $(apt_error) (log: $APT_LOG)"
}
apt_has_candidate() {
  local candidate
  candidate=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

# -- Python 3.11+ with venv ------------------------------------------------------------------------
command -v "$PY" >/dev/null 2>&1 || die "$PY not found: install Python 3.11 or later (apt-get install python3)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PY is Python $("$PY" -c 'import sys; print(sys.version.split()[0])'); hilft needs 3.11 or later"
if ! "$PY" -m ensurepip --version >/dev/null 2>&1; then
  pyver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  if [ "$(command -v "$PY")" = "$(command -v python3 2>/dev/null)" ]; then venv_pkg=python3-venv; else venv_pkg=python$pyver-venv; fi
  apt_install "$venv_pkg"
  "$PY" -m ensurepip --version >/dev/null 2>&1 || die "$venv_pkg is installed but $PY still cannot create virtualenvs"
fi

# -- Java, browser --------------------------------------------------------------------------------
missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ "${HILFT_SKIP_BROWSER:-0}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

# -- gcloud and its Firestore emulator ------------------------------------------------------------
firestore_emulator_present() {
  command -v gcloud >/dev/null 2>&1 \
    && [ -d "$(dirname "$(readlink -f "$(command -v gcloud)")")/../platform/cloud-firestore-emulator" ]
}
if ! firestore_emulator_present; then
  sdk_root=""
  if command -v gcloud >/dev/null 2>&1; then
    sdk_root=$(readlink -f "$(dirname "$(readlink -f "$(command -v gcloud)")")/..")
  fi
  if [ -n "$sdk_root" ] && [ "$sdk_root" != /usr/lib/google-cloud-sdk ]; then
    # A Cloud SDK installed from Google's archive, not apt: its own component manager adds the emulator.
    echo "setup: installing the Firestore emulator into the Cloud SDK at $sdk_root"
    gcloud components install cloud-firestore-emulator --quiet >>"$APT_LOG" 2>&1 \
      || die "could not install the Firestore emulator with 'gcloud components install' (details in $APT_LOG)"
  else
    if ! apt_has_candidate google-cloud-cli-firestore-emulator; then
      echo "setup: adding Google's Cloud SDK apt repository ($GOOGLE_SOURCE)"
      tools=()
      command -v curl >/dev/null 2>&1 || tools+=(curl)
      command -v gpg >/dev/null 2>&1 || tools+=(gnupg)
      [ -f /etc/ssl/certs/ca-certificates.crt ] || tools+=(ca-certificates)
      if [ ${#tools[@]} -gt 0 ]; then
        apt_install "${tools[@]}"
      fi
      require_root "add Google's apt repository"
      key=$(mktemp)
      if ! curl_error=$(curl -fsSL "$GOOGLE_KEY_URL" -o "$key" 2>&1); then  # curl's reason goes into our one line
        rm -f "$key"; die "could not download Google's apt key from $GOOGLE_KEY_URL (${curl_error//$'\n'/ })"
      fi
      if ! gpg --dearmor <"$key" | $SUDO tee "$GOOGLE_KEYRING" >/dev/null; then
        rm -f "$key"; die "could not write Google's apt key to $GOOGLE_KEYRING"
      fi
      rm -f "$key"
      $SUDO chmod 0644 "$GOOGLE_KEYRING"
      echo "$GOOGLE_REPO" | $SUDO tee "$GOOGLE_SOURCE" >/dev/null || die "could not write $GOOGLE_SOURCE"
      apt_update google-cloud-cli-firestore-emulator
      apt_has_candidate google-cloud-cli-firestore-emulator \
        || die "Google's apt repository offers no google-cloud-cli-firestore-emulator (check $GOOGLE_SOURCE)"
    fi
    apt_install google-cloud-cli google-cloud-cli-firestore-emulator
  fi
  firestore_emulator_present || die "the Firestore emulator is still missing after installing it"
fi

command -v terraform >/dev/null 2>&1 || echo "setup: terraform not found: Terraform checks will be skipped (install it for make plan/deploy)."

# -- the virtualenvs ------------------------------------------------------------------------------
stamp=.venv/.hilft-setup
want=$(sha256sum <pyproject.toml | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv and installing hilft with its dev tools"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv || die "could not create .venv with $PY -m venv"
  { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e '.[dev]'; } \
    || die "pip could not install hilft's dependencies into .venv (see pip's output above)"
  echo "$want" > "$stamp"
fi
# checkov (Terraform policy checks) pins many libraries: it gets a virtualenv of its own.
if [ "${HILFT_SKIP_CHECKOV:-0}" != "1" ] && [ ! -x .venv-checkov/bin/checkov ]; then
  echo "setup: installing checkov into .venv-checkov"
  env -u PYTHONPATH "$PY" -m venv .venv-checkov || die "could not create .venv-checkov with $PY -m venv"
  { env -u PYTHONPATH .venv-checkov/bin/python -m pip install -q --upgrade pip \
      && env -u PYTHONPATH .venv-checkov/bin/python -m pip install -q "checkov>=3.2,<4"; } \
    || die "pip could not install checkov into .venv-checkov (see pip's output above)"
fi
echo "setup: ok"
