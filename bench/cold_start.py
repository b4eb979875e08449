"""Cold start: from process start to the first answered webhook.

A fresh ``functions-framework`` process (``python -m functions_framework --target x_webhook``, the
command the local stack and Cloud Run functions run: gunicorn, whose master imports the source and
binds the port, then forks the one worker that answers) is started against the rig's Firestore and
Cloud Tasks emulators; a signed X Account Activity POST is sent as soon as the port accepts a
connection, and the clock stops at its 200 (the post stored, its two tasks created). Also read:
the CPU time (user + system) the process and its worker had spent by then, from /proc.

- ``main``: ``functions/main.py`` as deployed: clients imported and built on first use, and by a
  background thread that gunicorn's worker starts right after the fork (hilft.app.start_warm_up);
- ``eager``: the baseline: a source that imports functions_framework, google.cloud.firestore,
  google.cloud.tasks_v2 and httpx at instance start, then main's entry points (no warm-up thread);
- ``lazy``: main without the warm-up thread (everything on the first request), for reference.

One of each per round, the order rotating; a ratio is the median of the per-round ratios.
Also reported: ``import main`` alone in a fresh interpreter (the row before first requests counted).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import ROOT, Rig, cpu_seconds, median, x_mention

GOAL_RATIO = 0.8  # first answered webhook, main / eager
VARIANTS_DIR = Path(__file__).resolve().parent / "sources"
SOURCES = {
    "main": ROOT / "functions" / "main.py",
    "eager": VARIANTS_DIR / "eager.py",
    "lazy": VARIANTS_DIR / "lazy.py",
}



def _time_import(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def first_answer(rig: Rig, source: Path, timeout: float = 60.0) -> dict[str, float]:
    """Start one function process; seconds from its start to accepting, and to the first 200."""
    from deliveries import x_headers
    from rig import X_CLIENT_SECRET
    from stack import free_port

    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("X_", "META_", "HILFT_"))},
           **rig.stack.function_env("x_webhook"), "PYTHONPATH": str(ROOT / "functions")}
    argv = [sys.executable, "-m", "functions_framework", "--target", "x_webhook", "--source", str(source),
            "--host", "127.0.0.1", "--port", str(port)]
    _, body = x_mention("Kaltstart: seit heute Morgen kein Internet.")
    headers = x_headers(body, X_CLIENT_SECRET)
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while True:  # the master binds the port once main is imported; the worker is forked after that
            if time.perf_counter() - started > timeout or proc.poll() is not None:
                raise RuntimeError(f"{source.name}: not accepting within {timeout:.0f}s (exit {proc.poll()})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                break
            except OSError:
                time.sleep(0.002)
        accepting = time.perf_counter() - started
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0)) as client:
            response = client.post(url, content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{source.name}: first answer {response.status_code} {response.text[:200]}")
        first_200 = time.perf_counter() - started
        return {"accepting": accepting, "first_200": first_200, "cpu": cpu_seconds(proc.pid)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def measure(runs: int) -> dict[str, Any]:
    with Rig(targets=()) as rig:
        for source in SOURCES.values():  # warm the OS file cache, the bytecode caches and the emulators
            first_answer(rig, source)
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in SOURCES}
        names = list(SOURCES)
        for r in range(runs):
            for name in names[r % len(names):] + names[:r % len(names)]:
                samples[name].append(first_answer(rig, SOURCES[name]))
        rig.reset()
    def ms(key: str) -> dict[str, float]:
        return {name: round(median([s[key] for s in v]) * 1000, 1) for name, v in samples.items()}

    ratios = [m["first_200"] / e["first_200"] for m, e in zip(samples["main"], samples["eager"], strict=True)]
    import_main = [_time_import("import main") for _ in range(runs)]
    lazy_ratio = median([la["first_200"] / e["first_200"] for la, e in zip(samples["lazy"], samples["eager"],
                                                                           strict=True)])
    ratio = round(median(ratios), 3)
    return {
        "runs": runs, "first_200_ms": ms("first_200"), "accepting_ms": ms("accepting"), "cpu_ms": ms("cpu"),
        "first_200_runs_ms": {name: [round(s["first_200"] * 1000) for s in v] for name, v in samples.items()},
        "ratio_main_to_eager": ratio, "ratio_runs": [round(x, 3) for x in ratios],
        "cpu_ratio_main_to_eager": round(median([m["cpu"] / e["cpu"] for m, e in
                                                 zip(samples["main"], samples["eager"], strict=True)]), 3),
        "ratio_lazy_to_eager": round(lazy_ratio, 3),
        "import_main_ms": round(median(import_main) * 1000, 1),
        "goal_ratio": GOAL_RATIO, "met": ratio <= GOAL_RATIO,
    }
