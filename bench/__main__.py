"""``python -m bench`` (``make bench``): hilft's numbers, one table, the same as JSON in bench/results/.

Every figure is the median of ``--runs`` runs (default 3) unless the row says otherwise, and every
comparison (webhook vs raw loop, main vs eager imports) is measured within the same invocation,
interleaved. Loopback only; each part is bounded by counts and time limits. ``--quick`` shrinks
every count for a smoke run (its numbers are not the goals' numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.harness import ROOT, Rig, emulator_env, quiet_hilft_logs

EMULATOR_P99_MS = 250  # the emulator must not be what makes an alert late (the alert-lag goal is 1 s)
BURST_SECONDS = 60
# The cost goal (reads / writes / task creates) is set for a post answered before any alert, the
# common case. An alerted post costs two writes per alert level by design (claim, then record:
# infra/README.md#cost), so the lifecycles with alerts are reported without a goal.
COST_GOALS = {"mention -> answered (before warning)": (2, 2, 2)}
SECTIONS = ("ingest", "alert_lag", "cost", "cold_start", "emulator", "burst", "report", "pii", "outage", "storm")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, one pass: a smoke run")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3; --quick 1)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--concurrency", type=int, default=8, help="client concurrency for ingest (default 8)")
    parser.add_argument("--ingest-posts", type=int, default=None, help="posts per ingest run (default 400)")
    parser.add_argument("--deadlines", type=int, default=None,
                        help="deadlines pending in the queue during the alert-lag rounds (default 10000)")
    parser.add_argument("--due-rate", type=float, default=25.0, help="steady rounds: posts coming due per second")
    parser.add_argument("--spike", type=int, default=None, help="posts due at the same instant per spike round")
    parser.add_argument("--emulator-tasks", type=int, default=None, help="tasks per emulator run (default 10000)")
    parser.add_argument("--burst-posts", type=int, default=None, help="distinct posts in the burst (default 5000)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for the JSON result")
    parser.add_argument("--readme", action="store_true",
                        help="also write this run's table into README.md, between the bench markers")
    args = parser.parse_args(argv)
    quick = args.quick
    args.runs = args.runs or (1 if quick else 3)
    args.ingest_posts = args.ingest_posts or (150 if quick else 400)
    args.deadlines = args.deadlines if args.deadlines is not None else (2000 if quick else 10_000)
    args.spike = args.spike or (100 if quick else 300)
    args.emulator_tasks = args.emulator_tasks or (2000 if quick else 10_000)
    args.burst_posts = args.burst_posts or (1000 if quick else 5000)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


# -- sections ---------------------------------------------------------------------------------------


def run_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from bench import ingest

    with Rig(targets=("x_webhook", "meta_webhook")) as rig:
        for platform_name in ("x", "meta"):  # first requests build clients and import lazily: not measured
            bodies = ingest.x_bodies(30) if platform_name == "x" else ingest.meta_bodies(30)
            ingest.closed_loop(ingest.webhook_work(rig, platform_name, bodies), 30, 4, ingest._client)
        return ingest.measure(rig, runs=args.runs, count=args.ingest_posts, concurrency=args.concurrency,
                              half_load_count=max(100, args.ingest_posts // 2))


def run_alert_lag(args: argparse.Namespace) -> dict[str, Any]:
    from bench import alert_lag

    rounds = alert_lag.Rounds(steady=args.runs, steady_count=int(args.due_rate * (4 if args.quick else 10)),
                              steady_rate=args.due_rate, spike=args.runs, spike_count=args.spike)
    with Rig(targets=("deadline",), policy=alert_lag.POLICY) as rig:
        return alert_lag.measure(rig, pending=args.deadlines, rounds=rounds)


def run_cost(args: argparse.Namespace) -> dict[str, Any]:
    from bench import cost

    with Rig(targets=(), policy=cost.POLICY) as rig:
        return cost.measure(rig, runs=args.runs)


def run_cold_start(args: argparse.Namespace) -> dict[str, Any]:
    from bench import cold_start

    return cold_start.measure(runs=max(args.runs, 9))


def run_emulator(args: argparse.Namespace) -> dict[str, Any]:
    from bench import emulator

    return emulator.measure(runs=args.runs, tasks=args.emulator_tasks)


def run_burst(args: argparse.Namespace) -> dict[str, Any]:
    from bench import burst

    with Rig(targets=("x_webhook",)) as rig:
        return burst.measure(rig, args.burst_posts, runs=args.runs, concurrency=16, time_limit=180.0)


def run_report(args: argparse.Namespace) -> dict[str, Any]:
    from bench import report

    with Rig(targets=()) as rig, emulator_env(rig.stack.firestore_host):
        return report.measure(rig, runs=args.runs, posts_per_day=10 if args.quick else 40)


def run_outage(args: argparse.Namespace) -> dict[str, Any]:
    from bench import outage

    return outage.run(runs=args.runs, quick=args.quick)


def run_storm(args: argparse.Namespace) -> dict[str, Any]:
    from bench import storm

    with Rig(targets=()) as rig:
        return storm.measure(rig, runs=args.runs, posts=args.spike)


def run_pii(args: argparse.Namespace) -> dict[str, Any]:
    from bench import pii

    return pii.measure(runs=args.runs, rounds=3 if args.quick else 20)


RUNNERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "pii": run_pii,
    "ingest": run_ingest, "alert_lag": run_alert_lag, "cost": run_cost, "cold_start": run_cold_start,
    "emulator": run_emulator, "burst": run_burst, "report": run_report,
    "outage": run_outage, "storm": run_storm,
}


# -- the table --------------------------------------------------------------------------------------


def _goal(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "NOT MET")


def table(results: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def row(metric: str, value: str, goal: str = "", met: bool | None = None) -> None:
        rows.append({"metric": metric, "value": value, "goal": goal, "status": _goal(met)})

    if (r := results.get("ingest")) and "error" not in r:
        conc = r["concurrency"]
        for name in ("x_webhook", "meta_webhook", "raw_loop"):
            s = r[name]
            row(f"ingest {name} (c={conc}, {r['posts_per_run']} posts)",
                f"{s['throughput_per_s']}/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, errors {s['errors']}")
        goal = r["cpu_goal_ratio"]
        raw_cpu = r["raw_loop"]["cpu_ms_per_post"]
        if "empty_function" in r:
            row("CPU per request of an empty function (functions-framework, gunicorn, Flask)",
                f"{r['empty_function']['cpu_ms_per_post']} ms")
        if "raw_calls_function" in r:
            row("CPU per post: the raw loop's calls inside functions-framework (no hilft) / raw loop",
                f"{r['raw_calls_function']['cpu_ms_per_post']} ms / {raw_cpu} ms = {r['cpu_ratio_raw_calls_to_raw']}x")
        for name, key in (("x_webhook", "cpu_ratio_x_to_raw"), ("meta_webhook", "cpu_ratio_meta_to_raw")):
            row(f"CPU per ingested post: {name} process / raw loop",
                f"{r[name]['cpu_ms_per_post']} ms / {raw_cpu} ms = {r[key]}x", f"<= {goal}x", r[key] <= goal)
        h = r["half_load"]
        row(f"x_webhook p99 at half load ({h['rate_per_s']}/s open loop)",
            f"p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms", "p99 <= 100 ms", h["p99_ms"] <= 100)
    if (r := results.get("alert_lag")) and "error" not in r:
        s, k = r["steady"], r["spike"]
        row(f"alert lag, {s['due_rate_per_s']:g}/s coming due, {r['pending']} pending",
            f"p50 {s['lag_p50_ms']} ms, p99 {s['lag_p99_ms']} ms, max {s['lag_max_ms']} ms",
            "p99 <= 1000 ms", s["lag_p99_ms"] <= 1000)
        row(f"alert lag, {k['posts_per_round']} due at one instant, one instance",
            f"p50 {k['lag_p50_ms']} ms, p99 {k['lag_p99_ms']} ms, max {k['lag_max_ms']} ms",
            "p99 <= 1000 ms", k["lag_p99_ms"] <= 1000)
        if (f := r.get("spike_floor")) is not None:
            row("  ... the same spike, deadline's calls alone in functions-framework (floor: read, claim, "
                "POST, record; no hilft)",
                f"p50 {f['lag_p50_ms']} ms, p99 {f['lag_p99_ms']} ms, max {f['lag_max_ms']} ms; "
                f"alerted {f['alerted']}/{f['expected']}")
            row("  ... CPU per alert in these spikes: deadline / the floor",
                f"{k['cpu_ms_per_alert']} ms / {f['cpu_ms_per_alert']} ms")
        if r.get("deadline_cpu_ms_per_alert") is not None:
            raw = (results.get("ingest") or {}).get("raw_loop", {}).get("cpu_ms_per_post")
            row(f"CPU per alert: deadline process, all {r['alerted']} alerts of the rounds above (one sink each)",
                f"{r['deadline_cpu_ms_per_alert']} ms" + (f" (raw loop: {raw} ms per ingested post)" if raw else ""))
        row("alert lag: alerted / expected, duplicates, early, stray",
            f"{r['alerted']}/{r['expected']}, {r['duplicates']}, {r['early']}, {r['stray_alerts']}",
            "all, 0, 0, 0", r["alerted"] == r["expected"] and not (r["duplicates"] or r["early"] or r["stray_alerts"]))
    if (r := results.get("cost")) and "error" not in r:
        for name, c in r["lifecycles"].items():
            counts = (c["firestore_reads"], c["firestore_writes"], c["task_creates"])
            goal = COST_GOALS.get(name)
            row(f"cost {name}",
                f"reads {c['firestore_reads']}, writes {c['firestore_writes']}, task creates {c['task_creates']} "
                f"(+{c['task_deletes']} deletes, {c['task_deliveries']} deliveries), {c['invocations']} requests, "
                f"${c['usd_per_100k_posts']} per 100k posts",
                "" if goal is None else "<= " + " / ".join(map(str, goal)),
                None if goal is None else all(n <= most for n, most in zip(counts, goal, strict=True)))
    if (r := results.get("cold_start")) and "error" not in r:
        ms, cpu = r["first_200_ms"], r["cpu_ms"]
        row(f"cold start: process start to first answered X webhook, main / eager ({r['runs']} runs)",
            f"{ms['main']} ms / {ms['eager']} ms = {r['ratio_main_to_eager']}x "
            f"(CPU {cpu['main']} / {cpu['eager']} ms)", f"<= {r['goal_ratio']}x", r["met"])
        row("  ... of which until the port accepts (master: import main, bind), main / eager",
            f"{r['accepting_ms']['main']} ms / {r['accepting_ms']['eager']} ms; "
            f"import main alone {r['import_main_ms']} ms")
        if "lazy" in ms:
            row("  ... main without its background warm-up thread (reference)",
                f"{ms['lazy']} ms = {r['ratio_lazy_to_eager']}x eager (CPU {cpu['lazy']} ms)")
    if (r := results.get("emulator")) and "error" not in r:
        row(f"Cloud Tasks emulator dispatch lag at {r['tasks']} tasks",
            f"p50 {r['lag_p50_ms']} ms, p99 {r['lag_p99_ms']} ms, max {r['lag_max_ms']} ms, "
            f"{r['throughput_per_s']}/s, early {r['early']}, all received {r['all_ok']}",
            f"p99 <= {EMULATOR_P99_MS} ms, none early or lost",
            r["all_ok"] and r["early"] == 0 and r["lag_p99_ms"] <= EMULATOR_P99_MS)
    if (r := results.get("burst")) and "error" not in r:
        row(f"burst: {r['posts']} posts (+{r['sends'] - r['posts']} redeliveries), one instance, {r['runs']} runs",
            f"{r['seconds']} s ({r['rate_per_s']}/s), p99 {r['p99_ms']} ms", f"<= {BURST_SECONDS} s",
            r["seconds"] <= BURST_SECONDS)
        row("burst: documents / tasks / stored / statuses (every run)",
            f"{r['documents']} / {r['tasks']} / {r['stored']} / {r['statuses']}", "N / 2N / N / all 200",
            r["whole_every_run"])
    if (r := results.get("report")) and "error" not in r:
        row(f"SLA report, {r['days']} days incl. today: documents read, never rolled up / after the nightly job",
            f"{r['first_reads']} / {r['steady_reads']} ({r['posts']} posts, {r['open_recent']} still open, "
            f"{r['today_posts']} today; {r['first_ms']} ms / {r['steady_ms']} ms; "
            f"~{r['steady_reads_at_10k_per_day']} at 10,000/day)",
            "days + open posts + today's posts + 1", r["steady_reads"] <= r["budget"])
    if (r := results.get("pii")) and "error" not in r:
        row(f"PII detection at tweet length ({r['mean_post_chars']} chars), one core",
            f"{r['posts_per_s_per_core']} posts/s", ">= 2000 posts/s", r["posts_per_s_per_core"] >= 2000)
        if "dense_posts_per_s_per_core" in r:
            dense = r["dense_posts_per_s_per_core"]
            row(f"PII detection at tweet length, PII-dense posts ({r['dense_mean_post_chars']} chars, "
                f"{r['dense_values_per_post']} values each on average)", f"{dense} posts/s", ">= 2000 posts/s",
                dense >= 2000)
        cases = r["worst_case_ms"]
        worst = max(cases, key=cases.get)
        others = "; ".join(f"{name} {ms} ms" for name, ms in cases.items() if name != worst)
        row(f"PII detection worst case: {r['cap_chars']} chars of the costliest text we know (longer is cut)",
            f"{cases[worst]} ms CPU ({worst}{'; ' + others if others else ''})")
    if (r := results.get("outage")) and "error" not in r:
        row("outage: detection delay, 10-min ramp (4 -> 30 posts/min) in a normal day",
            f"median {r['detection_delay_s_median']:.0f} s, max {r['detection_delay_s_max']:.0f} s",
            "<= 120 s", r["detection_met"])
        if "quiet_start_delay_s" in r:
            quiet = r["quiet_start_delay_s"]
            row("outage: sensitivity, detection delay of a ramp starting quietly (0 / 1 -> 30 posts/min)",
                " / ".join(f"median {q['median']:.0f} s, max {q['max']:.0f} s" for q in quiet.values()),
                "<= 120 s", r["quiet_start_met"])
            row(f"outage: text replay, the same day read from post texts (signal_of; "
                f"{r['text_replay_burst_read_on_key']:.0%} of the burst's posts on its key)",
                f"median {r['text_replay_delay_s_median']:.0f} s, max {r['text_replay_delay_s_max']:.0f} s; "
                f"other incidents that day: {r['text_replay_other_incidents']}", "<= 120 s", r["text_replay_met"])
        if "nationwide_delay_s_median" in r:
            row("outage: nationwide burst (the same ramp, no place or any region): nationwide incident opens",
                f"median {r['nationwide_delay_s_median']:.0f} s, max {r['nationwide_delay_s_max']:.0f} s; "
                f"regional incidents beside it: median {r['nationwide_regional_incidents_median']:g}")
        row("outage: false incidents, normal week (after a learned week / cold start / fixed threshold)",
            f"{r['false_incidents_normal_week_after_learning']} / {r['false_incidents_normal_week_cold_start']} / "
            f"{r['false_incidents_fixed_threshold_median']}", "0 / - / -", r["false_incidents_met"])
        row("outage: false incidents, normal week at 10x volume (learned / two days from a cold start / "
            "fixed threshold)",
            f"median {r['busy_false_incidents_median']}, max {r['busy_false_incidents_max']} / "
            f"max {r['busy_false_incidents_cold_start_max']} / {r['busy_false_incidents_fixed_threshold_median']}")
    if (r := results.get("storm")) and "error" not in r:
        row(f"storm: {r['posts']} posts of one incident due at one second, messages per sink (folded / not)",
            f"{r['folded_max_per_sink']} / {r['unfolded_min_per_sink']}", "<= 3", r["folded_max_per_sink"] <= 3)
        row("storm: first message after the due time (folded / not), p99 over rounds",
            f"{r['folded_first_ms_p99']} ms / {r['unfolded_first_ms_p99']} ms", "<= 1000 ms",
            r["folded_first_ms_p99"] <= 1000)
    for name, r in results.items():
        if "error" in r:
            row(f"{name}", f"FAILED: {r['error']}", "", False)
    return rows


def render(rows: list[dict[str, str]]) -> str:
    widths = [max(len(r[k]) for r in [*rows, {"metric": "metric", "value": "value (median)", "goal": "goal",
                                              "status": ""}]) for k in ("metric", "value", "goal")]
    lines = [f"{'metric':<{widths[0]}}  {'value (median)':<{widths[1]}}  {'goal':<{widths[2]}}  status",
             "-" * (sum(widths) + 14)]
    lines += [f"{r['metric']:<{widths[0]}}  {r['value']:<{widths[1]}}  {r['goal']:<{widths[2]}}  {r['status']}"
              for r in rows]
    return "\n".join(lines)


README = ROOT / "README.md"
README_START = "<!-- bench:table (written by `python -m bench --readme`; do not edit by hand) -->"
README_END = "<!-- bench:end -->"


def render_markdown(rows: list[dict[str, str]], *, started: datetime, path: str, runs: int,
                    load: tuple[float, float]) -> str:
    """The table as README shows it: every row, value and verdict exactly as this run computed them."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| figure | median | goal | |", "|---|---|---|---|"]
    lines += [f"| {cell(r['metric'])} | {cell(r['value'])} | {cell(r['goal'])} | "
              f"{'**NOT MET**' if r['status'] == 'NOT MET' else r['status']} |" for r in rows]
    where = os.path.relpath(path, ROOT)
    lines += ["", f"Measured {started:%Y-%m-%d %H:%M} UTC by `python -m bench --readme` (`{where}`, "
              f"git-ignored): medians of {runs} runs unless a row says otherwise; load average "
              f"{load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} cores."]
    return "\n".join(lines)


