"""The entry points' work: check, verify, call the service, answer — one function per entry
point of ``functions/main.py``, each handed the instance's ``App`` (the composition root, which
only wires). HTTP plumbing (limits, error mapping, staff identity) is in ``hilft.web``.
"""

from __future__ import annotations

from typing import Any

import flask

from hilft import web
from hilft.app import App
from hilft.core.errors import (
    MalformedPayload,
    NotFound,
    PlatformConfigError,
    PrivateChannelRefused,
    TransientError,
)
from hilft.logs import get_logger

log = get_logger("hilft.app")

# How often a handoff task is retried while its post's document is not there yet.
MISSING_POST_RETRIES = 8


def x_webhook(app: App, request: flask.Request) -> flask.Response:
    from hilft.channels.x import parse as x

    s = app.settings
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
            return web.json_response({"ok": True, "resolved_gaps": app.gap_service.replay_finished(status)})
    batch = x.parse(body, brand_user_ids=s.x_brand_user_ids)  # also Filtered Stream deliveries (the radar)
    result = app.ingest_service.ingest(batch, s.x_brand_user_ids)
    _note_ingest(app, result.stored)
    app.delivery_marks.note("x")  # the sweep notices when X stops delivering (service/gaps.py)
    return web.json_response({"ok": True, **result.as_dict()})


def meta_webhook(app: App, request: flask.Request) -> flask.Response:
    from hilft.channels.meta import parse as meta

    s = app.settings
    if request.method == "GET":
        challenge = meta.verify_subscription(request.args, s.meta_verify_token)
        return flask.Response(challenge, 200, mimetype="text/plain")
    web.require_method(request, "POST")
    body = web.read_body(request, s.max_body_bytes)
    meta.verify_signature(body, request.headers.get("X-Hub-Signature-256"), s.meta_app_secret)
    batch = meta.parse(body, page_ids=s.meta_page_ids, ig_user_ids=s.meta_ig_user_ids)
    result = app.ingest_service.ingest(batch, s.meta_page_ids | s.meta_ig_user_ids)
    _note_ingest(app, result.stored)
    return web.json_response({"ok": True, **result.as_dict()})


def _note_ingest(app: App, stored: int) -> None:
    """The incident service (and its sinks' HTTP client) is built only when ``note_ingest`` can act:
    with the default ``trigger = "sweep"`` a webhook never needs it (cold start: no httpx import)."""
    if stored > 0 and app.policy.outage.trigger == "tasks":
        app.incident_service.note_ingest(stored)


def threads_webhook(app: App, request: flask.Request) -> flask.Response:
    """Threads (its own Meta app and secret): GET subscription check, POST signed events."""
    from hilft.channels.threads import parse as threads

    s = app.settings
    if request.method == "GET":
        challenge = threads.verify_subscription(request.args, s.threads_verify_token)
        return flask.Response(challenge, 200, mimetype="text/plain")
    web.require_method(request, "POST")
    body = web.read_body(request, s.max_body_bytes)
    threads.verify_signature(body, request.headers.get(threads.SIGNATURE_HEADER), s.threads_app_secret)
    batch = threads.parse(body, brand_user_ids=s.threads_user_ids)
    result = app.ingest_service.ingest(batch, s.threads_user_ids)
    _note_ingest(app, result.stored)
    return web.json_response({"ok": True, **result.as_dict()})


def _verify_caller(app: App, request: flask.Request, entry_point: str) -> None:
    """OIDC of Cloud Tasks / Cloud Scheduler. Fails closed: with OIDC required, an unset audience or
    caller e-mail stops the function from starting (``main``, ``Settings.check_entry_point``); an
    instance built without that check still refuses every call (500 naming the variable)."""
    from hilft.settings import ConfigurationError

    if not app.settings.oidc_required:
        return
    try:
        audience, email = app.settings.oidc_caller(entry_point)
    except ConfigurationError as exc:
        from hilft.core.errors import MissingSecret

        log.error("OIDC required but not configured", variable=exc.variable)
        raise MissingSecret(str(exc)) from None
    app.oidc.verify(web.cloud_run_credentials(request), audience=audience, allowed_emails=[email])


