"""Attack: call ``deadline``/``sweep`` with any Google-signed token while the deployment forgot to
set the expected audience or caller. OIDC required + missing configuration must refuse every call
(a 500 that names the variable in the log), never accept "any audience, any caller"."""

from __future__ import annotations

import flask
import pytest

from hilft import handlers, web
from hilft.app import App
from hilft.settings import Settings

COMPLETE = {"deadline_url": "https://deadline.example", "tasks_service_account": "tasks@p.iam.gserviceaccount.com",
            "sweep_url": "https://sweep.example",
            "scheduler_service_account": "scheduler@p.iam.gserviceaccount.com"}


@pytest.mark.parametrize(("entry_point", "missing", "variable"), [
    ("deadline", "deadline_url", "HILFT_DEADLINE_URL"),
    ("deadline", "tasks_service_account", "HILFT_TASKS_SERVICE_ACCOUNT"),
    ("sweep", "sweep_url", "HILFT_SWEEP_URL"),
    ("sweep", "scheduler_service_account", "HILFT_SCHEDULER_SERVICE_ACCOUNT"),
])
def test_missing_oidc_configuration_refuses_every_call(entry_point, missing, variable, caplog):
    settings = Settings(oidc_required=True, **{k: v for k, v in COMPLETE.items() if k != missing})
    app = App(settings)
    touched: list[str] = []
    # Any work past the identity check would reach the store: make that visible.
    app.__dict__["deadline_service"] = _Tripwire(touched)
    app.__dict__["handoff_service"] = _Tripwire(touched)
    flask_app = flask.Flask(__name__)
    with flask_app.test_request_context("/", method="POST", json={"kind": "due", "doc_id": "a" * 40},
                                        headers={"Authorization": "Bearer anything"}):
        response = web.handle(entry_point, flask.request, lambda: getattr(handlers, entry_point)(app, flask.request))
    assert response.status_code == 500
    assert variable in response.get_data(as_text=True)
    assert touched == []
    named = [r for r in caplog.records if r.levelname == "ERROR" and getattr(r, "fields", {}).get("variable") == variable]
    assert named, "the ERROR log line names the variable"


class _Tripwire:
    def __init__(self, touched: list[str]) -> None:
        self._touched = touched

    def __getattr__(self, name: str) -> object:
        self._touched.append(name)
        raise AssertionError(f"{name} reached without a verified caller")
