"""The make-target helpers in infra/scripts/, run for real against stub tools and a loopback fake X."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import stat
import subprocess
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from fakes.base import FakeServer, Request, Response
from tests.infra.stack import INFRA

SCRIPTS = INFRA / "scripts"
X_URL = "https://hilft-x-webhook-123456789012.europe-west3.run.app"
META_URL = "https://hilft-meta-webhook-123456789012.europe-west3.run.app"
APP_TOKEN = "app-token-do-not-print"
USER_TOKEN = "user-token-do-not-print"


# -- preflight.sh --------------------------------------------------------------------------------

def stub(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A PATH with only basic tools, a HOME with application default credentials, a tfvars file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sed", "head", "dirname", "cat", "python3", "rm", "mkdir"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True, check=True)
        (bin_dir / tool).symlink_to(found.stdout.strip())
    home = tmp_path / "home"
    (home / ".config" / "gcloud").mkdir(parents=True)
    (home / ".config" / "gcloud" / "application_default_credentials.json").write_text("{}")
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text('project_id = "acme-care-prod"\nalert_sinks = { slack = true }\n')
    stub(bin_dir, "terraform", "echo '{\"terraform_version\":\"1.9.8\"}'")
    stub(bin_dir, "gcloud", "echo operator@example.com")
    return {"bin": bin_dir, "home": home, "tfvars": tfvars}


def preflight(world: dict[str, Path], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": str(world["bin"]), "HOME": str(world["home"]), "HILFT_TFVARS": str(world["tfvars"])}
    return subprocess.run(["bash", str(SCRIPTS / "preflight.sh"), *args], capture_output=True, text=True,
                          env={**base, **env}, timeout=30, check=False)


def test_preflight_passes_when_everything_is_there(world: dict[str, Path]) -> None:
    ran = preflight(world)

    assert ran.returncode == 0, ran.stderr
    assert "project acme-care-prod" in ran.stdout


def test_preflight_names_a_missing_terraform(world: dict[str, Path]) -> None:
    (world["bin"] / "terraform").unlink()

    ran = preflight(world)

    assert ran.returncode == 1
    assert ran.stderr.strip() == "preflight: terraform not found: install Terraform >= 1.6 " \
                                 "(https://developer.hashicorp.com/terraform/install)"


def test_preflight_rejects_an_old_terraform(world: dict[str, Path]) -> None:
    stub(world["bin"], "terraform", "echo '{\"terraform_version\":\"1.5.7\"}'")

    ran = preflight(world)

    assert ran.returncode == 1
    assert "terraform 1.5 is too old" in ran.stderr


def test_preflight_names_a_missing_gcloud(world: dict[str, Path]) -> None:
    (world["bin"] / "gcloud").unlink()

    ran = preflight(world)

    assert ran.returncode == 1
    assert ran.stderr.startswith("preflight: gcloud not found")


def test_preflight_asks_to_log_in(world: dict[str, Path]) -> None:
    stub(world["bin"], "gcloud", "exit 0")  # no active account

    ran = preflight(world)

    assert ran.returncode == 1
    assert "run 'gcloud auth login'" in ran.stderr


def test_preflight_asks_for_application_default_credentials(world: dict[str, Path]) -> None:
    (world["home"] / ".config" / "gcloud" / "application_default_credentials.json").unlink()

    ran = preflight(world)

    assert ran.returncode == 1
    assert "gcloud auth application-default login" in ran.stderr


def test_preflight_asks_for_a_project(world: dict[str, Path]) -> None:
    world["tfvars"].write_text("alert_sinks = { slack = true }\n")

    ran = preflight(world)

    assert ran.returncode == 1
    assert "no project id: set PROJECT_ID or project_id in" in ran.stderr


def test_preflight_takes_the_project_from_the_environment(world: dict[str, Path]) -> None:
    world["tfvars"].write_text("alert_sinks = { slack = true }\n")

    ran = preflight(world, PROJECT_ID="acme-care-staging")

    assert ran.returncode == 0, ran.stderr
    assert "project acme-care-staging" in ran.stdout


def test_preflight_rejects_a_malformed_project(world: dict[str, Path]) -> None:
    ran = preflight(world, PROJECT_ID="Acme Care")

    assert ran.returncode == 1
    assert "is not a valid Google Cloud project id" in ran.stderr


def test_preflight_asks_for_the_tfvars_file(world: dict[str, Path]) -> None:
    world["tfvars"].unlink()

    ran = preflight(world, PROJECT_ID="acme-care-prod")

    assert ran.returncode == 1
    assert "copy infra/terraform.tfvars.example to infra/terraform.tfvars" in ran.stderr


def test_preflight_reports_every_problem_at_once(world: dict[str, Path]) -> None:
    (world["bin"] / "terraform").unlink()
    (world["bin"] / "gcloud").unlink()

    ran = preflight(world)

    assert ran.returncode == 1
    assert len(ran.stderr.strip().splitlines()) == 2


@pytest.mark.parametrize("command", [(), ("apply",)])
def test_preflight_names_a_missing_python3_for_apply(world: dict[str, Path], command: tuple[str, ...]) -> None:
    (world["bin"] / "python3").unlink()

    ran = preflight(world, *command)

    assert ran.returncode == 1
    assert ran.stderr.startswith("preflight: python3 not found")


@pytest.mark.parametrize("command", ["plan", "destroy"])
def test_plan_and_destroy_need_no_python3(world: dict[str, Path], command: str) -> None:
    """tf.sh uses python3 in apply only (reading the secrets output), as its header says."""
    (world["bin"] / "python3").unlink()

    ran, calls = tf_sh(world, command, KEPT="false")

    assert ran.returncode == 0, ran.stderr
    assert calls[-1].startswith(f"{command} -input=false")


# -- tf.sh ---------------------------------------------------------------------------------------

# Records every call; answers `output -raw firestore_kept_on_destroy` with $KEPT and `state list X`
# with X when X is in $IN_STATE (space separated).
TERRAFORM_RECORDER = """
case " $* " in
  *" version -json "*) echo '{"terraform_version":"1.9.8"}'; exit 0 ;;
