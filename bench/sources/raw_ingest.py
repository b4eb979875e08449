"""The calls x_webhook makes per post, made with the bare Google clients and nothing of hilft: two
task creates (the warning as a gRPC future on the client's channel while the due task is created,
as ``TasksScheduler`` sends a post's tasks) and one Firestore ``create()`` of a document shaped like
hilft's. One definition for the raw loop (bench/ingest.py) and ``raw_calls`` (the same calls
behind functions-framework), so the two reference rows cannot drift apart."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def raw_ingest(db: Any, tasks: Any, queue: str, deadline_url: str) -> Callable[[str, str], None]:
    """``ingest(post_id, text)`` for the given clients, queue and deadline URL."""
    from google.api_core import gapic_v1
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports.base import DEFAULT_CLIENT_INFO
    from google.protobuf import timestamp_pb2

    create_future = tasks.transport.create_task.future
    metadata = (gapic_v1.routing_header.to_grpc_metadata((("parent", queue),)), DEFAULT_CLIENT_INFO.to_grpc_metadata())

    def task(name: str, at: datetime) -> dict[str, Any]:
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(at)
        return {"name": f"{queue}/tasks/{name}", "schedule_time": ts,
                "http_request": {"http_method": tasks_v2.HttpMethod.POST, "url": deadline_url,
                                 "headers": {"Content-Type": "application/json"},
                                 "body": b'{"doc_id":"x","kind":"due","level":1}',
                                 "oidc_token": {"service_account_email": "bench@hilft-local.iam.gserviceaccount.com",
                                                "audience": deadline_url}}}

    def ingest(post_id: str, text: str) -> None:
        doc_id = hashlib.sha256(f"raw\x1f{post_id}".encode()).hexdigest()[:40]
        now = datetime.now(UTC)
        due = now + timedelta(hours=1)
        warning = create_future(tasks_v2.CreateTaskRequest(parent=queue, task=task(
            hashlib.sha256(f"{doc_id}w".encode()).hexdigest()[:48], due - timedelta(minutes=15))),
            timeout=5.0, metadata=metadata)
        tasks.create_task(parent=queue, task=task(hashlib.sha256(f"{doc_id}d".encode()).hexdigest()[:48], due))
        warning.result()
        db.collection("mentions").document(doc_id).create({
            "platform": "x", "post_id": post_id, "kind": "mention", "conversation_id": post_id,
            "in_reply_to": None, "author_id": "1472583690", "author_handle": "kunde_bench", "author_name": "Kunde",
            "author_followers": 120, "brand_account_id": "1000000001", "text": text,
            "pii_kinds": [], "lang": "de", "url": None, "radar": False, "priority": None,
            "department": None, "status": "open", "created_at": now, "received_at": now, "due_at": due,
            "warn_at": due - timedelta(minutes=15), "promise_seconds": 3600.0, "answered_at": None,
            "alert_level": None, "next_alert_at": None, "acknowledged": False, "handoff_pending": False,
            "alerts": {}, "expire_at": now + timedelta(days=90), "schema": 1})

    return ingest
