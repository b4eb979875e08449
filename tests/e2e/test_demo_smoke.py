"""``python -m demo`` end to end: a short replay at 4× speed on all five channels, its printed summary
checked against what Firestore holds (posts per channel, the Köln outage incident opened and resolved
by itself), the board up while it keeps running, and Ctrl-C leaving nothing behind."""

from __future__ import annotations

import json
import math
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

READY = "the stack stays up"
SHORT_POSTS = 20  # tests/fixtures/demo/day.json, "short"
POLLED = 4  # of them on Bluesky and Mastodon: placed in the fakes, fetched by poll (no webhook)
REDELIVERIES = 2  # one X post is delivered three times
CHANNELS = {"X": 13, "Facebook/Instagram/Messenger": 1, "Threads": 2, "Bluesky": 2, "Mastodon": 2}
INCIDENT_POSTS = 6  # the short scenario's Köln burst: X ×3, Threads, Bluesky, Mastodon


class Demo:
    """The demo as a child process, its output read line by line on a thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "infra/local", "."))}
        env.pop("FIRESTORE_EMULATOR_HOST", None)  # the demo starts its own
        self.proc = subprocess.Popen([sys.executable, "-m", "demo", *args], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("the demo exited early:\n" + "\n".join(self.lines[-40:]))
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} within {timeout:.0f}s:\n" + "\n".join(self.lines[-40:]))

    def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                return
            self.lines.append(line)

    def printed(self, label: str) -> str:
        line = next(line for line in self.lines if line.strip().startswith(label))
        return line.strip()[len(label):].strip()

    def kill(self) -> None:
        """Stop the demo as Ctrl-C does, so it stops its stack (whose processes run in sessions of their
        own: a SIGKILL of the demo alone would leave them running after a failed test); SIGKILL only
        if that does not end it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def nearest_rank(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1] if ordered else None


def firestore_docs(host: str, collection: str) -> list[dict[str, Any]]:
    from google.cloud import firestore

    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = host
    try:
        client = firestore.Client(project="hilft-local")
        return [snap.to_dict() or {} for snap in client.collection(collection).stream()]
    finally:
        if previous is None:
            del os.environ["FIRESTORE_EMULATOR_HOST"]
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = previous