esac
echo "$*" >>"$TF_CALLS"
case " $* " in
  *" output -raw firestore_kept_on_destroy "*) [[ -n "${KEPT:-}" ]] && printf '%s' "$KEPT" && exit 0; exit 1 ;;
  *" state list "*) for a in ${IN_STATE:-}; do [[ " $* " == *" $a "* ]] && echo "$a"; done; exit 0 ;;
esac
exit 0
"""


def tf_sh(world: dict[str, Path], command: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = world["home"] / "tf-calls"
    stub(world["bin"], "terraform", TERRAFORM_RECORDER)
    base = {"PATH": str(world["bin"]), "HOME": str(world["home"]), "HILFT_TFVARS": str(world["tfvars"]),
            "TF_CALLS": str(calls)}
    ran = subprocess.run(["bash", str(SCRIPTS / "tf.sh"), command], capture_output=True, text=True,
                         env={**base, **env}, timeout=60, check=False)
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return ran, [line.split(" ", 1)[1] for line in recorded]  # drop -chdir=...


FIRESTORE_KEPT = ["google_firestore_field.unindexed", "google_firestore_index.composite",
                  "google_firestore_database.main"]


def test_destroy_with_protection_forgets_firestore_before_destroying(world: dict[str, Path]) -> None:
    ran, calls = tf_sh(world, "destroy", KEPT="true", IN_STATE=" ".join(FIRESTORE_KEPT), AUTO_APPROVE="1")

    assert ran.returncode == 0, ran.stderr
    removed = [call.removeprefix("state rm ") for call in calls if call.startswith("state rm ")]
    assert removed == FIRESTORE_KEPT
    assert calls[-1].startswith("destroy -input=false")
    assert calls.index(f"state rm {FIRESTORE_KEPT[-1]}") < len(calls) - 1
    assert "-auto-approve" in calls[-1]


def test_destroy_without_a_known_setting_counts_as_protected(world: dict[str, Path]) -> None:
    ran, calls = tf_sh(world, "destroy", IN_STATE="google_firestore_index.composite")

    assert ran.returncode == 0, ran.stderr
    assert [call for call in calls if call.startswith("state rm")] == ["state rm google_firestore_index.composite"]


def test_destroy_without_protection_destroys_everything(world: dict[str, Path]) -> None:
    ran, calls = tf_sh(world, "destroy", KEPT="false", IN_STATE=" ".join(FIRESTORE_KEPT))

    assert ran.returncode == 0, ran.stderr
    assert not [call for call in calls if call.startswith("state rm")]
    assert calls[-1].startswith("destroy -input=false") and "-auto-approve" not in calls[-1]


def test_plan_runs_without_optional_arguments(world: dict[str, Path]) -> None:
    """No AUTO_APPROVE, no PROJECT_ID, no state bucket: the empty arrays must not trip `set -u`."""
    ran, calls = tf_sh(world, "plan")

    assert ran.returncode == 0, ran.stderr
    assert calls[-1].startswith("plan -input=false -var-file=")


def test_arrays_that_may_be_empty_expand_safely_on_old_bash() -> None:
    """bash < 4.4 treats "${a[@]}" of an empty array as unset under `set -u` (macOS ships 3.2)."""
    text = (SCRIPTS / "tf.sh").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))

    bare = re.findall(r'(?<!\+)"\$\{(\w+)\[@\]\}"', code)
    never_empty = {"var_args"}  # always holds -var-file

    assert set(bare) <= never_empty, f"guard these with ${{a[@]+\"${{a[@]}}\"}}: {set(bare) - never_empty}"


def test_make_plan_deploy_destroy_need_no_virtualenv() -> None:
    makefile = (INFRA.parent / "Makefile").read_text()

    for target in ("plan", "deploy", "destroy"):
        rule = re.search(rf"^{target}:([^#\n]*)(?:##[^\n]*)?\n((?:\t[^\n]*\n)+)", makefile, re.M)
        assert rule, f"no {target} target"
        prerequisites, recipe = rule.group(1).split(), rule.group(2)
        assert not set(prerequisites) & {"setup", "requirements"}, f"{target} depends on {prerequisites}"
        assert "$(PY)" not in recipe and ".venv" not in recipe, f"{target} runs the virtualenv"


def test_tf_sh_rejects_an_unknown_command() -> None:
    ran = subprocess.run(["bash", str(SCRIPTS / "tf.sh"), "import"], capture_output=True, text=True,
                         timeout=30, check=False, env={**os.environ})

    assert ran.returncode == 2
    assert "usage:" in ran.stderr


def test_shell_scripts_are_executable_bash() -> None:
    for script in ("preflight.sh", "tf.sh"):
        path = SCRIPTS / script
        assert os.access(path, os.X_OK), f"{script} is not executable"
        checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr


# -- register_webhooks.py ------------------------------------------------------------------------

def load_register() -> ModuleType:
    spec = importlib.util.spec_from_file_location("register_webhooks", SCRIPTS / "register_webhooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


register = load_register()


class FakeX:
    """Just enough of X API v2's webhook endpoints, checking which token each call carries."""

    def __init__(self, server: FakeServer, registered: list[dict[str, object]] | None = None,
                 subscribed: bool = False) -> None:
        self.webhooks = list(registered or [])
        self.subscribed = subscribed
        server.route("GET", r"/2/webhooks", self.list_webhooks)
        server.route("POST", r"/2/webhooks", self.create_webhook)
        server.route("GET", r"/2/account_activity/webhooks/(?P<id>\w+)/subscriptions/all", self.subscription)
        server.route("POST", r"/2/account_activity/webhooks/(?P<id>\w+)/subscriptions/all", self.subscribe)

    @staticmethod
    def _token(request: Request) -> str:
        return (request.header("authorization") or "").removeprefix("Bearer ")

    def list_webhooks(self, request: Request, _: object) -> Response:
        if self._token(request) != APP_TOKEN:
            return Response(403, {"title": "Forbidden", "detail": "app-only authentication required"})
        return Response(200, {"data": self.webhooks} if self.webhooks else {"meta": {"result_count": 0}})

    def create_webhook(self, request: Request, _: object) -> Response:
        if self._token(request) != APP_TOKEN:
            return Response(403, {"title": "Forbidden"})
        url = request.json()["url"]
        if not url.startswith("https://"):
            return Response(400, {"errors": [{"message": "CrcValidationFailed"}]})
        webhook = {"id": "1146654567674912769", "url": url, "valid": True}
        self.webhooks.append(webhook)
        return Response(200, {"data": webhook})

    def subscription(self, request: Request, _: object) -> Response:
        if self._token(request) != USER_TOKEN:
            return Response(403, {"title": "Unsupported Authentication"})
        return Response(200, {"data": {"subscribed": self.subscribed}})

    def subscribe(self, request: Request, _: object) -> Response:
        if self._token(request) != USER_TOKEN:
            return Response(403, {"title": "Unsupported Authentication"})
        self.subscribed = True
        return Response(200, {"data": {"subscribed": True}})


