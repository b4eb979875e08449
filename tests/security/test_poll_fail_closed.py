"""Attack: call ``poll`` with any Google-signed token while the deployment forgot to set its
audience (``HILFT_POLL_URL``) or the scheduler's identity. OIDC required + missing configuration
must refuse every call (a 500 naming the variable), and nothing is fetched or stored."""

from __future__ import annotations

import flask
import pytest

from hilft import handlers, web
from hilft.app import App
from hilft.settings import Settings

COMPLETE = {"poll_url": "https://poll.example", "scheduler_service_account": "scheduler@p.iam.gserviceaccount.com"}


class _Tripwire:
    def __init__(self, touched: list[str]) -> None:
        self._touched = touched

    def __getattr__(self, name: str) -> object:
        self._touched.append(name)
        raise AssertionError(f"{name} reached without a verified caller")


@pytest.mark.parametrize(("missing", "variable"), [
    ("poll_url", "HILFT_POLL_URL"),
    ("scheduler_service_account", "HILFT_SCHEDULER_SERVICE_ACCOUNT"),
])
def test_missing_oidc_configuration_refuses_every_poll(missing: str, variable: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    app = App(Settings(oidc_required=True, **{k: v for k, v in COMPLETE.items() if k != missing}))
    touched: list[str] = []
    app.__dict__["poll_service"] = _Tripwire(touched)
    with flask.Flask(__name__).test_request_context("/", method="POST", headers={"Authorization": "Bearer x"}):
        response = web.handle("poll", flask.request, lambda: handlers.poll(app, flask.request))
    assert response.status_code == 500 and variable in response.get_data(as_text=True)
    assert touched == []
    assert [r for r in caplog.records if r.levelname == "ERROR"
            and getattr(r, "fields", {}).get("variable") == variable]


def test_a_token_for_another_audience_is_refused_before_any_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    from hilft.core.errors import Unauthorized

    app = App(Settings(oidc_required=True, **COMPLETE))
    touched: list[str] = []
    app.__dict__["poll_service"] = _Tripwire(touched)
    seen: dict[str, object] = {}

    class Verifier:
        def verify(self, header: str | None, *, audience: str | None, allowed_emails: list[str]) -> None:
            seen.update(audience=audience, emails=allowed_emails)
            raise Unauthorized("wrong audience")

    app.__dict__["oidc"] = Verifier()
    with flask.Flask(__name__).test_request_context("/", method="POST", headers={"Authorization": "Bearer x"}):
        response = web.handle("poll", flask.request, lambda: handlers.poll(app, flask.request))
    assert response.status_code == 401 and touched == []
    assert seen == {"audience": "https://poll.example", "emails": ["scheduler@p.iam.gserviceaccount.com"]}
