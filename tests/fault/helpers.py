"""Fault injection on a private local stack (``rig.Rig``, infra/local/rig.py): parts are killed and restarted,
so these tests never share the e2e suite's stack. Loopback only; every wait is bounded."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import httpx
import pytest

from rig import Rig
from tests.alert_proof import wait_for

ROOT = Path(__file__).resolve().parents[2]
LOG_ROOT = ROOT / "test-artifacts" / "fault-logs"


def require_emulators() -> None:
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        pytest.fail("fault tests need gcloud with the Firestore emulator and Java (see README: make setup)")


def log_dir(name: str) -> Path:
    path = LOG_ROOT / name
    shutil.rmtree(path, ignore_errors=True)
    return path


# -- what the sinks received ------------------------------------------------------------------------


def overdue_alerts(rig: Rig, level: int = 1) -> Counter[str]:
    """``triggered`` alerts of one level at the generic webhook sink, per document id."""
    return Counter(m["doc_id"] for m in rig.webhook.messages
                   if m.get("event") == "triggered" and m.get("level") == level)


def pagerduty_triggers(rig: Rig, level: int = 1) -> Counter[str]:
    """PagerDuty triggers of one level about posts (not incidents), per document id."""
    return Counter(m["dedup_key"].removeprefix("hilft-") for m in rig.pagerduty.messages
                   if m.get("event_action") == "trigger" and not m["dedup_key"].startswith("hilft-incident-")
                   and (m.get("payload") or {}).get("custom_details", {}).get("level") == level)


def wait_until_queue_empty(rig: Rig, timeout: float) -> None:
    """Every task ran to a 2xx (Cloud Tasks deletes a task only then; a retry stays queued), so every
    alert any task or sweep could send has arrived: proof that no duplicate is still on its way."""
    wait_for(lambda: rig.task_count() == 0, timeout=timeout, what="every task to finish")


# -- the platform's side --------------------------------------------------------------------------


def deliver(rig: Rig, bodies: Sequence[bytes], indices: Iterable[int], concurrency: int = 16,
            on_answer: Callable[[int], None] | None = None) -> dict[int, int]:
    """POST ``bodies[i]`` for each index, ``concurrency`` at a time; status per index (0 = no answer)."""
    queue = list(indices)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop(0)
                try:
                    status = rig.post_x(bodies[index], client).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    statuses[index] = status
                if on_answer is not None:
                    on_answer(len(statuses))

    threads = [threading.Thread(target=worker, name=f"platform-{i}") for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def redeliver_until_accepted(rig: Rig, bodies: Sequence[bytes], statuses: dict[int, int],
                             attempts: int = 6, pause: float = 2.0) -> dict[int, int]:
    """What X does: every delivery not answered 2xx is sent again, a few times, with a pause."""
    for _ in range(attempts):
        failed = [i for i, status in statuses.items() if not 200 <= status < 300]
        if not failed:
            break
        time.sleep(pause)
        statuses.update(deliver(rig, bodies, failed))
    return statuses


def run_sweep(rig: Rig) -> str:
    """Cloud Scheduler's call to ``sweep`` (with its OIDC identity), played by the Tasks emulator.

    Returns the task's name: once it left the queue the sweep has answered, and it alerts in its own
    request (``wait_until_task_done``)."""
    from google.cloud import tasks_v2

    from stack import QUEUE, SCHEDULER_SA

    url = rig.stack.url("sweep")
    task = rig.tasks.create_task(parent=QUEUE, task={"http_request": {
        "url": url, "http_method": tasks_v2.HttpMethod.POST,
        "oidc_token": {"service_account_email": SCHEDULER_SA, "audience": url}}})
    return str(task.name)


# -- the Firestore emulator's life ---------------------------------------------------------------


def export_firestore(rig: Rig, directory: Path) -> Path:
    """Snapshot the emulator's data (its REST export); returns the metadata file to import."""
    directory.mkdir(parents=True, exist_ok=True)
    before = set(directory.iterdir())
    response = httpx.post(f"http://{rig.stack.firestore_host}/emulator/v1/projects/hilft-local:export",
                          json={"database": "projects/hilft-local/databases/(default)",
                                "export_directory": str(directory)}, timeout=60)
    response.raise_for_status()
    (created,) = set(directory.iterdir()) - before
    (metadata,) = created.glob("*.overall_export_metadata")
    return metadata


def restart_firestore(rig: Rig, import_data: Path | None) -> None:
    """Start the Firestore emulator again on its port, with the exported data if given."""
    from stack import wait_until

    argv = ["gcloud", "emulators", "firestore", "start", f"--host-port={rig.stack.firestore_host}", "--quiet"]
    if import_data is not None:
        argv.append(f"--import-data={import_data}")
    proc = rig.stack._spawn("firestore", argv)  # LocalStack has no import option (yet): same spawn, one flag more
    wait_until(lambda: httpx.get(f"http://{rig.stack.firestore_host}/", timeout=1).status_code == 200,
               90, "Firestore emulator", proc)
