"""Departments hear about a handoff by webhook or e-mail."""

from __future__ import annotations

import json
from email import message_from_bytes

import httpx
import respx

from fakes.smtp import FakeSmtp
from hilft.adapters.departments import DepartmentNotifierHttp
from hilft.core.policy import parse_policy

HANDOFF = {"handoff_id": "h1", "case_ref": "HX-ABC123", "department": "rechnung", "platform": "x",
           "post_id": "1", "text": "Meine Kundennummer ⟨customer_number⟩", "reason": "pii", "status": "dm_sent"}


def policy(sink: str):
    return parse_policy(f"""
[handoff]
default_department = "rechnung"
[departments.rechnung]
label = "Rechnung"
sink = {sink}
""")


def test_department_webhook_gets_the_handoff_as_json():
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://dept.example.org/hook").respond(202)
        notifier = DepartmentNotifierHttp(policy('{ type = "webhook", url = "https://dept.example.org/hook" }'),
                                          httpx.Client())
        assert notifier.notify("rechnung", HANDOFF) is True
        sent = json.loads(route.calls.last.request.content)
        assert sent["event"] == "handoff" and sent["case_ref"] == "HX-ABC123"


def test_department_webhook_refusal_is_reported_not_raised():
    with respx.mock() as mock:
        mock.post("https://dept.example.org/hook").respond(500)
        notifier = DepartmentNotifierHttp(policy('{ type = "webhook", url = "https://dept.example.org/hook" }'),
                                          httpx.Client())
        assert notifier.notify("rechnung", HANDOFF) is False


def test_department_email_is_sent_over_smtp():
    smtp = FakeSmtp().start()
    try:
        sink = (f'{{ type = "email", to = "rechnung@example.org", from = "hilft@example.org", '
                f'smtp_host = "127.0.0.1", smtp_port = {smtp.port} }}')
        assert DepartmentNotifierHttp(policy(sink), httpx.Client()).notify("rechnung", HANDOFF) is True
    finally:
        smtp.stop()
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.recipients == ["rechnung@example.org"]
    parsed = message_from_bytes(mail.data)
    assert "HX-ABC123" in parsed["Subject"]
    assert "⟨customer_number⟩" in parsed.get_payload(decode=True).decode()


def test_department_without_sink_is_not_notified():
    assert DepartmentNotifierHttp(parse_policy("[departments.a]\nlabel = \"A\"\n[handoff]\ndefault_department = \"a\"\n"),
                                  httpx.Client()).notify("a", HANDOFF) is False
