"""A small local Cloud Scheduler: runs the Terraform's scheduler jobs on their schedules against the
local stack, with OIDC tokens as Cloud Scheduler sends them.

One place for the schedules: the jobs are read from Terraform itself — every
``google_cloud_scheduler_job`` in ``infra/*.tf`` (``sweep``, ``poll``, and any job added later), its
``schedule`` (a literal, or ``var.NAME`` resolved like Terraform: the variable's default in
``infra/variables.tf``, overridden by ``TF_VAR_NAME`` in the environment), ``time_zone``, the
HTTP target (``local.function_urls.<function>`` → that function's local URL), method, body,
headers, ``attempt_deadline`` and ``retry_config``. A job whose ``for_each``/``count`` depends on
``local.<flag>`` runs only when the stack says the flag is on (``poll``: a polled channel is set).

Tokens: the local Cloud Tasks emulator (``cloudtasks_emulator``) holds the only signing key the
functions trust (its JWKS is ``HILFT_OIDC_JWKS_URL``). The scheduler obtains an ID token from it the
one way the emulator offers — a task on its own queue (``hilft-scheduler-tokens``) whose OIDC token
(e-mail = the scheduler identity, audience = the function URL) is delivered to the scheduler's
loopback receiver — and caches it until 5 minutes before expiry, as Google's token service does.
The job's request itself is sent by the scheduler, as Cloud Scheduler sends it: ``Authorization:
Bearer``, ``User-Agent: Google-Cloud-Scheduler``, ``X-CloudScheduler: true``,
``X-CloudScheduler-JobName``, ``X-CloudScheduler-ScheduleTime``, the job's headers and body; a
non-2xx answer, a timeout (``attempt_deadline``) or no connection is retried per ``retry_config``
(``min_backoff`` doubling ``max_doublings`` times, then growing linearly up to ``max_backoff``).

Local choices: a run of a job is skipped while the previous run of that job is still retrying; a
time that does not exist in the job's time zone (DST gap) is skipped. Every attempt is one log line
(``scheduler job=sweep attempt=1 status=200 …``), never a token.

``python -m scheduler --list`` prints the jobs and their next runs; the stack starts it with the
URLs of its functions (``LocalStack(scheduler=True)``, what ``make dev`` and ``make demo`` run).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TOKEN_QUEUE = "hilft-scheduler-tokens"  # noqa: S105 - a queue id: the emulator queue carrying only the tokens
REFRESH_MARGIN = 300.0  # re-mint a cached token this many seconds before it expires

log = logging.getLogger("scheduler")


# --- cron (unix-cron, the format Cloud Scheduler takes) ------------------------------------------


class CronError(ValueError):
    pass


_NAMES = {
    3: {n: i for i, n in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                    "dec"], start=1)},
    4: {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def _value(text: str, index: int) -> int:
    low, high = _RANGES[index]
    lowered = text.lower()
    if index in _NAMES and lowered in _NAMES[index]:
        return _NAMES[index][lowered]
    if not text.isdigit():
        raise CronError(f"{_FIELD_NAMES[index]}: {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{_FIELD_NAMES[index]}: {value} is outside {low}-{high}")
    return value


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{_FIELD_NAMES[index]}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, index), _value(last, index)
            if start > end:
                raise CronError(f"{_FIELD_NAMES[index]}: range {part!r} runs backwards")
        else:
            start = _value(base, index)
            end = high if step_text else start  # "5/15" means 5, 20, 35, 50
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:  # Sunday is 0 and 7
        values = (values - {7}) | {0}
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A five-field unix-cron expression (names, ranges, steps, lists; @hourly & co.), matched in
    wall-clock time of ``tz``. Day of month and day of week: either matches when both are restricted."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month field is "*"
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = _MACROS.get(text.strip().lower(), text).split()
        if len(fields) != 5:
            raise CronError(f"{text!r}: expected five fields (minute hour day-of-month month day-of-week)")
        parsed = [_field(f, i) for i, f in enumerate(fields)]
        return cls(text, *parsed, any_day=fields[2].startswith("*"), any_weekday=fields[4].startswith("*"))

    def _day_matches(self, day: datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: datetime, tz: ZoneInfo | None = None) -> datetime:
        """The first matching minute strictly after ``after`` (aware), as an aware UTC datetime."""
        zone = tz or ZoneInfo("Etc/UTC")
        wall = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        limit = wall + timedelta(days=366 * 5)
        while wall < limit:
            if wall.month not in self.months:
                wall = (wall.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day_matches(wall):
                wall = wall.replace(hour=0, minute=0) + timedelta(days=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=0) + timedelta(hours=1)
            elif wall.minute not in self.minutes:
                wall += timedelta(minutes=1)
            else:
                aware = wall.replace(tzinfo=zone)
                back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
                if back == wall:  # skip wall times a DST gap leaves out
                    return aware.astimezone(UTC)
                wall += timedelta(minutes=1)
        raise CronError(f"{self.text!r} never matches within five years")


# --- the jobs, read from Terraform ---------------------------------------------------------------


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _duration(text: str | None, default: float) -> float:
    if text is None:
        return default
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"duration {text!r}: expected seconds such as \"320s\"")
    return float(match.group(1))


@dataclass(frozen=True)
class Retry:
    """Cloud Scheduler's retry_config (its defaults when a key or the block is absent)."""

    retry_count: int = 0
    min_backoff: float = 5.0
    max_backoff: float = 3600.0
    max_doublings: int = 5

    def backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1-based): doubles max_doublings times, then grows
        linearly by the last doubled step, capped at max_backoff."""
        doublings = min(retry - 1, self.max_doublings)
        delay = self.min_backoff * 2**doublings
        if retry - 1 > self.max_doublings:  # 10, 20, 40, 80 (3 doublings), then 160, 240, …
            delay *= 1 + (retry - 1 - self.max_doublings)
        return min(delay, self.max_backoff)


@dataclass(frozen=True)
class Job:
    name: str  # the Terraform resource name ("sweep")
    schedule: str
    time_zone: str
    target: str  # the function the job calls (key of local.function_urls)
    audience_target: str  # the function whose URL is the token's audience
    identity: str  # key of local.service_account_emails
    method: str = "POST"
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    attempt_deadline: float = 180.0
    retry: Retry = Retry()
    only_if: str | None = None  # local.<flag> the job's for_each/count depends on

    @property
    def cron(self) -> Cron:
        return Cron.parse(self.schedule)

    def next_after(self, after: datetime) -> datetime:
        return self.cron.next_after(after, ZoneInfo(self.time_zone))


def _unquote(value: Any) -> Any:
    """python-hcl2 8.x keeps string literals quoted and drops nothing; older versions return bare strings."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return json.loads(value) if "\\" in value else value[1:-1]
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


