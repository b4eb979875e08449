"""The Cloud Tasks emulator's own dispatch-lag benchmark (``python -m cloudtasks_emulator.bench``),
run as a subprocess and summarised: lag from each task's schedule time to its arrival."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from bench.harness import ROOT, median


def run_once(tasks: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "infra" / "local"), str(ROOT / "functions")])}
    done = subprocess.run([sys.executable, "-m", "cloudtasks_emulator.bench", "--tasks", str(tasks)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            result["exit_code"] = done.returncode
            return result
    raise RuntimeError(f"cloudtasks_emulator.bench printed no result (exit {done.returncode})")


def measure(runs: int, tasks: int) -> dict[str, Any]:
    results = [run_once(tasks) for _ in range(runs)]
    return {
        "tasks": tasks, "runs": runs,
        "lag_p50_ms": round(median([r["lag_ms_p50"] for r in results]), 2),
        "lag_p99_ms": round(median([r["lag_ms_p99"] for r in results]), 2),
        "lag_max_ms": max(r["lag_ms_max"] for r in results),
        "received_min": min(r["received"] for r in results),
        "early": sum(r["early"] for r in results),
        "throughput_per_s": round(median([r["throughput_per_s"] or 0 for r in results]), 1),
        "all_ok": all(r["exit_code"] == 0 for r in results),
    }