def deadline(app: App, request: flask.Request) -> flask.Response:
    web.require_method(request, "POST")
    _verify_caller(app, request, "deadline")
    payload = web.parse_json_object(web.read_body(request, 64 * 1024, require_json=False))
    _doc_id_from({"doc_id": payload.get("doc_id")})  # ours before it touches a Firestore path
    _check_task_fields(payload)
    retries = _retry_count(request)
    log.info("task received", kind=payload.get("kind"), doc_id=payload.get("doc_id"),
             task=request.headers.get("X-CloudTasks-TaskName"), retry=retries)
    if payload.get("kind") == "enrich":  # text and author of a post Meta sent as ids only
        return web.json_response({"outcome": app.enrich_service.run(payload, retries=retries).outcome})
    if payload.get("kind") == "brand_lookup":  # what a brand post answers, when its webhook did not say
        return web.json_response({"outcome": app.brand_lookup_service.run(payload).outcome})
    if payload.get("kind") == "handoff":
        try:
            text = payload.get("text")
            requested_by = payload.get("requested_by")
            result = app.handoff_service.handoff(
                str(payload.get("doc_id")), department=payload.get("department"),
                reason=str(payload.get("reason") or "auto"), pii=bool(payload.get("pii")),
                text=text if isinstance(text, str) else None,
                requested_by=requested_by if isinstance(requested_by, str) else "hilft:auto",
                attempt=payload.get("attempt") or 0)
        except NotFound:
            # The task is enqueued before the post's document is committed, so it may fire
            # first: let Cloud Tasks retry for a while before calling the post lost.
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
            sent = app.out_of_hours_service.send(payload)
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
            held = app.holding_service.send(str(payload["doc_id"]), text=text, requested_by=by)
        except PlatformConfigError as exc:
            log.error("holding reply impossible: platform configuration error", doc_id=payload.get("doc_id"),
                      reason=exc.message)
            return web.json_response({"outcome": "config_error"})
        return web.json_response({"outcome": held.outcome, "reply_id": held.reply_id})
    if payload.get("kind") in ("outage_eval", "incident_fold", "incident_acknowledged"):  # issue 17: incidents
        return web.json_response(app.incident_service.run_task(payload))
    fired = app.deadline_service.fire(payload)
    return web.json_response({"outcome": fired.outcome, "sinks": list(fired.sinks)})


# What hilft's own tasks carry (service/*): counts as JSON integers, times as ISO 8601 with their
# offset, a department as its name. Anything else was forged or corrupted: 400 here, rather than
# a 500 deep in a service (``int("abc")``, a naive time compared with an aware one).
_TASK_COUNTS = {"level": 10**6, "attempt": 10**6, "through_slot": 10**12}
_TASK_TIMES = ("due_at", "not_before", "reopens_at")
_TASK_YEARS = range(2000, 3000)  # ``not_before - 1 s`` and friends never overflow
RETRY_HEADER = "X-CloudTasks-TaskRetryCount"


def _check_task_fields(payload: dict[str, Any]) -> None:
    from datetime import datetime

    for field, most in _TASK_COUNTS.items():
        value = payload.get(field)
        if value is not None and (type(value) is not int or not 0 <= value <= most):
            raise MalformedPayload(f"{field} must be a whole number from 0 to {most}")
    for field in _TASK_TIMES:
        value = payload.get(field)
        if value is None:
            continue
        try:
            at = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            at = None
        if at is None or at.utcoffset() is None or at.year not in _TASK_YEARS:
            raise MalformedPayload(f"{field} must be an ISO 8601 time with its UTC offset")
    _department_of(payload)


def _department_of(payload: dict[str, Any]) -> str | None:
    """The department a body names: its name or absent; a list or object is 400 here, not a 500
    (unhashable) in the handoff service."""
    department = payload.get("department")
    if department is not None and not isinstance(department, str):
        raise MalformedPayload("department must be a department's name or absent")
    return department


def _retry_count(request: flask.Request) -> int:
    """Cloud Tasks' ``X-CloudTasks-TaskRetryCount`` (0 when absent): ASCII digits or 400."""
    raw = request.headers.get(RETRY_HEADER)
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise MalformedPayload(f"{RETRY_HEADER} must be a count")
    return int(raw)


def sweep(app: App, request: flask.Request) -> flask.Response:
    web.require_method(request, "POST", "GET")
    _verify_caller(app, request, "sweep")
    if _scheduled_run(request) == "rollup":  # the daily roll-up job (infra/rollup.tf)
        return web.json_response(app.report_service.roll_up())
    return web.json_response({**app.deadline_service.sweep(), **app.incident_service.sweep(),
                              **app.gap_service.check()})


def _scheduled_run(request: flask.Request) -> str | None:
    """Which scheduled work a ``sweep`` call asks for: ``{"run": "rollup"}``, else the sweep."""
    body = web.read_body(request, 4096, require_json=False)
    if not body.strip():
        return None
    run = web.parse_json_object(body).get("run")
    if run is not None and run != "rollup":
        raise MalformedPayload("run must be \"rollup\" or absent")
    return run