def run_register(server_url: str, confirm: bool, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    env = {"X_API_BASE_URL": server_url, "X_BEARER_TOKEN": APP_TOKEN, "X_USER_ACCESS_TOKEN": USER_TOKEN}
    if confirm:
        env["CONFIRM"] = "1"
    code = register.main(["--x-webhook-url", X_URL, "--meta-webhook-url", META_URL, *extra], env=env, out=out,
                         client=httpx.Client(timeout=5))
    return code, out.getvalue()


def test_dry_run_sends_nothing_and_says_what_it_would_do() -> None:
    with FakeServer() as server:
        FakeX(server)
        code, printed = run_register(server.url, confirm=False)

        assert code == 0
        assert server.requests == []
    assert "DRY RUN" in printed
    assert f'"url": "{X_URL}"' in printed
    assert META_URL in printed


def test_confirmed_run_registers_and_subscribes() -> None:
    with FakeServer() as server:
        fake = FakeX(server)
        # radar: test_register_radar.py; X Activity API subscriptions: test_register_activity.py
        code, printed = run_register(server.url, True, "--skip-radar", "--skip-activity")

        calls = [(r.method, r.path) for r in server.requests]
    assert code == 0
    assert calls == [
        ("GET", "/2/webhooks"),
        ("POST", "/2/webhooks"),
        ("GET", "/2/account_activity/webhooks/1146654567674912769/subscriptions/all"),
        ("POST", "/2/account_activity/webhooks/1146654567674912769/subscriptions/all"),
    ]
    assert fake.subscribed
    assert fake.webhooks[0]["url"] == X_URL
    assert "subscribed" in printed


def test_a_second_run_changes_nothing() -> None:
    existing = [{"id": "77", "url": "https://elsewhere.example/hook", "valid": True},
                {"id": "88", "url": X_URL, "valid": True}]
    with FakeServer() as server:
        FakeX(server, registered=existing, subscribed=True)
        # radar: test_register_radar.py; X Activity API subscriptions: test_register_activity.py
        code, printed = run_register(server.url, True, "--skip-radar", "--skip-activity")

        posts = [r.path for r in server.requests if r.method == "POST"]
        checked = [r.path for r in server.requests if "subscriptions" in r.path]
    assert code == 0
    assert posts == []
    assert checked == ["/2/account_activity/webhooks/88/subscriptions/all"]
    assert "already registered: id 88" in printed


def test_an_x_error_is_reported_without_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer() as server:
        FakeX(server)
        server.fail_next(1, status=429, body={"title": "Too Many Requests", "detail": "Rate limit exceeded"})
        code, printed = run_register(server.url, confirm=True)

    stderr = capsys.readouterr().err
    assert code == 1
    assert "listing webhooks failed: HTTP 429 Rate limit exceeded" in stderr
    assert APP_TOKEN not in stderr + printed and USER_TOKEN not in stderr + printed


def test_missing_tokens_stop_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    with FakeServer() as server:
        FakeX(server)
        code = register.main(["--x-webhook-url", X_URL, "--meta-webhook-url", META_URL],
                             env={"CONFIRM": "1", "X_API_BASE_URL": server.url}, out=out)
        assert server.requests == []

    assert code == 1
    assert "set X_BEARER_TOKEN and X_USER_ACCESS_TOKEN" in capsys.readouterr().err


def test_meta_steps_point_at_the_secret_not_its_value() -> None:
    steps = register.meta_instructions(META_URL, "hilft-meta-verify-token")

    assert f"Callback URL: {META_URL}" in steps
    assert "gcloud secrets versions access latest --secret=hilft-meta-verify-token" in steps


def test_meta_steps_name_every_field_hilft_reads() -> None:
    """Echoes and standby too: without them a brand answer from Meta's inbox, or a customer writing
    while another app holds the thread, never reaches hilft (README "Events")."""
    steps = register.meta_instructions(META_URL, "hilft-meta-verify-token")

    assert "subscribe the fields: feed, mention, messages, message_echoes, standby" in steps
    assert "Instagram: same callback URL and verify token; fields: comments, mentions, messages, standby\n" in steps
    assert "subscribed_fields=feed,mention,messages,message_echoes,standby" in steps
    assert "subscribed_fields=comments,mentions,messages,standby)" in steps


def test_infra_readme_lists_the_same_meta_fields() -> None:
    readme = (INFRA / "README.md").read_text()

    assert "Page fields `feed, mention, messages, message_echoes, standby`" in readme
    assert "Instagram fields `comments, mentions, messages, standby`" in readme


@pytest.mark.parametrize(("make_args", "dry_run"), [((), False), (("DRY_RUN=1",), True), (("DRY_RUN=0",), False)])
def test_make_passes_dry_run_through(make_args: tuple[str, ...], dry_run: bool) -> None:
    shown = subprocess.run(["make", "-n", "register-webhooks", *make_args], cwd=INFRA.parent, capture_output=True,
                           text=True, check=True).stdout
    line = next(line for line in shown.splitlines() if "register_webhooks.py" in line)
    assert line.rstrip().endswith("--dry-run") is dry_run, line


def test_dry_run_flag_wins_over_confirm() -> None:
    with FakeServer() as server:
        FakeX(server)
        code, printed = run_register(server.url, True, "--dry-run", "--skip-radar", "--skip-activity")

        methods = {r.method for r in server.requests}
    assert code == 0, printed
    assert methods == {"GET"}  # read only, although CONFIRM=1
    assert "would be registered" in printed
