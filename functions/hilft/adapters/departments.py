"""Tells a department (Fachabteilung) about a handoff: a JSON webhook or an e-mail."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import httpx

from hilft.core.policy import Policy
from hilft.logs import get_logger

log = get_logger("hilft.departments")


class DepartmentNotifierHttp:
    def __init__(self, policy: Policy, http: httpx.Client) -> None:
        self.policy = policy
        self.http = http

    def notify(self, department: str, handoff: Mapping[str, Any]) -> bool:
        dept = self.policy.departments.get(department)
        sink = getattr(dept, "sink", None) if dept is not None else None
        if sink is None:
            return False
        kind = getattr(sink, "type", None)
        if kind == "webhook":
            response = self.http.post(str(sink.url), json={"event": "handoff", **dict(handoff)})
            if response.status_code >= 300:
                log.warning("department webhook refused", department=department, status=response.status_code)
                return False
            return True
        if kind == "email":
            message = EmailMessage()
            message["Subject"] = f"hilft handoff {handoff.get('case_ref')} ({department})"
            message["From"] = str(sink.from_)
            message["To"] = str(sink.to)
            message.set_content("\n".join(f"{k}: {v}" for k, v in handoff.items() if v is not None))
            with smtplib.SMTP(str(sink.smtp_host), int(sink.smtp_port), timeout=10) as smtp:
                smtp.send_message(message)
            return True
        return False
