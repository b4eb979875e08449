"""Cold-start baseline: the heavy client libraries imported eagerly at instance start, then main's
entry points (their own imports are then already done; main's background warm-up is switched off,
so this is exactly "eager imports, then answer")."""

import functions_framework  # noqa: F401
import google.cloud.firestore  # noqa: F401
import google.cloud.tasks_v2  # noqa: F401
import httpx  # noqa: F401

import hilft.app

hilft.app.start_warm_up = lambda: None  # type: ignore[assignment]

from main import x_webhook  # noqa: E402,F401
