"""``make report``: the SLA report of the local stack's Firestore, written as HTML and CSV.

    make report                      # the last 28 days, from the emulator `make dev`/`make demo` runs
    make report FROM=2026-11-01 TO=2026-11-30 REPORT_LANG=de

Reads FIRESTORE_EMULATOR_HOST (default: the local stack's, 127.0.0.1:HILFT_PORT_BASE) and the
policy in HILFT_CONFIG (default functions/policy.toml). Writes test-artifacts/report.html/.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", default=os.environ.get("FROM") or None)
    parser.add_argument("--to", dest="end", default=os.environ.get("TO") or None)
    parser.add_argument("--lang", default=os.environ.get("REPORT_LANG") or "en")
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "report"))
    args = parser.parse_args(argv)

    base = int(os.environ.get("HILFT_PORT_BASE", "8700"))
    os.environ.setdefault("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{base}")
    import httpx

    try:
        httpx.get(f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/", timeout=2)
    except httpx.HTTPError:
        print(f"report: no Firestore emulator at {os.environ['FIRESTORE_EMULATOR_HOST']} "
              "(start `make dev` or `make demo` first, or set FIRESTORE_EMULATOR_HOST)", file=sys.stderr)
        return 2

    from hilft import report_page
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.core.policy import load_policy
    from hilft.core.report import to_csv
    from hilft.service.report import ReportService

    policy = load_policy(Path(os.environ.get("HILFT_CONFIG") or ROOT / "functions" / "policy.toml"))
    store = FirestoreStore(os.environ.get("GOOGLE_CLOUD_PROJECT") or "hilft-local")
    now = datetime.now(UTC)
    start, end = report_page.period(args.start, args.end, now.astimezone(ZoneInfo(policy.promise.timezone)).date())
    report = ReportService(store=store, policy=policy, clock=lambda: datetime.now(UTC)).build(start, end)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".html").write_text(report_page.render_html(report, lang=args.lang, csv_href=out.name + ".csv"),
                                        encoding="utf-8")
    out.with_suffix(".csv").write_text(to_csv(report), encoding="utf-8")
    print(f"report {start} – {end}: {report.total.posts} posts, kept {report.total.hit_rate or 0:.1%}, "
          f"{report.reads} documents read → {out.with_suffix('.html')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
