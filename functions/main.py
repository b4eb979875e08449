"""hilft's Cloud Functions (2nd gen). Each entry point: check, verify, call the service, answer.

Clients are built once per instance on first use (hilft.app.get_app), never at import time.
"""

from __future__ import annotations

import os

import flask
import functions_framework

from hilft import handlers, web
from hilft.app import get_app, refuse_to_start_unconfigured, start_warm_up

# functions-framework names the entry point it serves (--target, or Cloud Run's FUNCTION_TARGET)
# before it imports this module: one that could not check its callers never starts serving.
refuse_to_start_unconfigured(os.environ.get("FUNCTION_TARGET"))
start_warm_up()  # clients load in the background of gunicorn's worker (hilft/app.py, "instance warm-up")


@functions_framework.http
def x_webhook(request: flask.Request) -> flask.Response:
    """X Account Activity / X Activity API: GET CRC challenge, POST signed events."""
    return web.handle("x_webhook", request, lambda: handlers.x_webhook(get_app(), request))


@functions_framework.http
def meta_webhook(request: flask.Request) -> flask.Response:
    """Meta (Facebook Page, Instagram, Messenger): GET subscription check, POST signed events."""
    return web.handle("meta_webhook", request, lambda: handlers.meta_webhook(get_app(), request))


@functions_framework.http
def threads_webhook(request: flask.Request) -> flask.Response:
    """Threads (its own Meta app): GET subscription check, POST signed events."""
    return web.handle("threads_webhook", request, lambda: handlers.threads_webhook(get_app(), request))


@functions_framework.http
def deadline(request: flask.Request) -> flask.Response:
    """Cloud Tasks (OIDC): a promised time has come (warning, due, escalation, handoff, resolve)."""
    return web.handle("deadline", request, lambda: handlers.deadline(get_app(), request))


@functions_framework.http
def sweep(request: flask.Request) -> flask.Response:
    """Cloud Scheduler (OIDC): backstop for lost tasks."""
    return web.handle("sweep", request, lambda: handlers.sweep(get_app(), request))


@functions_framework.http
def handoff(request: flask.Request) -> flask.Response:
    """On-call staff: hand a post off to a department with a DM."""
    return web.handle("handoff", request, lambda: handlers.handoff(get_app(), request))


@functions_framework.http
def ack(request: flask.Request) -> flask.Response:
    """On-call staff / PagerDuty: acknowledge a post's alert, stop re-alerts."""
    return web.handle("ack", request, lambda: handlers.ack(get_app(), request))


@functions_framework.http
def board(request: flask.Request) -> flask.Response:
    """On-call staff: the board page (HTML) or its data (?format=json)."""
    return web.handle("board", request, lambda: handlers.board(get_app(), request))


@functions_framework.http
def pagerduty_webhook(request: flask.Request) -> flask.Response:
    """PagerDuty V3 webhook (signed): acknowledging the incident there acknowledges the post."""
    return web.handle("pagerduty_webhook", request, lambda: handlers.pagerduty_webhook(get_app(), request))


@functions_framework.http
def poll(request: flask.Request) -> flask.Response:
    """Cloud Scheduler (OIDC): fetch new Bluesky and Mastodon posts (channels without webhooks)."""
    return web.handle("poll", request, lambda: handlers.poll(get_app(), request))
