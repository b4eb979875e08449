"""infra/*.tf read with python-hcl2 and compared with the code it deploys (read with ast).

No terraform, no network: these run everywhere. The code they compare against must exist: a moved
or renamed module fails here rather than letting its comparison pass unseen.
"""

from __future__ import annotations

import re
from typing import Any

from tests.infra.stack import (
    ENV_NAME,
    FIRESTORE_STORE_PY,
    FUNCTIONS,
    INFRA,
    PORTS_PY,
    SETTINGS_PY,
    expression,
    function_spec,
    http_entry_points,
    load_stack,
    module_constants,
    only_block,
    queried_fields,
    settings_env_names,
    unquote,
)

# Read by the settings module but deliberately never deployed: emulators and test-only overrides
# of token verification. Deploying any of them would weaken production (tested below).
LOCAL_ONLY = frozenset({
    "FIRESTORE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "HILFT_OIDC_JWKS_URL",
    "HILFT_OIDC_ISSUERS",
    "HILFT_OIDC_REQUIRED",
})
# Read by the settings module, left to the code's default on purpose (with the reason).
CODE_DEFAULT_ON_PURPOSE = {
    "BLUESKY_CHAT_URL": "chat.bsky.* calls go through the brand's PDS (the code's default), as Bluesky documents",
    "HILFT_MAX_BODY_BYTES": "tuning knob, the code's default fits both platforms",
    "HILFT_CLAIM_TTL_SECONDS": "tuning knob, the code's default is the designed value",
    "HILFT_SWEEP_GRACE_SECONDS": "tuning knob, the code's default is the designed value",
}

FUNCTION_RESOURCE = "google_cloudfunctions2_function"


def functions_map() -> dict[str, dict[str, Any]]:
    """The entry-point table (infra/functions.json) that local.functions is built from."""
    return function_spec()["functions"]


def function_resource() -> dict[str, Any]:
    resources = load_stack().of_type(FUNCTION_RESOURCE)
    assert len(resources) == 1, f"expected one for_each {FUNCTION_RESOURCE} driven by local.functions"
    return next(iter(resources.values()))


def per_function_names() -> set[str]:
    """The variables of local.function_own_env (one value per function, on top of function_env)."""
    own = expression(load_stack().locals["function_own_env"]) or ""
    return set(re.findall(r"\b([A-Z][A-Z0-9_]+) =", own))


def wired_names() -> set[str]:
    stack = load_stack()
    return set(stack.locals["function_env"]) | set(stack.locals["secrets"]) | per_function_names()


def tf_text_without_comments() -> str:
    text = "\n".join(load_stack().sources.values())
    return re.sub(r"(?m)\s*(#|//).*$", "", text)


# -- entry points --------------------------------------------------------------------------------

def test_every_entry_point_has_exactly_one_function() -> None:
    entry_points = http_entry_points()
    assert entry_points, "functions/main.py defines no @functions_framework.http function"
    body = function_resource()
    locals_tf = load_stack().sources["locals.tf"]

    assert expression(body["for_each"]) == "local.functions"
    assert expression(only_block(body["build_config"])["entry_point"]) == "each.key"
    assert 'spec = jsondecode(file("${path.module}/functions.json"))' in locals_tf
    assert "for entry_point, function in local.spec.functions : entry_point => {" in locals_tf
    assert set(functions_map()) == entry_points


def test_the_local_stack_runs_every_function_terraform_deploys() -> None:
    import stack as local_stack

    assert set(local_stack.ENTRY_POINTS) == set(functions_map())
    assert local_stack.FUNCTION_SPEC.resolve() == (INFRA / "functions.json").resolve()


NUMBER_WORDS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split())}
# "(ten today)" after the table, "all ten functions", "the ten entry points": a count of the functions
COUNTED_FUNCTIONS = re.compile(
    rf"\b({'|'.join(NUMBER_WORDS)}|\d+) (?:(?:Cloud Run )?functions|entry points)\b"
    rf"|`functions\.json` \(({'|'.join(NUMBER_WORDS)}|\d+) today\)", re.IGNORECASE)


def test_the_readmes_count_the_functions_functions_json_lists() -> None:
    deployed = len(functions_map())
    said = [(path.relative_to(INFRA.parent).as_posix(), match.group(0), match.group(1) or match.group(2))
            for path in (INFRA / "README.md", INFRA.parent / "README.md")
            for match in COUNTED_FUNCTIONS.finditer(path.read_text())]
    wrong = [(where, words) for where, words, number in said
             if (int(number) if number.isdigit() else NUMBER_WORDS[number.lower()]) != deployed]

    assert any(where == "infra/README.md" for where, _, _ in said), "infra/README.md no longer counts the functions"
    assert not wrong, f"functions.json lists {deployed} functions, the READMEs say: {wrong}"


