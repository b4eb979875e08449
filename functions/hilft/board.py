"""The ``board`` entry point: the on-call page (HTML), its data (``?format=json``), its chart
(``?format=svg``) and its two buttons (``POST ?action=ack|handoff``).

The buttons post to the board itself, not to the ``ack``/``handoff`` functions: in production
those live on other origins behind Cloud Run IAM, which a browser page cannot call with the
staff member's identity. The board calls the same services in-process instead. A POST must
carry JSON and the ``X-Hilft-Board`` header (which a cross-site form cannot send without a CORS
preflight the board never grants) and come from the board's own page by the browser's word
(``Sec-Fetch-Site: same-origin``, or an ``Origin`` of the board's host or the localhost of
``gcloud run services proxy``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import flask

from hilft import web
from hilft.core import board_view, ids
from hilft.core.document import MentionDoc
from hilft.core.durations import parse_duration
from hilft.core.errors import Forbidden, MalformedPayload
from hilft.service.ports import INCIDENTS

if TYPE_CHECKING:
    from datetime import datetime

    from hilft.core.policy import Policy
    from hilft.service.closing import ReopenService
    from hilft.service.deadlines import DeadlineService
    from hilft.service.handoff import HandoffService
    from hilft.service.holding import HoldingReplyService
    from hilft.service.incidents import IncidentService
    from hilft.service.ports import Clock, Snapshot
    from hilft.service.report import ReportService


class BoardStore(Protocol):
    """What the board reads (``FirestoreStore`` has it; ``open_operator_alerts`` where the store keeps them)."""

    def board_items(self, limit: int = 300) -> list[Snapshot]: ...
    def received_since(self, since: datetime, limit: int = 5000) -> list[Snapshot]: ...
    def get(self, collection: str, doc_id: str) -> Snapshot | None: ...


class App(Protocol):
    """What the board needs from the composition root (``hilft.app.App`` has it): the board is
    handed its parts, it does not import the root."""

    @property
    def policy(self) -> Policy: ...
    @property
    def store(self) -> BoardStore: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def deadline_service(self) -> DeadlineService: ...
    @property
    def handoff_service(self) -> HandoffService: ...
    @property
    def holding_service(self) -> HoldingReplyService: ...
    @property
    def reopen_service(self) -> ReopenService: ...
    @property
    def report_service(self) -> ReportService: ...
    @property
    def incident_service(self) -> IncidentService: ...

    def staff(self, request: flask.Request) -> str: ...

BOARD_HEADER = "X-Hilft-Board"
ROW_LIMIT = 300
_COMMON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer"}


def render(app: App, request: flask.Request) -> flask.Response:
    if request.method == "POST":
        return _act(app, request)
    web.require_method(request, "GET")
    if request.args.get("view") == "report":
        return _report(app, request)
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "json", "svg"):
        raise MalformedPayload("format must be html, json or svg")
    from hilft import board_page

    lang = board_page.pick_language(request.args.get("lang"))  # the page's refreshes ask in its language
    board = build(app, window=_window(request.args.get("window")), lang=lang)
    if fmt == "json":
        return flask.Response(board_view.board_json(board), 200, mimetype="application/json",
                              headers=_COMMON_HEADERS)
    if fmt == "svg":
        return flask.Response(board.svg(), 200, mimetype="image/svg+xml",
                              headers={**_COMMON_HEADERS, "Content-Security-Policy": "default-src 'none'"})
    nonce = secrets.token_urlsafe(18)
    page = board_page.render_page(board, nonce=nonce, lang=lang, report_href=f"?view=report&lang={lang}")
    return flask.Response(page, 200, mimetype="text/html",
                          headers={**_COMMON_HEADERS, "Content-Security-Policy":
                                   board_view.content_security_policy(nonce)})


def _report(app: App, request: flask.Request) -> flask.Response:
    """The SLA report for ``from``..``to`` (ISO dates, policy time zone) as HTML or CSV."""
    from urllib.parse import urlencode

    from hilft import report_page
    from hilft.core.report import to_csv

    today = app.clock().astimezone(ZoneInfo(app.policy.promise.timezone)).date()
    start, end = report_page.period(request.args.get("from"), request.args.get("to"), today)
    report = app.report_service.build(start, end)
    if request.args.get("format") == "csv":
        return flask.Response(to_csv(report), 200, mimetype="text/csv", headers={
            **_COMMON_HEADERS, "Content-Disposition": f'attachment; filename="hilft-sla-{start}-{end}.csv"'})
    nonce = secrets.token_urlsafe(18)
    csv_href = "?" + urlencode({"view": "report", "from": start.isoformat(), "to": end.isoformat(), "format": "csv"})
    page = report_page.render_html(report, lang=request.args.get("lang", "en"), nonce=nonce, csv_href=csv_href)
    return flask.Response(page, 200, mimetype="text/html", headers={
        **_COMMON_HEADERS, "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'"})


INCIDENT_LIMIT = 20  # incident documents read per board view (one read each, for the headline)


def build(app: App, *, window: timedelta = board_view.DEFAULT_WINDOW, lang: str = "en") -> board_view.Board:
    """The board's data at the app's ``now``: open posts, posts received in the window, operator
    alerts, and the incidents its open posts belong to."""
    now = app.clock()
    policy = app.policy
    open_docs = [(snap.id, MentionDoc.from_snapshot(snap)) for snap in app.store.board_items(ROW_LIMIT)]
    recent_docs = [(snap.id, MentionDoc.from_snapshot(snap)) for snap in app.store.received_since(now - window)]
    open_alerts = getattr(app.store, "open_operator_alerts", None)  # test stores may not keep them
    alert_docs = [snap.data for snap in open_alerts()] if open_alerts else []
    from hilft.service.holding import default_text

    holding_texts = {doc_id: text for doc_id, data in open_docs if (text := default_text(policy, data, now))}
    return board_view.build_board(open_docs=open_docs, recent_docs=[doc for _, doc in recent_docs], now=now,
                                  window=window, promise=policy.promise.first_response, departments=departments(app),
                                  tz=ZoneInfo(policy.promise.timezone), brand=policy.brand.name,
                                  alert_docs=alert_docs, holding_texts=holding_texts,
                                  quiet_docs=recent_docs, lang=lang,
                                  incident_docs=_incident_docs(app, open_docs),
                                  incident_reply=policy.outage.incident_reply)


def _incident_docs(app: App, open_docs: list[tuple[str, MentionDoc]]) -> dict[str, Any]:
    """The incident documents the open posts point at (their headline: count, first and last post)."""
    wanted = sorted({post.incident_id for _, post in open_docs
                     if post.incident_id is not None and ids.is_doc_id(post.incident_id)})
    docs = {}
    for incident_id in wanted[:INCIDENT_LIMIT]:
        snap = app.store.get(INCIDENTS, incident_id)
        if snap is not None:
            docs[incident_id] = snap.data
    return docs


def departments(app: App) -> list[board_view.Department]:
    policy = app.policy
    named = [board_view.Department(name, dept.label or name) for name, dept in policy.departments.items()]
    default = policy.handoff.default_department
    return named or [board_view.Department(default, default)]


def _window(raw: str | None) -> timedelta:
    if not raw:
        return board_view.DEFAULT_WINDOW
    try:
        window = parse_duration(raw)
    except OverflowError:  # beyond what a timedelta holds: the longest window there is
        return board_view.MAX_WINDOW
    except ValueError as exc:
        raise MalformedPayload("window must be a duration such as 30m or 24h") from exc
    return min(max(window, board_view.MIN_WINDOW), board_view.MAX_WINDOW)


def _same_origin(request: flask.Request) -> None:
    """The board's own page only: its custom header (no cross-site form can send it without a
    CORS preflight the board never grants) and the browser's word that the page is ours
    (``web.refuse_foreign_origin``: ``Sec-Fetch-Site``, else ``Origin``; the proxy's localhost passes)."""
    if request.headers.get(BOARD_HEADER) != "1":
        raise Forbidden(f"board actions need the {BOARD_HEADER} header")
    web.refuse_foreign_origin(request)


def _act(app: App, request: flask.Request) -> flask.Response:
    who = app.staff(request)
    _same_origin(request)
    payload = web.parse_json_object(web.read_body(request, 16 * 1024))
    action = request.args.get("action")
    if action == "ack_incident":  # one action for an outage incident and all its posts
        incident_id = payload.get("incident_id")
        if not isinstance(incident_id, str) or not ids.is_doc_id(incident_id):
            raise MalformedPayload("incident_id is not a hilft incident id")
        reply = payload.get("reply", False)
        if not isinstance(reply, bool):
            raise MalformedPayload("reply must be true or false")
        # The same two services the ack function runs for ``{"incident_id": …, "reply": true}``.
        acked = app.incident_service.acknowledge(incident_id, who, app.deadline_service)
        if reply:  # and answer each open public post with the policy's known-outage reply
            acked.update(app.incident_service.reply_all(incident_id, who, app.holding_service))
        return web.json_response(acked, headers=_COMMON_HEADERS)
    doc_id = payload.get("doc_id")
    if not isinstance(doc_id, str) or not ids.is_doc_id(doc_id):
        raise MalformedPayload("doc_id is not a hilft document id")
    if action == "ack":
        acknowledged = app.deadline_service.acknowledge(doc_id, who)
        return web.json_response({"outcome": acknowledged.outcome}, headers=_COMMON_HEADERS)
    if action == "handoff":
        department = payload.get("department")
        if not isinstance(department, str) or department not in {d.name for d in departments(app)}:
            raise MalformedPayload("department must be one of the policy's departments")
        text = payload.get("text")
        if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 2000):
            raise MalformedPayload("text must be a non-empty string of at most 2000 characters")
        handed = app.handoff_service.request(doc_id, department=department, text=text, requested_by=who)
        return web.json_response({"outcome": handed.outcome, "handoff_id": handed.handoff_id},
                                 202 if handed.outcome == "queued" else 200, headers=_COMMON_HEADERS)
    if action == "hold":
        text = payload.get("text")
        if not isinstance(text, str):
            raise MalformedPayload("text must be a string")
        held = app.holding_service.request(doc_id, text=text, requested_by=who)
        return web.json_response({"outcome": held.outcome}, 202 if held.outcome == "queued" else 200,
                                 headers=_COMMON_HEADERS)
    if action == "reopen":
        reopened = app.reopen_service.reopen(doc_id, who)
        return web.json_response({"outcome": reopened.outcome}, headers=_COMMON_HEADERS)
    raise MalformedPayload("action must be ack, ack_incident, handoff, hold or reopen")
