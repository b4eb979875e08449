"""The composition root: settings + policy + adapters + services, built once per instance on
first use, typed so mypy checks the wiring. It only wires: what each entry point does is in
``hilft.handlers``.

Heavy client libraries (Firestore, Cloud Tasks, httpx) are imported here lazily so that
importing ``main`` stays cheap on a cold start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import flask

from hilft import web
from hilft.logs import get_logger
from hilft.settings import Settings, get_settings

if TYPE_CHECKING:
    import httpx

    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.adapters.oidc import OidcVerifier
    from hilft.adapters.tasks_scheduler import TasksScheduler
    from hilft.channels import Gateway
    from hilft.channels.polling import Poller
    from hilft.core.policy import Policy
    from hilft.service.brand_lookup import BrandLookupService
    from hilft.service.closing import ReopenService
    from hilft.service.deadlines import DeadlineService
    from hilft.service.enrich import EnrichService
    from hilft.service.gaps import DeliveryMarks, GapService
    from hilft.service.handoff import HandoffService
    from hilft.service.holding import HoldingReplyService
    from hilft.service.incidents import IncidentService
    from hilft.service.ingest import IngestService
    from hilft.service.out_of_hours import OutOfHoursService
    from hilft.service.poll import PollService
    from hilft.service.ports import AlertSink, Clock
    from hilft.service.report import ReportService

log = get_logger("hilft.app")


class App:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        from hilft.service.ports import system_clock

        self.settings = settings
        self.clock: Clock = clock or system_clock

    # -- parts, built on first use -------------------------------------------------------------
    @cached_property
    def policy(self) -> Policy:
        from hilft.core.policy import Policy, load_policy

        path = self.settings.config_path
        return load_policy(path) if path else Policy.default()

    @cached_property
    def store(self) -> FirestoreStore:
        from hilft.adapters.firestore_store import FirestoreStore

        return FirestoreStore(self.settings.project)

    @cached_property
    def scheduler(self) -> TasksScheduler:
        from hilft.adapters.tasks_scheduler import TasksScheduler

        s = self.settings
        if not s.tasks_queue or not s.deadline_url:
            from hilft.core.errors import MissingSecret

            raise MissingSecret("HILFT_TASKS_QUEUE and HILFT_DEADLINE_URL must be set")
        return TasksScheduler(s.tasks_queue, s.deadline_url, s.tasks_service_account, s.tasks_emulator_host)

    @cached_property
    def http(self) -> httpx.Client:
        import httpx

        return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))

    @cached_property
    def gateways(self) -> Callable[[str], Gateway | None]:
        """The platform clients by platform, built on first use and shared by every service."""
        from hilft.channels import gateway_factory

        return gateway_factory(self.settings, self.http)

    @cached_property
    def ingest_service(self) -> IngestService:
        from hilft.service.ingest import IngestService

        return IngestService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                             claim_ttl=self.settings.claim_ttl, retention_days=self.settings.retention_days)

    @cached_property
    def sinks(self) -> dict[str, AlertSink]:
        from hilft.adapters.sinks import build_sinks

        return build_sinks(self.settings)

    @cached_property
    def deadline_service(self) -> DeadlineService:
        from hilft.service.deadlines import DeadlineService

        return DeadlineService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                               sinks=self.sinks, board_url=self.settings.board_url,
                               claim_ttl=self.settings.claim_ttl,
                               sweep_grace=self.settings.sweep_grace,
                               folder=self.incident_service)  # storm folding: its AlertFolder hook

    @cached_property
    def incident_service(self) -> IncidentService:
        """Outage detection and incidents (issue 17): the evaluation, incident alerts, storm folding."""
        from hilft.adapters.incident_sinks import build_incident_sinks
        from hilft.adapters.incident_store import FirestoreIncidentQueries
        from hilft.service.incidents import IncidentService

        return IncidentService(store=self.store, queries=FirestoreIncidentQueries(self.store),
                               scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                               sinks=build_incident_sinks(self.settings), board_url=self.settings.board_url,
                               retention_days=self.settings.retention_days)

    @cached_property
    def handoff_service(self) -> HandoffService:
        from hilft.adapters.departments import DepartmentNotifierHttp
        from hilft.service.handoff import HandoffService

        return HandoffService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                              gateways=self.gateways,
                              notifier=DepartmentNotifierHttp(self.policy, self.http),
                              claim_ttl=self.settings.claim_ttl)

    @cached_property
    def enrich_service(self) -> EnrichService:
        from hilft.channels.meta import GraphMentionReader
        from hilft.channels.meta.client import MetaClient
        from hilft.service.enrich import EnrichService

        s = self.settings
        reader = (GraphMentionReader(MetaClient(s.meta_graph_base_url, s.meta_page_access_token, http=self.http,
                                                app_secret=s.meta_app_secret, clock=self.clock))
                  if s.meta_page_access_token else None)
        users = None
        if s.x_user_access_token:  # X authors named by id only (X Activity API replies and quotes)
            from hilft.channels.x import XUserReader
            from hilft.channels.x.client import XClient

            users = XUserReader(XClient(s.x_api_base_url, s.x_user_access_token, http=self.http, clock=self.clock))
        return EnrichService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                             reader=reader, users=users)

    @cached_property
    def brand_lookup_service(self) -> BrandLookupService:
        from hilft.service.brand_lookup import BrandLookupService

        return BrandLookupService(ingest=self.ingest_service, scheduler=self.scheduler, clock=self.clock,
                                  gateways=self.gateways)

    @cached_property
    def holding_service(self) -> HoldingReplyService:
        from hilft.service.holding import HoldingReplyService

        return HoldingReplyService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                   gateways=self.gateways,
                                   claim_ttl=self.settings.claim_ttl)

    @cached_property
    def out_of_hours_service(self) -> OutOfHoursService:
        from hilft.service.out_of_hours import OutOfHoursService

        return OutOfHoursService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock,
                                 gateways=self.gateways,
                                 claim_ttl=self.settings.claim_ttl)

    @cached_property
    def reopen_service(self) -> ReopenService:
        from hilft.service.closing import ReopenService

        return ReopenService(store=self.store, scheduler=self.scheduler, policy=self.policy, clock=self.clock)

    @cached_property
    def report_service(self) -> ReportService:
        from hilft.service.report import ReportService

        return ReportService(store=self.store, policy=self.policy, clock=self.clock)

    @cached_property
    def delivery_marks(self) -> DeliveryMarks:
        from hilft.service.gaps import DeliveryMarks

        return DeliveryMarks(self.store, self.clock)

    @cached_property
    def gap_service(self) -> GapService:
        """Gaps in X's deliveries: the sweep's check, and the end of a replay (issue 16)."""
        from hilft.service.gaps import GapService

        return GapService(store=self.store, clock=self.clock, calendar=self.policy.calendar,
                          retention_days=self.settings.retention_days,
                          open_alerts=getattr(self.store, "open_operator_alerts", None))

    @cached_property
    def oidc(self) -> OidcVerifier:
        from hilft.adapters.oidc import OidcVerifier

        s = self.settings
        return OidcVerifier(s.oidc_jwks_url, s.oidc_issuers, cloud_run_iam=s.cloud_run_iam)

    # -- identities -------------------------------------------------------------------------------
    def staff(self, request: flask.Request) -> str:
        """The verified identity of a staff caller (board, ack, handoff)."""
        s = self.settings
        return web.staff_identity(request, s.staff_auth, s.staff_token,
                                  verifier=self.oidc if s.staff_auth == "iam" else None,
                                  audiences=s.staff_audiences)

    # -- poll (Bluesky, Mastodon: channels without usable webhooks) ---------------------------
    @cached_property
    def poll_service(self) -> PollService:
        from hilft.adapters.poll_queries import live_posts_query
        from hilft.channels.polling import build_pollers
        from hilft.service.poll import PollService

        pollers: list[Poller] = []

        def configured() -> list[Poller]:
            if not pollers:
                pollers.extend(build_pollers(self.settings, self.http))
            return pollers

        return PollService(store=self.store, ingest=self.ingest_service, pollers=configured, clock=self.clock,
                           live_posts=live_posts_query(self.store), radar_keywords=tuple(self.policy.radar.keywords))


_app: App | None = None
_lock = threading.Lock()


def get_app() -> App:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = App(get_settings())
    return _app


def refuse_to_start_unconfigured(entry_point: str | None) -> None:
    """Called by ``main`` at import: an entry point that could not check its callers does not start
    serving (the revision never becomes ready, the deploy shows why) instead of answering 500 to
    every request. Exits with the variable's name; no traceback, nothing secret."""
    from hilft.settings import ConfigurationError

    if not entry_point:  # imported by a test or a tool, not served by functions-framework
        return
    try:
        get_settings().check_entry_point(entry_point)
    except ConfigurationError as exc:
        log.error("refusing to start: configuration missing", entry_point=entry_point, variable=exc.variable)
        raise SystemExit(f"hilft {entry_point}: {exc}") from None


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
