"""Cold-start baseline: the heavy client libraries imported eagerly at instance start, then main's
entry points (whose own imports are then already done)."""

import functions_framework  # noqa: F401
import google.cloud.firestore  # noqa: F401
import google.cloud.tasks_v2  # noqa: F401
import httpx  # noqa: F401

from main import x_webhook  # noqa: F401