def test_function_table_is_complete_and_well_formed() -> None:
    keys = {"does", "caller", "ingress", "warm", "timeout_seconds", "secrets", "firestore", "queue"}

    for name, function in functions_map().items():
        assert set(function) == keys, f"{name}: {set(function) ^ keys}"
        assert function["caller"] in {"public", "tasks", "scheduler", "staff"}, name
        assert function["ingress"] in {"all", "internal"}, name
        assert set(function["queue"]) <= {"enqueuer", "taskDeleter"}, name
        assert isinstance(function["warm"], bool) and isinstance(function["firestore"], bool), name
        assert len(function["does"]) > 15, f"{name}: say what it does"


def test_all_functions_build_from_one_zip_named_by_its_hash() -> None:
    stack = load_stack()
    source = only_block(only_block(only_block(function_resource()["build_config"])["source"])["storage_source"])
    zip_object = stack.resources[("google_storage_bucket_object", "functions_zip")]

    assert expression(source["object"]) == "google_storage_bucket_object.functions_zip.name"
    assert zip_object["name"] == "functions-${data.archive_file.functions.output_md5}.zip"
    assert expression(stack.data[("archive_file", "functions")]["source_dir"]) == "local.functions_dir"


def test_runtime_and_concurrency_come_from_variables() -> None:
    body = function_resource()
    build = only_block(body["build_config"])
    service = only_block(body["service_config"])

    assert expression(build["runtime"]) == "var.python_runtime"
    assert expression(service["max_instance_request_concurrency"]) == "local.function_concurrency[each.key]"
    assert expression(service["available_cpu"]) == "local.function_cpu[each.key]"
    threads = "{THREADS = tostring(local.function_concurrency[each.key])}"
    assert expression(service["environment_variables"]).replace(" ", "") == \
        f"merge(local.function_env,local.function_own_env[each.key],{threads})".replace(" ", "")
    assert per_function_names() == {"HILFT_CLOUD_RUN_IAM", "HILFT_STAFF_AUDIENCES"}


# -- configuration -------------------------------------------------------------------------------

def settings_names() -> set[str]:
    assert SETTINGS_PY.exists(), f"{SETTINGS_PY} moved: point tests/infra/stack.py at it"
    names = settings_env_names()
    assert names, "no environment variable names found in settings.py"
    return names


def test_every_setting_is_deployed_or_deliberately_not() -> None:
    read_by_code = settings_names()

    missing = read_by_code - wired_names() - LOCAL_ONLY - set(CODE_DEFAULT_ON_PURPOSE)

    assert not missing, f"settings.py reads {sorted(missing)} but infra/locals.tf does not set them"


def test_nothing_is_deployed_that_the_code_does_not_read() -> None:
    read_by_code = settings_names()

    unread = {name for name in wired_names() if name.startswith("HILFT_") or name in {
        "GOOGLE_CLOUD_PROJECT", "PAGERDUTY_EVENTS_URL", "X_API_BASE_URL", "META_GRAPH_BASE_URL"}} - read_by_code

    assert not unread, f"infra sets {sorted(unread)} but settings.py never reads them"


def test_exemption_lists_name_real_settings() -> None:
    read_by_code = settings_names()

    listed = {name for name in LOCAL_ONLY | set(CODE_DEFAULT_ON_PURPOSE) if ENV_NAME.match(name)}

    stale = listed - read_by_code

    assert not stale, f"settings.py no longer reads {sorted(stale)}: drop them from this test's lists"


def test_local_only_settings_never_reach_production() -> None:
    text = tf_text_without_comments()

    deployed = {name for name in LOCAL_ONLY if re.search(rf"\b{name}\b", text)}

    assert not deployed, f"local-only settings in infra/: {sorted(deployed)}"


def test_secrets_are_never_plain_environment_variables() -> None:
    stack = load_stack()

    overlap = set(stack.locals["secrets"]) & set(stack.locals["function_env"])

    assert not overlap, f"secrets set as plain environment variables: {sorted(overlap)}"


def test_secret_values_never_pass_through_terraform() -> None:
    assert not load_stack().of_type("google_secret_manager_secret_version"), \
        "secret versions belong to the operator (gcloud secrets versions add), not to terraform state"


