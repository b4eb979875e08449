"""The replay: fakes and the local stack up, the scripted day posted as signed webhooks (X, Meta,
Threads) or placed into the fake Bluesky and Mastodon for ``poll`` to fetch, the brand's answers and
on-call's acknowledgements at their times, and everything watched from Firestore and the fakes
until the last escalation has fired and every outage incident has resolved.

``poll`` and ``sweep`` are Cloud Scheduler jobs: the stack's local scheduler runs them on their
Terraform schedules, and the replay also runs them at once when the story needs it (a Bluesky or
Mastodon post was just written; the incidents' quiet period is over) — ``gcloud scheduler jobs run``,
with the same request and the scheduler identity's OIDC token (``scheduler.py``).

One thread drives the timeline and polls (the fakes serve on their own daemon threads), so
Ctrl-C lands in one place and ``Replay.close`` stops every process and port it started.
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import deliveries
from deliveries import BRAND_X, IG_HANDLE, IG_ID, PAGE_ID, PAGE_NAME, Author
from deliveries import THREADS_ID as BRAND_THREADS_ID
from demo.scenario import POLICY_FILE, ROOT, Day, ScriptedPost, scaled_policy
from fakes.world import Credentials, OutsideWorld
from hilft.core import ids
from hilft.core.board_view import ResponseStats, response_stats
from hilft.core.policy import Policy, parse_policy
from hilft.service.incidents import EVALUATION_GRACE

# The fake servers' credentials: made up, valid only between this process and its own stack.
CREDENTIALS = Credentials(prefix="demo", pagerduty_key="R0UT1NGKEYDEMO000000000000000000")
X_SECRET = CREDENTIALS.x_client_secret
META_SECRET = CREDENTIALS.meta_secret
THREADS_SECRET = CREDENTIALS.threads_secret
ONCALL = "oncall-demo"
REDELIVERY_GAPS = (0.0, 0.7, 1.6)  # seconds after the first delivery, as a platform retries
MAX_ATTEMPTS = 4
SETTLE_SECONDS = 2.0  # after the last escalation is due: task dispatch and sink round trips


Fakes = OutsideWorld


def start_fakes() -> OutsideWorld:
    return OutsideWorld.start(CREDENTIALS)


def function_env(fakes: OutsideWorld, policy_path: Path) -> dict[str, str]:
    return {**fakes.env(), "HILFT_CONFIG": str(policy_path), "HILFT_STAFF_AUTH": "off",
            "HILFT_CLAIM_TTL_SECONDS": "30"}


# --- what the replay knows about each post ------------------------------------------------------


@dataclass
class Tracked:
    """A scripted post at run time: its platform ids once posted, and what Firestore says."""

    script: ScriptedPost
    post_id: str | None = None
    doc_id: str | None = None
    body: bytes | None = None
    created_at: datetime | None = None
    deliveries: int = 0
    doc: dict[str, Any] = field(default_factory=dict)


@dataclass
class Event:
    """One line of the story: a post arrived, was answered, an alert or a DM went out."""

    elapsed: float
    kind: str  # posted, answered, overdue, handed_off, deleted, acknowledged, alert, dm, incident, error
    text: str
    post: Tracked | None = None


@dataclass
class Summary:
    posts: int
    deliveries: int
    duplicates: int
    documents: int
    stats: ResponseStats
    alerts_by_level: dict[int, int]
    alerts_by_sink: dict[str, int]
    handoffs: int
    dms: dict[str, int]
    acknowledged: int
    deleted: int
    board_url: str
    elapsed_seconds: float
    polled: int = 0  # Bluesky and Mastodon posts placed in the fakes (fetched by poll, no webhook)
    by_channel: dict[str, int] = field(default_factory=dict)  # documents per platform
    incidents: list[dict[str, Any]] = field(default_factory=list)  # outage incidents (issue 17)

    def as_json(self) -> dict[str, Any]:
        return {"posts": self.posts, "deliveries": self.deliveries, "duplicates": self.duplicates,
                "polled": self.polled, "documents": self.documents, "by_channel": self.by_channel,
                **{f"sla_{k}": v for k, v in self.stats.as_json().items()},
                "alerts_by_level": {str(k): v for k, v in sorted(self.alerts_by_level.items())},
                "alerts_by_sink": self.alerts_by_sink, "handoffs": self.handoffs, "dms": self.dms,
                "acknowledged": self.acknowledged, "deleted": self.deleted, "incidents": self.incidents,
                "board_url": self.board_url, "elapsed_seconds": round(self.elapsed_seconds, 1)}


class Replay:
    def __init__(self, day: Day, *, speed: float = 1.0, port_base: int | None = None,
                 log_dir: Path | None = None, on_event: Callable[[Event], None] | None = None) -> None:
        self.day = day
        self.speed = speed
        self.port_base = port_base
        self.log_dir = log_dir or ROOT / ".dev" / "demo-logs"
        self.on_event = on_event or (lambda event: None)
        self.policy_text = scaled_policy(POLICY_FILE.read_text(encoding="utf-8"), speed)
        self.policy: Policy = parse_policy(self.policy_text, source=str(POLICY_FILE))
        self.tracked = [Tracked(post) for post in day.posts]
        self.events: list[Event] = []
        self.fakes: Fakes | None = None
        self.stack: Any = None
        self.db: Any = None
        self.http = httpx.Client(timeout=15)
        self._tmp = tempfile.TemporaryDirectory(prefix="hilft-demo-")
        self._queue: list[tuple[float, int, str, Tracked, int]] = []
        self._seq = itertools.count()
        self._t0: float | None = None  # set when the replay starts
        self._seen_alerts: set[str] = set()
        self._seen_dms = 0
        self._seen_private = 0
        self._seen_messages = 0
        self._seen_sky_dms = 0
        self._seen_masto = 0
        self._seen_threads = 0
        self.incidents: dict[str, dict[str, Any]] = {}  # incidents/{id} as last read
        self.ingest_totals: Counter[str] = Counter()
        self.mint = deliveries.IdMint(datetime.now(UTC))
        self._jobs: Any = None  # scheduler.Scheduler running poll / sweep at once
        self._tokens: Any = None
        self._job_lock = threading.Lock()
        self._job_running: set[str] = set()
        self._job_again: set[str] = set()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, progress: Callable[[str], None] = print) -> None:
        from stack import LocalStack, Ports

        policy_path = Path(self._tmp.name) / "policy.toml"
        policy_path.write_text(self.policy_text, encoding="utf-8")
        progress("starting fake X, Meta Graph, Threads, Bluesky, Mastodon, Slack, Google Chat, PagerDuty and "
                 "webhook servers")
        self.fakes = start_fakes()
        ports = Ports.from_base(self.port_base) if self.port_base else Ports.free()
        self.stack = LocalStack(ports=ports, env=function_env(self.fakes, policy_path), log_dir=self.log_dir,
                                scheduler=True)
        progress(f"starting the local stack: Firestore emulator, Cloud Tasks emulator, {len(ports.functions)} "
                 f"functions, the Cloud Scheduler jobs (logs in {self.log_dir})")
        self.stack.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.stack.firestore_host
        from google.cloud import firestore

        from scheduler import EmulatorTokens, Scheduler, jobs_from_terraform

        self.db = firestore.Client(project="hilft-local")
        self._tokens = EmulatorTokens(self.stack.tasks_host, f"projects/{self.stack.project}/locations/europe-west3")
        self._jobs = Scheduler(jobs_from_terraform(), {t: self.stack.url(t) for t in self.stack.targets},
                               self._tokens.token, self.stack.project, flags={"polling_enabled": True},
                               on_attempt=self._job_attempt)

    # -- Cloud Scheduler jobs run at once (`gcloud scheduler jobs run`) ----------------------------
    def run_job(self, name: str) -> None:
        """Run a scheduler job now, in the background; asked again while it runs, it runs once more."""
        with self._job_lock:
            if name in self._job_running:
                self._job_again.add(name)
                return
            self._job_running.add(name)
        threading.Thread(target=self._job_loop, args=(name,), name=f"run-{name}", daemon=True).start()

    def _job_loop(self, name: str) -> None:
        job = next(j for j in self._jobs.jobs if j.name == name)
        while True:
            self._jobs.run_once(job, datetime.now(UTC))
            with self._job_lock:
                if name not in self._job_again:
                    self._job_running.discard(name)
                    return
                self._job_again.discard(name)

    def jobs_idle(self) -> bool:
        with self._job_lock:
            return not self._job_running

    def _job_attempt(self, attempt: Any) -> None:
        self.ingest_totals[f"{attempt.job}_runs"] += 1
        if not attempt.ok:
            self._emit("error", f"{attempt.job} run answered {attempt.status or attempt.error}")

    def close(self) -> None:
        if self._tokens is not None:
            self._tokens.close()
            self._tokens = None
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        if self.fakes is not None:
            for fake in self.fakes.all():
                fake.stop()
            self.fakes = None
        self.http.close()
        self._tmp.cleanup()

    @property
    def board_url(self) -> str:
        window = max(10, int(self.end_seconds() // 60) + 2)
        return f"{self.stack.url('board')}/?window={window}m" if self.stack else ""

    # -- timeline ---------------------------------------------------------------------------------
    def _at(self, demo_seconds: float) -> float:
        return demo_seconds / self.speed

    def _plan(self) -> None:
        for post in self.tracked:
            s = post.script
            if s.reply_first and s.reply_after is not None:
                self._push(self._at(s.at), "mint", post)
                self._push(self._at(s.at + s.reply_after), "reply", post)
                self._push(self._at(s.at + s.reply_after) + 1.0, "deliver", post)
            else:
                self._push(self._at(s.at), "post", post)
                if s.reply_after is not None:
                    self._push(self._at(s.at + s.reply_after), "reply", post)
            for gap in REDELIVERY_GAPS[1:s.deliveries]:
                self._push(self._at(s.at) + gap, "deliver", post)
            if s.delete_after is not None:
                self._push(self._at(s.at + s.delete_after), "delete", post)
            if s.ack_after is not None:
                self._push(self._at(s.at + s.ack_after), "ack", post)

    def _push(self, at: float, action: str, post: Tracked, attempt: int = 0) -> None:
        heapq.heappush(self._queue, (at, next(self._seq), action, post, attempt))

    def end_seconds(self) -> float:
        """When the story is over: the last scripted action, or the last escalation of the last post."""
        promise = self.policy.promise.first_response.total_seconds()
        last_level = self.policy.escalation.fire_offset(self.policy.escalation.max_level) or timedelta(0)
        last_post = max((self._at(p.script.at) for p in self.tracked), default=0.0)
        last_action = max((item[0] for item in self._queue), default=0.0)
        return max(last_action, last_post + promise + last_level.total_seconds()) + SETTLE_SECONDS

    def elapsed(self) -> float:
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def run(self, tick: Callable[[], None] = lambda: None, poll_every: float = 0.5) -> Summary:
        self._plan()
        end = self.end_seconds()
        self._t0 = time.monotonic()
        next_poll = 0.0
        while True:
            now = self.elapsed()
            while self._queue and self._queue[0][0] <= now:
                _, _, action, post, attempt = heapq.heappop(self._queue)
                self._do(action, post, attempt)
            if now >= next_poll:
                self.poll()
                tick()
                next_poll = now + poll_every
            if now >= end and not self._queue:
                break
            wake = min([next_poll, end] + ([self._queue[0][0]] if self._queue else []))
            time.sleep(max(0.0, min(0.2, wake - self.elapsed())))
        self.settle_incidents(tick, poll_every)
        self.poll()
        tick()
        return self.summary()

    def settle_incidents(self, tick: Callable[[], None] = lambda: None, poll_every: float = 0.5) -> None:
        """An open incident resolves by itself once its key has been quiet for ``resolve_after``; with
        no more posts coming, it is the sweep's evaluation that sees the quiet: run the sweep job
        every slot until every incident has resolved (or the quiet period and a margin are over).

        The sweep runs first for the evaluation grace and two slots more even when no incident is
        open yet: a slot's task that met another evaluation leaves its slots to the next trigger —
        in production the minute sweep, which a replay of a few minutes may not reach — so the last
        posts of a burst are evaluated before the summary, as the minute sweep would."""
        outage = self.policy.outage
        if not outage.enabled:
            return
        self.poll()
        slot = outage.slot.total_seconds()
        deadline = self.elapsed() + (outage.resolve_after + outage.window).total_seconds() + 10 * slot + 10
        backstop_until = self.elapsed() + EVALUATION_GRACE.total_seconds() + 2 * max(1.0, slot)
        next_sweep = 0.0
        while (self.open_incidents() or self.elapsed() < backstop_until) and self.elapsed() < deadline:
            if self.elapsed() >= next_sweep and self.jobs_idle():
                self.run_job("sweep")
                next_sweep = self.elapsed() + max(1.0, slot)
            time.sleep(poll_every)
            self.poll()
            tick()
        if self.open_incidents():
            self._emit("error", "an incident did not resolve within its quiet period")

    def open_incidents(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents.values() if i.get("status") != "resolved"]

    # -- actions ----------------------------------------------------------------------------------
    def _emit(self, kind: str, text: str, post: Tracked | None = None) -> None:
        event = Event(self.elapsed(), kind, text, post)
        self.events.append(event)
        self.on_event(event)

    def _do(self, action: str, post: Tracked, attempt: int) -> None:
        try:
            if action in ("post", "mint"):
                self._mint(post)
                if action == "post":
                    self._deliver(post, attempt)
            elif action == "deliver":
                self._deliver(post, attempt)
            elif action == "reply":
                self._reply(post, attempt)
            elif action == "delete":
                self._delete(post, attempt)
            elif action == "ack":
                self._ack(post)
        except _Retry as retry:
            if attempt + 1 < MAX_ATTEMPTS:
                self._push(self.elapsed() + 1.0 * (attempt + 1), action if action != "post" else "deliver",
                           post, attempt + 1)
            else:
                self._emit("error", f"{action} gave up after {MAX_ATTEMPTS} attempts ({retry})", post)

    def _mint(self, post: Tracked) -> None:
        s = post.script
        now = datetime.now(UTC)
        mint = self.mint
        post.created_at = now
        if s.channel == "x":
            post.post_id = mint.x_id(now)
            post.body = deliveries.x_tweet(post.post_id, s.author, s.text, now, lang=s.lang)
        elif s.channel == "x_activity":
            post.post_id = mint.x_id(now)
            post.body = deliveries.x_activity_post(post.post_id, s.author, s.text, now)
        elif s.channel == "x_dm":
            post.post_id = mint.x_id(now)
            post.body = deliveries.x_dm(post.post_id, s.author, BRAND_X, s.text, now)
        elif s.channel == "x_stream":  # a Filtered Stream match: the radar found it, no @-mention
            post.post_id = mint.x_id(now)
            post.body = deliveries.x_stream_post(post.post_id, s.author, s.text, now, lang=s.lang,
                                                 rules=[(deliveries.RADAR_RULE[0], tag) for tag in s.rules])
        elif s.channel == "facebook":
            post.post_id = mint.facebook_comment()
            post.body = deliveries.facebook_comment(post.post_id, s.author, s.text, now)
            self._on_meta(post.post_id, "facebook", PAGE_ID, s)
        elif s.channel == "instagram":
            post.post_id = mint.instagram_comment()
            post.body = deliveries.instagram_comment(post.post_id, s.author, s.text, now)
            self._on_meta(post.post_id, "instagram", IG_ID, s)
        elif s.channel == "messenger":
            post.post_id = mint.message_id()
            post.body = deliveries.messenger_message(post.post_id, s.author.id, PAGE_ID, s.text, now, echo=False)
        elif s.channel == "threads":
            post.post_id = mint.threads_id()
            post.body = deliveries.threads_reply(post.post_id, s.author, s.text, now)
            if self.fakes is not None:  # it exists on Threads: poll's deleted-post check finds it there
                self.fakes.threads.add_reply(post.post_id, author_id=str(s.author.id), text=s.text,
                                             username=str(s.author.handle))
        elif s.channel == "bluesky":  # written on Bluesky: the fake's notifications list it for poll
            assert self.fakes is not None
            sky = self.fakes.bluesky
            post.post_id = sky.add_post(f"@{sky.handle} {s.text}", author_did=s.author.id, handle=str(s.author.handle),
                                        display_name=s.author.name, created_at=now, lang=s.lang)
        elif s.channel == "bluesky_dm":  # a chat message to the brand: poll reads the chat log
            assert self.fakes is not None
            post.post_id = self.fakes.bluesky.add_dm(s.text, author_did=s.author.id, handle=str(s.author.handle),
                                                     display_name=s.author.name, sent_at=now)
        elif s.channel in ("mastodon", "mastodon_dm"):
            assert self.fakes is not None
            masto = self.fakes.mastodon
            post.post_id = masto.add_status(str(s.author.handle), f"@{masto.brand['acct']} {s.text}",
                                            name=s.author.name, created_at=now,
                                            visibility="direct" if s.channel == "mastodon_dm" else "public")
        else:
            raise ValueError(f"{s.id}: unknown channel {s.channel!r}")
        if s.polled:
            self.ingest_totals["polled"] += 1
        post.doc_id = ids.mention_doc_id(s.platform, str(post.post_id))

    def _on_meta(self, comment_id: str, platform: str, account: str, s: ScriptedPost) -> None:
        """The comment exists on the (fake) platform under the brand's own post, so the brand may
        hide it there when it shows personal data (policy ``handoff.hide_public``)."""
        if self.fakes is not None:
            self.fakes.graph.add_comment(comment_id, on=account, platform=platform, message=s.text,
                                         **{"from": {"id": s.author.id, "name": s.author.name}})

    def _send(self, platform: str, body: bytes) -> dict[str, Any]:
        if platform == "x":
            url, headers = self.stack.url("x_webhook"), deliveries.x_headers(body, X_SECRET)
        elif platform == "threads":
            url, headers = self.stack.url("threads_webhook"), deliveries.threads_headers(body, THREADS_SECRET)
        else:
            url, headers = self.stack.url("meta_webhook"), deliveries.meta_headers(body, META_SECRET)
        try:
            response = self.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _Retry(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise _Retry(f"HTTP {response.status_code}")
        if response.status_code >= 300:
            self._emit("error", f"webhook refused with HTTP {response.status_code}")
            return {}
        result = response.json()
        for key in ("stored", "duplicates", "answered", "deleted"):
            self.ingest_totals[key] += int(result.get(key) or 0)
        return result

    def _deliver(self, post: Tracked, attempt: int) -> None:
        if post.script.polled:  # nothing to deliver: the next poll run fetches it
            self.run_job("poll")
            return
        assert post.body is not None
        result = self._send(post.script.platform, post.body)
        post.deliveries += 1
        self.ingest_totals["deliveries"] += 1
        if result.get("duplicates"):
            self._emit("duplicate", f"redelivery #{post.deliveries} ignored (already stored)", post)

    def _reply(self, post: Tracked, attempt: int) -> None:
        s = post.script
        assert post.post_id is not None and s.reply is not None
        now = datetime.now(UTC)
        mint = self.mint
        if s.channel in ("x", "x_stream"):
            body = deliveries.x_tweet(mint.x_id(now), BRAND_X, f"@{s.author.handle} {s.reply}", now,
                                    reply_to=post.post_id, reply_to_user=s.author.id)
        elif s.channel == "x_activity":
            body = deliveries.x_activity_post(mint.x_id(now), BRAND_X, s.reply, now,
                                            reply_to=(post.post_id, s.author))
        elif s.channel == "x_dm":
            body = deliveries.x_dm(mint.x_id(now), BRAND_X, s.author, s.reply, now)
        elif s.channel == "facebook":
            body = deliveries.facebook_comment(mint.facebook_comment(), Author(PAGE_ID, name=PAGE_NAME), s.reply,
                                             now, parent_id=post.post_id)
        elif s.channel == "instagram":
            body = deliveries.instagram_comment(mint.instagram_comment(), Author(IG_ID, IG_HANDLE),
                                              f"@{s.author.handle} {s.reply}", now, parent_id=post.post_id)
        elif s.channel == "messenger":
            body = deliveries.messenger_message(mint.message_id(), PAGE_ID, s.author.id, s.reply, now, echo=True)
        elif s.channel == "threads":  # the brand answers in the thread of its own post
            body = deliveries.threads_reply(mint.threads_id(), Author(BRAND_THREADS_ID), s.reply, now, to=post.post_id)
        else:  # Bluesky, Mastodon: written natively in the brand's app; poll sees it in the thread
            assert self.fakes is not None
            if s.channel == "bluesky_dm":
                sky = self.fakes.bluesky
                sky.add_brand_dm(sky.convo_for(s.author.id), s.reply)
            elif s.platform == "bluesky":
                self.fakes.bluesky.add_brand_post(s.reply, reply_to=post.post_id)
            else:
                self.fakes.mastodon.add_brand_status(f"@{s.author.handle} {s.reply}", in_reply_to=post.post_id,
                                                     visibility="direct" if s.channel == "mastodon_dm" else "public")
            self.run_job("poll")
            self._emit("reply", "the brand answered natively in its app", post)
            return
        self._send(s.platform, body)
        self._emit("reply", "the brand answered on the platform", post)

    def _delete(self, post: Tracked, attempt: int) -> None:
        s = post.script
        assert post.post_id is not None
        now = datetime.now(UTC)
        if s.channel in ("x", "x_activity"):
            self._send("x", deliveries.x_delete(post.post_id, s.author.id, now))
        elif s.channel == "facebook":
            self._send("facebook", deliveries.facebook_remove(post.post_id, s.author, now))
        else:
            raise ValueError(f"{s.id}: the demo deletes only X posts and Facebook comments")

    def _ack(self, post: Tracked) -> None:
        response = self.http.post(self.stack.url("ack"), json={"doc_id": post.doc_id},
                                  headers={"X-Hilft-User": ONCALL})
        outcome = response.json().get("outcome") if response.status_code == 200 else f"HTTP {response.status_code}"
        self._emit("ack", f"on-call acknowledged ({outcome})", post)

    # -- watching ---------------------------------------------------------------------------------
    def by_doc(self) -> dict[str, Tracked]:
        return {p.doc_id: p for p in self.tracked if p.doc_id}

    def poll(self) -> None:
        docs = {snap.id: snap.to_dict() or {} for snap in self.db.collection("mentions").stream()}
        for tracked in self.tracked:
            if tracked.doc_id is None or tracked.doc_id not in docs:
                continue
            before, after = tracked.doc, docs[tracked.doc_id]
            tracked.doc = after
            self._story(tracked, before, after)
        assert self.fakes is not None
        labels = self.by_doc()
        post: Tracked | None
        for message in list(self.fakes.webhook.messages):
            key = str(message.get("id"))
            if key in self._seen_alerts:
                continue
            self._seen_alerts.add(key)
            post = labels.get(str(message.get("doc_id")))
            level = int(message.get("level") or 0)
            event = str(message.get("event"))
            if message.get("kind") == "incident":
                self._emit("alert", f"incident {message.get('incident_event')}: {message.get('headline')} "
                                    "→ one message per sink")
            elif event == "triggered":
                what = "warning (due soon)" if level == 0 else f"alert level {level}"
                sinks = self.policy.escalation.sinks_for(level)
                self._emit("alert", f"{what} → {', '.join(sinks)}", post)
            else:
                self._emit("alert", f"alert {event} at every sink that was alerted", post)
        dms = list(self.fakes.x.dms)
        for dm in dms[self._seen_dms:]:
            post = next((p for p in self.tracked if p.script.author.id == dm["participant_id"]
                         and p.script.platform == "x"), None)
            self._emit("dm", "DM sent on X", post)
        self._seen_dms = len(dms)
        private = list(self.fakes.graph.private_replies)
        for reply in private[self._seen_private:]:
            post = next((p for p in self.tracked if p.post_id == reply.comment_id), None)
            self._emit("dm", f"private reply sent on {reply.platform.capitalize()}", post)
        self._seen_private = len(private)
        messages = list(self.fakes.graph.messages)
        for message in messages[self._seen_messages:]:
            post = next((p for p in self.tracked if p.script.author.id == message.recipient_id), None)
            self._emit("dm", f"message sent on {message.platform.capitalize()}", post)
        self._seen_messages = len(messages)
        self._watch_new_channels()
        self._watch_incidents()

    def _watch_new_channels(self) -> None:
        """What hilft sent on Threads (public pointer replies: no DMs there), Bluesky and Mastodon."""
        assert self.fakes is not None
        published = list(self.fakes.threads.published)
        for reply in published[self._seen_threads:]:
            post = next((p for p in self.tracked if p.post_id == reply.reply_to_id), None)
            self._emit("dm", "public reply on Threads pointing to a private channel", post)
        self._seen_threads = len(published)
        sky_dms = list(self.fakes.bluesky.messages)
        for message in sky_dms[self._seen_sky_dms:]:
            post = next((p for p in self.tracked if p.script.platform == "bluesky"
                         and p.script.author.id in message.get("to", [])), None)
            self._emit("dm", "DM sent on Bluesky", post)
        self._seen_sky_dms = len(sky_dms)
        posted = list(self.fakes.mastodon.posted)
        for status in posted[self._seen_masto:]:
            if status.get("visibility") == "direct":
                post = next((p for p in self.tracked if p.post_id == status.get("in_reply_to_id")), None)
                self._emit("dm", "DM sent on Mastodon", post)
        self._seen_masto = len(posted)

    def _watch_incidents(self) -> None:
        """incidents/{id} (issue 17): opened, grown, acknowledged, resolved."""
        for snap in self.db.collection("incidents").stream():
            doc = snap.to_dict() or {}
            before = self.incidents.get(snap.id)
            self.incidents[snap.id] = doc
            what = f"{doc.get('topic_label')}, {doc.get('place_label') or 'bundesweit'}"
            if before is None:
                self._emit("incident", f"incident opened: {what} — {doc.get('count')} posts")
            elif doc.get("status") != before.get("status"):
                self._emit("incident", f"incident {doc.get('status')}: {what} — {doc.get('count')} posts")
            elif doc.get("count") != before.get("count"):
                self._emit("incident", f"incident grew: {what} — {doc.get('count')} posts")

    def _story(self, post: Tracked, before: dict[str, Any], after: dict[str, Any]) -> None:
        status, previous = after.get("status"), before.get("status")
        if not before:
            self._emit("posted", "stored, clock running" if status == "open" else f"stored ({status})", post)
        if status != previous and before:
            if status == "answered":
                self._emit("answered", _answer_text(after), post)
            elif status == "handed_off":
                self._emit("handed_off", f"handed off to {after.get('department')}: " + _answer_text(after), post)
            elif status == "overdue":
                self._emit("overdue", "overdue: the promise is broken", post)
            elif status == "deleted":
                self._emit("deleted", "deleted by the customer: text and author forgotten", post)
        elif not before and status in ("answered", "handed_off"):
            self._emit(str(status), _answer_text(after), post)
        if after.get("acknowledged") and not before.get("acknowledged"):
            self._emit("acknowledged", f"acknowledged by {after.get('acknowledged_by')}", post)

    # -- the end ----------------------------------------------------------------------------------
    def summary(self) -> Summary:
        assert self.fakes is not None
        now = datetime.now(UTC)
        docs = [snap.to_dict() or {} for snap in self.db.collection("mentions").stream()]
        handoffs = sum(1 for _ in self.db.collection("handoffs").stream())
        levels: Counter[int] = Counter()
        for doc in docs:
            for key, state in (doc.get("alerts") or {}).items():
                if key.isdigit() and isinstance(state, dict) and state.get("state") == "sent":
                    levels[int(key)] += 1
        # Everything each fake accepted: alerts, and the resolve/acknowledge messages that follow them.
        by_sink = {"slack": len(self.fakes.slack.messages), "google_chat": len(self.fakes.chat.messages),
                   "pagerduty": len(self.fakes.pagerduty.messages), "webhook": len(self.fakes.webhook.messages)}
        dms = {"x_dm": len(self.fakes.x.dms), "meta_private_reply": len(self.fakes.graph.private_replies),
               "meta_message": len(self.fakes.graph.messages), "threads_pointer": len(self.fakes.threads.published),
               "bluesky_dm": len(self.fakes.bluesky.messages),
               "public_hidden": sum(len(fake.hidden) for fake in (self.fakes.graph, self.fakes.x, self.fakes.threads)),
               "mastodon_dm": sum(1 for p in self.fakes.mastodon.posted if p.get("visibility") == "direct")}
        incidents = [{"id": snap.id, "topic": d.get("topic_label"), "place": d.get("place_label"),
                      "status": d.get("status"), "posts": d.get("count")}
                     for snap in self.db.collection("incidents").stream() for d in [snap.to_dict() or {}]]
        return Summary(posts=len(self.tracked), deliveries=self.ingest_totals["deliveries"],
                       duplicates=self.ingest_totals["duplicates"], documents=len(docs),
                       stats=response_stats(docs, now), alerts_by_level=dict(levels), alerts_by_sink=by_sink,
                       handoffs=handoffs, dms=dms, acknowledged=sum(1 for d in docs if d.get("acknowledged")),
                       deleted=sum(1 for d in docs if d.get("status") == "deleted"), board_url=self.board_url,
                       elapsed_seconds=self.elapsed(), polled=self.ingest_totals["polled"],
                       by_channel=dict(Counter(str(d.get("platform")) for d in docs)), incidents=incidents)


class _Retry(Exception):
    """The stack answered 5xx or not at all: deliver again later, as a platform would."""


def _answer_text(doc: dict[str, Any]) -> str:
    seconds = doc.get("first_response_seconds")
    if seconds is None:
        return "answered"
    due = doc.get("due_at")
    answered = doc.get("answered_at")
    if doc.get("breached") and isinstance(due, datetime) and isinstance(answered, datetime):
        return f"answered after {seconds:.0f} s, {(answered - due).total_seconds():.0f} s late"
    return f"answered in {seconds:.0f} s, in time"
