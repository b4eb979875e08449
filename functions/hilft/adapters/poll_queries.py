"""The one Firestore query the poll service adds: a platform's stored posts not yet deleted, page
by document id (the deleted-post check of channels without delete webhooks).

Equality filters (``platform``, ``status in core.document.LIVE``) ordered by document id need no
composite index (Firestore merges the single-field indexes, which all end in ``__name__``); if a
project's Firestore asks for one anyway, it is ``mentions(platform, status, __name__)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.api_core import exceptions as gexc
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from hilft.core.document import LIVE
from hilft.core.errors import TransientStoreError
from hilft.service.ports import MENTIONS, Snapshot

LIVE_STATUSES = sorted(status.value for status in LIVE)  # as Firestore's ``in`` filter takes them

if TYPE_CHECKING:
    from hilft.adapters.firestore_store import FirestoreStore
    from hilft.service.poll import LivePosts


def live_posts_query(store: FirestoreStore) -> LivePosts:
    def live_posts(platform: str, after: str | None, limit: int) -> list[Snapshot]:
        collection = store.client.collection(MENTIONS)
        query = (collection.where(filter=FieldFilter("platform", "==", platform))
                 .where(filter=FieldFilter("status", "in", LIVE_STATUSES)))
        if after:
            query = query.where(filter=FieldFilter(FieldPath.document_id(), ">", collection.document(after)))
        query = query.order_by(FieldPath.document_id()).limit(limit)
        store.ops["queries"] += 1
        try:
            docs = list(query.stream(timeout=5.0))
        except gexc.GoogleAPICallError as exc:
            raise TransientStoreError(f"firestore unavailable ({type(exc).__name__})") from exc
        store.ops["reads"] += max(1, len(docs))
        return [Snapshot(d.id, d.to_dict() or {}, d.update_time) for d in docs]

    return live_posts
