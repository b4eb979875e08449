"""``python -m cloudtasks_emulator --port 8701 --jwks-port 8709 --queue projects/P/locations/L/queues/Q``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudtasks_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701, help="gRPC port (0: any free port)")
    parser.add_argument("--jwks-port", type=int, default=8709, help="JWKS HTTP port (0: any free port)")
    parser.add_argument("--queue", action="append", default=[], metavar="NAME",
                        help="full queue name to create at start; repeatable")
    parser.add_argument("--reservation-window", type=float, default=3600.0,
                        help="seconds a task name stays reserved after the task ran or was deleted")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    emulator = Emulator(host=args.host, port=args.port, jwks_port=args.jwks_port, queues=args.queue,
                        reservation_window=args.reservation_window).start()
    print(f"cloudtasks-emulator listening on {emulator.grpc_target} jwks={emulator.jwks_url}", flush=True)
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