def write_readme_table(markdown: str, readme: Any = README) -> None:
    """Replace the block between the bench markers in README.md (both markers must be there)."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no bench block ({README_START} ... {README_END})")
    head, tail = text[:start + len(README_START)], text[end:]
    readme.write_text(f"{head}\n{markdown}\n{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_hilft_logs()
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in SECTIONS:
        if name not in args.only:
            continue
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            results[name] = RUNNERS[name](args)
        except Exception as exc:  # one broken part must not hide the others' numbers
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        timings[name] = round(time.monotonic() - t0, 1)
        print(f"bench: {name} done in {timings[name]} s", file=sys.stderr, flush=True)
    rows = table(results)
    report = {
        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_before": load_before,
                 "load_avg_after": os.getloadavg()},
        "args": {k: v for k, v in vars(args).items() if k != "out"}, "section_seconds": timings,
        "table": rows, "results": results,
    }
    print(render(rows))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, started.strftime("%Y%m%dT%H%M%SZ") + ".json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, default=str)
    print(f"\nwritten {path}; sections took {timings}", flush=True)
    if args.readme:
        write_readme_table(render_markdown(rows, started=started, path=path, runs=args.runs,
                                           load=(load_before[0], os.getloadavg()[0])))
        print(f"README.md's benchmark table is this run's ({path})", flush=True)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
