"""The raw loop's calls (bench/ingest.py ``raw_work``) inside functions-framework: read the body, make
the same two task creates and the same Firestore ``create()`` with the bare clients, answer what
x_webhook answers. Next to the raw loop it shows what the framework adds to those calls; next to
x_webhook, what hilft adds (signature, parsing, PII, routing, due time, its adapters, logging)."""

import hashlib
import os

import functions_framework
import grpc
from bench.sources.raw_ingest import raw_ingest
from google.cloud import firestore, tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

QUEUE = os.environ["HILFT_TASKS_QUEUE"]
ANSWER = '{"ok": true, "stored": 1, "duplicates": 0, "answered": 0, "deleted": 0, "ignored": 0}'

ingest = raw_ingest(firestore.Client(project=os.environ["GOOGLE_CLOUD_PROJECT"]),
                    tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(
                        channel=grpc.insecure_channel(os.environ["CLOUD_TASKS_EMULATOR_HOST"]))),
                    QUEUE, os.environ["HILFT_DEADLINE_URL"])


@functions_framework.http
def raw_calls(request):  # type: ignore[no-untyped-def]
    if request.method == "GET":  # the bench's readiness probe
        return "ok"
    body = request.get_data()
    ingest(hashlib.sha256(body).hexdigest()[:19],
           "@Telekom_hilft Bench-Post: Internet seit heute Morgen weg, Router blinkt rot.")
    return ANSWER, 200, {"Content-Type": "application/json"}
