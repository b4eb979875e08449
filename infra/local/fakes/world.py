"""Every outside API hilft talks to, as local fakes, and the environment that points the local
stack at them. Shared by the e2e suite, the demo, the fault tests and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fakes.base import FakeServer


@dataclass(frozen=True)
class Credentials:
    """Made-up secrets, valid only between one process's fakes and its own stack."""

    prefix: str = "local"
    brand_x_id: str = "1000000001"
    page_id: str = "110000000000001"
    ig_id: str = "17841400000000001"
    pagerduty_key: str = "R0UT1NGKEY0000000000000000000000"  # routing keys are 32 characters
    threads_id: str = "17841400000000077"  # the brand's Threads account

    @property
    def x_client_secret(self) -> str:
        return f"{self.prefix}-x-client-secret"

    @property
    def x_consumer_secret(self) -> str:
        return f"{self.prefix}-x-consumer-secret"

    @property
    def x_token(self) -> str:
        return f"{self.prefix}-x-user-token"

    @property
    def meta_secret(self) -> str:
        return f"{self.prefix}-meta-app-secret"

    @property
    def meta_verify(self) -> str:
        return f"{self.prefix}-meta-verify"

    @property
    def meta_token(self) -> str:
        return f"{self.prefix}-meta-page-token"

    @property
    def threads_secret(self) -> str:
        return f"{self.prefix}-threads-app-secret"

    @property
    def threads_verify(self) -> str:
        return f"{self.prefix}-threads-verify"

    @property
    def threads_token(self) -> str:
        return f"{self.prefix}-threads-user-token"

    @property
    def bluesky_password(self) -> str:
        return f"{self.prefix}-bsky-app-pass"

    @property
    def mastodon_token(self) -> str:
        return f"{self.prefix}-mastodon-token"

    @property
    def webhook_secret(self) -> str:
        return f"{self.prefix}-alert-webhook-secret"

    @property
    def pagerduty_webhook_secret(self) -> str:
        return f"{self.prefix}-pagerduty-webhook-secret"


@dataclass
class OutsideWorld:
    x: Any
    graph: Any
    slack: Any
    chat: Any
    pagerduty: Any
    webhook: Any
    credentials: Credentials
    threads: Any = None  # the Threads API (fakes.threads_api)
    bluesky: Any = None  # PDS + AppView + chat (fakes.bluesky)
    mastodon: Any = None  # the brand's Mastodon instance (fakes.mastodon)

    @classmethod
    def start(cls, credentials: Credentials | None = None) -> OutsideWorld:
        from fakes.bluesky import make_bluesky
        from fakes.graph_api import make_graph_api
        from fakes.mastodon import make_mastodon
        from fakes.sinks import make_google_chat, make_pagerduty, make_slack, make_webhook
        from fakes.threads_api import make_threads_api
        from fakes.x_api import make_x_api

        c = credentials or Credentials()
        world = cls(x=make_x_api(c.x_token, user_id=c.brand_x_id), graph=make_graph_api(c.meta_token),
                    slack=make_slack(), chat=make_google_chat(), pagerduty=make_pagerduty(c.pagerduty_key),
                    webhook=make_webhook(c.webhook_secret), credentials=c,
                    threads=make_threads_api(c.threads_token, user_id=c.threads_id),
                    bluesky=make_bluesky(c.bluesky_password), mastodon=make_mastodon(c.mastodon_token))
        started: list[FakeServer] = []
        try:
            for fake in world.all():
                fake.start()
                started.append(fake)
        except BaseException:
            for fake in started:
                fake.stop()
            raise
        return world

    def all(self) -> list[Any]:
        return [self.x, self.graph, self.slack, self.chat, self.pagerduty, self.webhook, self.threads,
                self.bluesky, self.mastodon]

    def stop(self) -> None:
        for fake in self.all():
            fake.stop()

    def reset(self) -> None:
        for fake in self.all():
            fake.reset()

    def env(self) -> dict[str, str]:
        """The public variables of README's configuration table, pointing at these fakes."""
        from fakes.sinks import FAKE_CHAT_KEY, FAKE_CHAT_SPACE, FAKE_CHAT_TOKEN, FAKE_SLACK_PATH

        c = self.credentials
        return {
            "X_CLIENT_SECRET": c.x_client_secret,
            "X_CONSUMER_SECRET": c.x_consumer_secret,
            "X_USER_ACCESS_TOKEN": c.x_token,
            "X_BRAND_USER_IDS": c.brand_x_id,
            "X_API_BASE_URL": self.x.url,
            "META_APP_SECRET": c.meta_secret,
            "META_VERIFY_TOKEN": c.meta_verify,
            "META_PAGE_ACCESS_TOKEN": c.meta_token,
            "META_PAGE_IDS": c.page_id,
            "META_IG_USER_IDS": c.ig_id,
            "META_GRAPH_BASE_URL": self.graph.url + "/v21.0",
            "SLACK_WEBHOOK_URL": self.slack.url + FAKE_SLACK_PATH,
            "GOOGLE_CHAT_WEBHOOK_URL": (self.chat.url + f"/v1/spaces/{FAKE_CHAT_SPACE}/messages"
                                        f"?key={FAKE_CHAT_KEY}&token={FAKE_CHAT_TOKEN}"),
            "PAGERDUTY_ROUTING_KEY": c.pagerduty_key,
            "PAGERDUTY_EVENTS_URL": self.pagerduty.url + "/v2/enqueue",
            "ALERT_WEBHOOK_URL": self.webhook.url + "/hooks/hilft",
            "ALERT_WEBHOOK_SECRET": c.webhook_secret,
            "PAGERDUTY_WEBHOOK_SECRET": c.pagerduty_webhook_secret,
            "THREADS_APP_SECRET": c.threads_secret,
            "THREADS_VERIFY_TOKEN": c.threads_verify,
            "THREADS_ACCESS_TOKEN": c.threads_token,
            "THREADS_USER_IDS": c.threads_id,
            "THREADS_API_BASE_URL": self.threads.url + "/v1.0",
            "BLUESKY_HANDLE": self.bluesky.handle,
            "BLUESKY_APP_PASSWORD": c.bluesky_password,
            "BLUESKY_PDS_URL": self.bluesky.url,
            "BLUESKY_APPVIEW_URL": self.bluesky.url,
            "MASTODON_BASE_URL": self.mastodon.url,
            "MASTODON_ACCESS_TOKEN": c.mastodon_token,
            "MASTODON_ACCOUNT_IDS": self.mastodon.brand["id"],
        }
