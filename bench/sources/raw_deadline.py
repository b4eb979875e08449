"""The floor of one alert: ``deadline``'s calls inside functions-framework with nothing of hilft.

Per Cloud Tasks delivery: read the post (Firestore ``get``), claim the level (``update`` with the
read's ``last_update_time`` as precondition), POST a signed JSON alert to the webhook sink with
httpx, record it (``update``) — the three Firestore round trips and the one POST that hilft's send-once
alert makes (bench/alert_lag.py runs it next to ``deadline`` on the same spike). No OIDC check, no
policy, no message text, no typed document, no logging: what is left of ``deadline``'s lag when
hilft's own work is taken out.
"""

import hashlib
import hmac
import json
import os
import time
from datetime import UTC, datetime

import functions_framework
import httpx
from google.cloud import firestore

db = firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"])
http = httpx.Client(timeout=10.0)
SINK_URL = os.environ["ALERT_WEBHOOK_URL"]
SECRET = os.environ["ALERT_WEBHOOK_SECRET"].encode()


@functions_framework.http
def raw_deadline(request):  # type: ignore[no-untyped-def]
    if request.method == "GET":  # the bench's readiness probe
        return "ok"
    task = json.loads(request.get_data())
    doc_id, level = task["doc_id"], int(task.get("level", 1))
    ref = db.collection("mentions").document(doc_id)
    snap = ref.get()
    post = snap.to_dict() or {}
    sent = (post.get("alerts") or {}).get(str(level), {}).get("state") == "sent"
    if post.get("status") not in {"open", "overdue"} or sent:
        return "nothing to do"
    now = datetime.now(UTC).isoformat()
    ref.update({f"alerts.{level}": {"state": "claimed", "claimed_at": now}},
               option=db.write_option(last_update_time=snap.update_time))
    body = json.dumps({"event": "triggered", "doc_id": doc_id, "level": level, "post_id": post.get("post_id"),
                       "excerpt": post.get("text"), "due_at": task.get("due_at"), "sent_at": now}).encode()
    stamp = int(time.time())
    mac = hmac.new(SECRET, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    http.post(SINK_URL, content=body, headers={"Content-Type": "application/json", "X-Hilft-Event": "triggered",
                                               "X-Hilft-Signature": f"t={stamp},v1={mac}",
                                               "X-Hilft-Delivery": f"{doc_id}:{level}"}).raise_for_status()
    ref.update({f"alerts.{level}": {"state": "sent", "sinks_sent": ["webhook"], "sent_at": now}, "level": level})
    return "alerted"