def test_each_function_only_names_known_secrets() -> None:
    declared = set(load_stack().locals["secrets"])

    assert set(function_spec()["secrets"]) == declared, "functions.json and local.secrets name other secrets"
    for name, function in functions_map().items():
        secrets = function["secrets"]
        assert secrets == sorted(set(secrets), key=secrets.index), f"{name} names a secret twice"
        assert set(secrets) <= declared, f"{name} names undeclared secrets {set(secrets) - declared}"


# -- IAM -----------------------------------------------------------------------------------------

def test_public_invocation_only_on_the_signature_checked_webhooks() -> None:
    public = {name for name, function in functions_map().items() if function["caller"] == "public"}
    anywhere_else = [line.strip() for line in tf_text_without_comments().splitlines()
                     if ("allUsers" in line or "allAuthenticatedUsers" in line)
                     and not re.match(r"\s*public\s*=\s*\[\"allUsers\"\]$", line)
                     and not re.match(r'\s*staff\s*=\s*var\.staff_auth == "iam" \? var\.oncall_members : \["allUsers"\]$',
                                      line)]

    assert public == {"x_webhook", "meta_webhook", "threads_webhook", "pagerduty_webhook"}
    assert not anywhere_else, f"public members outside the webhooks: {anywhere_else}"


def test_oidc_targets_are_invoked_only_by_their_identity() -> None:
    functions = functions_map()
    invokers = load_stack().locals["invokers_by_caller"]

    assert functions["deadline"]["caller"] == "tasks"
    assert functions["sweep"]["caller"] == functions["poll"]["caller"] == "scheduler"
    assert {name for name, function in functions.items() if function["caller"] == "staff"} == {"handoff", "ack", "board"}
    assert invokers["tasks"] == ["serviceAccount:${local.service_account_emails.tasks}"]
    assert invokers["scheduler"] == ["serviceAccount:${local.service_account_emails.scheduler}"]


def test_functions_only_google_calls_are_internal_only() -> None:
    ingress = {name: function["ingress"] for name, function in functions_map().items()}
    service = only_block(function_resource()["service_config"])

    assert {name for name, value in ingress.items() if value == "internal"} == {"deadline", "sweep", "poll"}
    assert expression(service["ingress_settings"]) == "each.value.ingress"


def test_every_function_runs_as_its_own_identity() -> None:
    service = only_block(function_resource()["service_config"])
    functions_local = load_stack().sources["locals.tf"]

    assert expression(service["service_account_email"]) == "local.service_account_emails[each.value.identity]"
    assert "      identity        = entry_point\n" in functions_local


def test_invoker_bindings_cover_every_function_and_nothing_else() -> None:
    stack = load_stack()
    bindings = stack.of_type("google_cloud_run_service_iam_member")
    other_run_iam = [rtype for rtype, _ in stack.resources if rtype.startswith("google_cloud_run")
                     and rtype != "google_cloud_run_service_iam_member"]

    assert list(bindings) == ["invoker"]
    assert bindings["invoker"]["role"] == "roles/run.invoker"
    assert expression(bindings["invoker"]["service"]) == \
        "google_cloudfunctions2_function.entry_point[each.value.entry_point].name"
    assert not other_run_iam, f"Cloud Run IAM outside local.functions: {other_run_iam}"


def test_no_identity_gets_a_broad_project_role() -> None:
    stack = load_stack()
    text = tf_text_without_comments()
    broad = {"roles/owner", "roles/editor", "roles/viewer", "roles/datastore.owner", "roles/cloudtasks.admin",
             "roles/secretmanager.admin", "roles/run.admin", "roles/iam.serviceAccountTokenCreator"}

    assert not {role for role in broad if f'"{role}"' in text}
    assert not stack.of_type("google_project_iam_binding"), "authoritative bindings would remove others' access"
    assert not stack.of_type("google_project_iam_policy")


def test_scheduler_calls_sweep_with_its_identity_and_matching_audience() -> None:
    job = load_stack().resources[("google_cloud_scheduler_job", "sweep")]
    target = only_block(job["http_target"])
    token = only_block(target["oidc_token"])

    assert target["uri"] == "${local.function_urls.sweep}"
    assert token["audience"] == target["uri"]
    assert token["service_account_email"] == "${local.service_account_emails.scheduler}"
    assert load_stack().locals["function_env"]["HILFT_SWEEP_URL"] == target["uri"]
    assert expression(job["schedule"]) == "var.sweep_schedule"


