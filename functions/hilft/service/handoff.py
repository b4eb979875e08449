"""Handing a public post off to a private channel and a department.

Never two DMs for one handoff: the ``handoffs`` document is claimed (``create()``, then an
expiring in-progress mark) before anything is sent, and records what the platform accepted.

Personal data never stays in public: before the DM of a handoff for personal data in a public
post, the post itself is hidden where the platform lets the brand (``capabilities.can_hide``,
policy ``handoff.hide_public``); where it cannot be hidden, the DM tells the customer they can
delete it (template ``delete_hint``). The hide is best effort: whatever it answers is recorded
(``public_hidden`` or ``hide_refused``) and the handoff goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hilft.channels import Gateway
from hilft.core import ids, templates
from hilft.core.document import MentionDoc
from hilft.core.errors import (
    Conflict,
    HilftError,
    NotFound,
    PlatformConfigError,
    PlatformRateLimited,
    PlatformRefused,
    PrivateChannelRefused,
    TransientError,
)
from hilft.core.models import Kind, Status
from hilft.core.policy import Policy
from hilft.core.promise_phrase import promise_phrase
from hilft.logs import get_logger
from hilft.service.answers import AnswerRecorder
from hilft.service.claims import send_once
from hilft.service.ports import HANDOFFS, MENTIONS, Clock, Scheduler, Snapshot, Store

log = get_logger("hilft.handoff")


class DepartmentNotifier(Protocol):
    def notify(self, department: str, handoff: Mapping[str, Any]) -> bool: ...


@dataclass
class HandoffResult:
    outcome: str
    handoff_id: str | None = None
    dm_id: str | None = None
    public_reply_id: str | None = None


class HandoffService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock,
                 gateways: Callable[[str], Gateway | None], notifier: DepartmentNotifier | None,
                 claim_ttl: timedelta) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.gateways = gateways
        self.notifier = notifier
        self.claim_ttl = claim_ttl
        self.answers = AnswerRecorder(store, scheduler, clock, claim_ttl=claim_ttl)

    def department_names(self) -> list[str]:
        return list(self.policy.departments)

    def _post_and_department(self, doc_id: str, department: str | None) -> tuple[MentionDoc, str] | None:
        """The post to hand off and the department it goes to (the asked one, else the post's, else
        the default); None for a deleted post. ``NotFound`` for a post or department that does not exist."""
        post_snap = self.store.get(MENTIONS, doc_id)
        if post_snap is None:
            raise NotFound("no such post")
        post = MentionDoc.from_snapshot(post_snap)
        if post.status == Status.DELETED:
            return None
        department = department or post.department or self.policy.handoff.default_department
        if department not in self.policy.departments and department != self.policy.handoff.default_department:
            raise NotFound("no such department")
        return post, department

    def request(self, doc_id: str, *, department: str | None, text: str | None,
                requested_by: str) -> HandoffResult:
        """A staff member asks for a handoff: check it, then leave the sending to ``deadline``.

        Staff-facing functions hold no platform tokens (least privilege): they validate, and a
        Cloud Task carries the request to ``deadline``, which has the tokens and runs ``handoff``
        with the same exactly-once claim as an automatic handoff.
        """
        target = self._post_and_department(doc_id, department)
        if target is None:
            return HandoffResult("post_deleted")
        _, department = target
        hid = ids.handoff_id(doc_id, department)
        existing = self.store.get(HANDOFFS, hid)
        if existing is not None and existing.data.get("state") == "sent":
            return HandoffResult("already_handed_off", hid, existing.data.get("dm_id"),
                                 existing.data.get("public_reply_id"))
        now = self.clock()
        self.scheduler.schedule(ids.task_id(doc_id, f"manual-handoff:{department}", 0, now), now,
                                {"doc_id": doc_id, "kind": "handoff", "department": department,
                                 "reason": "manual", "text": text, "requested_by": requested_by,
                                 "attempt": 0}, now)
        log.info("handoff requested", doc_id=doc_id)
        return HandoffResult("queued", hid)

    def handoff(self, doc_id: str, *, department: str | None, reason: str, pii: bool = False,
                text: str | None = None, requested_by: str | None = None, attempt: int = 0) -> HandoffResult:
        target = self._post_and_department(doc_id, department)
        if target is None:
            return HandoffResult("post_deleted")
        post, department = target
        now = self.clock()
        hid = ids.handoff_id(doc_id, department)
        claimed = self._claim(hid, doc_id, post, department, reason, requested_by, now)
        if isinstance(claimed, HandoffResult):
            return claimed

        gateway = self.gateways(post.platform.value)
        if gateway is None:
            self._finish(hid, {"state": "failed", "status": "no_platform_client"})
            raise PlatformConfigError("no client configured for this platform")

        language = templates.pick_language(post.lang, self.policy.brand.default_language)
        form = self.policy.brand.address_form
        overrides = self.policy.template_overrides(language, form)
        values = {
            "name": templates.customer_name(post.author_name, post.author_handle, public=False),
            "case_ref": templates.case_reference(post.post_id, post.platform.value),
            "promise": self._promise(post, now, language, form),
            "department": self._label(department),
            "private_channel": self.policy.private_channel(post.platform.value, language) or "",
        }
        # Public texts name only the author's plain handle, never the display name (issue #12).
        public_values = {**values, "name": templates.customer_name(None, post.author_handle, public=True)}
        record: dict[str, Any] = {"case_ref": values["case_ref"], "language": language}
        # Personal data in a public post: hide the post first where the platform lets the brand; if it
        # stays up (refused, or the channel cannot hide), the DM says the customer can delete it.
        hint: tuple[str, ...] = ()
        if pii and post.kind != Kind.DM:
            hidden = self.policy.handoff.hide_public and self._hide_public(gateway, post, record, doc_id)
            hint = () if hidden else ("delete_hint",)
        hide_fields: dict[str, Any] = {k: record[k] for k in ("public_hidden", "hide_refused") if k in record}
        if text:
            dm_text = text
            if hint:
                dm_text += " " + templates.render("delete_hint", language=language, address_form=form,
                                                overrides=overrides, **values)
        else:
            # A post moved to a DM is told why it moved; a DM (private already) only where it went.
            template = "dm_handoff" if post.kind == Kind.DM else "handoff_dm"
            dm_text = templates.render(template, language=language, address_form=form, overrides=overrides,
                                       append=hint, **values)
        can_dm = getattr(getattr(gateway, "capabilities", None), "can_dm", True)
        try:
            if can_dm:
                record["dm_id"] = gateway.send_private(post, dm_text, now,
                                                       send=send_once(self.store, HANDOFFS, hid, "dm"))
                record["status"] = "dm_sent"
                if hint:
                    record["delete_hint"] = True
            else:
                # No DMs on this channel (Threads): a public reply pointing to the private channel the
                # policy names. A staff member's own text is meant for a DM: never posted publicly.
                record["status"] = "public_pointer"
                pointer = templates.render("private_pointer", language=language, address_form=form,
                                           overrides=overrides, **public_values)
                try:
                    record["public_reply_id"] = gateway.public_reply(
                        post, pointer, send=send_once(self.store, HANDOFFS, hid, "private_pointer"))
                except PrivateChannelRefused as refused:
                    record["public_reply_error"] = refused.message
        except PrivateChannelRefused as exc:
            log.info("private message refused, replying publicly", doc_id=doc_id, why=exc.message)
            reply = templates.render("dm_closed_reply", language=language, address_form=form,
                                     overrides=overrides, **public_values)
            record["status"] = "dm_refused"
            record["refusal"] = exc.message
            try:
                record["public_reply_id"] = gateway.public_reply(
                    post, reply, send=send_once(self.store, HANDOFFS, hid, "dm_closed_reply"))
            except PrivateChannelRefused as exc2:
                record["public_reply_error"] = exc2.message
        except PlatformRateLimited as exc:
            retry_at = exc.retry_at if isinstance(exc.retry_at, datetime) else now + timedelta(minutes=1)
            self._finish(hid, {**hide_fields, "state": "rate_limited", "retry_at": retry_at})
            due = post.due_at or now
            self.scheduler.schedule(ids.task_id(doc_id, "handoff", attempt + 1, due), max(retry_at, now),
                                    {"doc_id": doc_id, "kind": "handoff", "department": department,
                                     "reason": reason, "pii": pii, "attempt": attempt + 1,
                                     "text": text, "requested_by": requested_by,
                                     "due_at": due.isoformat()}, now)
            log.warning("platform rate limit: handoff rescheduled", doc_id=doc_id, attempt=attempt + 1)
            return HandoffResult("rate_limited", hid)
        except (TransientError, PlatformConfigError):
            self._finish(hid, {**hide_fields, "state": "failed"})
            raise

        if pii and self.policy.handoff.public_reply and record["status"] == "dm_sent":
            reply = templates.render("public_reply", language=language, address_form=form,
                                     overrides=overrides, **public_values)
            try:
                record["public_reply_id"] = gateway.public_reply(
                    post, reply, send=send_once(self.store, HANDOFFS, hid, "public_reply"))
            except (PrivateChannelRefused, TransientError, PlatformConfigError) as exc:
                record["public_reply_error"] = type(exc).__name__

        record.update({"state": "sent", "sent_at": self.clock()})
        self._finish(hid, record)
        if self.notifier is not None:
            try:
                record["department_notified"] = self.notifier.notify(department, {
                    "handoff_id": hid, "case_ref": values["case_ref"], "department": department,
                    "platform": post.platform.value, "post_id": post.post_id, "url": post.url,
                    "text": post.text, "reason": reason, "status": record["status"]})
            except Exception:  # notification is best effort; the handoff itself has happened
                record["department_notified"] = False
                log.warning("department notification failed", department=department, handoff_id=hid)
            self.store.update(HANDOFFS, hid, {"department_notified": record["department_notified"]})
        accepted_at = self.clock()
        self.answers.mark_handed_off(doc_id, at=accepted_at,
                                     via=str(record.get("dm_id") or record.get("public_reply_id") or hid),
                                     handoff_id=hid, department=department, private_reply_id=record.get("dm_id"))
        log.info("handed off", doc_id=doc_id, handoff_id=hid, department=department, status=record["status"])
        return HandoffResult(record["status"], hid, record.get("dm_id"), record.get("public_reply_id"))

    @staticmethod
    def _hide_public(gateway: Gateway, post: MentionDoc, record: dict[str, Any],
                     doc_id: str) -> bool:
        """Hide the customer's public post if the channel can; record ``public_hidden`` or
        ``hide_refused``. Never raises: a refused or failed hide must not stop the handoff, and a
        rate limit or outage is not worth retrying the whole handoff for (the DM then carries the hint)."""
        capabilities = getattr(gateway, "capabilities", None)
        hide = getattr(gateway, "hide_public", None)
        if not getattr(capabilities, "can_hide", False) or not callable(hide):
            record["hide_refused"] = "channel_cannot_hide"
            return False
        if not getattr(capabilities, "can_dm", True):
            # No DMs (Threads): the handoff is a public pointer posted under this very post, and
            # hiding a reply hides what is posted under it: the pointer would vanish with it.
            record["hide_refused"] = "pointer_reply_below"
            return False
        try:
            hide(post)
        except (PlatformRefused, PrivateChannelRefused) as exc:
            record["hide_refused"] = exc.message
        except PlatformRateLimited:
            record["hide_refused"] = "rate_limited"
        except TransientError:
            record["hide_refused"] = "unavailable"
        except PlatformConfigError as exc:
            record["hide_refused"] = f"config_error: {exc.message}"
            log.warning("hiding the public post needs an operator", doc_id=doc_id, why=exc.message)
        except HilftError as exc:
            record["hide_refused"] = exc.message
        except Exception as exc:  # a bug in one channel's hide must not cost the customer their DM
            record["hide_refused"] = f"error: {type(exc).__name__}"
            log.warning("hiding the public post failed", doc_id=doc_id, error=type(exc).__name__)
        else:
            record["public_hidden"] = True
            log.info("public post hidden", doc_id=doc_id)
            return True
        log.info("public post not hidden", doc_id=doc_id, why=record["hide_refused"])
        return False

    def _promise(self, post: MentionDoc, now: datetime, language: str, form: str) -> str:
        """The real time the customer can expect an answer: from the post's own ``due_at``."""
        if post.due_at is not None:
            return promise_phrase(post.due_at, now, self.policy.calendar.tz, language, form).text
        # no due time: a stub, or a radar item without a promise (the platform's ordinary one applies)
        seconds = post.promise_seconds or self.policy.promise_for(post.platform.value, post.priority).total_seconds()
        return templates.promise_phrase(timedelta(seconds=float(seconds)), language, form)

    def _label(self, department: str) -> str:
        dept = self.policy.departments.get(department)
        return getattr(dept, "label", None) or department

    def _claim(self, hid: str, doc_id: str, post: MentionDoc, department: str, reason: str,
               requested_by: str | None, now: datetime) -> HandoffResult | None:
        base = {"doc_id": doc_id, "platform": post.platform.value, "post_id": post.post_id,
                "department": department, "reason": reason, "requested_by": requested_by,
                "created_at": now, "expire_at": post.expire_at}
        verdict: dict[str, Any] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            verdict.clear()
            if snap is None:
                return None
            data = snap.data
            state = data.get("state")
            if state == "sent":
                verdict["done"] = HandoffResult("already_handed_off", hid, data.get("dm_id"),
                                                data.get("public_reply_id"))
                return None
            expires = data.get("expires_at")
            if state == "in_progress" and isinstance(expires, datetime) and expires > now:
                verdict["busy"] = True
                return None
            verdict["mine"] = True
            return {"state": "in_progress", "expires_at": now + self.claim_ttl}

        for _ in range(5):
            if self.store.create(HANDOFFS, hid, {**base, "state": "in_progress",
                                                 "expires_at": now + self.claim_ttl}):
                return None
            snap = self.store.mutate(HANDOFFS, hid, decide)
            if "done" in verdict:
                return verdict["done"]
            if verdict.get("busy"):
                raise Conflict("handoff already in progress")
            if snap is not None and verdict.get("mine"):
                return None
        raise TransientError("handoff claim contended")

    def _finish(self, hid: str, fields: dict[str, Any]) -> None:
        self.store.update(HANDOFFS, hid, fields)
