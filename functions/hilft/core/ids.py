"""Identifiers that are deterministic (so redelivery dedupes) but not sequential.

Tweet ids and Meta ids grow with time; Firestore hotspots on monotonically increasing document
ids and Cloud Tasks slows down on sequential task names, so both are hashed.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_DOC_ID = re.compile(r"[0-9a-f]{40}")


def is_doc_id(value: str) -> bool:
    """Ids that come back from outside (staff tools, PagerDuty) must be ours before they touch a path."""
    return bool(_DOC_ID.fullmatch(value))


def mention_doc_id(platform: str, post_id: str) -> str:
    return _digest("mention", platform, post_id)[:40]


def answer_key(platform: str, target: str) -> str:
    """Key of an 'answered' marker for a post id or a DM conversation id."""
    return _digest("answer", platform, target)[:40]


def own_message_key(platform: str, message_id: str) -> str:
    """Key of a message hilft sent on its own (an out-of-hours acknowledgment), by its platform id."""
    return _digest("own", platform, message_id)[:40]


def task_id(doc_id: str, kind: str, level: int, due_at: datetime, attempt: int = 0) -> str:
    return _digest(doc_id, kind, str(level), due_at.isoformat(), str(attempt))[:48]


def handoff_id(doc_id: str, department: str) -> str:
    return _digest("handoff", doc_id, department)[:40]


def holding_reply_id(doc_id: str) -> str:
    """The claim of a post's one holding reply (``replies/{id}``)."""
    return _digest("holding-reply", doc_id)[:40]
