"""All configuration hilft reads from the environment, in one typed, validated place.

Read once per instance (``get_settings()``), never at import time, so a cold start stays cheap
and tests can change the environment and call ``reset_settings()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What the code expects of the Cloud Tasks queue; infra/tasks.tf must match (tests/infra checks it).
TASKS_QUEUE_CONFIG = {
    "max_dispatches_per_second": 500,
    "max_concurrent_dispatches": 1000,
    "max_attempts": 100,
    "min_backoff": "1s",
    "max_backoff": "300s",
    "max_doublings": 5,
    "max_retry_duration": "86400s",
}

GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    project: str = "hilft-local"
    firestore_emulator_host: str | None = None
    tasks_emulator_host: str | None = None
    tasks_queue: str | None = None  # projects/P/locations/L/queues/Q
    deadline_url: str | None = None
    tasks_service_account: str | None = None
    sweep_url: str | None = None
    scheduler_service_account: str | None = None
    config_path: Path | None = None
    board_url: str | None = None

    # OIDC verification of Cloud Tasks / Cloud Scheduler calls.
    oidc_jwks_url: str = GOOGLE_JWKS_URL
    oidc_issuers: frozenset[str] = frozenset(GOOGLE_ISSUERS)
    oidc_required: bool = True

    # Staff-facing entry points (handoff, ack, board).
    staff_auth: str = "token"  # "iam" (Cloud Run IAM in front), "token" (shared bearer), "off" (local demo)
    staff_token: str | None = None
    # Extra ID-token audiences accepted from staff under IAM (the function's own URL always is).
    staff_audiences: frozenset[str] = Field(default_factory=frozenset)

    max_body_bytes: int = 1024 * 1024
    claim_ttl_seconds: float = 120.0
    sweep_grace_seconds: float = 60.0  # how long past due before the sweep steps in for a lost task
    retention_days: int = 90

    x_consumer_secret: str | None = None
    x_client_secret: str | None = None
    x_user_access_token: str | None = None
    x_brand_user_ids: frozenset[str] = Field(default_factory=frozenset)
    x_api_base_url: str = "https://api.x.com"

    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    meta_page_access_token: str | None = None
    meta_page_ids: frozenset[str] = Field(default_factory=frozenset)
    meta_ig_user_ids: frozenset[str] = Field(default_factory=frozenset)
    meta_graph_base_url: str = "https://graph.facebook.com/v21.0"

    slack_webhook_url: str | None = None
    google_chat_webhook_url: str | None = None
    pagerduty_routing_key: str | None = None
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    alert_webhook_url: str | None = None
    pagerduty_webhook_secret: str | None = None  # V3 webhook signing secret (acks from PagerDuty)
    alert_webhook_secret: str | None = None

    # Bluesky and Mastodon (no usable webhooks: the ``poll`` entry point fetches them).
    poll_url: str | None = None  # audience ``poll`` checks (Cloud Scheduler's OIDC token)
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = None  # an app password allowed to send DMs
    bluesky_pds_url: str = "https://bsky.social"
    bluesky_appview_url: str = "https://public.api.bsky.app"
    bluesky_chat_url: str | None = None  # where chat.bsky.* calls go (with atproto-proxy); default the PDS
    mastodon_base_url: str | None = None
    mastodon_access_token: str | None = None
    mastodon_account_ids: frozenset[str] = Field(default_factory=frozenset)

    # Threads (its own Meta app): ``threads_webhook`` in, public replies out through the Threads API.
    threads_app_secret: str | None = None  # X-Hub-Signature-256 key of the Threads app
    threads_verify_token: str | None = None  # the subscription check's hub.verify_token
    threads_access_token: str | None = None  # the brand's Threads user token (replies)
    threads_user_ids: frozenset[str] = Field(default_factory=frozenset)  # the brand's Threads accounts
    threads_api_base_url: str = "https://graph.threads.net/v1.0"

    @field_validator("staff_auth")
    @classmethod
    def _staff_auth(cls, value: str) -> str:
        if value not in {"iam", "token", "off"}:
            raise ValueError("HILFT_STAFF_AUTH must be one of iam, token, off")
        return value

    @field_validator("max_body_bytes", "retention_days")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        values: dict[str, object] = {
            "project": get("GOOGLE_CLOUD_PROJECT") or "hilft-local",
            "firestore_emulator_host": get("FIRESTORE_EMULATOR_HOST"),
            "tasks_emulator_host": get("CLOUD_TASKS_EMULATOR_HOST"),
            "tasks_queue": get("HILFT_TASKS_QUEUE"),
            "deadline_url": get("HILFT_DEADLINE_URL"),
            "tasks_service_account": get("HILFT_TASKS_SERVICE_ACCOUNT"),
            "sweep_url": get("HILFT_SWEEP_URL"),
            "scheduler_service_account": get("HILFT_SCHEDULER_SERVICE_ACCOUNT"),
            "config_path": Path(p) if (p := get("HILFT_CONFIG")) else None,
            "board_url": get("HILFT_BOARD_URL"),
            "oidc_jwks_url": get("HILFT_OIDC_JWKS_URL") or GOOGLE_JWKS_URL,
            "oidc_issuers": _csv(get("HILFT_OIDC_ISSUERS")) or frozenset(GOOGLE_ISSUERS),
            "oidc_required": (get("HILFT_OIDC_REQUIRED") or "true").lower() not in {"0", "false", "no"},
            "staff_auth": (get("HILFT_STAFF_AUTH") or "token").lower(),
            "staff_token": get("HILFT_STAFF_TOKEN"),
            "staff_audiences": _csv(get("HILFT_STAFF_AUDIENCES")),
            "x_consumer_secret": get("X_CONSUMER_SECRET"),
            "x_client_secret": get("X_CLIENT_SECRET"),
            "x_user_access_token": get("X_USER_ACCESS_TOKEN"),
            "x_brand_user_ids": _csv(get("X_BRAND_USER_IDS")),
            "x_api_base_url": (get("X_API_BASE_URL") or "https://api.x.com").rstrip("/"),
            "meta_app_secret": get("META_APP_SECRET"),
            "meta_verify_token": get("META_VERIFY_TOKEN"),
            "meta_page_access_token": get("META_PAGE_ACCESS_TOKEN"),
            "meta_page_ids": _csv(get("META_PAGE_IDS")),
            "meta_ig_user_ids": _csv(get("META_IG_USER_IDS")),
            "meta_graph_base_url": (get("META_GRAPH_BASE_URL") or "https://graph.facebook.com/v21.0").rstrip("/"),
            "slack_webhook_url": get("SLACK_WEBHOOK_URL"),
            "google_chat_webhook_url": get("GOOGLE_CHAT_WEBHOOK_URL"),
            "pagerduty_routing_key": get("PAGERDUTY_ROUTING_KEY"),
            "pagerduty_events_url": get("PAGERDUTY_EVENTS_URL") or "https://events.pagerduty.com/v2/enqueue",
            "alert_webhook_url": get("ALERT_WEBHOOK_URL"),
            "pagerduty_webhook_secret": get("PAGERDUTY_WEBHOOK_SECRET"),
            "alert_webhook_secret": get("ALERT_WEBHOOK_SECRET"),
            "poll_url": get("HILFT_POLL_URL"),
            "bluesky_handle": get("BLUESKY_HANDLE"),
            "bluesky_app_password": get("BLUESKY_APP_PASSWORD"),
            "bluesky_pds_url": (get("BLUESKY_PDS_URL") or "https://bsky.social").rstrip("/"),
            "bluesky_appview_url": (get("BLUESKY_APPVIEW_URL") or "https://public.api.bsky.app").rstrip("/"),
            "bluesky_chat_url": (get("BLUESKY_CHAT_URL") or "").rstrip("/") or None,
            "mastodon_base_url": (get("MASTODON_BASE_URL") or "").rstrip("/") or None,
            "mastodon_access_token": get("MASTODON_ACCESS_TOKEN"),
            "mastodon_account_ids": _csv(get("MASTODON_ACCOUNT_IDS")),
            "threads_app_secret": get("THREADS_APP_SECRET"),
            "threads_verify_token": get("THREADS_VERIFY_TOKEN"),
            "threads_access_token": get("THREADS_ACCESS_TOKEN"),
            "threads_user_ids": _csv(get("THREADS_USER_IDS")),
            "threads_api_base_url": (get("THREADS_API_BASE_URL") or "https://graph.threads.net/v1.0").rstrip("/"),
        }
        for key, name in (("max_body_bytes", "HILFT_MAX_BODY_BYTES"),
                          ("claim_ttl_seconds", "HILFT_CLAIM_TTL_SECONDS"),
                          ("sweep_grace_seconds", "HILFT_SWEEP_GRACE_SECONDS"),
                          ("retention_days", "HILFT_RETENTION_DAYS")):
            if (raw := get(name)) is not None:
                values[key] = raw
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    get_settings.cache_clear()
