"""Cold start: import time of ``main`` (all seven entry points) in a fresh interpreter, against
importing what a function would otherwise load eagerly (functions_framework, Firestore, Cloud
Tasks, httpx). Also reported: the first webhook POST later imports the clients it needs, so the
lazy design moves that cost to the first ingest instead of removing it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from bench.harness import ROOT, median

SNIPPETS = {
    "main": "import main",
    "eager_baseline": "import functions_framework, google.cloud.firestore, google.cloud.tasks_v2, httpx",
    "main_plus_first_ingest_imports": ("import main, hilft.adapters.firestore_store, "
                                       "hilft.adapters.tasks_scheduler, hilft.service.ingest, hilft.platforms.x"),
}


def _time_import(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def measure(runs: int) -> dict[str, Any]:
    """Interleaved runs (main, baseline, main, baseline, ...) so caches and load hit both alike."""
    for statement in SNIPPETS.values():  # warm the OS file cache and the bytecode caches once
        _time_import(statement)
    samples: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    for _ in range(runs):
        for name, statement in SNIPPETS.items():
            samples[name].append(_time_import(statement))
    ms = {name: round(median(values) * 1000, 1) for name, values in samples.items()}
    return {
        "runs": runs, "import_ms": ms,
        "ratio_main_to_eager": round(ms["main"] / ms["eager_baseline"], 3),
        "ratio_main_plus_first_ingest_to_eager": round(ms["main_plus_first_ingest_imports"] / ms["eager_baseline"], 3),
    }
