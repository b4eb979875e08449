"""Attack: a signed X delivery that mentions ``replay_job_status`` anywhere (a post's text will do)
and nests deeply. ``x_webhook`` reads such a body twice — once for X's "replay finished" note,
then as events — and the first read must be as hardened as the second: garbage is 400, never a
500 (which X answers by resending the batch, and which pages the operator)."""

from __future__ import annotations

import pytest

from hilft.app import App
from hilft.channels.x import parse as x
from hilft.service.gaps import replay_job_status
from hilft.settings import Settings
from tests.security.inprocess import answer

SECRET = "s3cret"


def _deep(depth: int, where: str) -> bytes:
    nest = "[" * depth + "1" + "]" * depth
    if where == "in_status":
        return ('{"replay_job_status":' + nest + "}").encode()
    return ('{"for_user_id":"1000000001","note":' + nest + ',"text":"replay_job_status"}').encode()


@pytest.mark.parametrize("depth", [1_000, 3_000, 20_000])
@pytest.mark.parametrize("where", ["in_status", "beside_the_word"])
def test_a_deep_body_is_not_a_replay_status(depth, where):
    assert replay_job_status(_deep(depth, where)) is None


@pytest.mark.parametrize("depth", [1_000, 3_000, 20_000])
@pytest.mark.parametrize("where", ["in_status", "beside_the_word"])
def test_x_webhook_answers_400_to_a_signed_deep_replay_lookalike(depth, where):
    app = App(Settings(oidc_required=False, x_client_secret=SECRET, x_brand_user_ids=frozenset({"1000000001"})))
    body = _deep(depth, where)
    response = answer(app, "x_webhook", body=body, headers={
        "Content-Type": "application/json", "X-Twitter-Webhooks-Signature-OAuth2": x.sign(body, SECRET)})
    assert response.status_code == 400, response.get_data(as_text=True)


def test_the_genuine_replay_note_is_still_recognised():
    body = b'{"replay_job_status":{"webhook_id":"1","job_id":"7","job_state":"Complete"}}'
    assert replay_job_status(body) == {"webhook_id": "1", "job_id": "7", "job_state": "Complete"}
