"""`make dev` honours the channel secrets the developer exported: each reaches exactly the
functions Terraform gives it (infra/functions.json), no other, and never through inheritance."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stack import ENTRY_POINTS, dev_stack, secret_names, secrets_of

EXPORTED = {"BLUESKY_APP_PASSWORD": "app-pass-from-shell", "THREADS_APP_SECRET": "threads-secret-from-shell",
            "SLACK_WEBHOOK_URL": "https://hooks.slack.example/T/B/x", "HILFT_SOMETHING_PLAIN": "kept"}


def test_each_exported_secret_reaches_exactly_the_functions_terraform_gives_it(tmp_path: Path) -> None:
    stack = dev_stack(8700, tmp_path, environ=EXPORTED)

    for target in ENTRY_POINTS:
        env = stack.function_env(target)
        for name in ("BLUESKY_APP_PASSWORD", "THREADS_APP_SECRET", "SLACK_WEBHOOK_URL"):
            if name in secrets_of(target):
                assert env[name] == EXPORTED[name], (target, name)
            else:
                assert name not in env, (target, name)
    assert stack.function_env("poll")["BLUESKY_APP_PASSWORD"] == EXPORTED["BLUESKY_APP_PASSWORD"]
    assert stack.function_env("threads_webhook")["THREADS_APP_SECRET"] == EXPORTED["THREADS_APP_SECRET"]
    assert stack.function_env("deadline")["SLACK_WEBHOOK_URL"] == EXPORTED["SLACK_WEBHOOK_URL"]
    assert not set(stack.function_env("x_webhook")) & set(EXPORTED)


def test_a_function_process_of_make_dev_sees_its_exported_secret_and_no_other(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in EXPORTED.items():
        monkeypatch.setenv(name, value)
    stack = dev_stack(8700, tmp_path)  # from the real (patched) shell environment, as `make dev` does
    probe = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
    try:
        stack._spawn("poll", probe, stack.function_env("poll")).wait(timeout=30)
    finally:
        stack.stop()
    seen = json.loads((tmp_path / "poll.log").read_text())

    assert seen["BLUESKY_APP_PASSWORD"] == EXPORTED["BLUESKY_APP_PASSWORD"]
    assert "THREADS_APP_SECRET" not in seen and "SLACK_WEBHOOK_URL" not in seen  # not poll's
    assert seen["HILFT_SOMETHING_PLAIN"] == "kept"
    assert set(seen) & secret_names() <= secrets_of("poll")
