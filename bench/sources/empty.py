"""The framework's own cost per request: functions-framework, gunicorn and Flask around a handler
that reads the body and answers what x_webhook answers, doing nothing else (bench/ingest.py)."""

import functions_framework

ANSWER = '{"ok": true, "stored": 1, "duplicates": 0, "answered": 0, "deleted": 0, "ignored": 0}'


@functions_framework.http
def empty(request):  # type: ignore[no-untyped-def]
    request.get_data()
    return ANSWER, 200, {"Content-Type": "application/json"}