def test_scheduler_calls_poll_with_its_identity_and_matching_audience() -> None:
    job = load_stack().resources[("google_cloud_scheduler_job", "poll")]
    target = only_block(job["http_target"])
    token = only_block(target["oidc_token"])

    assert target["uri"] == "${local.function_urls.poll}"
    assert token["audience"] == target["uri"] == load_stack().locals["function_env"]["HILFT_POLL_URL"]
    assert token["service_account_email"] == "${local.service_account_emails.scheduler}"
    assert expression(job["schedule"]) == "var.poll_schedule"
    assert "local.polling_enabled" in job["for_each"]


def test_every_error_line_of_every_function_reaches_the_operator_alert() -> None:
    """The code says its ERROR lines feed a log alert (revoked access, impossible handoff): it must exist."""
    stack = load_stack()
    metric = stack.resources[("google_logging_metric", "errors")]
    policy = stack.resources[("google_monitoring_alert_policy", "operator")]
    condition = only_block(only_block(policy["conditions"])["condition_threshold"])
    logs_json = (FUNCTIONS / "hilft" / "logs.py").read_text()

    assert "severity>=ERROR" in metric["filter"]
    assert "local.function_names" in metric["filter"]
    assert '"severity"' in logs_json, "hilft's log lines must carry Cloud Logging's severity field"
    assert "google_logging_metric.errors.name" in condition["filter"]
    assert condition["comparison"] == "COMPARISON_GT" and condition["threshold_value"] == 0
    assert expression(policy["notification_channels"]) == "var.operator_notification_channels"


# -- Cloud Tasks ---------------------------------------------------------------------------------

def test_queue_matches_the_code() -> None:
    expected = module_constants(SETTINGS_PY).get("TASKS_QUEUE_CONFIG")
    assert expected is not None, "settings.py must define TASKS_QUEUE_CONFIG, the queue the code expects"
    queue = load_stack().resources[("google_cloud_tasks_queue", "deadlines")]
    deployed = {**only_block(queue["rate_limits"]), **only_block(queue["retry_config"])}

    assert deployed == expected


# -- Firestore -----------------------------------------------------------------------------------

def store_constants() -> dict[str, Any]:
    assert FIRESTORE_STORE_PY.exists(), f"{FIRESTORE_STORE_PY} moved: point tests/infra/stack.py at it"
    return module_constants(FIRESTORE_STORE_PY, known=module_constants(PORTS_PY))


def deployed_indexes() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return sorted((index["collection"], tuple(tuple(field) for field in index["fields"]))
                  for index in load_stack().locals["composite_indexes"])


def test_every_composite_index_of_the_code_exists() -> None:
    constants = store_constants()
    assert "COMPOSITE_INDEXES" in constants, "firestore_store.py must list the composite indexes it queries"
    expected = sorted((index["collection"], tuple(tuple(field) for field in index["fields"]))
                      for index in constants["COMPOSITE_INDEXES"])

    assert deployed_indexes() == expected


def test_index_resource_is_driven_by_the_list() -> None:
    index = load_stack().resources[("google_firestore_index", "composite")]

    assert "local.composite_indexes" in index["for_each"]
    assert all(order in {"ASCENDING", "DESCENDING"} for _, fields in deployed_indexes() for _, order in fields)


def collections_in_store(constants: dict[str, Any]) -> set[str]:
    """Collections the store names: TTL_COLLECTIONS if defined, else its UPPER = "lower" constants."""
    if "TTL_COLLECTIONS" in constants:
        return set(constants["TTL_COLLECTIONS"])
    return {value for name, value in constants.items()
            if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]*", value)}


def test_every_collection_expires_by_ttl() -> None:
    constants = module_constants(PORTS_PY)  # the ports own the collection names
    stack = load_stack()

    assert stack.locals["ttl_field"] == constants.get("TTL_FIELD", "expire_at")
    assert "mentions" in stack.locals["ttl_collections"]
    assert set(stack.locals["ttl_collections"]) == collections_in_store(constants)
    assert expression(stack.resources[("google_firestore_field", "unindexed")]["for_each"]) == \
        "local.firestore_fields"


def test_the_ttl_field_is_what_the_code_writes() -> None:
    ttl_field = load_stack().locals["ttl_field"]
    writers = [path.name for path in (FUNCTIONS / "hilft").rglob("*.py") if f'"{ttl_field}"' in path.read_text()]

    assert writers, f"no module of functions/hilft writes {ttl_field!r}: nothing would ever expire"


def test_unindexed_fields_are_never_queried() -> None:
    store_constants()
    stack = load_stack()
    unindexed = {item["field"] for item in stack.locals["index_exemptions"]} | {stack.locals["ttl_field"]}
    in_composite_indexes = {field for _, fields in deployed_indexes() for field, _ in fields}

    queried = unindexed & (queried_fields() | in_composite_indexes)

    assert not queried, f"exempted from indexing but queried: {sorted(queried)}"


