"""``python -m cloudtasks_emulator`` as the local stack runs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

pytestmark = pytest.mark.emulator
REPO = Path(__file__).resolve().parents[2]
QUEUE = "projects/hilft-cli/locations/europe-west3/queues/deadlines"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_starts_answers_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "infra" / "local")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cloudtasks_emulator", "--host", "127.0.0.1", "--port", "0", "--jwks-port", "0",
         "--queue", QUEUE, "--reservation-window", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.fullmatch(r"cloudtasks-emulator listening on (127\.0\.0\.1:\d+) jwks=(http://\S+/jwks)\n", line)
        assert match, f"unexpected first line {line!r}"
        channel = grpc.insecure_channel(match[1])
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        assert client.get_queue(name=QUEUE).state == tasks_v2.Queue.State.RUNNING
        channel.close()
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None and process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
