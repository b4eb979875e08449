"""Wiring: settings + policy + adapters + services, built once per instance on first use.

Heavy client libraries (Firestore, Cloud Tasks, httpx) are imported here lazily so that
importing ``main`` stays cheap on a cold start.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import flask

from hilft import web
from hilft.core.errors import (
    MalformedPayload,
    NotFound,
    PlatformConfigError,
    PrivateChannelRefused,
    TransientError,
)
from hilft.logs import get_logger
from hilft.settings import Settings, get_settings

if TYPE_CHECKING:
    from hilft.core.policy import Policy

log = get_logger("hilft.app")

# How often a handoff task is retried while its post's document is not there yet.
MISSING_POST_RETRIES = 8


class App:
    def __init__(self, settings: Settings, clock: Any = None) -> None:
        from hilft.service.ports import system_clock

        self.settings = settings
        self.clock = clock or system_clock

    # -- parts, built on first use -------------------------------------------------------------
    @cached_property
    def policy(self) -> Policy:
        from hilft.core.policy import Policy, load_policy

        path = self.settings.config_path
        return load_policy(path) if path else Policy.default()

    @cached_property
    def store(self) -> Any:
        from hilft.adapters.firestore_store import FirestoreStore

        return FirestoreStore(self.settings.project)

    @cached_property
    def scheduler(self) -> Any:
        from hilft.adapters.tasks_scheduler import TasksScheduler

        s = self.settings
        if not s.tasks_queue or not s.deadline_url:
            from hilft.core.errors import MissingSecret

            raise MissingSecret("HILFT_TASKS_QUEUE and HILFT_DEADLINE_URL must be set")
        return TasksScheduler(s.tasks_queue, s.deadline_url, s.tasks_service_account, s.tasks_emulator_host)

    @cached_property
    def http(self) -> Any:
        import httpx

        return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))

    @cached_property
    def ingest_service(self) -> Any:
        from hilft.service.ingest import IngestService

        return IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                             retention_days=self.settings.retention_days)

    @cached_property
    def sinks(self) -> dict[str, Any]:
        from hilft.adapters.sinks import build_sinks

        return build_sinks(self.settings)

    @cached_property
    def deadline_service(self) -> Any:
        from hilft.service.incidents import FoldingDeadlineService  # a DeadlineService that folds storms

        return FoldingDeadlineService(incidents=self.incident_service,
                                      store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                      sinks=self.sinks, board_url=self.settings.board_url,
                                      claim_ttl=timedelta(seconds=self.settings.claim_ttl_seconds),
                                      sweep_grace=timedelta(seconds=self.settings.sweep_grace_seconds))

    @cached_property
    def incident_service(self) -> Any:
        """Outage detection and incidents (issue 17): the evaluation, incident alerts, storm folding."""
        from hilft.adapters.incident_sinks import build_incident_sinks
        from hilft.adapters.incident_store import FirestoreIncidentQueries
        from hilft.service.incidents import IncidentService

        return IncidentService(store=self.store, queries=FirestoreIncidentQueries(self.store),
                               scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                               sinks=build_incident_sinks(self.settings), board_url=self.settings.board_url,
                               retention_days=self.settings.retention_days)

    @cached_property
    def handoff_service(self) -> Any:
        from hilft.adapters.departments import DepartmentNotifierHttp
        from hilft.adapters.outbound import gateway_factory
        from hilft.service.handoff import HandoffService

        return HandoffService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                              gateways=gateway_factory(self.settings, self.http),
                              notifier=DepartmentNotifierHttp(self.policy, self.http),
                              claim_ttl=timedelta(seconds=self.settings.claim_ttl_seconds))

    @cached_property
    def enrich_service(self) -> Any:
        from hilft.adapters.meta_client import MetaClient
        from hilft.adapters.outbound import GraphMentionReader
        from hilft.service.enrich import EnrichService

        s = self.settings
        reader = (GraphMentionReader(MetaClient(s.meta_graph_base_url, s.meta_page_access_token, http=self.http,
                                                app_secret=s.meta_app_secret)) if s.meta_page_access_token else None)
        return EnrichService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                             reader=reader)

    @cached_property
    def holding_service(self) -> Any:
        from hilft.adapters.outbound import gateway_factory
        from hilft.service.holding import HoldingReplyService

        return HoldingReplyService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                   gateways=gateway_factory(self.settings, self.http),
                                   claim_ttl=timedelta(seconds=self.settings.claim_ttl_seconds))

    @cached_property
    def out_of_hours_service(self) -> Any:
        from hilft.adapters.outbound import gateway_factory
        from hilft.service.out_of_hours import OutOfHoursService

        return OutOfHoursService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                 gateways=gateway_factory(self.settings, self.http),
                                 claim_ttl=timedelta(seconds=self.settings.claim_ttl_seconds))

    @cached_property
    def reopen_service(self) -> Any:
        from hilft.service.closing import ReopenService

        return ReopenService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock)

    @cached_property
    def report_service(self) -> Any:
        from hilft.service.report import ReportService

        return ReportService(store=self.store, policy=self.policy, clock=self.clock)

    @cached_property
    def delivery_marks(self) -> Any:
        from hilft.service.gaps import DeliveryMarks

        return DeliveryMarks(self.store, self.clock)

    @cached_property
    def gap_service(self) -> Any:
        """Gaps in X's deliveries: the sweep's check, and the end of a replay (issue 16)."""
        from hilft.service.gaps import GapService

        return GapService(store=self.store, clock=self.clock, calendar=self.policy.calendar,
                          retention_days=self.settings.retention_days,
                          open_alerts=getattr(self.store, "open_operator_alerts", None))

    @cached_property
    def oidc(self) -> Any:
        from hilft.adapters.oidc import OidcVerifier

        return OidcVerifier(self.settings.oidc_jwks_url, self.settings.oidc_issuers)

    # -- entry points ----------------------------------------------------------------------------
    def x_webhook(self, request: flask.Request) -> flask.Response:
        from hilft.platforms import x

        s = self.settings
        if request.method == "GET":
            token = request.args.get("crc_token")
            if not token:
                raise MalformedPayload("crc_token missing")
            return web.json_response(x.crc_response(token, client_secret=s.x_client_secret,
                                                    consumer_secret=s.x_consumer_secret))
        web.require_method(request, "POST")
        body = web.read_body(request, s.max_body_bytes)
        x.verify_signature(body, dict(request.headers), client_secret=s.x_client_secret,
                           consumer_secret=s.x_consumer_secret)
        if b'"replay_job_status"' in body:  # X: a replay job (make replay) has delivered everything
            from hilft.service.gaps import replay_job_status

            status = replay_job_status(body)
            if status is not None:
                return web.json_response({"ok": True, "resolved_gaps": self.gap_service.replay_finished(status)})
        if b'"matching_rules"' in body:  # perhaps a Filtered Stream delivery: the radar (issue 17)
            from hilft.core import jsonbody
            from hilft.platforms import x_stream

            document = jsonbody.loads(body)
            batch = (x_stream.parse_document(document, brand_user_ids=s.x_brand_user_ids)
                     if x_stream.is_stream_delivery(document) else x.parse(body, brand_user_ids=s.x_brand_user_ids))
        else:
            batch = x.parse(body, brand_user_ids=s.x_brand_user_ids)
        result = self.ingest_service.ingest(batch, s.x_brand_user_ids)
        self._note_ingest(result.stored)
        self.delivery_marks.note("x")  # the sweep notices when X stops delivering (service/gaps.py)
        return web.json_response({"ok": True, **result.as_dict()})

    def meta_webhook(self, request: flask.Request) -> flask.Response:
        from hilft.platforms import meta

        s = self.settings
        if request.method == "GET":
            challenge = meta.verify_subscription(request.args, s.meta_verify_token)
            return flask.Response(challenge, 200, mimetype="text/plain")
        web.require_method(request, "POST")
        body = web.read_body(request, s.max_body_bytes)
        meta.verify_signature(body, request.headers.get("X-Hub-Signature-256"), s.meta_app_secret)
        batch = meta.parse(body, page_ids=s.meta_page_ids, ig_user_ids=s.meta_ig_user_ids)
        result = self.ingest_service.ingest(batch, s.meta_page_ids | s.meta_ig_user_ids)
        self._note_ingest(result.stored)
        return web.json_response({"ok": True, **result.as_dict()})

    def _note_ingest(self, stored: int) -> None:
        """The incident service (and its sinks' HTTP client) is built only when ``note_ingest`` can act:
        with the default ``trigger = "sweep"`` a webhook never needs it (cold start: no httpx import)."""
        if stored > 0 and self.policy.outage.trigger == "tasks":
            self.incident_service.note_ingest(stored)

    def threads_webhook(self, request: flask.Request) -> flask.Response:
        """Threads (its own Meta app and secret): GET subscription check, POST signed events."""
        from hilft.channels.threads import parse as threads

        s = self.settings
        if request.method == "GET":
            challenge = threads.verify_subscription(request.args, s.threads_verify_token)
            return flask.Response(challenge, 200, mimetype="text/plain")
        web.require_method(request, "POST")
        body = web.read_body(request, s.max_body_bytes)
        threads.verify_signature(body, request.headers.get(threads.SIGNATURE_HEADER), s.threads_app_secret)
        batch = threads.parse(body, brand_user_ids=s.threads_user_ids)
        result = self.ingest_service.ingest(batch, s.threads_user_ids)
        self._note_ingest(result.stored)
        return web.json_response({"ok": True, **result.as_dict()})

    def _verify_caller(self, request: flask.Request, audience: tuple[str, str | None],
                       email: tuple[str, str | None]) -> None:
        """OIDC of Cloud Tasks / Cloud Scheduler. Fails closed: with OIDC required, an unset
        audience or caller e-mail is a configuration error (500 naming the variable), never
        "any audience, any caller"."""
        if not self.settings.oidc_required:
            return
        for variable, value in (audience, email):
            if not value:
                from hilft.core.errors import MissingSecret

                log.error("OIDC required but not configured", variable=variable)
                raise MissingSecret(f"{variable} must be set while OIDC is required")
        self.oidc.verify(request.headers.get("Authorization"), audience=audience[1],
                         allowed_emails=[str(email[1])])

    def deadline(self, request: flask.Request) -> flask.Response:
        web.require_method(request, "POST")
        s = self.settings
        self._verify_caller(request, ("HILFT_DEADLINE_URL", s.deadline_url),
                            ("HILFT_TASKS_SERVICE_ACCOUNT", s.tasks_service_account))
        payload = web.parse_json_object(web.read_body(request, 64 * 1024, require_json=False))
        self._doc_id_from({"doc_id": payload.get("doc_id")})  # ours before it touches a Firestore path
        log.info("task received", kind=payload.get("kind"), doc_id=payload.get("doc_id"),
                 task=request.headers.get("X-CloudTasks-TaskName"),
                 retry=request.headers.get("X-CloudTasks-TaskRetryCount"))
        if payload.get("kind") == "enrich":  # text and author of a post Meta sent as ids only
            retries = int(request.headers.get("X-CloudTasks-TaskRetryCount") or 0)
            return web.json_response({"outcome": self.enrich_service.run(payload, retries=retries).outcome})
        if payload.get("kind") == "handoff":
            try:
                text = payload.get("text")
                requested_by = payload.get("requested_by")
                result = self.handoff_service.handoff(
                    str(payload.get("doc_id")), department=payload.get("department"),
                    reason=str(payload.get("reason") or "auto"), pii=bool(payload.get("pii")),
                    text=text if isinstance(text, str) else None,
                    requested_by=requested_by if isinstance(requested_by, str) else "hilft:auto",
                    attempt=int(payload.get("attempt") or 0))
            except NotFound:
                # The task is enqueued before the post's document is committed, so it may fire
                # first: let Cloud Tasks retry for a while before calling the post lost.
                retries = int(request.headers.get("X-CloudTasks-TaskRetryCount") or 0)
                if retries < MISSING_POST_RETRIES:
                    raise TransientError("post not stored yet") from None
                return web.json_response({"outcome": "missing"})
            except PlatformConfigError as exc:
                # A revoked token or wrong ids need an operator, not retries. The post stays open,
                # so the promise's alerts still reach on-call; this ERROR line feeds the log alert.
                log.error("handoff impossible: platform configuration error", doc_id=payload.get("doc_id"),
                          reason=exc.message)
                return web.json_response({"outcome": "config_error"})
            return web.json_response({"outcome": result.outcome, "handoff_id": result.handoff_id})
        if payload.get("kind") == "out_of_hours":
            if not all(isinstance(payload.get(k), str) for k in ("key", "template", "reopens_at")) or \
                    payload.get("template") not in ("out_of_hours_reply", "out_of_hours_dm"):
                raise MalformedPayload("an out-of-hours task needs key, template and reopens_at")
            try:
                sent = self.out_of_hours_service.send(payload)
            except PlatformConfigError as exc:
                log.error("out-of-hours answer impossible: platform configuration error",
                          doc_id=payload.get("doc_id"), reason=exc.message)
                return web.json_response({"outcome": "config_error"})
            except PrivateChannelRefused:
                return web.json_response({"outcome": "refused"})  # e.g. DMs closed: the promise still runs
            return web.json_response({"outcome": sent.outcome})
        if payload.get("kind") == "holding_reply":
            text, by = payload.get("text"), payload.get("requested_by")
            if not isinstance(text, str) or not isinstance(by, str):
                raise MalformedPayload("a holding reply task needs text and requested_by")
            try:
                held = self.holding_service.send(str(payload["doc_id"]), text=text, requested_by=by)
            except PlatformConfigError as exc:
                log.error("holding reply impossible: platform configuration error", doc_id=payload.get("doc_id"),
                          reason=exc.message)
                return web.json_response({"outcome": "config_error"})
            return web.json_response({"outcome": held.outcome, "reply_id": held.reply_id})
        if payload.get("kind") in ("outage_eval", "incident_fold"):  # issue 17: the detector, storm follow-ups
            return web.json_response(self.incident_service.run_task(payload))
        fired = self.deadline_service.fire(payload)
        return web.json_response({"outcome": fired.outcome, "sinks": list(fired.sinks)})

    def sweep(self, request: flask.Request) -> flask.Response:
        web.require_method(request, "POST", "GET")
        s = self.settings
        self._verify_caller(request, ("HILFT_SWEEP_URL", s.sweep_url),
                            ("HILFT_SCHEDULER_SERVICE_ACCOUNT", s.scheduler_service_account))
        return web.json_response({**self.deadline_service.sweep(), **self.incident_service.sweep(),
                                  **self.gap_service.check()})

    def _doc_id_from(self, payload: dict[str, Any]) -> str:
        from hilft.core import ids

        doc_id = payload.get("doc_id")
        if doc_id is not None:
            if not isinstance(doc_id, str) or not ids.is_doc_id(doc_id):
                raise MalformedPayload("doc_id is not a hilft document id")
            return doc_id
        if isinstance(payload.get("platform"), str) and isinstance(payload.get("post_id"), str):
            return ids.mention_doc_id(payload["platform"], payload["post_id"])
        raise MalformedPayload("give doc_id, or platform and post_id")

    def handoff(self, request: flask.Request) -> flask.Response:
        who = self.staff(request)
        if request.method == "GET":
            return web.json_response({"departments": self.handoff_service.department_names()})
        web.require_method(request, "POST")
        web.refuse_foreign_origin(request)
        payload = web.parse_json_object(web.read_body(request, 64 * 1024))
        text = payload.get("text")
        if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 2000):
            raise MalformedPayload("text must be a non-empty string of at most 2000 characters")
        result = self.handoff_service.request(self._doc_id_from(payload), department=payload.get("department"),
                                              text=text, requested_by=who)
        return web.json_response({"outcome": result.outcome, "handoff_id": result.handoff_id,
                                  "dm_id": result.dm_id, "public_reply_id": result.public_reply_id},
                                 202 if result.outcome == "queued" else 200)

    def ack(self, request: flask.Request) -> flask.Response:
        s = self.settings
        web.require_method(request, "POST")
        who = self.staff(request)
        web.refuse_foreign_origin(request)
        payload = web.parse_json_object(web.read_body(request, 64 * 1024))
        by = payload.get("by")
        if s.staff_auth == "iam" or not isinstance(by, str) or not 0 < len(by) <= 120:
            by = who  # behind IAM the verified identity is recorded, never a claimed one
        if "incident_id" in payload:  # one action for a whole incident and its posts (issue 17)
            from hilft.core import ids

            incident_id = payload["incident_id"]
            if not isinstance(incident_id, str) or not ids.is_doc_id(incident_id):
                raise MalformedPayload("incident_id is not a hilft incident id")
            result = self.incident_service.acknowledge(incident_id, by, self.deadline_service)
            if payload.get("reply") is True:  # and answer its posts with the policy's incident reply
                result.update(self.incident_service.reply_all(incident_id, by, self.holding_service))
            return web.json_response(result)
        result = self.deadline_service.acknowledge(self._doc_id_from(payload), by)
        return web.json_response({"outcome": result.outcome})

    def pagerduty_webhook(self, request: flask.Request) -> flask.Response:
        from hilft.core import pagerduty_webhook as pd
        from hilft.core.errors import MissingSecret

        web.require_method(request, "POST")
        secret = self.settings.pagerduty_webhook_secret
        if not secret:  # public entry point: never act on an unsigned request
            raise MissingSecret("PAGERDUTY_WEBHOOK_SECRET is not set")
        body = web.read_body(request, 256 * 1024)
        pd.verify_signature(body, request.headers.get("X-PagerDuty-Signature"), secret)
        doc_id = pd.acknowledged_doc_id(web.parse_json_object(body))
        from hilft.core import ids

        if doc_id is not None and doc_id.startswith("incident-") and ids.is_doc_id(doc_id[len("incident-"):]):
            try:  # an incident's own PagerDuty incident (issue 17): acknowledge it and its posts
                return web.json_response(self.incident_service.acknowledge(
                    doc_id[len("incident-"):], "pagerduty", self.deadline_service))
            except NotFound:
                return web.json_response({"outcome": "unknown_incident"})
        if doc_id is None or not ids.is_doc_id(doc_id):
            return web.json_response({"outcome": "ignored"})
        try:
            outcome = self.deadline_service.acknowledge(doc_id, "pagerduty").outcome
        except NotFound:
            outcome = "unknown_post"
        return web.json_response({"outcome": outcome})

    def board(self, request: flask.Request) -> flask.Response:
        from hilft import board

        web.require_method(request, "GET", "POST")  # POST: the page's own ack / handoff buttons
        self.staff(request)
        return board.render(self, request)

    def staff(self, request: flask.Request) -> str:
        """The verified identity of a staff caller (board, ack, handoff)."""
        s = self.settings
        return web.staff_identity(request, s.staff_auth, s.staff_token,
                                  verifier=self.oidc if s.staff_auth == "iam" else None,
                                  audiences=s.staff_audiences)

    # -- poll (Bluesky, Mastodon: channels without usable webhooks) ---------------------------
    @cached_property
    def poll_service(self) -> Any:
        from hilft.adapters.poll_queries import live_posts_query
        from hilft.channels.polling import build_pollers
        from hilft.service.poll import PollService

        pollers: list[Any] = []

        def configured() -> list[Any]:
            if not pollers:
                pollers.extend(build_pollers(self.settings, self.http))
            return pollers

        return PollService(store=self.store, ingest=self.ingest_service, pollers=configured, clock=self.clock,
                           live_posts=live_posts_query(self.store), radar_keywords=tuple(self.policy.radar.keywords))

    def poll(self, request: flask.Request) -> flask.Response:
        """Cloud Scheduler (OIDC, audience ``HILFT_POLL_URL``): fetch what the polled channels have new."""
        web.require_method(request, "POST", "GET")
        s = self.settings
        self._verify_caller(request, ("HILFT_POLL_URL", s.poll_url),
                            ("HILFT_SCHEDULER_SERVICE_ACCOUNT", s.scheduler_service_account))
        result = self.poll_service.run()
        self._note_ingest(result.stored)  # polled posts count towards outages like webhook ones
        # Every source failed on a platform outage: 503, so the job's failure is visible and retried.
        failed_all = bool(result.errors) and result.progressed == 0 and result.sources > 0
        return web.json_response({"ok": not failed_all, **result.as_dict()}, 503 if failed_all else 200)


_app: App | None = None
_lock = threading.Lock()


def get_app() -> App:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = App(get_settings())
    return _app


def reset_app() -> None:
    global _app
    with _lock:
        _app = None


# -- instance warm-up (cold start; bench/cold_start.py measures it) --------------------------------
# Cloud Run functions serve with gunicorn: the master imports main, binds the port and forks the one
# worker that answers. Right after that fork, a thread in the worker imports the client libraries and
# builds the clients while the first request is still being read, verified and parsed (the imports
# are CPU-bound under one GIL, so this overlaps only the waits: about 5 % of the first answer
# here). Never a thread in the master before the fork: it would not survive the fork, and could
# leave an import lock held in the child. Whatever fails here fails again, answered, in the request.


def warm_up() -> None:
    try:
        app = get_app()
        app.policy  # noqa: B018 - cached_property: built now
        app.store.client  # noqa: B018
        app.scheduler.client  # noqa: B018
    except Exception:  # noqa: BLE001, S110 - see above: the request that needs the part reports it
        pass


def start_warm_up() -> None:
    """Called once by ``main`` at import: every process forked from this one warms up in the background."""
    import os

    os.register_at_fork(after_in_child=lambda: threading.Thread(target=warm_up, name="hilft-warm-up",
                                                                daemon=True).start())
