"""Structured JSON logs for Cloud Logging: a few fixed keys plus ids, never payloads.

Only pass identifiers and counts as fields. Post text, handles, phone numbers, tokens and
secrets never go into a log line; ``tests/`` audits the captured logs of the e2e suite for that.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


# The Cloud Trace id of the request being handled, so Cloud Logging groups its lines.
_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("hilft_trace", default=None)


def bind_trace(header_value: str | None, traceparent: str | None = None) -> None:
    """From ``X-Cloud-Trace-Context: TRACE/SPAN;o=1`` or W3C ``traceparent: 00-TRACE-SPAN-01``."""
    trace_id = None
    if header_value:
        trace_id = header_value.split("/", 1)[0].strip() or None
    elif traceparent and traceparent.count("-") >= 3:
        trace_id = traceparent.split("-")[1]
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    valid = bool(trace_id and project and trace_id.isalnum() and len(trace_id) <= 64)
    _trace.set(f"projects/{project}/traces/{trace_id}" if valid else None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        if (trace := _trace.get()) is not None:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            # Type only: exception messages of outside libraries may echo request data.
            entry["exception_type"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])[-8:]
            entry["stack"] = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames]
        return json.dumps(entry, default=str, ensure_ascii=False)


_configured = False


def configure() -> None:
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("hilft")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = True  # lets pytest's caplog see records too
    _configured = True


class Logger:
    """``log.info("stored", doc_id=...)``: message plus structured id fields."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _log(self, _severity: int, _message: str, exc_info: bool = False, **fields: Any) -> None:
        configure()
        self._logger.log(_severity, _message, extra={"fields": fields}, exc_info=exc_info)

    def debug(self, message: str, **fields: Any) -> None:
        self._log(logging.DEBUG, message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, **fields)

    def error(self, message: str, exc_info: bool = False, **fields: Any) -> None:
        self._log(logging.ERROR, message, exc_info, **fields)


def get_logger(name: str) -> Logger:
    return Logger(name)
