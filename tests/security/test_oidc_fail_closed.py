"""Attack: call ``deadline``/``sweep``/``poll`` with any Google-signed token while the deployment
forgot to set the expected audience or caller (or, under ``HILFT_STAFF_AUTH=iam``, a staff door
its audiences). Such a function must not start serving at all: functions-framework exits with an
error naming the variable, so the revision never becomes ready. An instance built without that
check (in-process) still refuses every call (500 naming the variable), never "any audience, any
caller"."""

from __future__ import annotations

import os
import subprocess
import sys

import flask
import pytest

from hilft import handlers, web
from hilft.app import App
from hilft.settings import ConfigurationError, Settings
from stack import FUNCTIONS_DIR, free_port

# What a deployment gives deadline, sweep and poll (Terraform's function_env); each case drops one.
CONFIGURED = {
    "HILFT_DEADLINE_URL": "https://deadline.example", "HILFT_TASKS_SERVICE_ACCOUNT": "tasks@p.iam.gserviceaccount.com",
    "HILFT_SWEEP_URL": "https://sweep.example", "HILFT_POLL_URL": "https://poll.example",
    "HILFT_SCHEDULER_SERVICE_ACCOUNT": "scheduler@p.iam.gserviceaccount.com",
}
UNCONFIGURED = [
    ("deadline", "HILFT_DEADLINE_URL"), ("deadline", "HILFT_TASKS_SERVICE_ACCOUNT"),
    ("sweep", "HILFT_SWEEP_URL"), ("sweep", "HILFT_SCHEDULER_SERVICE_ACCOUNT"),
    ("poll", "HILFT_POLL_URL"), ("poll", "HILFT_SCHEDULER_SERVICE_ACCOUNT"),
]


def start(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """functions-framework serving ``target`` as Cloud Run starts it; returns once it exits (a
    function that starts serving is killed by the timeout, which fails the test)."""
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith(("HILFT_", "X_", "META_", "THREADS_", "FUNCTION_"))}
    return subprocess.run(
        [sys.executable, "-m", "functions_framework", "--target", target, "--source", str(FUNCTIONS_DIR / "main.py"),
         "--host", "127.0.0.1", "--port", str(free_port())],
        env={**clean, **env, "PYTHONPATH": str(FUNCTIONS_DIR)}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("entry_point", "variable"), UNCONFIGURED)
def test_an_unconfigured_oidc_function_does_not_start(entry_point: str, variable: str) -> None:
    env = {name: value for name, value in CONFIGURED.items() if name != variable}

    try:
        exited = start(entry_point, env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{entry_point} started serving without {variable}")

    assert exited.returncode != 0
    assert f"{variable} must be set" in exited.stderr
    assert "Traceback" not in exited.stderr


def test_a_staff_door_under_iam_without_its_audiences_does_not_start() -> None:
    try:
        exited = start("board", {"HILFT_STAFF_AUTH": "iam"})
    except subprocess.TimeoutExpired:
        pytest.fail("board started serving under iam without HILFT_STAFF_AUDIENCES")
    assert exited.returncode != 0 and "HILFT_STAFF_AUDIENCES must be set" in exited.stderr


@pytest.mark.parametrize("entry_point", ["deadline", "sweep", "poll", "board", "ack", "handoff", "x_webhook"])
def test_configured_entry_points_pass_the_start_check(entry_point: str) -> None:
    settings = Settings.from_env({**CONFIGURED, "HILFT_STAFF_AUTH": "iam", "HILFT_STAFF_AUDIENCES": "https://b.example"})
    settings.check_entry_point(entry_point)


@pytest.mark.parametrize(("entry_point", "variable"), UNCONFIGURED)
def test_the_start_check_names_the_variable(entry_point: str, variable: str) -> None:
    settings = Settings.from_env({name: value for name, value in CONFIGURED.items() if name != variable})
    with pytest.raises(ConfigurationError) as caught:
        settings.check_entry_point(entry_point)
    assert caught.value.variable == variable
    Settings.from_env({"HILFT_OIDC_REQUIRED": "false"}).check_entry_point(entry_point)  # the local demo's choice

COMPLETE = {"deadline_url": "https://deadline.example", "tasks_service_account": "tasks@p.iam.gserviceaccount.com",
            "sweep_url": "https://sweep.example",
            "scheduler_service_account": "scheduler@p.iam.gserviceaccount.com"}


@pytest.mark.parametrize(("entry_point", "missing", "variable"), [
    ("deadline", "deadline_url", "HILFT_DEADLINE_URL"),
    ("deadline", "tasks_service_account", "HILFT_TASKS_SERVICE_ACCOUNT"),
    ("sweep", "sweep_url", "HILFT_SWEEP_URL"),
    ("sweep", "scheduler_service_account", "HILFT_SCHEDULER_SERVICE_ACCOUNT"),
])
def test_missing_oidc_configuration_refuses_every_call(entry_point, missing, variable, caplog):
    settings = Settings(oidc_required=True, **{k: v for k, v in COMPLETE.items() if k != missing})
    app = App(settings)
    touched: list[str] = []
    # Any work past the identity check would reach the store: make that visible.
    app.__dict__["deadline_service"] = _Tripwire(touched)
    app.__dict__["handoff_service"] = _Tripwire(touched)
    flask_app = flask.Flask(__name__)
    with flask_app.test_request_context("/", method="POST", json={"kind": "due", "doc_id": "a" * 40},
                                        headers={"Authorization": "Bearer anything"}):
        response = web.handle(entry_point, flask.request, lambda: getattr(handlers, entry_point)(app, flask.request))
    assert response.status_code == 500
    assert variable in response.get_data(as_text=True)
    assert touched == []
    named = [r for r in caplog.records if r.levelname == "ERROR" and getattr(r, "fields", {}).get("variable") == variable]
    assert named, "the ERROR log line names the variable"


class _Tripwire:
    def __init__(self, touched: list[str]) -> None:
        self._touched = touched

    def __getattr__(self, name: str) -> object:
        self._touched.append(name)
        raise AssertionError(f"{name} reached without a verified caller")
