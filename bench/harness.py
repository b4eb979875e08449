"""What the benchmarks share: the rig (``rig.Rig``, a private stack on ``fakes.world.OutsideWorld``,
also used by the fault tests, which must not import ``bench``), its bodies, and statistics."""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from rig import (
    BRAND_HANDLE,
    BRAND_X,
    CREDENTIALS,
    IG_ID,
    META_APP_SECRET,
    PAGE_ID,
    ROOT,
    ROUTING_KEY,
    WEBHOOK_SECRET,
    X_CLIENT_SECRET,
    PolicySpec,
    Rig,
    emulator_env,
    firestore_client,
    meta_comment,
    new_post_id,
    tasks_client,
    x_brand_reply,
    x_mention,
)

__all__ = [
    "BRAND_HANDLE", "BRAND_X", "CREDENTIALS", "IG_ID", "META_APP_SECRET", "PAGE_ID", "ROOT", "ROUTING_KEY",
    "WEBHOOK_SECRET", "X_CLIENT_SECRET", "PolicySpec", "Rig", "cpu_seconds", "emulator_env", "firestore_client",
    "median", "meta_comment", "new_post_id", "percentile", "quiet_hilft_logs", "tasks_client", "x_brand_reply",
    "x_mention",
]


# -- statistics -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p99 is a latency that happened)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quiet_hilft_logs() -> None:
    """In-process services log like the functions do; a benchmark's console wants only warnings."""
    import logging

    from hilft.logs import configure

    configure()
    logging.getLogger("hilft").setLevel(logging.WARNING)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) ``pid`` and its children have used, from /proc: for a
    functions-framework process, gunicorn's master and the worker that answers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (stat fields 14, 15)
    return total