def test_short_replay_prints_a_summary_that_matches_firestore_and_stops_cleanly(tmp_path: Path):
    summary_path = tmp_path / "summary.json"
    demo = Demo("--scenario", "short", "--speed", "4", "--no-live", "--keep-running",
                "--summary-json", str(summary_path))
    try:
        demo.wait_for(READY, timeout=240)
        ready = next(line for line in demo.lines if line.startswith("stack ready"))
        firestore_host = re.search(r"Firestore emulator (127\.0\.0\.1:\d+)", ready)[1]  # type: ignore[index]
        board_url = re.search(r"board (http://\S+)", ready)[1]  # type: ignore[index]
        summary = json.loads(summary_path.read_text())
        now = datetime.now(UTC)

        mentions = firestore_docs(firestore_host, "mentions")
        handoffs = firestore_docs(firestore_host, "handoffs")

        incidents = firestore_docs(firestore_host, "incidents")

        # What the script guarantees.
        assert summary["posts"] == SHORT_POSTS and len(mentions) == SHORT_POSTS
        assert summary["polled"] == POLLED
        assert summary["deliveries"] == SHORT_POSTS - POLLED + REDELIVERIES and summary["duplicates"] == REDELIVERIES
        # Five channels, each post stored once; the Bluesky and Mastodon ones only poll can have stored
        # (the replay runs it as Cloud Scheduler does: with a token poll accepts).
        platforms = Counter(d["platform"] for d in mentions)
        assert summary["by_channel"] == dict(platforms)
        assert {"X": platforms["x"], "Facebook/Instagram/Messenger": platforms["facebook"] + platforms["instagram"]
                + platforms["messenger"], "Threads": platforms["threads"], "Bluesky": platforms["bluesky"],
                "Mastodon": platforms["mastodon"]} == CHANNELS
        assert demo.printed("by channel") == " · ".join(f"{name} {count}" for name, count in CHANNELS.items())

        # The radar's X Filtered Stream post (no @-mention) is kept as a radar item with the rule it matched.
        radar = [d for d in mentions if d.get("radar")]
        assert [(d["platform"], d.get("radar_rules")) for d in radar] == [("x", ["hilft-radar"])]

        # The SLA report file is written, and the Friday-evening post went through ingest and its DM
        # tells the real time (weekday hours: due Monday 08:55), not "within the hour".
        report_path = Path(demo.printed("SLA report:").split(" (and ")[0])
        assert report_path.is_file() and "<svg" in report_path.read_text(encoding="utf-8")
        assert report_path.with_suffix(".csv").read_text(encoding="utf-8").startswith("dimension,key,posts")
        friday = next(line for line in demo.lines if line.startswith("Friday-evening post through ingest"))
        assert "due Mon" in friday and "08:55" in friday and '"Wir melden uns bis Montag, 8:55 Uhr."' in friday

        # The outage burst opened one incident, and it resolved by itself before the summary.
        assert [(i["place_label"], i["status"]) for i in incidents] == [("Köln", "resolved")]
        assert incidents[0]["count"] >= 5 and incidents[0]["count"] <= INCIDENT_POSTS
        assert [(i["place"], i["status"], i["posts"]) for i in summary["incidents"]] == [
            ("Köln", "resolved", incidents[0]["count"])]
        assert demo.printed("outage incidents") == (f"{incidents[0]['topic_label']}, Köln: {incidents[0]['count']} "
                                                    "posts, resolved")
        assert any("incident opened: " in line for line in demo.lines)
        assert any("incident resolved: " in line for line in demo.lines)

        # The numbers, recomputed here from Firestore, not with the demo's own code.
        answered = [d for d in mentions if d["status"] in ("answered", "handed_off")]
        hits = sum(1 for d in answered if not d["breached"])
        misses = sum(1 for d in answered if d["breached"]) + sum(
            1 for d in mentions if d["status"] in ("open", "overdue") and d["due_at"] <= now)
        seconds = [float(d["first_response_seconds"]) for d in answered]
        assert (summary["sla_hits"], summary["sla_misses"], summary["sla_answered"]) == (hits, misses, len(answered))
        assert summary["sla_pending"] == 0, "the replay waits until every post is due"
        assert summary["sla_p50_seconds"] == nearest_rank(seconds, 0.5)
        assert summary["sla_p90_seconds"] == nearest_rank(seconds, 0.9)
        levels = Counter(int(level) for d in mentions for level, state in (d.get("alerts") or {}).items()
                         if level.isdigit() and state.get("state") == "sent")
        assert summary["alerts_by_level"] == {str(k): v for k, v in sorted(levels.items())}
        assert summary["handoffs"] == len(handoffs) >= 1
        assert summary["deleted"] == sum(1 for d in mentions if d["status"] == "deleted") == 1
        assert summary["acknowledged"] == sum(1 for d in mentions if d.get("acknowledged")) >= 1
        assert misses >= 1 and levels[1] >= 1, "the script leaves posts unanswered: they must breach"

        # …and the printed lines say the same as the JSON.
        assert demo.printed("SLA hit rate").startswith(f"{hits / (hits + misses) * 100:.1f} % ({hits} hits, "
                                                       f"{misses} misses, 0 pending)")
        assert demo.printed("first response p50") == f"{nearest_rank(seconds, 0.5):.1f} s"
        assert demo.printed("handoffs").startswith(str(len(handoffs)))
        assert demo.printed("board") == summary["board_url"] == board_url

        # The board is up while the demo keeps running, and shows what is still overdue.
        board = httpx.get(board_url.replace("/?", "/?format=json&"), timeout=10).json()
        still_overdue = {d["post_id"] for d in mentions if d["status"] == "overdue"}
        assert {item["doc_id"] for item in board["items"]} and len(board["items"]) == len(still_overdue)
        # The incident is on the board too: its posts still overdue (the burst leaves one unanswered), grouped.
        overdue_members = Counter(d["incident_id"] for d in mentions if d["status"] == "overdue" and d.get("incident_id"))
        assert overdue_members, "the burst leaves a post of the incident unanswered"
        assert {(g["incident_id"], g["overdue"]) for g in board["incidents"]} == set(overdue_members.items())
        assert all(g["label"].endswith(", Köln") for g in board["incidents"])

        board_port = int(re.search(r":(\d+)/", board_url)[1])  # type: ignore[index]
        firestore_port = int(firestore_host.rsplit(":", 1)[1])
        assert port_open(board_port) and port_open(firestore_port)

        demo.proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert demo.proc.wait(timeout=60) == 0
        demo.drain(timeout=5)
        assert any("stopped" in line for line in demo.lines)
        assert not port_open(board_port) and not port_open(firestore_port), "a port was left open"
    finally:
        demo.kill()
