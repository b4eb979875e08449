"""Structured JSON logs for Cloud Logging: a few fixed keys plus ids, never payloads.

Only pass identifiers and counts as fields. Post text, handles, phone numbers, tokens and
secrets never go into a log line; ``tests/`` audits the captured logs of the e2e suite for that.
"""

from __future__ import annotations

import json
import logging
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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
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