def _doc_id_from(payload: dict[str, Any]) -> str:
    from hilft.core import ids

    doc_id = payload.get("doc_id")
    if doc_id is not None:
        if not isinstance(doc_id, str) or not ids.is_doc_id(doc_id):
            raise MalformedPayload("doc_id is not a hilft document id")
        return doc_id
    if isinstance(payload.get("platform"), str) and isinstance(payload.get("post_id"), str):
        return ids.mention_doc_id(payload["platform"], payload["post_id"])
    raise MalformedPayload("give doc_id, or platform and post_id")


def handoff(app: App, request: flask.Request) -> flask.Response:
    who = app.staff(request)
    if request.method == "GET":
        return web.json_response({"departments": app.handoff_service.department_names()})
    web.require_method(request, "POST")
    web.refuse_foreign_origin(request)
    payload = web.parse_json_object(web.read_body(request, 64 * 1024))
    text = payload.get("text")
    if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 2000):
        raise MalformedPayload("text must be a non-empty string of at most 2000 characters")
    result = app.handoff_service.request(_doc_id_from(payload), department=_department_of(payload),
                                          text=text, requested_by=who)
    return web.json_response({"outcome": result.outcome, "handoff_id": result.handoff_id,
                              "dm_id": result.dm_id, "public_reply_id": result.public_reply_id},
                             202 if result.outcome == "queued" else 200)


def ack(app: App, request: flask.Request) -> flask.Response:
    s = app.settings
    web.require_method(request, "POST")
    who = app.staff(request)
    web.refuse_foreign_origin(request)
    payload = web.parse_json_object(web.read_body(request, 64 * 1024))
    by = payload.get("by")
    if s.staff_auth == "iam" or not isinstance(by, str) or not by:
        by = who  # behind IAM the verified identity is recorded, never a claimed one
    else:  # cleaned and limited like X-Hilft-User (too long: 400, not silently someone else); not "pagerduty"
        by = web.claimed_staff_name(by)
    if "incident_id" in payload:  # one action for a whole incident and its posts (issue 17)
        from hilft.core import ids

        incident_id = payload["incident_id"]
        if not isinstance(incident_id, str) or not ids.is_doc_id(incident_id):
            raise MalformedPayload("incident_id is not a hilft incident id")
        result = app.incident_service.acknowledge(incident_id, by, app.deadline_service)
        if payload.get("reply") is True:  # and answer its posts with the policy's incident reply
            result.update(app.incident_service.reply_all(incident_id, by, app.holding_service))
        return web.json_response(result)
    acked = app.deadline_service.acknowledge(_doc_id_from(payload), by)
    return web.json_response({"outcome": acked.outcome})


def pagerduty_webhook(app: App, request: flask.Request) -> flask.Response:
    from hilft.core import pagerduty_webhook as pd
    from hilft.core.errors import MissingSecret

    web.require_method(request, "POST")
    secret = app.settings.pagerduty_webhook_secret
    if not secret:  # public entry point: never act on an unsigned request
        raise MissingSecret("PAGERDUTY_WEBHOOK_SECRET is not set")
    body = web.read_body(request, 256 * 1024)
    pd.verify_signature(body, request.headers.get("X-PagerDuty-Signature"), secret)
    doc_id = pd.acknowledged_doc_id(web.parse_json_object(body))
    from hilft.core import ids

    if doc_id is not None and doc_id.startswith("incident-") and ids.is_doc_id(doc_id[len("incident-"):]):
        try:  # an incident's own PagerDuty incident (issue 17): acknowledge it and its posts
            return web.json_response(app.incident_service.acknowledge(
                doc_id[len("incident-"):], "pagerduty", app.deadline_service))
        except NotFound:
            return web.json_response({"outcome": "unknown_incident"})
    if doc_id is None or not ids.is_doc_id(doc_id):
        return web.json_response({"outcome": "ignored"})
    try:
        outcome = app.deadline_service.acknowledge(doc_id, "pagerduty").outcome
    except NotFound:
        outcome = "unknown_post"
    return web.json_response({"outcome": outcome})


def board(app: App, request: flask.Request) -> flask.Response:
    from hilft import board

    web.require_method(request, "GET", "POST")  # POST: the page's own ack / handoff buttons
    app.staff(request)
    return board.render(app, request)


def poll(app: App, request: flask.Request) -> flask.Response:
    """Cloud Scheduler (OIDC, audience ``HILFT_POLL_URL``): fetch what the polled channels have new."""
    web.require_method(request, "POST", "GET")
    _verify_caller(app, request, "poll")
    result = app.poll_service.run()
    _note_ingest(app, result.stored)  # polled posts count towards outages like webhook ones
    # Every source failed on a platform outage: 503, so the job's failure is visible and retried.
    failed_all = bool(result.errors) and result.progressed == 0 and result.sources > 0
    return web.json_response({"ok": not failed_all, **result.as_dict()}, 503 if failed_all else 200)
