"""Cold-start variant, not shipped: main plus the warm-up issue 15 suggests, the heavy clients imported
and built in a background thread as soon as gunicorn's worker exists (the master forks it after
binding; a thread started before the fork would not survive it, and could leave an import lock held
in the child). bench/cold_start.py measures it next to main and the eager baseline."""

import os
import threading


def _warm_up() -> None:
    try:
        from hilft.app import get_app

        app = get_app()
        app.policy  # noqa: B018 - built now
        app.store.client  # noqa: B018
        app.scheduler.client  # noqa: B018
    except Exception:  # noqa: BLE001, S110 - the request that needs the part reports it
        pass


os.register_at_fork(after_in_child=lambda: threading.Thread(target=_warm_up, daemon=True).start())

from main import x_webhook  # noqa: E402,F401
