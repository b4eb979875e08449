"""infra/local/setup.sh on a simulated stock Debian 12: Python 3.11 without venv, no Cloud SDK.

The script runs for real, on a copy of the repository, with stub ``apt-get``, ``apt-cache``,
``curl``, ``gpg``, ``sudo``, ``id`` and ``python3`` first on a PATH that holds nothing else but
basic tools. ``sudo`` writes what it is given for ``/usr/share/keyrings`` and ``/etc/apt`` into a
scratch root instead, so nothing on this machine is installed or changed. The stubs behave as
Debian does: ``ensurepip`` is missing until ``python3-venv`` is installed, Google's packages have
no apt candidate until Google's source list exists, and installing ``google-cloud-cli`` puts a
``gcloud`` on the PATH (with the emulator once ``google-cloud-cli-firestore-emulator`` is in).
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.stack import ROOT

SETUP = ROOT / "infra" / "local" / "setup.sh"
KEY_URL = "https://packages.cloud.google.com/apt/doc/apt-key.gpg"
KEYRING = "/usr/share/keyrings/cloud.google.gpg"
SOURCE = "/etc/apt/sources.list.d/google-cloud-sdk.list"
REPO_LINE = f"deb [signed-by={KEYRING}] https://packages.cloud.google.com/apt cloud-sdk main"
BASIC_TOOLS = ("bash", "env", "mktemp", "rm", "dirname", "readlink", "cat", "sha256sum", "cut", "grep", "awk",
               "tail", "tee", "chmod", "mkdir", "ln", "touch")

# Each stub appends "<name> <args>" to $STATE/calls. $FAKEROOT stands in for "/".
STUBS = {
    "id": 'echo 1000',  # not root: every privileged step goes through sudo
    "sudo": r'''echo "sudo $*" >>"$STATE/calls"
case "$1" in
  tee) mkdir -p "$(dirname "$FAKEROOT$2")"; exec tee "$FAKEROOT$2" ;;
  chmod) exec chmod "$2" "$FAKEROOT$3" ;;
  *) exec "$@" ;;
esac''',
    "apt-get": r'''echo "apt-get $*" >>"$STATE/calls"
if [ "$1" = install ]; then
  for pkg in "$@"; do
    case "$pkg" in
      -*|install) ;;
      google-cloud-cli)
        sdk="$FAKEROOT/usr/lib/google-cloud-sdk"; mkdir -p "$sdk/bin"
        printf '#!/usr/bin/env bash\nexit 0\n' >"$sdk/bin/gcloud"; chmod +x "$sdk/bin/gcloud"
        ln -sf "$sdk/bin/gcloud" "$STUB_BIN/gcloud" ;;
      google-cloud-cli-firestore-emulator) mkdir -p "$FAKEROOT/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator" ;;
      *) touch "$STATE/installed-$pkg" ;;
    esac
  done
fi
exit 0''',
    "apt-cache": r'''echo "apt-cache $*" >>"$STATE/calls"
if [ -f "$FAKEROOT/etc/apt/sources.list.d/google-cloud-sdk.list" ]; then
  echo "  Candidate: 500.0.0-0"
else
  echo "  Candidate: (none)"
fi''',
    "curl": r'''echo "curl $*" >>"$STATE/calls"
[ -z "${STUB_CURL_FAILS:-}" ] || { echo "curl: (6) Could not resolve host" >&2; exit 6; }
out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
echo "-----BEGIN PGP PUBLIC KEY BLOCK-----" >"$out"''',
    "gpg": r'''echo "gpg $*" >>"$STATE/calls"
printf 'dearmored:'; cat''',
    "python3": r'''echo "python3 $*" >>"$STATE/calls"
case "$*" in
  "-m ensurepip --version") [ -f "$STATE/installed-python3-venv" ] ;;
  *"print(f"*) echo 3.11 ;;
  *"sys.version.split"*) echo 3.11.2 ;;
  *) exit 0 ;;
esac''',
    "java": "exit 0",
}


@dataclass
class Debian:
    repo: Path
    bin: Path
    state: Path
    root: Path

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        base = {"PATH": str(self.bin), "HOME": str(self.state), "TMPDIR": str(self.state), "STATE": str(self.state),
                "FAKEROOT": str(self.root), "STUB_BIN": str(self.bin), "HILFT_SKIP_BROWSER": "1",
                "HILFT_SKIP_CHECKOV": "1"}
        return subprocess.run(["bash", str(self.repo / "infra" / "local" / "setup.sh")], capture_output=True,
                              text=True, env={**base, **env}, timeout=60, check=False)

    def calls(self) -> list[str]:
        path = self.state / "calls"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def debian(tmp_path: Path) -> Debian:
    repo, bin_dir, state, root = (tmp_path / name for name in ("repo", "bin", "state", "root"))
    for directory in (repo / "infra" / "local", bin_dir, state, root):
        directory.mkdir(parents=True)
    shutil.copy(SETUP, repo / "infra" / "local" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    # The project's virtualenv is already current: this test is about the apt side.
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text("#!/usr/bin/env bash\nexit 0\n")
    (repo / ".venv" / "bin" / "python").chmod(0o755)
    (repo / ".venv" / ".hilft-setup").write_text(hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
                                                 .hexdigest()[:16] + "\n")
    for tool in BASIC_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run setup.sh"
        (bin_dir / tool).symlink_to(found)
    for name, script in STUBS.items():
        path = bin_dir / name
        path.write_text("#!/usr/bin/env bash\n" + script + "\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return Debian(repo, bin_dir, state, root)


def test_on_stock_debian_it_adds_google_s_repository_the_documented_way_and_installs_the_emulator(
        debian: Debian) -> None:
    ran = debian.run()

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.rstrip().endswith("setup: ok")
    calls = debian.calls()
    # python3-venv first (Debian's python3 has no ensurepip), then Google's key and source, then the emulator.
    venv = calls.index("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv")
    (key,) = [i for i, c in enumerate(calls) if c.startswith("curl ")]
    assert calls[key].startswith(f"curl -fsSL {KEY_URL} -o ")
    # gpg and sudo tee run side by side in one pipe: either may log first.
    assert sorted(calls[key + 1:key + 3]) == ["gpg --dearmor", f"sudo tee {KEYRING}"]
    assert f"sudo chmod 0644 {KEYRING}" in calls and f"sudo tee {SOURCE}" in calls
    emulator = calls.index("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-cloud-cli "
                           "google-cloud-cli-firestore-emulator")
    update_after_source = max(i for i, c in enumerate(calls) if c == "sudo apt-get update -qq")
    assert venv < key < update_after_source < emulator
    # The keyring is the de-armoured key, readable by apt; the source is signed by that keyring.
    keyring = debian.root / KEYRING.lstrip("/")
    assert keyring.read_text() == "dearmored:-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o644
    assert (debian.root / SOURCE.lstrip("/")).read_text() == REPO_LINE + "\n"
    assert not any(c.startswith("apt-key") for c in calls)  # the deprecated way is not used


def test_a_second_run_finds_the_emulator_and_installs_nothing(debian: Debian) -> None:
    assert debian.run().returncode == 0
    (debian.state / "calls").unlink()

    again = debian.run()

    assert again.returncode == 0, again.stderr
    assert not [c for c in debian.calls() if c.startswith(("apt-get", "sudo", "curl"))]


def test_a_failed_key_download_stops_with_one_clear_line(debian: Debian) -> None:
    ran = debian.run(STUB_CURL_FAILS="1")

    assert ran.returncode != 0
    assert ran.stderr.strip().splitlines() == [
        f"setup: could not download Google's apt key from {KEY_URL} (curl: (6) Could not resolve host)"]
    assert not any("google-cloud-cli" in c and "install" in c for c in debian.calls())
    assert not (debian.root / SOURCE.lstrip("/")).exists()
