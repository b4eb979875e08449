"""All configuration hilft reads from the environment, in one typed, validated place.

Read once per instance (``get_settings()``), never at import time, so a cold start stays cheap
and tests can change the environment and call ``reset_settings()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

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


def env(name: str, default: Any = None, **kwargs: Any) -> Any:
    """A setting read from the environment variable ``name`` (its one default next to it)."""
    if "default_factory" in kwargs:
        return Field(validation_alias=AliasChoices(name), **kwargs)
    return Field(default=default, validation_alias=AliasChoices(name), **kwargs)


CsvSet = Annotated[frozenset[str], NoDecode]  # "a, b,c" in the environment


class Settings(BaseSettings):
    """Every variable hilft reads, each with its one default; blank values count as unset.

    Field names are what the code uses; the first argument of ``env`` is the environment variable
    (the public names in README's configuration table). Comma-separated lists become sets.
    """

    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, populate_by_name=True, extra="ignore")

    project: str = env("GOOGLE_CLOUD_PROJECT", "hilft-local")
    firestore_emulator_host: str | None = env("FIRESTORE_EMULATOR_HOST")
    tasks_emulator_host: str | None = env("CLOUD_TASKS_EMULATOR_HOST")
    tasks_queue: str | None = env("HILFT_TASKS_QUEUE")  # projects/P/locations/L/queues/Q
    deadline_url: str | None = env("HILFT_DEADLINE_URL")
    tasks_service_account: str | None = env("HILFT_TASKS_SERVICE_ACCOUNT")
    sweep_url: str | None = env("HILFT_SWEEP_URL")
    scheduler_service_account: str | None = env("HILFT_SCHEDULER_SERVICE_ACCOUNT")
    config_path: Path | None = env("HILFT_CONFIG")
    board_url: str | None = env("HILFT_BOARD_URL")

    # OIDC verification of Cloud Tasks / Cloud Scheduler calls (and of staff under IAM).
    oidc_jwks_url: str = env("HILFT_OIDC_JWKS_URL", GOOGLE_JWKS_URL)
    oidc_issuers: CsvSet = env("HILFT_OIDC_ISSUERS", frozenset(GOOGLE_ISSUERS))
    oidc_required: bool = env("HILFT_OIDC_REQUIRED", True)
    # Set by Terraform for the functions without an allUsers invoker: Cloud Run IAM verified the
    # caller's token and removed its signature (SIGNATURE_REMOVED_BY_GOOGLE) before the request got
    # here, so such a token's claims may be checked without it (hilft/adapters/oidc.py).
    cloud_run_iam: bool = env("HILFT_CLOUD_RUN_IAM", False)

    # Staff-facing entry points (handoff, ack, board).
    staff_auth: str = env("HILFT_STAFF_AUTH", "token")  # "iam" (Cloud Run IAM), "token" (bearer), "off" (demo)
    staff_token: str | None = env("HILFT_STAFF_TOKEN")
    # The ID-token audiences staff tokens may carry under IAM: the function's own URLs (Terraform sets
    # them), never the request's Host header. Required with ``iam``.
    staff_audiences: CsvSet = env("HILFT_STAFF_AUDIENCES", default_factory=frozenset)

    max_body_bytes: int = env("HILFT_MAX_BODY_BYTES", 1024 * 1024)
    # How long a send-once claim holds while its send is under way. It must outlive one send (an
    # alert's sinks have 5 s, a platform call 10 s per request, a handoff a few calls): a shorter one
    # lets a retry or the sweep take over a send still in progress, and the message goes out twice.
    claim_ttl_seconds: float = env("HILFT_CLAIM_TTL_SECONDS", 120.0, ge=30.0)
    sweep_grace_seconds: float = env("HILFT_SWEEP_GRACE_SECONDS", 60.0)  # past due before the sweep steps in
    retention_days: int = env("HILFT_RETENTION_DAYS", 90)

    x_consumer_secret: str | None = env("X_CONSUMER_SECRET")
    x_client_secret: str | None = env("X_CLIENT_SECRET")
    x_user_access_token: str | None = env("X_USER_ACCESS_TOKEN")
    x_brand_user_ids: CsvSet = env("X_BRAND_USER_IDS", default_factory=frozenset)
    x_api_base_url: str = env("X_API_BASE_URL", "https://api.x.com")

    meta_app_secret: str | None = env("META_APP_SECRET")
    meta_verify_token: str | None = env("META_VERIFY_TOKEN")
    meta_page_access_token: str | None = env("META_PAGE_ACCESS_TOKEN")
    meta_page_ids: CsvSet = env("META_PAGE_IDS", default_factory=frozenset)
    meta_ig_user_ids: CsvSet = env("META_IG_USER_IDS", default_factory=frozenset)
    meta_graph_base_url: str = env("META_GRAPH_BASE_URL", "https://graph.facebook.com/v21.0")

    slack_webhook_url: str | None = env("SLACK_WEBHOOK_URL")
    google_chat_webhook_url: str | None = env("GOOGLE_CHAT_WEBHOOK_URL")
    pagerduty_routing_key: str | None = env("PAGERDUTY_ROUTING_KEY")
    pagerduty_events_url: str = env("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue")
    alert_webhook_url: str | None = env("ALERT_WEBHOOK_URL")
    pagerduty_webhook_secret: str | None = env("PAGERDUTY_WEBHOOK_SECRET")  # V3 signing secret (acks)
    alert_webhook_secret: str | None = env("ALERT_WEBHOOK_SECRET")

    # Bluesky and Mastodon (no usable webhooks: the ``poll`` entry point fetches them).
    poll_url: str | None = env("HILFT_POLL_URL")  # audience ``poll`` checks (Cloud Scheduler's OIDC token)
    bluesky_handle: str | None = env("BLUESKY_HANDLE")
    bluesky_app_password: str | None = env("BLUESKY_APP_PASSWORD")  # an app password allowed to send DMs
    bluesky_pds_url: str = env("BLUESKY_PDS_URL", "https://bsky.social")
    bluesky_appview_url: str = env("BLUESKY_APPVIEW_URL", "https://public.api.bsky.app")
    bluesky_chat_url: str | None = env("BLUESKY_CHAT_URL")  # where chat.bsky.* calls go; default the PDS
    mastodon_base_url: str | None = env("MASTODON_BASE_URL")
    mastodon_access_token: str | None = env("MASTODON_ACCESS_TOKEN")
    mastodon_account_ids: CsvSet = env("MASTODON_ACCOUNT_IDS", default_factory=frozenset)

    # Threads (its own Meta app): ``threads_webhook`` in, public replies out through the Threads API.
    threads_app_secret: str | None = env("THREADS_APP_SECRET")  # X-Hub-Signature-256 key of the Threads app
    threads_verify_token: str | None = env("THREADS_VERIFY_TOKEN")  # the subscription check's hub.verify_token
    threads_access_token: str | None = env("THREADS_ACCESS_TOKEN")  # the brand's Threads user token (replies)
    threads_user_ids: CsvSet = env("THREADS_USER_IDS", default_factory=frozenset)  # the brand's Threads accounts
    threads_api_base_url: str = env("THREADS_API_BASE_URL", "https://graph.threads.net/v1.0")

    @field_validator("*", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("x_brand_user_ids", "meta_page_ids", "meta_ig_user_ids", "mastodon_account_ids",
                     "threads_user_ids", "staff_audiences", "oidc_issuers", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _csv(value) if isinstance(value, str) else value

    @field_validator("x_api_base_url", "meta_graph_base_url", "bluesky_pds_url", "bluesky_appview_url",
                     "bluesky_chat_url", "mastodon_base_url", "threads_api_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") or None if value is not None else None

    @field_validator("staff_auth")
    @classmethod
    def _staff_auth(cls, value: str) -> str:
        value = value.lower()
        if value not in {"iam", "token", "off"}:
            raise ValueError("HILFT_STAFF_AUTH must be one of iam, token, off")
        return value

    @field_validator("max_body_bytes", "retention_days")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @property
    def claim_ttl(self) -> timedelta:
        """How long a send-once claim holds (a send still unrecorded after it is taken for failed)."""
        return timedelta(seconds=self.claim_ttl_seconds)

    @property
    def sweep_grace(self) -> timedelta:
        """How long past due a post waits for its task before the sweep steps in."""
        return timedelta(seconds=self.sweep_grace_seconds)

    def oidc_caller(self, entry_point: str) -> tuple[str, str]:
        """(audience, allowed caller e-mail) of an entry point Cloud Tasks or Cloud Scheduler calls,
        or ``ConfigurationError`` naming the unset variable."""
        audience_field, email_field = OIDC_CALLERS[entry_point]
        return self._required(audience_field), self._required(email_field)

    def check_entry_point(self, entry_point: str) -> None:
        """Refuse to serve ``entry_point`` without what it needs to check its callers: the OIDC
        audience and caller while OIDC is required, the staff audiences under ``iam``.
        Raises ``ConfigurationError`` naming the variable."""
        if entry_point in OIDC_CALLERS and self.oidc_required:
            self.oidc_caller(entry_point)
        if entry_point in STAFF_ENTRY_POINTS and self.staff_auth == "iam" and not self.staff_audiences:
            raise ConfigurationError(variable_of("staff_audiences"), "while HILFT_STAFF_AUTH=iam")

    def _required(self, field: str) -> str:
        value = getattr(self, field)
        if not value:
            raise ConfigurationError(variable_of(field), "while OIDC is required")
        return str(value)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """From ``environ`` alone (a test, the local stack's view of one function), else the process's."""
        if environ is None:
            return cls()
        given = {name: value for name, value in environ.items() if isinstance(value, str) and value.strip()}
        return cls.model_validate(given)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments and the environment only: Secret Manager fills the environment in production."""
        return init_settings, env_settings


# Entry points Cloud Tasks / Cloud Scheduler call: the settings holding their OIDC audience and caller.
OIDC_CALLERS = {
    "deadline": ("deadline_url", "tasks_service_account"),
    "sweep": ("sweep_url", "scheduler_service_account"),
    "poll": ("poll_url", "scheduler_service_account"),
}
STAFF_ENTRY_POINTS = frozenset({"board", "ack", "handoff"})


class ConfigurationError(ValueError):
    """A variable an entry point cannot serve without is unset (``variable`` names it)."""

    def __init__(self, variable: str, condition: str) -> None:
        super().__init__(f"{variable} must be set {condition}")
        self.variable = variable


def variable_of(field: str) -> str:
    """The environment variable of a settings field (``deadline_url`` -> ``HILFT_DEADLINE_URL``)."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    get_settings.cache_clear()
