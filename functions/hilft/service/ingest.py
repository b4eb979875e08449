"""Webhook events in, `mentions` documents and deadline tasks out: exactly once per post.

Order of writes: tasks are enqueued before the document is created, so a crash between the two
loses nothing (the platform redelivers; the task names dedupe; `deadline` tolerates a missing
document). ``create()`` is the exactly-once gate for the document.

An edit lands on the document of the post's first version: its text is replaced and redacted
again, the promise stays as it was. A post Meta sent as ids only gets an ``enrich`` task that
fetches its text later (``service.enrich``). A revoked platform access is an operator alert.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hilft.core import document, ids
from hilft.core.closing import DEFAULT_BLOCKERS, DEFAULT_FILLERS, DEFAULT_PHRASES, closing_phrase
from hilft.core.document import MentionDoc
from hilft.core.errors import TransientStoreError
from hilft.core.models import AccessRevoked, Deletion, Kind, Mention, ParsedBatch, Platform, Status
from hilft.core.pii import redact_text
from hilft.core.policy import Policy
from hilft.core.promise_phrase import out_of_hours_answer
from hilft.core.radar_rules import is_ours
from hilft.core.routing import radar_match, route
from hilft.logs import get_logger
from hilft.service.answers import AnswerRecorder, pending_task_ids
from hilft.service.ports import ANSWERS, MENTIONS, OPERATOR_ALERTS, OWN_MESSAGES, Clock, Scheduler, Snapshot, Store
from hilft.service.report import count_again_in_rollup

log = get_logger("hilft.ingest")

# Posts on the brand's own Facebook page or Instagram account are addressed to the brand.
_OWNED_SURFACES = {Platform.FACEBOOK, Platform.INSTAGRAM, Platform.MESSENGER}


HANDOFF_DELAY = timedelta(seconds=1)
ENRICH_DELAY = timedelta(seconds=1)  # the document is committed first in the usual case
REOPEN_ATTEMPTS = 3  # an edit's reopen that changes under it this often is retried by the platform


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    answered: int = 0
    deleted: int = 0
    ignored: int = 0
    brand: int = 0
    edited: int = 0
    revoked: int = 0
    doc_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def retention(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


class IngestService:
    def __init__(self, *, store: Store, scheduler: Scheduler, policy: Policy, clock: Clock, claim_ttl: timedelta,
                 retention_days: int = 90) -> None:
        self.store = store
        self.scheduler = scheduler
        self.policy = policy
        self.clock = clock
        self.retention_days = retention_days
        # ``claim_ttl``: how long hilft's own out-of-hours acknowledgment may be under way, so its echo is no answer.
        self.answers = AnswerRecorder(store, scheduler, clock, claim_ttl=claim_ttl)
        # The shipped policy's whole PII configuration: the brand's own numbers, addresses, domains
        # and ticket formats, extra phone regions, customer-number patterns.
        self.pii_config = policy.pii.config()

    def ingest(self, batch: ParsedBatch, brand_ids: frozenset[str]) -> IngestResult:
        result = IngestResult()
        for name in batch.ignored:
            log.info("event type ignored", event_type=name)
            result.ignored += 1
        for event in batch.events:
            if isinstance(event, AccessRevoked):
                self._revoked(event, brand_ids, result)
            elif isinstance(event, Deletion):
                self._delete(event, result)
            elif event.is_brand:
                self._brand_post(event, result)
            else:
                self._customer_post(event, brand_ids, result)
        return result

    # -- customer posts --------------------------------------------------------------------
    def _addressed_to_brand(self, m: Mention, brand_ids: frozenset[str]) -> bool:
        if m.kind == Kind.DM or m.platform in _OWNED_SURFACES or m.on_brand_surface:
            return True
        if m.in_reply_to_author_id and m.in_reply_to_author_id in brand_ids:
            return True
        if m.quoted_author_id and m.quoted_author_id in brand_ids:
            return True  # "@brand seit 3 Tagen kein Netz" as a quote of the brand's post
        return bool(set(m.mentioned_user_ids) & brand_ids)

    def _customer_post(self, m: Mention, brand_ids: frozenset[str], result: IngestResult) -> None:
        radar = False
        # matched X stream rules (issue 17): only hilft's own rules (others may share the app's stream)
        rule_tags = tuple(tag for tag in getattr(m, "radar_rule_tags", ())
                          if is_ours(tag, self.policy.radar.rule_tag))
        if not self._addressed_to_brand(m, brand_ids):
            if not rule_tags and not radar_match(m.text, self.policy.radar.keywords, self.policy.radar.exclude):
                result.ignored += 1
                return
            radar = True
        now = self.clock()
        key = m.edit_of or m.post_id  # every version of a post shares its first version's document
        doc_id = ids.mention_doc_id(m.platform.value, key)
        if m.edit_of and m.edit_of != m.post_id:
            # A brand reply names the version it answered: lead that id to this document.
            self.store.set(ANSWERS, edit_alias_key(m.platform.value, m.post_id),
                           {"doc_id": doc_id, "platform": m.platform.value, "expire_at": retention(now, 30)})
        if m.edit_of and self._apply_edit(doc_id, m, result):
            return  # an edit of a post we hold: same document, same promise
        if self._edits_in_place(m) and self._apply_edit(doc_id, m, result):
            return  # a re-sent Instagram comment we hold: looked up before any task is queued
        redacted, pii_kinds = redact_text(m.text, self.pii_config, language=m.lang)
        if not radar and not pii_kinds and self._closes_answered_conversation(m, brand_ids):
            self._store_closing(doc_id, key, m, redacted, now, result)
            return
        decision = route(m.text, m.lang, self.policy.departments, self.policy.handoff.default_department)
        priority = self.policy.priority_for(m.text, m.author.followers)
        promise = self.policy.promise_for(m.platform.value, priority)
        no_promise = radar and not self.policy.radar.promises  # issue 17: radar.first_response = "none"
        if radar and self.policy.radar.first_response is not None:
            promise = self.policy.radar.first_response  # the brand chose to reach out, it did not promise
        start = min(m.created_at, now)
        due_at: datetime | None = None if no_promise else self.policy.calendar.add_business_time(start, promise)
        warn_at = None if due_at is None else due_at - self.policy.promise.warning_before
        no_warning = radar and not self.policy.radar.warning  # issue 17: never a warning for radar items
        if no_warning:
            warn_at = due_at
        # Task names need a time that every redelivery computes alike: the due time, else the post's own.
        anchor = due_at or m.created_at
        base = {"doc_id": doc_id, "platform": m.platform.value, "post_id": key,
                **({"due_at": due_at.isoformat()} if due_at is not None else {})}

        # 1) enqueue first (concurrently): a crash after this and before the create loses nothing.
        tasks: list[tuple[str, datetime, dict[str, Any]]] = []
        if due_at is not None:
            if warn_at is not None and warn_at > now and not no_warning:
                tasks.append((ids.task_id(doc_id, "warning", 0, due_at), warn_at,
                              {**base, "kind": "warning", "level": 0}))
            tasks.append((ids.task_id(doc_id, "due", 1, due_at), due_at, {**base, "kind": "due", "level": 1}))
        # A public post with personal data or for a private department moves to a DM; a DM is
        # private already and is handed to a private department only (the DM says where it went).
        private = m.kind == Kind.DM
        wants_handoff = bool(self.policy.handoff.auto and (decision.requires_private
                                                            or (pii_kinds and not private)))
        author_lookup = x_author_lookup(m)
        handoff_after_author: dict[str, Any] = {}
        if wants_handoff:
            reason = "pii" if pii_kinds and not private else "department"
            # A moment later than now: the document below is committed first in the usual case.
            handoff = (ids.task_id(doc_id, "handoff", 0, anchor), now + HANDOFF_DELAY,
                       {**base, "kind": "handoff", "department": decision.department,
                        "reason": reason, "pii": bool(pii_kinds) and not private})
            if author_lookup:  # its greeting names the author: the lookup below schedules it
                handoff_after_author = {"task": handoff[0], "payload": handoff[2]}
            else:
                tasks.append(handoff)
        ooh = out_of_hours_answer(
            is_open=self.policy.calendar.is_open(now), reopens_at=self.policy.calendar.next_open(now),
            enabled=self.policy.promise.out_of_hours.enabled, public=self.policy.promise.out_of_hours.public,
            private=self.policy.promise.out_of_hours.dm, platform=m.platform.value, author_id=m.author.id,
            private_kind=m.kind == Kind.DM, is_brand=False, radar=radar, handoff_pending=wants_handoff,
            post_id=key,
        ) if not self.policy.calendar.always_open else None
        if ooh is not None:
            # The team is closed: one acknowledgment per author and closed period, sent by deadline.
            tasks.append((ids.task_id(doc_id, "out-of-hours", 0, anchor), now + HANDOFF_DELAY,
                          {**base, "kind": "out_of_hours", "template": ooh.template, "key": ooh.key,
                           "reopens_at": ooh.reopens_at.isoformat()}))
        if m.needs_enrichment:
            # Meta sent ids only: fetch text and author from the Graph API outside this request.
            tasks.append((ids.task_id(doc_id, "enrich", 0, anchor), now + ENRICH_DELAY,
                          {**base, "kind": "enrich", "lookup": enrichment_lookup(m)}))
        elif author_lookup:
            # X sent the author's id only (XAA replies and quotes): read handle, name and followers.
            tasks.append((ids.task_id(doc_id, "enrich", 0, anchor), now + ENRICH_DELAY,
                          {**base, "kind": "enrich", "lookup": author_lookup,
                           **({"then": handoff_after_author} if handoff_after_author else {})}))
        self.scheduler.schedule_many(tasks, now)

        # 2) the exactly-once gate.
        post = MentionDoc(
            **_post_fields(m, key, redacted, now),
            pii_kinds=sorted(str(k) for k in pii_kinds),
            radar=radar,
            priority=priority,
            department=decision.department,
            status=Status.OPEN,
            due_at=due_at,
            warn_at=warn_at,
            promise_seconds=None if no_promise else promise.total_seconds(),
            handoff_pending=wants_handoff,
            expire_at=retention(now, self.retention_days),
            schema=document.SCHEMA,
        )
        if rule_tags:
            post = post.updated({"radar_rules": list(rule_tags)})  # the X stream rules it matched (issue 17)
        if m.encrypted:
            post.encrypted = True  # no text to read here: staff open it on the platform
        if m.needs_enrichment:
            post.needs_enrichment = True
        if m.edit_of:
            post = post.updated(self._edit_fields(m, now))
        if not self.store.create(MENTIONS, doc_id, post.to_store()):
            if self._fill_answered_stub(doc_id, post):
                result.stored += 1
                result.answered += 1
                result.doc_ids.append(doc_id)
            elif self._edits_in_place(m) and self._apply_edit(doc_id, m, result):
                pass  # stored meanwhile by a concurrent delivery: apply the new words there
            else:
                result.duplicates += 1
                log.info("duplicate delivery", doc_id=doc_id, platform=m.platform.value)
            return
        result.stored += 1
        result.doc_ids.append(doc_id)
        log.info("mention stored", doc_id=doc_id, platform=m.platform.value, kind=m.kind.value,
                 radar=radar, pii=len(pii_kinds), department=decision.department)

        # 3) DMs: was the conversation answered (by a brand DM) after this message, out of order?
        if m.kind == Kind.DM and m.conversation_id:
            answer = self.store.get(ANSWERS, ids.answer_key(m.platform.value, m.conversation_id))
            answered_at = answer.data.get("answered_at") if answer else None
            if isinstance(answered_at, datetime) and answered_at >= m.created_at and answer is not None:
                if self.answers.mark_answered(doc_id, answered_at=answered_at,
                                              answered_by=answer.data.get("answered_by"),
                                              via=str(answer.data.get("via") or ""), seen_on_platform=True):
                    result.answered += 1

    # -- closing messages ----------------------------------------------------------------------
    def _closes_answered_conversation(self, m: Mention, brand_ids: frozenset[str]) -> bool:
        """"Danke, läuft wieder" replying to the brand's answer to this author (or in a DM thread
        the brand answered). A reply to any other brand post (an ad, an answer to someone else)
        is a new conversation: it keeps its promise."""
        closing = self.policy.closing
        if not closing.enabled or m.encrypted or m.needs_enrichment or m.edit_of:
            return False
        if self._closing_phrase(m) is None:
            return False  # the text decides first: most posts need no read at all
        if m.in_reply_to and m.in_reply_to_author_id and m.in_reply_to_author_id in brand_ids:
            return self._brand_answered_author(m)
        if m.kind == Kind.DM and m.conversation_id:
            marker = self.store.get(ANSWERS, ids.answer_key(m.platform.value, m.conversation_id))
            answered_at = marker.data.get("answered_at") if marker else None
            return isinstance(answered_at, datetime) and answered_at <= m.created_at
        return False

    def _brand_answered_author(self, m: Mention) -> bool:
        """Is the brand post this replies to the brand's answer to a post of this same author?"""
        if not m.in_reply_to or not m.author.id:
            return False
        return any(MentionDoc.from_snapshot(snap).author_id == m.author.id
                   for snap in self.store.answered_via(m.platform.value, m.in_reply_to))

    def _store_closing(self, doc_id: str, key: str, m: Mention, redacted: str, now: datetime,
                       result: IngestResult) -> None:
        """Kept (visible, reopenable on the board) but with no promise: no tasks, no alerts."""
        post = MentionDoc(**_post_fields(m, key, redacted, now), pii_kinds=[], radar=False,
                          status=Status.NO_REPLY_NEEDED, due_at=None,
                          expire_at=retention(now, self.retention_days), schema=document.SCHEMA)
        if self.store.create(MENTIONS, doc_id, post.to_store()):
            result.stored += 1
            result.doc_ids.append(doc_id)
            log.info("closing message: no reply needed", doc_id=doc_id, platform=m.platform.value)
        else:
            result.duplicates += 1

    # -- edits ---------------------------------------------------------------------------------
    @staticmethod
    def _edits_in_place(m: Mention) -> bool:
        """Instagram comments keep their id and carry no verb: new text under a known id is an edit."""
        return m.platform == Platform.INSTAGRAM and m.kind == Kind.REPLY and bool(m.text)

    def _edit_fields(self, m: Mention, now: datetime) -> dict[str, Any]:
        fields: dict[str, Any] = {"edited_at": m.edited_at or (m.created_at if m.platform == Platform.X else now),
                                  "edit_rank": m.edit_rank}
        if m.edit_of and m.edit_of != m.post_id:
            fields["latest_post_id"] = m.post_id
            fields["url"] = m.url
        return fields

    def _apply_edit(self, doc_id: str, m: Mention, result: IngestResult) -> bool:
        """Replace the stored text with the edited one, redacted again; the promise stays.

        False when the post is not stored yet (the caller stores the edit as the post) or the
        document is a stub an earlier answer left. An older version arriving after a newer one
        changes nothing (``edit_rank``); deleted posts stay forgotten. An edit Meta sent as ids
        only keeps the text held and gets a new ``enrich`` task that fetches the edited words.

        A closing message ("Danke, läuft wieder!") edited into something that no longer closes
        (a question, a complaint, personal data), or edited with words not sent yet (ids only),
        is reopened: it gets the promise it would have had on arrival (``_reopen_fields``). Its
        tasks are enqueued before the commit, as for a new post: ``decide`` first stops at the
        reopen it found, the tasks are queued, and a second pass commits it (if it still is the
        same reopen, else the tasks of the new one are queued first).
        """
        now = self.clock()
        redacted, pii_kinds = redact_text(m.text, self.pii_config, language=m.lang)
        verdict: dict[str, Any] = {}
        queued: list[tuple[str, datetime, dict[str, Any]]] | None = None  # the reopen tasks enqueued so far

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            verdict.clear()
            if snap is None:
                return None
            held = MentionDoc.from_snapshot(snap)
            if held.stub:
                return None
            verdict["known"] = True
            if held.status == Status.DELETED or held.edit_rank > m.edit_rank:
                return None
            reopen: dict[str, Any] = {}
            if held.status == Status.NO_REPLY_NEEDED and not self._still_closing(m, pii_kinds):
                reopen = self._reopen_fields(held, m, pii_kinds, now)
                reopened = held.updated(reopen)
                tasks = self._reopen_tasks(doc_id, reopened, "pii" if pii_kinds and held.kind != Kind.DM
                                           else "department", now)
                if tasks != queued:
                    verdict["enqueue_first"] = (reopened, tasks)
                    return None  # no commit before its tasks are queued
                verdict["reopened"] = reopened
            if m.needs_enrichment:
                if held.edit_rank == m.edit_rank and m.edit_rank > 0:
                    return None  # a redelivery of the edit already asked for
                verdict["data"] = held
                return {"needs_enrichment": True, **self._edit_fields(m, now), **reopen}
            if held.text == redacted and not held.needs_enrichment:
                return None  # a redelivery of the version we hold
            merged_kinds = sorted(set(held.pii_kinds) | {str(k) for k in pii_kinds})
            verdict["new_pii"] = bool(pii_kinds) and not held.pii_kinds
            verdict["data"] = held
            return {"text": redacted, "pii_kinds": merged_kinds, "needs_enrichment": False,
                    **self._edit_fields(m, now), **reopen}

        for _ in range(REOPEN_ATTEMPTS):
            snap = self.store.mutate(MENTIONS, doc_id, decide)
            if "enqueue_first" not in verdict:
                break
            reopened, queued = verdict["enqueue_first"]
            # Enqueue first (as a new post): a crash after this and before the commit loses nothing.
            self.scheduler.schedule_many(queued, now)
            count_again_in_rollup(self.store, self.policy, doc_id, reopened.received_at)
        else:
            raise TransientStoreError("a reopened post changed while its tasks were queued, retry later")
        if not verdict.get("known"):
            return False
        if "data" in verdict and snap is not None:
            result.edited += 1
            result.doc_ids.append(doc_id)
            log.info("post edited", doc_id=doc_id, platform=m.platform.value, pii=len(pii_kinds),
                     enrich=m.needs_enrichment, reopened="reopened" in verdict)
            if "reopened" in verdict:
                # Again after the commit: a roll-up job that read the post still closed left it out.
                count_again_in_rollup(self.store, self.policy, doc_id, verdict["reopened"].received_at)
            if m.needs_enrichment:
                self._enrich_after_edit(doc_id, verdict.get("reopened") or verdict["data"], m, now)
            elif verdict["new_pii"] and "reopened" not in verdict:
                self._handoff_after_edit(doc_id, verdict["data"], now)
        else:
            result.duplicates += 1
            log.info("duplicate delivery", doc_id=doc_id, platform=m.platform.value)
        return True

    def _still_closing(self, m: Mention, pii_kinds: Any) -> bool:
        """Does the edited text of a closing message still close (as ingest judged it on arrival)?
        Words not sent yet (ids only) do not: precision first, a human reads them."""
        closing = self.policy.closing
        if m.needs_enrichment or m.encrypted or pii_kinds or not closing.enabled:
            return False
        return self._closing_phrase(m) is not None

    def _closing_phrase(self, m: Mention) -> str | None:
        """The closing phrase ``m``'s text ends its conversation with, under the policy's lists."""
        closing = self.policy.closing
        return closing_phrase(m.text, m.lang, phrases={**DEFAULT_PHRASES, **closing.phrases},
                              blockers={**DEFAULT_BLOCKERS, **closing.blockers},
                              fillers={**DEFAULT_FILLERS, **closing.fillers},
                              brand_words=(self.policy.brand.name,), max_words=closing.max_words)

    def _reopen_fields(self, held: MentionDoc, m: Mention, pii_kinds: Any, now: datetime) -> dict[str, Any]:
        """The promise a closing message gets once an edit makes it need an answer: the one it would
        have had on arrival (due from its own time, in business time), so a late edit is due at once."""
        decision = route(m.text, m.lang, self.policy.departments, self.policy.handoff.default_department)
        priority = self.policy.priority_for(m.text, held.author_followers)
        promise = self.policy.promise_for(held.platform.value, priority)
        started = min(t for t in (held.created_at, held.received_at, now) if t is not None)
        due_at = self.policy.calendar.add_business_time(started, promise)
        handoff = bool(self.policy.handoff.auto and (decision.requires_private
                                                     or (pii_kinds and held.kind != Kind.DM)))
        return {"status": Status.OPEN.value, "due_at": due_at, "warn_at": due_at - self.policy.promise.warning_before,
                "promise_seconds": promise.total_seconds(), "priority": priority, "department": decision.department,
                "handoff_pending": handoff, "reopened_at": now, "reopened_by": "edit"}

    def _reopen_tasks(self, doc_id: str, post: MentionDoc, reason: str,
                      now: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
        """Warning, due and (personal data, private department) handoff tasks of a reopened closing
        message. A due time already past fires a moment from now, after the commit in the usual
        case (a due task that finds the post still closed does nothing; the sweep alerts it then)."""
        due, warn = post.due_at, post.warn_at
        if due is None:
            return []
        base = {"doc_id": doc_id, "platform": post.platform.value, "post_id": post.post_id, "due_at": due.isoformat()}
        tasks: list[tuple[str, datetime, dict[str, Any]]] = []
        if warn is not None and warn > now:
            tasks.append((ids.task_id(doc_id, "warning", 0, due), warn, {**base, "kind": "warning", "level": 0}))
        tasks.append((ids.task_id(doc_id, "due", 1, due), max(due, now + HANDOFF_DELAY),
                      {**base, "kind": "due", "level": 1}))
        if post.handoff_pending:
            tasks.append((ids.task_id(doc_id, "handoff", 0, due), now + HANDOFF_DELAY,
                          {**base, "kind": "handoff", "department": post.department, "reason": reason,
                           "pii": reason == "pii"}))
        return tasks

    def _enrich_after_edit(self, doc_id: str, post: MentionDoc, m: Mention, now: datetime) -> None:
        """An edit sent as ids only: fetch the edited text (then redact, route, hand off) in a task.

        Its own task name per edit (``edit_rank`` as the attempt): the first version's enrich task
        may have run long ago, and Cloud Tasks refuses a name used recently.
        """
        due = post.due_at or now
        self.scheduler.schedule(ids.task_id(doc_id, "enrich", 0, due, attempt=m.edit_rank), now + ENRICH_DELAY,
                                {"doc_id": doc_id, "platform": post.platform.value, "post_id": post.post_id,
                                 "due_at": due.isoformat(), "kind": "enrich", "lookup": enrichment_lookup(m),
                                 "edit_rank": m.edit_rank}, now)

    def _handoff_after_edit(self, doc_id: str, post: MentionDoc, now: datetime) -> None:
        """Personal data added by an edit: the automatic handoff the first version did not need."""
        due = post.due_at
        if (not self.policy.handoff.auto or post.kind == Kind.DM or due is None
                or not post.unanswered or post.handoff_pending):
            return
        department = post.department or self.policy.handoff.default_department
        self.scheduler.schedule(ids.task_id(doc_id, "handoff", 0, due), now + HANDOFF_DELAY,
                                {"doc_id": doc_id, "platform": post.platform.value, "post_id": post.post_id,
                                 "due_at": due.isoformat(), "kind": "handoff", "department": department,
                                 "reason": "pii", "pii": True}, now)
        self.store.update(MENTIONS, doc_id, {"handoff_pending": True})

    def _fill_answered_stub(self, doc_id: str, post: MentionDoc) -> bool:
        """The brand answered this post before it reached us: complete the stub its reply left.

        Only one delivery completes it (precondition on the stub); others are duplicates.
        """
        filled: dict[str, bool] = {}

        def decide(snap: Snapshot | None) -> dict[str, Any] | None:
            filled.clear()
            if snap is None:
                return None
            updates = document.fill_stub(MentionDoc.from_snapshot(snap), post)
            if updates is not None:
                filled["yes"] = True
            return updates

        self.store.mutate(MENTIONS, doc_id, decide)
        if not filled:
            return False
        for name in pending_task_ids(doc_id, post):
            self.scheduler.delete(name)
        log.info("mention stored, already answered", doc_id=doc_id, platform=post.platform.value)
        return True

    # -- brand posts -----------------------------------------------------------------------
    def _brand_post(self, m: Mention, result: IngestResult) -> None:
        result.brand += 1
        platform = m.platform.value
        # hilft's own out-of-hours note coming back is no answer (only the policy that sends them pays the read).
        if (self.policy.promise.out_of_hours.enabled
                and self.store.get(OWN_MESSAGES, ids.own_message_key(platform, m.post_id)) is not None):
            log.info("own acknowledgment seen", platform=platform)
            return
        answered_by = m.author.handle or m.author.id
        if m.kind == Kind.DM:
            if not m.conversation_id:
                return
            marker = {"answered_at": m.created_at, "answered_by": answered_by, "via": m.post_id,
                      "platform": platform, "expire_at": retention(self.clock(), 30)}
            self.store.set(ANSWERS, ids.answer_key(platform, m.conversation_id), marker)
            for snap in self.store.open_in_conversation(platform, m.conversation_id):
                created = MentionDoc.from_snapshot(snap).created_at
                if created is not None and created <= m.created_at:
                    if self.answers.mark_answered(snap.id, answered_at=m.created_at, answered_by=answered_by,
                                                  via=m.post_id, seen_on_platform=True):
                        result.answered += 1
            return
        if not m.in_reply_to:
            if m.needs_enrichment:  # the webhook did not say what it answers (Threads' publish): ask later
                from hilft.service.brand_lookup import lookup_task

                now = self.clock()
                name, task = lookup_task(platform, m.post_id, m.brand_account_id, now)
                self.scheduler.schedule(name, now + ENRICH_DELAY, task, now)
            return  # the brand's own top-level post: never an item to answer
        target = ids.mention_doc_id(platform, m.in_reply_to)
        alias_checked = platform != Platform.X.value  # only X gives an edited post a new id
        for _ in range(5):
            if self.answers.mark_answered(target, answered_at=m.created_at, answered_by=answered_by, via=m.post_id,
                                          seen_on_platform=True):
                result.answered += 1
                return
            if self.store.get(MENTIONS, target) is not None:
                return  # answered already, deleted, or handed off: the first response stands
            if not alias_checked:
                alias_checked = True
                alias = self.store.get(ANSWERS, edit_alias_key(platform, m.in_reply_to))
                if alias is not None and isinstance(alias.data.get("doc_id"), str):
                    target = alias.data["doc_id"]  # the brand answered an edited version
                    continue
            # The customer post has not reached us (out of order, or answered natively on the
            # platform before its webhook came): leave an answered stub its delivery completes.
            stub = document.answered_stub(m.platform, m.in_reply_to, answered_at=m.created_at,
                                          answered_by=answered_by, via=m.post_id,
                                          expire_at=retention(self.clock(), self.retention_days))
            if self.store.create(MENTIONS, target, stub.to_store()):
                result.answered += 1
                return

    # -- revoked access --------------------------------------------------------------------
    def _revoked(self, event: AccessRevoked, brand_ids: frozenset[str], result: IngestResult) -> None:
        """The platform says an account took back hilft's access: nothing more arrives from it.

        One ERROR line (the log-based alert in infra/ picks it up) and one ``operator_alerts``
        document the board shows. Only a brand account's id is kept; anyone else's is personal.
        """
        now = self.clock()
        is_brand = bool(event.account_id and event.account_id in brand_ids)
        account = event.account_id if is_brand else None
        alert_id = operator_alert_id(event.platform.value, "access_revoked", account or "")
        self.store.set(OPERATOR_ALERTS, alert_id, {
            "kind": "access_revoked", "platform": event.platform.value, "account_id": account,
            "brand_account": is_brand, "source": event.source, "revoked_at": event.revoked_at or now,
            "received_at": now, "resolved": False, "expire_at": retention(now, self.retention_days)})
        result.revoked += 1
        log.error("platform access revoked: hilft no longer receives this account's events",
                  platform=event.platform.value, account_id=account, brand_account=is_brand, source=event.source,
                  alert_id=alert_id)

    # -- deletions -------------------------------------------------------------------------
    def _delete(self, d: Deletion, result: IngestResult) -> None:
        now = self.clock()
        doc_id = ids.mention_doc_id(d.platform.value, d.post_id)
        deleted_at = d.deleted_at or now
        alias_checked = d.platform != Platform.X  # only X gives an edited post a new id
        for _ in range(5):
            # Every state is deletable: the post is not even parsed, so forgetting never fails.
            prior = self.store.mutate(MENTIONS, doc_id,
                                      lambda snap: document.mark_deleted(None, deleted_at) if snap else None)
            if prior is not None:
                for name in pending_task_ids(doc_id, MentionDoc.from_snapshot(prior)):
                    self.scheduler.delete(name)
                break
            if not alias_checked:
                # Deleting any version of an edited post deletes them all: forget the first version's document.
                alias_checked = True
                alias = self.store.get(ANSWERS, edit_alias_key(d.platform.value, d.post_id))
                if alias is not None and isinstance(alias.data.get("doc_id"), str):
                    doc_id = alias.data["doc_id"]
                    continue
            # Deleted before we saw it: a tombstone keeps a late delivery from resurrecting it.
            tombstone = document.tombstone(d.platform, d.post_id, deleted_at=deleted_at, now=now,
                                           expire_at=retention(now, self.retention_days))
            if self.store.create(MENTIONS, doc_id, tombstone.to_store()):
                break
        result.deleted += 1
        log.info("post deleted", doc_id=doc_id, platform=d.platform.value)


def _post_fields(m: Mention, key: str, redacted: str, now: datetime) -> dict[str, Any]:
    """What every stored customer post carries from the post itself (redacted text, its author)."""
    return {"platform": m.platform, "post_id": key, "kind": m.kind, "conversation_id": m.conversation_id,
            "in_reply_to": m.in_reply_to, "author_id": m.author.id, "author_handle": m.author.handle,
            "author_name": m.author.name, "author_followers": m.author.followers,
            "brand_account_id": m.brand_account_id, "text": redacted, "lang": m.lang, "url": m.url,
            "created_at": m.created_at, "received_at": now, "answered_at": None, "alert_level": None,
            "next_alert_at": None, "acknowledged": False, "alerts": {}}


def enrichment_lookup(m: Mention) -> dict[str, str]:
    """Where the Graph API has the text of a post Meta sent as ids only (see ``service.enrich``)."""
    account = m.brand_account_id or ""
    if m.platform == Platform.INSTAGRAM:
        if m.in_reply_to:  # a comment mention: the comment is the post
            return {"type": "ig_comment", "id": m.post_id, "account": account}
        return {"type": "ig_media", "id": m.post_id, "account": account}
    if m.in_reply_to:
        return {"type": "fb_comment", "id": m.post_id, "account": account}
    return {"type": "fb_post", "id": m.post_id, "account": account}


def x_author_lookup(m: Mention) -> dict[str, str] | None:
    """An X post whose delivery named its author by id only (X Activity API replies and quotes carry
    an empty ``includes``): where ``service.enrich`` reads the handle, name and follower count."""
    if m.platform != Platform.X or m.is_brand or m.author.handle or not m.author.id.isdigit():
        return None
    return {"type": "x_user", "id": m.author.id, "account": m.brand_account_id or ""}


def operator_alert_id(platform: str, kind: str, account: str) -> str:
    """One document per platform, kind and account: a redelivered revoke updates, never doubles."""
    return hashlib.sha256("\x1f".join(("operator", platform, kind, account)).encode()).hexdigest()[:40]


def edit_alias_key(platform: str, post_id: str) -> str:
    """Key of the ``answers`` marker that leads a later version's id to its first version's document."""
    return ids.answer_key(platform, f"edit:{post_id}")
