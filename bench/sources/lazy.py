"""Cold-start reference: main without its instance warm-up (every import and client on the first
request, as main did before hilft.app.start_warm_up)."""

import hilft.app

hilft.app.start_warm_up = lambda: None  # type: ignore[assignment]

from main import x_webhook  # noqa: E402,F401
