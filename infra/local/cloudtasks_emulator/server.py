"""``Emulator``: the gRPC server, the dispatcher and the JWKS endpoint started and stopped together."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.cloud import tasks_v2

from .dispatcher import Dispatcher
from .names import parse_queue
from .oidc import JwksServer, OidcIssuer
from .service import CloudTasksService
from .state import Store

log = logging.getLogger("cloudtasks_emulator")


class Emulator:
    """A local Cloud Tasks: ``Emulator(port=0, jwks_port=0, queues=[...]).start()``, then ``stop()``.

    ``queues`` are full queue names created (with production defaults) before ``start`` returns.
    ``reservation_window`` is how long a task name stays taken after the task ran or was deleted.
    ``min_dispatch_deadline`` lowers production's 15 s floor so tests can exercise timeouts quickly.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8701, jwks_port: int = 8709,
                 queues: Iterable[str] = (), reservation_window: float = 3600.0,
                 queue_reservation_window: float = 7 * 86400.0, min_dispatch_deadline: float = 15.0,
                 rpc_workers: int = 16) -> None:
        self._host, self._port, self._jwks_port = host, port, jwks_port
        self._initial_queues = list(queues)
        for name in self._initial_queues:
            parse_queue(name)
        self.store = Store(reservation_window=reservation_window,
                           queue_reservation_window=queue_reservation_window,
                           min_dispatch_deadline=min_dispatch_deadline)
        self.issuer = OidcIssuer()
        self._rpc_workers = rpc_workers
        self._dispatcher: Dispatcher | None = None
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._jwks: JwksServer | None = None
        self._bound_port: int | None = None

    @property
    def grpc_target(self) -> str:
        assert self._bound_port is not None, "emulator not started"
        return f"{self._host}:{self._bound_port}"

    @property
    def jwks_url(self) -> str:
        assert self._jwks is not None, "emulator not started"
        return self._jwks.jwks_url

    def client(self) -> tasks_v2.CloudTasksClient:
        """The production client, over an insecure channel to this emulator."""
        from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

        channel = grpc.insecure_channel(self.grpc_target)
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))

    def start(self) -> Emulator:
        self._jwks = JwksServer(self.issuer, self._host, self._jwks_port)
        self._jwks.start()
        self._dispatcher = Dispatcher(self.store, self.issuer)
        self._dispatcher.start()
        self.store.on_queue_created = self._dispatcher.watch_queue
        for name in self._initial_queues:
            queue = tasks_v2.Queue.pb()(name=name)
            self.store.create_queue(parse_queue(name).parent, queue)
        self._executor = ThreadPoolExecutor(max_workers=self._rpc_workers,
                                            thread_name_prefix="cloudtasks-rpc")
        self._server = grpc.server(self._executor)
        self._server.add_generic_rpc_handlers((CloudTasksService(self.store, self._dispatcher).handler(),))
        self._bound_port = self._server.add_insecure_port(f"{self._host}:{self._port}")
        if not self._bound_port:
            raise OSError(f"cannot bind {self._host}:{self._port}")
        self._server.start()
        log.info("cloud tasks emulator serving on %s", self.grpc_target)
        return self

    def stop(self, grace: float = 1.0) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._dispatcher is not None:
            self._dispatcher.stop()
            self._dispatcher = None
        if self._jwks is not None:
            self._jwks.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
