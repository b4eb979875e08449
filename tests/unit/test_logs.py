"""Log lines are JSON for Cloud Logging, carry the request's trace, and never an exception text."""

from __future__ import annotations

import json
import logging

from hilft.logs import JsonFormatter, bind_trace


def format_record(message: str = "stored", exc: BaseException | None = None, **fields) -> dict:
    record = logging.LogRecord("hilft.test", logging.ERROR, __file__, 1, message, None,
                               (type(exc), exc, exc.__traceback__) if exc else None)
    record.fields = fields
    return json.loads(JsonFormatter().format(record))


def test_a_line_has_severity_message_and_fields(monkeypatch):
    bind_trace(None)
    entry = format_record(doc_id="abc")
    assert entry["severity"] == "ERROR" and entry["message"] == "stored" and entry["doc_id"] == "abc"
    assert "logging.googleapis.com/trace" not in entry


def test_the_cloud_trace_header_becomes_the_trace_field(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p1")
    bind_trace("105445aa7843bc8bf206b12000100000/1;o=1")
    assert format_record()["logging.googleapis.com/trace"] == "projects/p1/traces/105445aa7843bc8bf206b12000100000"
    bind_trace(None, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    assert format_record()["logging.googleapis.com/trace"].endswith("/4bf92f3577b34da6a3ce929d0e0e4736")
    bind_trace("../../etc/passwd")
    assert "logging.googleapis.com/trace" not in format_record()


def test_an_exception_is_logged_by_type_and_frames_never_by_its_message():
    try:
        raise ValueError("secret text 0171 2345678")
    except ValueError as exc:
        entry = format_record(exc=exc)
    assert entry["exception_type"] == "ValueError"
    assert "0171" not in json.dumps(entry)
    assert entry["stack"] and "test_logs.py" in entry["stack"][-1]
