"""The local stack on real parts: Firestore emulator, Cloud Tasks emulator, every entry point
under functions-framework (one process per target), each wired like its Cloud Run function.

Production wiring: each function gets the secrets Terraform gives it and no other. Both read the
entry-point table ``infra/functions.json`` (Terraform through ``jsondecode`` in infra/locals.tf),
so a function that would lack a secret in production lacks it here too, and the e2e suite sees
it. Plain (non-secret) variables go to every function, as in Terraform, plus the local-only ones
(emulator hosts, the fake JWKS). A secret is never inherited from the calling shell: ``make dev``
hands each exported secret explicitly to the functions Terraform gives it (``dev_stack``).

``python -m stack`` (what ``make dev`` runs) uses fixed ports from HILFT_PORT_BASE (default
8700); tests and the demo use ``LocalStack`` with free ports. Every child runs in its own
process group and is killed with it, so nothing is left running after stop or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
FUNCTION_SPEC = ROOT / "infra" / "functions.json"  # Terraform's entry-point table (infra/locals.tf)
ENTRY_POINTS = ("x_webhook", "meta_webhook", "deadline", "sweep", "handoff", "ack", "board", "pagerduty_webhook",
                "poll", "threads_webhook")  # issue 16: poll at base+11, threads_webhook at base+12
# Ports of `make dev`: base+0 Firestore, base+1 Cloud Tasks, base+2..8 the first seven entry points
# in ENTRY_POINTS order, base+9 the Tasks emulator's JWKS, base+10 and on the later entry points.
PROJECT = "hilft-local"  # tests, the demo and the bench; `make dev` takes GOOGLE_CLOUD_PROJECT when set


def queue_of(project: str) -> str:
    return f"projects/{project}/locations/europe-west3/queues/deadlines"


QUEUE = queue_of(PROJECT)
TASKS_SA = f"hilft-tasks@{PROJECT}.iam.gserviceaccount.com"
SCHEDULER_SA = f"hilft-scheduler@{PROJECT}.iam.gserviceaccount.com"


# Variables Terraform never sets that the local stack may: the emulators, the Tasks emulator's token
# keys, and timings the tests shorten (production keeps the code's defaults). Any other variable a
# function gets locally is one Terraform gives it too (tests/security/test_least_privilege.py).
LOCAL_ONLY = frozenset({
    "FIRESTORE_EMULATOR_HOST", "CLOUD_TASKS_EMULATOR_HOST", "HILFT_OIDC_JWKS_URL",
    "HILFT_CLAIM_TTL_SECONDS", "HILFT_SWEEP_GRACE_SECONDS",
})


@cache
def function_spec() -> dict[str, dict[str, object]]:
    """infra/functions.json: {"secrets": {NAME: meaning}, "functions": {entry_point: {...}}}."""
    return json.loads(FUNCTION_SPEC.read_text())  # type: ignore[no-any-return]


def secret_names() -> frozenset[str]:
    """Every variable Terraform treats as a secret (Secret Manager, never a plain variable)."""
    return frozenset(function_spec()["secrets"])


def secrets_of(target: str) -> frozenset[str]:
    """The secrets Terraform wires to this entry point (when its platform or sink is enabled)."""
    functions = function_spec()["functions"]
    if target not in functions:
        raise KeyError(f"{target} is not in infra/functions.json")
    return frozenset(functions[target]["secrets"])  # type: ignore[index]


@cache
def terraform_variable(name: str) -> str:
    """A variable of infra/variables.tf as Terraform takes it here: ``TF_VAR_<name>``, else its default."""
    if f"TF_VAR_{name}" in os.environ:
        return os.environ[f"TF_VAR_{name}"]
    import hcl2  # a dev dependency: the local stack runs from the dev virtualenv

    with (ROOT / "infra" / "variables.tf").open() as handle:
        for block in hcl2.load(handle).get("variable", []):
            for key, body in block.items():  # python-hcl2 8.x keeps names and strings quoted
                if key.strip('"') == name:
                    return str(body["default"]).strip('"')
    raise KeyError(f"infra/variables.tf has no variable {name}")


def without_foreign_secrets(env: Mapping[str, str], target: str) -> dict[str, str]:
    """``env`` as ``target`` may see it: plain variables, and only its own secrets."""
    own = secrets_of(target)
    return {name: value for name, value in env.items() if name not in secret_names() or name in own}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not answer within {timeout:.0f}s")


@dataclass
class Ports:
    firestore: int
    tasks: int
    functions: dict[str, int]
    jwks: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        functions = {name: base + 2 + i for i, name in enumerate(ENTRY_POINTS[:7])}
        functions.update({name: base + 10 + i for i, name in enumerate(ENTRY_POINTS[7:])})
        return cls(base, base + 1, functions, base + 9)

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), {name: free_port() for name in ENTRY_POINTS}, free_port())


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports.free)
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for the functions
    log_dir: Path | None = None
    targets: tuple[str, ...] = ENTRY_POINTS
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    project: str = PROJECT  # the emulators' project id, the queue's and the service accounts' too
    scheduler: bool = False  # run the Terraform's Cloud Scheduler jobs (infra/local/scheduler.py): make dev, demo

    @property
    def queue(self) -> str:
        return queue_of(self.project)

    # -- addresses -----------------------------------------------------------------------------
    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.ports.functions[target]}"

    @property
    def firestore_host(self) -> str:
        return f"127.0.0.1:{self.ports.firestore}"

    @property
    def tasks_host(self) -> str:
        return f"127.0.0.1:{self.ports.tasks}"

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.jwks}/jwks"

    def function_env(self, target: str | None = None) -> dict[str, str]:
        """The environment of ``target`` exactly as Terraform wires it, plus the local-only
        variables; without a target, everything given to any function (for in-process Settings)."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "CLOUD_TASKS_EMULATOR_HOST": self.tasks_host,
            "HILFT_TASKS_QUEUE": self.queue,
            "HILFT_DEADLINE_URL": self.url("deadline"),
            "HILFT_TASKS_SERVICE_ACCOUNT": f"hilft-tasks@{self.project}.iam.gserviceaccount.com",
            "HILFT_SWEEP_URL": self.url("sweep"),
            "HILFT_SCHEDULER_SERVICE_ACCOUNT": f"hilft-scheduler@{self.project}.iam.gserviceaccount.com",
            "HILFT_OIDC_JWKS_URL": self.jwks_url,
            "HILFT_BOARD_URL": self.url("board"),
            "HILFT_POLL_URL": self.url("poll"),
            "HILFT_STAFF_AUTH": "off",
            # Terraform's gunicorn threads (= max_instance_request_concurrency; deadline's own), not
            # functions-framework's default of 4 per core: one local instance serves what one Cloud Run instance does.
            "THREADS": terraform_variable("deadline_concurrency" if target == "deadline" else "function_concurrency"),
        }
        if target is not None:
            env.update(self.own_env(target))
        env.update(self.env)
        return env if target is None else without_foreign_secrets(env, target)

    def own_env(self, target: str) -> dict[str, str]:
        """Terraform's per-function variables (``local.function_own_env``) with local values. No
        Cloud Run IAM stands in front of a local function, so it never trusts a token whose
        signature is missing (``HILFT_CLOUD_RUN_IAM=false``); a staff function's audiences are its own URL."""
        staff = function_spec()["functions"][target]["caller"] == "staff"  # type: ignore[index]
        return {"HILFT_CLOUD_RUN_IAM": "false", "HILFT_STAFF_AUDIENCES": self.url(target) if staff else ""}

    # -- lifecycle -----------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen:
        # Nothing secret is inherited from the shell: a child sees only the secrets given to it here.
        inherited = {k: v for k, v in os.environ.items() if k not in secret_names()}
        with contextlib.ExitStack() as files:
            out: int | IO[bytes] = subprocess.DEVNULL
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                out = files.enter_context(open(self.log_dir / f"{name}.log", "ab"))  # the child keeps its copy
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**inherited, **(env or {})},
                                    start_new_session=True, cwd=ROOT)
        self.procs[name] = proc
        return proc

    def start_firestore(self) -> None:
        proc = self._spawn("firestore", ["gcloud", "emulators", "firestore", "start",
                                         f"--host-port={self.firestore_host}", "--quiet"])
        wait_until(lambda: httpx.get(f"http://{self.firestore_host}/", timeout=1).status_code == 200,
                   90, "Firestore emulator", proc)

    def start_tasks(self) -> None:
        proc = self._spawn("cloudtasks", [sys.executable, "-m", "cloudtasks_emulator", "--host", "127.0.0.1",
                                          "--port", str(self.ports.tasks), "--jwks-port", str(self.ports.jwks),
                                          "--queue", self.queue],
                           env={"PYTHONPATH": str(ROOT / "infra" / "local")})
        wait_until(lambda: httpx.get(self.jwks_url, timeout=1).status_code == 200, 30, "Cloud Tasks emulator", proc)

    def start_functions(self) -> None:
        started = []
        for target in self.targets:
            port = self.ports.functions[target]
            env = {**self.function_env(target), "PYTHONPATH": str(FUNCTIONS_DIR)}
            started.append((target, self._spawn(target, [
                sys.executable, "-m", "functions_framework", "--target", target,
                "--source", str(FUNCTIONS_DIR / "main.py"), "--host", "127.0.0.1", "--port", str(port)], env)))
        for target, proc in started:
            wait_until(lambda t=target: httpx.get(self.url(t) + "/__ready", timeout=1).status_code < 600,
                       60, f"function {target}", proc)

    def polling_enabled(self) -> bool:
        """infra/locals.tf's local.polling_enabled: a Bluesky handle, a Mastodon instance or a Threads
        account is set (poll checks stored Threads posts for deletion)."""
        env = {**os.environ, **self.env}
        return bool(env.get("BLUESKY_HANDLE") or env.get("MASTODON_BASE_URL") or env.get("THREADS_USER_IDS"))

    def start_scheduler(self) -> None:
        """The Terraform's scheduler jobs on their schedules, with the scheduler identity's OIDC tokens."""
        from scheduler import jobs_from_terraform

        jobs_from_terraform()  # a schedule it cannot run fails here, before the process starts
        argv = [sys.executable, "-m", "scheduler", "--tasks-host", self.tasks_host, "--project", self.project,
                "--flag", f"polling_enabled={int(self.polling_enabled())}"]
        argv += [f"--url={target}={self.url(target)}" for target in self.targets]
        self._spawn("scheduler", argv, env={"PYTHONPATH": str(ROOT / "infra" / "local")})

    def start(self) -> LocalStack:
        try:
            self.start_firestore()
            self.start_tasks()
            self.start_functions()
            if self.scheduler:
                self.start_scheduler()
        except BaseException:
            self.stop()
            raise
        return self

    def stop_one(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop(self) -> None:
        for name in list(self.procs)[::-1]:
            self.stop_one(name)

    def reset_firestore(self) -> None:
        httpx.delete(f"http://{self.firestore_host}/emulator/v1/projects/{self.project}/databases/(default)/documents",
                     timeout=10).raise_for_status()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dev_stack(port_base: int, log_dir: Path, environ: Mapping[str, str] | None = None) -> LocalStack:
    """The stack of ``make dev``, configured from the developer's shell like a deployment from its
    variables: plain variables reach every function (inherited), and each exported secret
    (``BLUESKY_APP_PASSWORD``, ``SLACK_WEBHOOK_URL``, …) reaches exactly the functions Terraform
    gives it (``function_env`` filters per function; ``_spawn`` inherits none). The shell's
    GOOGLE_CLOUD_PROJECT also names the emulators' project and the queue; unset, the local default."""
    environ = os.environ if environ is None else environ
    secrets = {name: value for name, value in environ.items() if name in secret_names() and value}
    return LocalStack(Ports.from_base(port_base), env=secrets, log_dir=log_dir,
                      project=environ.get("GOOGLE_CLOUD_PROJECT") or PROJECT, scheduler=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run hilft's local stack in the foreground until Ctrl-C.")
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("HILFT_PORT_BASE", "8700")))
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".dev" / "logs")
    args = parser.parse_args(argv)
    stack = dev_stack(args.port_base, args.log_dir)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        print(f"starting hilft's local stack on ports {args.port_base}..{args.port_base + 3 + len(ENTRY_POINTS)} "
              f"(logs in {args.log_dir})", flush=True)
        stack.start()
        print(f"  Firestore emulator   {stack.firestore_host} (project {stack.project})")
        print(f"  Cloud Tasks emulator {stack.tasks_host} (JWKS {stack.jwks_url})")
        for target in ENTRY_POINTS:
            print(f"  {target:<20} {stack.url(target)}")
        print(f"  scheduler            the jobs of infra/*.tf (python -m scheduler --list), runs in "
              f"{args.log_dir}/scheduler.log")
        print("ready. Ctrl-C stops everything.", flush=True)
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        print(f"stopping: {', '.join(dead)} exited (see {args.log_dir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