def _expression(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1].strip()
    return None


def _block(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def _load_tf(infra: Path) -> list[dict[str, Any]]:
    import hcl2  # a dev dependency: the local stack runs from the dev virtualenv

    documents = []
    for path in sorted(infra.glob("*.tf")):
        with path.open() as handle:
            documents.append(_unquote(hcl2.load(handle)))
    return documents


def _variables(documents: Iterable[dict[str, Any]], environ: Mapping[str, str]) -> dict[str, Any]:
    """Each variable's value as Terraform would take it here: TF_VAR_<name>, else its default."""
    values: dict[str, Any] = {}
    for document in documents:
        for block in document.get("variable", []):
            for name, body in block.items():
                if f"TF_VAR_{name}" in environ:
                    values[name] = environ[f"TF_VAR_{name}"]
                elif "default" in body:
                    values[name] = body["default"]
    return values


def _string(value: Any, variables: Mapping[str, Any], what: str) -> str:
    expression = _expression(value)
    if expression is None:
        return str(value)
    if expression.startswith("var.") and expression[4:] in variables:
        return str(variables[expression[4:]])
    raise ValueError(f"{what}: cannot evaluate ${{{expression}}} locally")


def _reference(value: Any, prefix: str, what: str) -> str:
    expression = _expression(value)
    if expression is None or not expression.startswith(prefix):
        raise ValueError(f"{what}: expected ${{{prefix}<name>}}, got {value!r}")
    return expression[len(prefix):]


def _body(value: Any) -> bytes:
    if value is None:
        return b""
    expression = _expression(value)
    if expression is None:
        return base64.b64decode(str(value))  # the API field is base64 already
    match = re.fullmatch(r'base64encode\((".*")\)', expression)
    if not match:
        raise ValueError(f"body: cannot evaluate ${{{expression}}} locally")
    return json.loads(match.group(1)).encode()


def jobs_from_terraform(infra: Path = INFRA, environ: Mapping[str, str] | None = None) -> list[Job]:
    """Every google_cloud_scheduler_job in ``infra``/*.tf, schedules resolved as Terraform would."""
    documents = _load_tf(infra)
    variables = _variables(documents, os.environ if environ is None else environ)
    jobs = []
    for document in documents:
        for block in document.get("resource", []):
            for name, body in block.get("google_cloud_scheduler_job", {}).items():
                what = f"google_cloud_scheduler_job.{name}"
                target = _block(body.get("http_target"))
                if not target:
                    raise ValueError(f"{what}: only http_target jobs run locally")
                token = _block(target.get("oidc_token"))
                if not token:
                    raise ValueError(f"{what}: a job without an oidc_token cannot call a hilft function")
                retry = _block(body.get("retry_config"))
                condition = _expression(body.get("for_each") or body.get("count"))
                flag = re.search(r"local\.(\w+)", condition) if condition else None
                jobs.append(Job(
                    name=name,
                    schedule=_string(body["schedule"], variables, f"{what}.schedule"),
                    time_zone=_string(body.get("time_zone", "Etc/UTC"), variables, f"{what}.time_zone"),
                    target=_reference(target["uri"], "local.function_urls.", f"{what}.uri"),
                    audience_target=_reference(token.get("audience", target["uri"]), "local.function_urls.",
                                               f"{what}.audience"),
                    identity=_reference(token["service_account_email"], "local.service_account_emails.",
                                        f"{what}.service_account_email"),
                    method=str(target.get("http_method", "POST")).upper(),
                    body=_body(target.get("body")),
                    headers={str(k): str(v) for k, v in (target.get("headers") or {}).items()},
                    attempt_deadline=_duration(body.get("attempt_deadline"), 180.0),
                    retry=Retry(
                        retry_count=int(retry.get("retry_count", 0)),
                        min_backoff=_duration(retry.get("min_backoff_duration"), 5.0),
                        max_backoff=_duration(retry.get("max_backoff_duration"), 3600.0),
                        max_doublings=int(retry.get("max_doublings", 5)),
                    ),
                    only_if=flag.group(1) if flag else None,
                ))
    for job in jobs:
        job.cron  # noqa: B018 - fail at start on a schedule the scheduler cannot run
    return sorted(jobs, key=lambda j: j.name)


def service_account_email(identity: str, project: str, prefix: str = "hilft") -> str:
    """local.service_account_emails in infra/locals.tf: ``<prefix>-<name>@<project>.iam.gserviceaccount.com``."""
    return f"{prefix}-{identity.replace('_', '-')}@{project}.iam.gserviceaccount.com"


# --- tokens from the Cloud Tasks emulator --------------------------------------------------------


def _expiry(token: str) -> float:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


class EmulatorTokens:
    """ID tokens signed by the Cloud Tasks emulator's key (the one whose JWKS the functions trust):
    a task on the scheduler's own queue carries the token to a loopback receiver; cached per
    (e-mail, audience) until REFRESH_MARGIN before expiry."""

    def __init__(self, tasks_host: str, location_parent: str, wait: float = 15.0) -> None:
        import grpc
        from google.cloud import tasks_v2
        from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

        self._tasks_v2 = tasks_v2
        self._client = tasks_v2.CloudTasksClient(
            transport=CloudTasksGrpcTransport(channel=grpc.insecure_channel(tasks_host)))
        self._queue = f"{location_parent}/queues/{TOKEN_QUEUE}"
        self._parent = location_parent
        self._wait = wait
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._pending: dict[str, tuple[threading.Event, list[str]]] = {}
        self._lock = threading.Lock()
        self._queue_ready = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scheduler-tokens", daemon=True)
        self._thread.start()

    @property
    def receiver(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, email: str, audience: str) -> str:
        with self._lock:
            cached = self._cache.get((email, audience))
        if cached and cached[1] - time.time() > REFRESH_MARGIN:
            return cached[0]
        token = self._mint(email, audience)
        with self._lock:
            self._cache[(email, audience)] = (token, _expiry(token))
        return token

    def _ensure_queue(self) -> None:
        from google.api_core import exceptions as gexc

        if self._queue_ready:
            return
        with contextlib.suppress(gexc.AlreadyExists):
            self._client.create_queue(parent=self._parent, queue={"name": self._queue})
        self._queue_ready = True

    def _mint(self, email: str, audience: str) -> str:
        self._ensure_queue()
        nonce = secrets.token_hex(16)
        event, box = threading.Event(), list[str]()
        with self._lock:
            self._pending[nonce] = (event, box)
        try:
            self._client.create_task(parent=self._queue, task={"http_request": {
                "url": f"{self.receiver}/token/{nonce}", "http_method": self._tasks_v2.HttpMethod.POST,
                "oidc_token": {"service_account_email": email, "audience": audience}}})
            if not event.wait(self._wait):
                raise TimeoutError(f"the Cloud Tasks emulator delivered no token within {self._wait:.0f}s")
            return box[0]
        finally:
            with self._lock:
                self._pending.pop(nonce, None)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                nonce = self.path.rsplit("/", 1)[-1]
                auth = self.headers.get("Authorization", "")
                with owner._lock:
                    pending = owner._pending.get(nonce)
                if pending is not None and auth.startswith("Bearer "):
                    pending[1].append(auth.removeprefix("Bearer "))
                    pending[0].set()
                self.send_response(200)  # an unknown nonce too: nothing to retry
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


# --- running the jobs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    job: str
    schedule_time: datetime
    attempt: int
    status: int | None  # None: no answer (timeout, refused)
    error: str | None
    elapsed_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Scheduler:
    """Runs ``jobs`` against ``urls`` (function → base URL) until ``stop``; one thread per run."""

    def __init__(self, jobs: Iterable[Job], urls: Mapping[str, str], tokens: Callable[[str, str], str],
                 project: str, location: str = "europe-west3", flags: Mapping[str, bool] | None = None,
                 on_attempt: Callable[[Attempt], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        flags = flags or {}
        self.jobs = [j for j in jobs if j.only_if is None or flags.get(j.only_if, False)]
        self.skipped = [j for j in jobs if j not in self.jobs]
        missing = {j.target for j in self.jobs} - set(urls)
        if missing:
            raise ValueError(f"no local URL for {', '.join(sorted(missing))}")
        self._urls, self._tokens, self._project, self._location = urls, tokens, project, location
        self._on_attempt = on_attempt or _log_attempt
        self._clock = clock
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._http = httpx.Client()

    def job_name(self, job: Job) -> str:
        return f"projects/{self._project}/locations/{self._location}/jobs/hilft-{job.name}"

    def next_runs(self, after: datetime) -> dict[str, datetime]:
        return {job.name: job.next_after(after) for job in self.jobs}

    def run_forever(self) -> None:
        if not self.jobs:
            self._stop.wait()
            return
        now = self._clock()
        upcoming = {job.name: job.next_after(now) for job in self.jobs}
        by_name = {job.name: job for job in self.jobs}
        while not self._stop.is_set():
            name = min(upcoming, key=lambda n: upcoming[n])
            due = upcoming[name]
            if self._stop.wait(max(0.0, (due - self._clock()).total_seconds())):
                break
            # Like Cloud Scheduler, no catch-up: after a pause (a suspended laptop) the next run is the next one due.
            upcoming[name] = by_name[name].next_after(max(due, self._clock()))
            self._start_run(by_name[name], due)

    def stop(self) -> None:
        self._stop.set()

    def _start_run(self, job: Job, schedule_time: datetime) -> None:
        with self._lock:
            if job.name in self._running:
                log.info("scheduler job=%s schedule_time=%s skipped: the previous run is still retrying",
                         job.name, _rfc3339(schedule_time))
                return
            self._running.add(job.name)
        threading.Thread(target=self._run, args=(job, schedule_time), name=f"job-{job.name}", daemon=True).start()

    def _run(self, job: Job, schedule_time: datetime) -> None:
        try:
            self.run_once(job, schedule_time)
        finally:
            with self._lock:
                self._running.discard(job.name)

    def run_once(self, job: Job, schedule_time: datetime) -> list[Attempt]:
        """One execution: the first attempt and its retries per retry_config."""
        attempts = []
        for number in range(1, job.retry.retry_count + 2):
            if number > 1 and self._stop.wait(job.retry.backoff(number - 1)):
                break
            attempt = self._attempt(job, schedule_time, number)
            attempts.append(attempt)
            self._on_attempt(attempt)
            if attempt.ok:
                break
        return attempts

    def _attempt(self, job: Job, schedule_time: datetime, number: int) -> Attempt:
        url = self._urls[job.target]
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            token = self._tokens(service_account_email(job.identity, self._project), self._urls[job.audience_target])
            headers = {**job.headers, "Authorization": f"Bearer {token}", "User-Agent": "Google-Cloud-Scheduler",
                       "X-CloudScheduler": "true", "X-CloudScheduler-JobName": self.job_name(job),
                       "X-CloudScheduler-ScheduleTime": _rfc3339(schedule_time)}
            response = self._http.request(job.method, url, content=job.body or None, headers=headers,
                                          timeout=job.attempt_deadline)
            status = response.status_code
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            error = type(exc).__name__
        except Exception as exc:  # the emulator refusing the token task: the run fails, the scheduler goes on
            error = type(exc).__name__
        return Attempt(job.name, schedule_time, number, status, error, int((time.monotonic() - started) * 1000))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _log_attempt(attempt: Attempt) -> None:
    outcome = f"status={attempt.status}" if attempt.status is not None else f"error={attempt.error}"
    log.log(logging.INFO if attempt.ok else logging.WARNING,
            "scheduler job=%s schedule_time=%s attempt=%d %s ms=%d", attempt.job, _rfc3339(attempt.schedule_time),
            attempt.attempt, outcome, attempt.elapsed_ms)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            raise SystemExit(f"{what}: expected NAME=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks-host", default=os.environ.get("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:8701"))
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT", "hilft-local"))
    parser.add_argument("--location", default="europe-west3")
    parser.add_argument("--url", action="append", default=[], metavar="FUNCTION=URL",
                        help="base URL of a function (also the token's audience); repeatable")
    parser.add_argument("--flag", action="append", default=[], metavar="NAME=0|1",
                        help="value of a Terraform local a job's for_each depends on (polling_enabled=1)")
    parser.add_argument("--list", action="store_true", help="print the jobs and their next runs, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per attempt is ours

    jobs = jobs_from_terraform()
    flags = {k: v not in ("", "0", "false") for k, v in _pairs(args.flag, "--flag").items()}
    urls = _pairs(args.url, "--url")
    if args.list:
        now = datetime.now(UTC)
        for job in jobs:
            state = "" if job.only_if is None or flags.get(job.only_if) else f"  (off: local.{job.only_if} is false)"
            print(f"{job.name:<10} {job.schedule:<16} {job.time_zone:<10} → {job.target}  next "
                  f"{_rfc3339(job.next_after(now))}{state}")
        return 0

    tokens = EmulatorTokens(args.tasks_host, f"projects/{args.project}/locations/{args.location}")
    scheduler = Scheduler(jobs, urls, tokens.token, args.project, args.location, flags)

    def request_stop(signum: int, frame: object) -> None:
        scheduler.stop()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    now = datetime.now(UTC)
    for job in scheduler.jobs:
        log.info("scheduler job=%s schedule=%r time_zone=%s target=%s next=%s", job.name, job.schedule,
                 job.time_zone, urls[job.target], _rfc3339(job.next_after(now)))
    for job in scheduler.skipped:
        log.info("scheduler job=%s off locally (local.%s is false)", job.name, job.only_if)
    print("scheduler ready", flush=True)
    try:
        scheduler.run_forever()
    finally:
        tokens.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