def test_database_protection_and_recovery() -> None:
    database = load_stack().resources[("google_firestore_database", "main")]

    assert database["type"] == "FIRESTORE_NATIVE"
    assert database["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert "var.deletion_protection" in database["delete_protection_state"]
    assert expression(database["location_id"]) == "var.firestore_location"


# -- hygiene -------------------------------------------------------------------------------------

def test_variables_are_typed_described_and_sorted() -> None:
    stack = load_stack()
    names = [name for _, name in stack.variable_order]

    assert {file for file, _ in stack.variable_order} == {"variables.tf"}
    assert names == sorted(names)
    for name, body in stack.variables.items():
        assert body.get("type"), f"variable {name} has no type"
        assert len(body.get("description", "")) > 15, f"variable {name} needs a real description"


def test_numbers_are_numbers() -> None:
    numeric = ["deadline_concurrency", "function_concurrency", "max_instances", "min_instances", "retention_days"]

    for name in numeric:
        declared = load_stack().variables[name]["type"]
        assert (expression(declared) or declared) == "number", name


def test_project_id_is_required_and_validated() -> None:
    project_id = load_stack().variables["project_id"]

    assert "default" not in project_id
    assert project_id.get("validation")


def test_no_hard_coded_project() -> None:
    stack = load_stack()
    text = tf_text_without_comments()
    literal_paths = re.findall(r"projects/(?!\$\{|_/)[a-z][a-z0-9-]+", text)
    literal_accounts = re.findall(r"@(?!\$\{)[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com", text)
    literal_projects = [
        (rtype, name) for (rtype, name), body in stack.resources.items() for key in ("project", "project_id")
        if key in body and not str(body[key]).startswith("${var.project_id")
    ]

    assert not literal_paths, literal_paths
    assert not literal_accounts, literal_accounts
    assert not literal_projects, literal_projects


def test_apis_stay_enabled_on_destroy() -> None:
    services = load_stack().of_type("google_project_service")

    assert services
    for name, body in services.items():
        assert body.get("disable_on_destroy") is False, f"google_project_service.{name}"


def test_every_used_api_is_enabled() -> None:
    apis_text = load_stack().sources["apis.tf"]
    needed = ["firestore", "cloudtasks", "cloudfunctions", "run", "cloudbuild", "artifactregistry",
              "secretmanager", "cloudscheduler", "iam", "logging"]

    assert not [api for api in needed if f'"{api}.googleapis.com"' not in apis_text]


def test_example_tfvars_names_real_variables_and_sets_the_required_ones() -> None:
    import hcl2

    example = unquote(hcl2.loads((INFRA / "terraform.tfvars.example").read_text()))
    variables = load_stack().variables
    required = {name for name, body in variables.items() if "default" not in body}

    assert set(example) <= set(variables), set(example) - set(variables)
    assert required <= set(example)


def test_archive_provider_honours_glob_excludes() -> None:
    versions = unquote(__import__("hcl2").loads(load_stack().sources["versions.tf"]))
    archive = versions["terraform"][0]["required_providers"][0]["archive"]

    assert archive["version"].startswith(">= 2.5,"), "archive_file's glob excludes need hashicorp/archive 2.5"
    assert any("*" in pattern for pattern in load_stack().data[("archive_file", "functions")]["excludes"])


def test_first_build_waits_for_iam_propagation() -> None:
    stack = load_stack()
    sleep = stack.resources[("time_sleep", "iam_propagation")]

    assert sleep["create_duration"] == "60s"
    assert "${time_sleep.iam_propagation}" in function_resource()["depends_on"]


def test_project_number_is_read_without_depends_on() -> None:
    """A data source with depends_on is read at apply time: every URL, so every function, shows as changed."""
    assert "depends_on" not in load_stack().data[("google_project", "this")]


def test_no_reference_outside_the_repository() -> None:
    for path in [*INFRA.glob("*.tf"), INFRA / "README.md", INFRA / "functions.json"]:
        assert "CONTRACT.md" not in path.read_text(), path.name


def test_versions_are_pinned_to_a_range() -> None:
    versions = unquote(__import__("hcl2").loads(load_stack().sources["versions.tf"]))
    terraform = versions["terraform"][0]
    providers = terraform["required_providers"][0]

    assert terraform["required_version"] == ">= 1.6"
    for name, provider in providers.items():
        assert re.fullmatch(r">= [\d.]+, < \d+", provider["version"]), (name, provider["version"])
