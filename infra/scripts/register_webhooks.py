#!/usr/bin/env python3
"""Register the deployed X webhook and subscribe the brand account; print the Meta steps.

Three modes. Without CONFIRM or ``--dry-run`` it prints the requests it would make and makes none
(no tokens needed). ``--dry-run`` (``make register-webhooks DRY_RUN=1``) reads X's current state
with the tokens and prints the diff, changing nothing (it wins over CONFIRM). CONFIRM=1 calls X's
API v2:

1. ``GET /2/webhooks`` (app bearer token): reuse a webhook already registered for this URL,
   else ``POST /2/webhooks`` ``{"url": ...}`` (X then sends a CRC GET to x_webhook).
2. ``GET`` then ``POST /2/account_activity/webhooks/{id}/subscriptions/all`` (the brand account's
   OAuth 2.0 user token): subscribe the account whose token it is, unless already subscribed.
3. The X Activity API (https://docs.x.com/x-api/activity/introduction, "Endpoints"; request and
   answer shapes from https://docs.x.com/x-api/activity/quickstart, "Subscription management"):
   ``GET /2/users/me`` (user token) names the brand account; ``GET /2/activity/subscriptions`` (app
   token) lists the app's subscriptions; each kind of ``XAA_SUBSCRIBED_EVENTS`` missing for that
   account is created with ``POST /2/activity/subscriptions`` ``{"event_type", "filter": {"user_id"},
   "tag", "webhook_id"}`` (user token: the mention, reply, quote, DM and chat kinds are private
   events), one delivered elsewhere is pointed at this webhook with ``PUT
   /2/activity/subscriptions/{id}`` ``{"webhook_id"}`` (app token). Others' subscriptions are left
   alone. ``--skip-activity`` leaves them out (Account Activity alone delivers the same posts and
   DMs; hilft stores each post once whichever way it came).
4. The radar (app bearer token): the Filtered Stream rules built from the policy's ``[radar]``
   (``hilft.core.radar_rules``) are synced with ``GET``/``POST /2/tweets/search/stream/rules``: stale
   hilft rules (tag ``radar.rule_tag``) deleted first, so a change never hits X's rule cap, then
   missing rules added; others' rules left alone; the diff printed (``+`` added, ``-`` deleted,
   ``=`` kept). Then the stream is linked to the webhook (``POST /2/tweets/search/webhooks/{id}``
   with the fields hilft reads) unless it already is. ``--skip-radar`` leaves the stream alone. The
   policy is ``--policy``, else ``HILFT_CONFIG``, else functions/policy.toml; the brand accounts
   excluded from the rules are ``X_BRAND_USER_IDS``.

Meta has no API for an app's webhook callback that works with a page token, so its steps are
printed to follow in the Meta app dashboard, with every field hilft reads
(``hilft.channels.meta.parse.SUBSCRIBED_FIELDS``).

Environment: X_BEARER_TOKEN (app-only), X_USER_ACCESS_TOKEN (brand account), X_API_BASE_URL
(default https://api.x.com), CONFIRM. URLs come from ``terraform output`` unless given with
--x-webhook-url / --meta-webhook-url. Tokens are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx

INFRA_DIR = Path(__file__).resolve().parents[1]
DEFAULT_X_API = "https://api.x.com"
DEFAULT_POLICY = INFRA_DIR.parent / "functions" / "policy.toml"
if str(INFRA_DIR.parent / "functions") not in sys.path:
    sys.path.insert(0, str(INFRA_DIR.parent / "functions"))
# What hilft reads from a stream delivery (hilft.channels.x.stream): asked for when linking.
STREAM_LINK_FIELDS = {
    "tweet.fields": "created_at,author_id,conversation_id,lang,entities,referenced_tweets,in_reply_to_user_id,"
                    "note_tweet,edit_history_tweet_ids",
    "expansions": "author_id,referenced_tweets.id",
    "user.fields": "username,name,public_metrics",
}


class RegistrationError(Exception):
    """A step failed; the message says which and why (never containing a token)."""


def terraform_outputs(infra_dir: Path = INFRA_DIR) -> dict[str, Any]:
    try:
        shown = subprocess.run(["terraform", f"-chdir={infra_dir}", "output", "-json"], capture_output=True,
                               text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RegistrationError("cannot read terraform outputs: deploy first (make deploy) or pass "
                                "--x-webhook-url/--meta-webhook-url") from exc
    return {name: item["value"] for name, item in json.loads(shown.stdout).items()}


def _describe_failure(step: str, response: httpx.Response) -> RegistrationError:
    try:
        body = response.json()
        errors = body.get("errors") or [body]
        detail = "; ".join(str(e.get("detail") or e.get("title") or e.get("message") or "") for e in errors)
    except (ValueError, AttributeError):
        detail = ""
    return RegistrationError(f"{step} failed: HTTP {response.status_code} {detail}".rstrip())


class XRegistrar:
    """The webhook and Account Activity calls, each one request, with the token each endpoint requires."""

    def __init__(self, client: httpx.Client, base_url: str, app_token: str, user_token: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._app = {"Authorization": f"Bearer {app_token}"}
        self._user = {"Authorization": f"Bearer {user_token}"}

    def _call(self, step: str, method: str, path: str, headers: dict[str, str],
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._client.request(method, self._base + path, headers=headers, json=body)
        except httpx.HTTPError as exc:
            raise RegistrationError(f"{step} failed: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise _describe_failure(step, response)
        return response.json() if response.content else {}

    def find_webhook(self, url: str) -> str | None:
        listed = self._call("listing webhooks", "GET", "/2/webhooks", self._app)
        for webhook in listed.get("data") or []:
            if webhook.get("url") == url:
                return str(webhook["id"])
        return None

    def ensure_webhook(self, url: str, out: TextIO) -> str:
        found = self.find_webhook(url)
        if found is not None:
            print(f"X webhook already registered: id {found}", file=out)
            return found
        created = self._call("registering the webhook", "POST", "/2/webhooks", self._app, {"url": url})
        webhook_id = str(created["data"]["id"])
        print(f"X webhook registered: id {webhook_id} (X checked the CRC answer of x_webhook)", file=out)
        return webhook_id

    def check_subscription(self, webhook_id: str, out: TextIO) -> bool:
        path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        subscribed = bool((self._call("checking the subscription", "GET", path, self._user).get("data") or {})
                          .get("subscribed"))
        print(f"X account {'already subscribed' if subscribed else 'would be subscribed'} (Account Activity)",
              file=out)
        return subscribed

    def ensure_subscription(self, webhook_id: str, out: TextIO) -> None:
        path = f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all"
        current = self._call("checking the subscription", "GET", path, self._user)
        if (current.get("data") or {}).get("subscribed"):
            print("X account already subscribed to the webhook", file=out)
            return
        self._call("subscribing the account", "POST", path, self._user, {})
        print("X account subscribed: its mentions, replies and DMs now reach x_webhook", file=out)


ACTIVITY_TAG = "hilft"  # marks the X Activity API subscriptions this script made


class ActivitySubscriptions:
    """The X Activity API subscriptions of the brand account, synced to ``XAA_SUBSCRIBED_EVENTS``."""

    def __init__(self, registrar: XRegistrar, app_token: str, user_token: str) -> None:
        self._x = registrar
        self._app = {"Authorization": f"Bearer {app_token}"}
        self._user = {"Authorization": f"Bearer {user_token}"}

    def brand_account(self) -> str:
        """The account the user token belongs to: only it may have private-event subscriptions."""
        me = self._x._call("reading the brand account", "GET", "/2/users/me", self._user)
        user_id = (me.get("data") or {}).get("id")
        if not isinstance(user_id, str) or not user_id.isdigit():
            raise RegistrationError("reading the brand account failed: X named no user id")
        return user_id

    def current(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        query = ""
        for _ in range(100):  # pages of X's maximum size; more than enough for one app
            listed = self._x._call("listing activity subscriptions", "GET",
                                   f"/2/activity/subscriptions?max_results=1000{query}", self._app)
            found.extend(listed.get("data") or [])
            token = (listed.get("meta") or {}).get("next_token")
            if not token:
                break
            query = f"&pagination_token={token}"
        return found

    def sync(self, user_id: str, webhook_id: str | None, out: TextIO, *, dry_run: bool) -> dict[str, list[str]]:
        """Create what is missing, point ours at this webhook, print the diff; never delete."""
        from hilft.channels.x.parse import XAA_SUBSCRIBED_EVENTS

        held = {str(sub.get("event_type")): sub for sub in self.current()
                if str((sub.get("filter") or {}).get("user_id")) == user_id}
        plan: dict[str, list[str]] = {"add": [], "move": [], "keep": []}
        lines: list[str] = []
        for event_type in XAA_SUBSCRIBED_EVENTS:
            sub = held.get(event_type)
            if sub is None:
                plan["add"].append(event_type)
                lines.append(f"+ {event_type}  user {user_id}")
            elif webhook_id is not None and str(sub.get("webhook_id") or "") != webhook_id:
                plan["move"].append(event_type)
                lines.append(f"~ {event_type}  user {user_id}  (delivered to webhook {sub.get('webhook_id') or 'none'}"
                             f" → {webhook_id})")
            else:
                plan["keep"].append(event_type)
                lines.append(f"= {event_type}  user {user_id}")
        verb = "would change" if dry_run else "changes"
        print(f"X Activity API subscriptions ({verb}: {len(plan['add'])} to add, {len(plan['move'])} to move "
              f"to this webhook, {len(plan['keep'])} kept):", file=out)
        for line in lines:
            print(f"  {line}", file=out)
        if dry_run:
            return plan
        for event_type in plan["add"]:
            body: dict[str, Any] = {"event_type": event_type, "filter": {"user_id": user_id}, "tag": ACTIVITY_TAG}
            if webhook_id is not None:
                body["webhook_id"] = webhook_id
            self._x._call(f"subscribing to {event_type}", "POST", "/2/activity/subscriptions", self._user, body)
        for event_type in plan["move"]:
            sub_id = str(held[event_type]["subscription_id"])
            self._x._call(f"moving {event_type} to this webhook", "PUT", f"/2/activity/subscriptions/{sub_id}",
                          self._app, {"webhook_id": webhook_id})
        if plan["add"] or plan["move"]:
            print("X Activity API subscriptions synced", file=out)
        return plan


class StreamRadar:
    """The radar's Filtered Stream: rules from the policy, synced; the stream linked to the webhook."""

    def __init__(self, registrar: XRegistrar, app_token: str) -> None:
        self._x = registrar
        self._app = {"Authorization": f"Bearer {app_token}"}

    def current_rules(self) -> list[dict[str, Any]]:
        listed = self._x._call("listing stream rules", "GET", "/2/tweets/search/stream/rules", self._app)
        return list(listed.get("data") or [])

    def sync(self, wanted: Sequence[Any], rule_tag: str, out: TextIO, *, dry_run: bool) -> Any:
        from hilft.core.radar_rules import plan_sync

        plan = plan_sync(wanted, self.current_rules(), rule_tag)
        verb = "would change" if dry_run else "changes"
        print(f"X stream rules ({verb}: {len(plan.add)} to add, {len(plan.delete)} to delete, "
              f"{len(plan.keep)} kept, {len(plan.foreign)} not hilft's):", file=out)
        for line in plan.lines():
            print(f"  {line}", file=out)
        if dry_run or not plan.changes:
            return plan
        # X validates the new rules first (``dry_run=true`` creates nothing): a rule X refuses
        # stops the sync before any stale rule is deleted, so the radar keeps listening.
        if plan.add:
            self.validate(plan.add)
        # Stale rules go next: X counts every rule against the app's cap, so adding before
        # deleting could be refused exactly when the policy changed.
        if plan.delete:
            self._x._call("deleting stream rules", "POST", "/2/tweets/search/stream/rules", self._app,
                          {"delete": {"ids": [rule_id for rule_id, _, _ in plan.delete]}})
        if plan.add:
            added = self._x._call("adding stream rules", "POST", "/2/tweets/search/stream/rules", self._app,
                                  {"add": [{"value": r.value, "tag": r.tag} for r in plan.add]})
            refused = added.get("errors") or []
            if refused:
                titles = ", ".join(sorted({str(e.get("title")) for e in refused}))
                raise RegistrationError(f"adding stream rules: X refused {len(refused)} ({titles})")
        print("X stream rules synced", file=out)
        return plan

    def validate(self, rules: Sequence[Any]) -> None:
        """Ask X whether it would add ``rules`` (``dry_run=true``); raise when it refuses any. Only the
        rule cap is left to the real add: the dry run counts the stale rules the sync deletes first."""
        step = "checking stream rules (dry run)"
        body = {"add": [{"value": r.value, "tag": r.tag} for r in rules]}
        try:
            response = self._x._client.request("POST", self._x._base + "/2/tweets/search/stream/rules?dry_run=true",
                                               headers=self._app, json=body)
        except httpx.HTTPError as exc:
            raise RegistrationError(f"{step} failed: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            if "rule-cap" in response.text:
                return
            raise _describe_failure(step, response)
        refused = (response.json() if response.content else {}).get("errors") or []
        if refused:
            reasons = "; ".join(sorted({f"{e.get('title')}: {' '.join(e.get('details') or [])}".rstrip(": ")
                                        for e in refused}))
            raise RegistrationError(f"{step}: X refuses {len(refused)} rule(s) ({reasons}); nothing changed")

    def ensure_link(self, webhook_id: str, out: TextIO) -> None:
        listed = self._x._call("listing stream links", "GET", "/2/tweets/search/webhooks", self._app)
        links = (listed.get("data") or {}).get("links") or []
        if any(str(link.get("webhook_id")) == webhook_id for link in links):
            print(f"X stream already linked to webhook {webhook_id}", file=out)
            return
        query = "&".join(f"{k}={v}" for k, v in STREAM_LINK_FIELDS.items())
        self._x._call("linking the stream to the webhook", "POST",
                      f"/2/tweets/search/webhooks/{webhook_id}?{query}", self._app)
        print(f"X stream linked to webhook {webhook_id}: radar matches now reach x_webhook", file=out)


def radar_rules(policy_path: str | os.PathLike[str], brand_ids: str | None) -> tuple[Any, str]:
    """The wanted stream rules and the rule tag, from the policy file."""
    from hilft.core.errors import PolicyError
    from hilft.core.policy import load_policy
    from hilft.core.radar_rules import RuleError, build_rules

    try:
        policy = load_policy(policy_path)
        ids = [part.strip() for part in (brand_ids or "").split(",") if part.strip()]
        return build_rules(policy.radar, ids), policy.radar.rule_tag
    except (PolicyError, RuleError) as exc:
        raise RegistrationError(str(exc)) from None


def meta_instructions(callback_url: str, verify_token_secret: str | None) -> str:
    from hilft.channels.meta.parse import SUBSCRIBED_FIELDS

    secret = verify_token_secret or "<prefix>-meta-verify-token"
    page, instagram = SUBSCRIBED_FIELDS["page"], SUBSCRIBED_FIELDS["instagram"]
    return "\n".join([
        "Meta (Facebook Page, Instagram, Messenger), in the app dashboard at developers.facebook.com:",
        "  1. Webhooks > Page: Subscribe to this object",
        f"       Callback URL: {callback_url}",
        f"       Verify token: the value of secret {secret}",
        f"         (gcloud secrets versions access latest --secret={secret})",
        f"     then subscribe the fields: {', '.join(page)}",
        f"  2. Webhooks > Instagram: same callback URL and verify token; fields: {', '.join(instagram)}",
        "  3. Subscribe each Page to the app: POST /{page-id}/subscribed_apps with the page access token,",
        f"     subscribed_fields={','.join(page)}",
        "     (apps on Instagram Login: POST /{ig-user-id}/subscribed_apps with the Instagram token,",
        f"     subscribed_fields={','.join(instagram)})",
    ])


def sync_x(registrar: XRegistrar, env: Mapping[str, str], x_url: str, radar: tuple[Any, str] | None,
           args: argparse.Namespace, out: TextIO) -> None:
    """Every X step against the live API; with ``--dry-run`` the reads only, and the diff."""
    dry_run = bool(args.dry_run)
    if dry_run:
        print("DRY RUN (--dry-run): reading X, changing nothing", file=out)
        webhook_id = registrar.find_webhook(x_url)
        print(f"X webhook: {'registered, id ' + webhook_id if webhook_id else 'would be registered'}", file=out)
        if webhook_id is not None:
            registrar.check_subscription(webhook_id, out)
    else:
        webhook_id = registrar.ensure_webhook(x_url, out)
        registrar.ensure_subscription(webhook_id, out)
    if not args.skip_activity:
        activity = ActivitySubscriptions(registrar, env["X_BEARER_TOKEN"], env["X_USER_ACCESS_TOKEN"])
        activity.sync(activity.brand_account(), webhook_id, out, dry_run=dry_run)
    if radar is not None:
        stream = StreamRadar(registrar, env["X_BEARER_TOKEN"])
        stream.sync(radar[0], radar[1], out, dry_run=dry_run)
        if not dry_run and webhook_id is not None:
            stream.ensure_link(webhook_id, out)


def print_offline_plan(base_url: str, x_url: str, radar: tuple[Any, str] | None, args: argparse.Namespace,
                       out: TextIO) -> None:
    """No tokens, no requests: what a confirmed run would do."""
    from hilft.channels.x.parse import XAA_SUBSCRIBED_EVENTS

    print("DRY RUN (set CONFIRM=1 to do it, or DRY_RUN=1 to read X and print the diff). Would call X:", file=out)
    print(f"  GET  {base_url}/2/webhooks  (app bearer token)", file=out)
    print(f"  POST {base_url}/2/webhooks  {{\"url\": \"{x_url}\"}}  unless already registered", file=out)
    print(f"  POST {base_url}/2/account_activity/webhooks/<id>/subscriptions/all  (user token)", file=out)
    if not args.skip_activity:
        print(f"  GET  {base_url}/2/users/me  (user token: the brand account <user>)", file=out)
        print(f"  GET  {base_url}/2/activity/subscriptions  (app bearer token), then for each kind missing:", file=out)
        for event_type in XAA_SUBSCRIBED_EVENTS:
            print(f"    POST {base_url}/2/activity/subscriptions  {{\"event_type\": \"{event_type}\", "
                  f"\"filter\": {{\"user_id\": \"<user>\"}}, \"tag\": \"{ACTIVITY_TAG}\", "
                  f"\"webhook_id\": \"<id>\"}}  (user token)", file=out)
    if radar is not None:
        print(f"  sync {base_url}/2/tweets/search/stream/rules  (app bearer token) to these rules:", file=out)
        for rule in radar[0]:
            print(f"    {rule.value}  [{rule.tag}]", file=out)
        print(f"  POST {base_url}/2/tweets/search/webhooks/<id>  unless already linked", file=out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--x-webhook-url", help="default: terraform output x_webhook_url")
    parser.add_argument("--meta-webhook-url", help="default: terraform output meta_webhook_url")
    parser.add_argument("--skip-x", action="store_true", help="only print the Meta steps")
    parser.add_argument("--skip-radar", action="store_true", help="leave the X stream rules alone")
    parser.add_argument("--skip-activity", action="store_true",
                        help="leave the X Activity API subscriptions alone (Account Activity only)")
    parser.add_argument("--dry-run", action="store_true",
                        help="read X's webhooks, subscriptions and stream rules and print the diff; change "
                             "nothing, even with CONFIRM=1 (needs X_BEARER_TOKEN and X_USER_ACCESS_TOKEN)")
    parser.add_argument("--policy", help="policy file for [radar] (default: HILFT_CONFIG, else functions/policy.toml)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO = sys.stdout,
         client: httpx.Client | None = None) -> int:
    env = os.environ if env is None else env
    args = parse_args(argv)
    confirmed = env.get("CONFIRM") == "1"
    try:
        outputs: dict[str, Any] = {}
        if not (args.x_webhook_url and args.meta_webhook_url):
            outputs = terraform_outputs()
        x_url = args.x_webhook_url or outputs["x_webhook_url"]
        meta_url = args.meta_webhook_url or outputs["meta_webhook_url"]
        verify_secret = (outputs.get("secrets") or {}).get("META_VERIFY_TOKEN")

        if not args.skip_x:
            base_url = env.get("X_API_BASE_URL") or DEFAULT_X_API
            radar = None if args.skip_radar else radar_rules(args.policy or env.get("HILFT_CONFIG") or DEFAULT_POLICY,
                                                             env.get("X_BRAND_USER_IDS"))
            if args.dry_run or confirmed:
                missing = [name for name in ("X_BEARER_TOKEN", "X_USER_ACCESS_TOKEN") if not env.get(name)]
                if missing:
                    raise RegistrationError(f"set {' and '.join(missing)} (X developer portal) to "
                                            f"{'read' if args.dry_run else 'register'} X")
                with client or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
                    registrar = XRegistrar(http, base_url, env["X_BEARER_TOKEN"], env["X_USER_ACCESS_TOKEN"])
                    sync_x(registrar, env, x_url, radar, args, out)
            else:
                print_offline_plan(base_url, x_url, radar, args, out)
        print(file=out)
        print(meta_instructions(meta_url, verify_secret), file=out)
    except RegistrationError as exc:
        print(f"register-webhooks: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
