"""What the demo shows: a live rich view (posts with their clocks, alerts, DMs), plain log lines
for CI, and the summary. Shows the script's labels, never post text or handles: the terminal
may be recorded or shared."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from demo.replay import Event, Replay, Summary, Tracked
from hilft.core.durations import format_duration

PLATFORMS = {"x": "X", "x_activity": "X (Activity API)", "x_dm": "X DM", "x_stream": "X radar (stream)",
             "facebook": "Facebook",
             "instagram": "Instagram", "messenger": "Messenger", "threads": "Threads", "bluesky": "Bluesky",
             "bluesky_dm": "Bluesky DM", "mastodon": "Mastodon", "mastodon_dm": "Mastodon DM"}
# The five channels of the summary: documents per platform, grouped as the brand's teams know them.
CHANNEL_GROUPS = (("X", ("x",)), ("Facebook/Instagram/Messenger", ("facebook", "instagram", "messenger")),
                  ("Threads", ("threads",)), ("Bluesky", ("bluesky",)), ("Mastodon", ("mastodon",)))
FEED_KINDS = {"alert", "dm", "handed_off", "ack", "acknowledged", "incident", "error"}


def policy_line(replay: Replay) -> str:
    promise, escalation = replay.policy.promise, replay.policy.escalation
    return (f"promise: first public answer within {format_duration(promise.first_response)} · "
            f"warning {format_duration(promise.warning_before)} before · "
            f"re-alert every {format_duration(escalation.realert_every)} up to level {escalation.max_level}")


def _seconds(value: float) -> str:
    return f"{abs(value):.0f} s"


def clock_cell(post: Tracked, now: datetime) -> Text:
    doc = post.doc
    if not doc:
        return Text("posting…" if post.created_at else "", style="dim")
    status, due = doc.get("status"), doc.get("due_at")
    seconds = doc.get("first_response_seconds")
    if status in ("answered", "handed_off") and seconds is not None:
        prefix = "DM " if status == "handed_off" else ""
        if doc.get("breached"):
            late = (doc["answered_at"] - due).total_seconds() if isinstance(due, datetime) else 0.0
            return Text(f"{prefix}{_seconds(seconds)} ({_seconds(late)} late)", style="bold red")
        return Text(f"{prefix}{_seconds(seconds)} ✓", style="green")
    if status == "deleted":
        return Text("–", style="dim")
    if isinstance(due, datetime):
        left = (due - now).total_seconds()
        if left < 0:
            return Text(f"late {_seconds(left)}", style="bold red")
        warn = doc.get("warn_at")
        risky = isinstance(warn, datetime) and now >= warn
        return Text(f"in {_seconds(left)}", style="yellow" if risky else "")
    return Text("")


STATE_STYLES = {"open": "cyan", "answered": "green", "overdue": "bold red", "handed_off": "magenta",
                "deleted": "dim"}


def alerts_cell(post: Tracked) -> Text:
    alerts = post.doc.get("alerts") or {}
    sent = sorted(int(k) for k, v in alerts.items()
                  if k.isdigit() and isinstance(v, dict) and v.get("state") == "sent")
    text = Text()
    for level in sent:
        text.append("W " if level == 0 else f"L{level} ", style="yellow" if level == 0 else "red")
    if post.doc.get("acknowledged"):
        text.append("ack", style="green")
    return text


def _posts_table(replay: Replay, rows: int) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False, header_style="bold")
    for name, width in (("time", 5), ("platform", 16), ("post", None), ("state", 10), ("clock", 20),
                        ("alerts", 12)):
        table.add_column(name, no_wrap=True, width=width, ratio=None if width else 1)
    posted = [p for p in replay.tracked if p.created_at is not None]
    now = datetime.now(UTC)
    for post in posted[-rows:]:
        status = str(post.doc.get("status") or "")
        table.add_row(post.script.clock, PLATFORMS[post.script.channel], post.script.label,
                      Text(status.replace("_", " "), style=STATE_STYLES.get(status, "")),
                      clock_cell(post, now), alerts_cell(post))
    return table


def _feed(replay: Replay, kinds: set[str], title: str, rows: int) -> Table:
    table = Table(title=title, title_justify="left", expand=True, show_header=False, show_edge=False)
    table.add_column("t", width=7, no_wrap=True)
    table.add_column("post", ratio=1, no_wrap=True, style="dim")
    table.add_column("what", ratio=1, no_wrap=True)
    chosen = [e for e in replay.events if e.kind in kinds][-rows:]
    for event in chosen:
        table.add_row(f"{event.elapsed:5.1f}s", event.post.script.label if event.post else "", event.text)
    return table


class LiveView:
    """The renderable for rich.live.Live: re-built on every poll."""

    def __init__(self, replay: Replay, console: Console) -> None:
        self.replay = replay
        self.console = console

    def __rich__(self) -> RenderableType:
        replay = self.replay
        height = self.console.size.height
        feed_rows = 6
        post_rows = max(5, height - feed_rows - 10)
        posted = [p for p in replay.tracked if p.created_at is not None]
        clock = posted[-1].script.clock if posted else "--:--"
        header = Text.assemble(("hilft demo", "bold"), f" · a day of social care replayed · day clock {clock} · "
                               f"{len(posted)}/{len(replay.tracked)} posts · t+{replay.elapsed():.0f} s of "
                               f"~{replay.end_seconds():.0f} s")
        feeds = Table.grid(expand=True)
        feeds.add_column(ratio=1)
        feeds.add_column(ratio=1)
        feeds.add_row(_feed(replay, {"alert"}, "alerts at the fake sinks", feed_rows),
                      _feed(replay, {"dm", "handed_off", "ack", "acknowledged", "error"},
                            "DMs, handoffs, on-call", feed_rows))
        return Group(header, Text(policy_line(replay), style="dim"), incidents_line(replay),
                     _posts_table(replay, post_rows), feeds)


def incidents_line(replay: Replay) -> Text:
    """One line per outage incident (issue 17): what, where, how many posts, open or resolved."""
    if not replay.incidents:
        return Text("outage incidents: none", style="dim")
    text = Text("outage incidents: ")
    for index, doc in enumerate(replay.incidents.values()):
        status = str(doc.get("status"))
        if index:
            text.append(" · ")
        text.append(f"{doc.get('topic_label')}, {doc.get('place_label') or 'bundesweit'} — {doc.get('count')} posts "
                    f"({status})", style="green" if status == "resolved" else "bold red")
    return text


def log_line(event: Event) -> str:
    """One plain line per event (``--no-live``): script labels only, no post text."""
    if event.post is None:
        return f"[t+{event.elapsed:6.1f}s] {event.text}"
    script = event.post.script
    return (f"[t+{event.elapsed:6.1f}s] {script.clock} {PLATFORMS[script.channel]:<16} {script.label:<44.44} "
            f"{event.text}")


def channels_text(by_channel: dict[str, int]) -> str:
    return " · ".join(f"{name} {sum(by_channel.get(p, 0) for p in platforms)}" for name, platforms in CHANNEL_GROUPS)


def incidents_text(incidents: list[dict[str, object]]) -> str:
    if not incidents:
        return "none"
    return " · ".join(f"{i['topic']}, {i['place'] or 'bundesweit'}: {i['posts']} posts, {i['status']}"
                      for i in incidents)


def summary_lines(summary: Summary) -> list[str]:
    stats = summary.stats
    rate = "–" if stats.hit_rate is None else f"{stats.hit_rate * 100:.1f} %"
    p50 = "–" if stats.p50_seconds is None else f"{stats.p50_seconds:.1f} s"
    p90 = "–" if stats.p90_seconds is None else f"{stats.p90_seconds:.1f} s"
    levels = " · ".join(("warning" if level == 0 else f"level {level}") + f" {count}"
                        for level, count in sorted(summary.alerts_by_level.items())) or "none"
    sinks = " · ".join(f"{name} {count}" for name, count in summary.alerts_by_sink.items())
    dms = summary.dms
    return [
        "summary (computed from Firestore and the fake servers)",
        f"  posts replayed        {summary.posts} ({summary.deliveries} webhook deliveries, "
        f"{summary.duplicates} duplicates ignored; {summary.polled} fetched by poll)",
        f"  documents stored      {summary.documents}",
        f"  by channel            {channels_text(summary.by_channel)}",
        f"  SLA hit rate          {rate} ({stats.hits} hits, {stats.misses} misses, {stats.pending} pending)",
        f"  first response p50    {p50}",
        f"  first response p90    {p90} ({stats.answered} answered)",
        f"  alerts by level       {levels}",
        f"  messages by sink      {sinks} (alerts, resolves, acknowledgements)",
        f"  handoffs              {summary.handoffs} (DMs on X {dms['x_dm']}, private replies on Meta "
        f"{dms['meta_private_reply']}, Messenger messages {dms['meta_message']}, Threads pointer replies "
        f"{dms['threads_pointer']}, DMs on Bluesky {dms['bluesky_dm']}, on Mastodon {dms['mastodon_dm']}; "
        f"public posts with personal data hidden {dms.get('public_hidden', 0)})",
        f"  outage incidents      {incidents_text(summary.incidents)}",
        f"  acknowledged          {summary.acknowledged}",
        f"  deleted               {summary.deleted}",
        f"  board                 {summary.board_url}",
        f"  replay took           {summary.elapsed_seconds:.0f} s",
    ]


def print_summary(console: Console, summary: Summary) -> None:
    for index, line in enumerate(summary_lines(summary)):
        console.print(Text(line, style="bold" if index == 0 else ""), soft_wrap=True)

