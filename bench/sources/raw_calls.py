"""The raw loop's calls (bench/ingest.py ``raw_work``) inside functions-framework: read the body, make
the same two task creates and the same Firestore ``create()`` with the bare clients, answer what
x_webhook answers. Next to the raw loop it shows what the framework adds to those calls; next to
x_webhook, what hilft adds (signature, parsing, PII, routing, due time, its adapters, logging)."""

import hashlib
import os
from datetime import UTC, datetime, timedelta

import functions_framework
import grpc
from google.api_core import gapic_v1
from google.cloud import firestore, tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from google.cloud.tasks_v2.services.cloud_tasks.transports.base import DEFAULT_CLIENT_INFO
from google.protobuf import timestamp_pb2

QUEUE = os.environ["HILFT_TASKS_QUEUE"]
URL = os.environ["HILFT_DEADLINE_URL"]
ANSWER = '{"ok": true, "stored": 1, "duplicates": 0, "answered": 0, "deleted": 0, "ignored": 0}'

db = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
tasks = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(
    channel=grpc.insecure_channel(os.environ["CLOUD_TASKS_EMULATOR_HOST"])))
create_future = tasks.transport.create_task.future
metadata = (gapic_v1.routing_header.to_grpc_metadata((("parent", QUEUE),)), DEFAULT_CLIENT_INFO.to_grpc_metadata())


def task(name, at):  # type: ignore[no-untyped-def]
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(at)
    return {"name": f"{QUEUE}/tasks/{name}", "schedule_time": ts,
            "http_request": {"http_method": tasks_v2.HttpMethod.POST, "url": URL,
                             "headers": {"Content-Type": "application/json"},
                             "body": b'{"doc_id":"x","kind":"due","level":1}',
                             "oidc_token": {"service_account_email": "bench@hilft-local.iam.gserviceaccount.com",
                                            "audience": URL}}}


@functions_framework.http
def raw_calls(request):  # type: ignore[no-untyped-def]
    if request.method == "GET":  # the bench's readiness probe
        return "ok"
    body = request.get_data()
    post_id = hashlib.sha256(body).hexdigest()[:19]
    doc_id = hashlib.sha256(f"raw\x1f{post_id}".encode()).hexdigest()[:40]
    now = datetime.now(UTC)
    due = now + timedelta(hours=1)
    warning = create_future(tasks_v2.CreateTaskRequest(parent=QUEUE, task=task(
        hashlib.sha256(f"{doc_id}w".encode()).hexdigest()[:48], due - timedelta(minutes=15))),
        timeout=5.0, metadata=metadata)
    tasks.create_task(parent=QUEUE, task=task(hashlib.sha256(f"{doc_id}d".encode()).hexdigest()[:48], due))
    warning.result()
    db.collection("mentions").document(doc_id).create({
        "platform": "x", "post_id": post_id, "kind": "mention", "conversation_id": post_id,
        "in_reply_to": None, "author_id": "1472583690", "author_handle": "kunde_bench", "author_name": "Kunde",
        "author_followers": 120, "brand_account_id": "1000000001",
        "text": "@Telekom_hilft Bench-Post: Internet seit heute Morgen weg, Router blinkt rot.",
        "pii_kinds": [], "lang": "de", "url": None, "radar": False, "priority": None,
        "department": None, "status": "open", "created_at": now, "received_at": now, "due_at": due,
        "warn_at": due - timedelta(minutes=15), "promise_seconds": 3600.0, "answered_at": None,
        "alert_level": None, "next_alert_at": None, "acknowledged": False, "handoff_pending": False,
        "alerts": {}, "expire_at": now + timedelta(days=90), "schema": 1})
    return ANSWER, 200, {"Content-Type": "application/json"}
