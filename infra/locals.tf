locals {
  # Everything the stack decides lives here, with no reference to a resource except the project
  # number, so tests/infra can evaluate it offline (terraform without providers).
  functions_dir  = "${path.module}/../functions"
  project_number = data.google_project.this.number

  x_enabled       = length(var.x_brand_user_ids) > 0
  meta_enabled    = length(var.meta_page_ids) + length(var.meta_ig_user_ids) > 0
  threads_enabled = length(var.threads_user_ids) > 0
  # Bluesky and Mastodon have no usable webhooks: `poll` fetches them, called by its own job. It also
  # checks stored Threads posts for deletion (Threads sends `delete` only for the brand's own posts).
  bluesky_enabled  = var.bluesky_handle != ""
  mastodon_enabled = var.mastodon_base_url != ""
  polling_enabled  = local.bluesky_enabled || local.mastodon_enabled || local.threads_enabled

  # The entry-point table (infra/functions.json), read by the local stack too (infra/local/stack.py),
  # so `make dev` and the e2e suite run each function with the environment given here.
  spec = jsondecode(file("${path.module}/functions.json"))

  # Identities, least privilege: one per function, plus the build and the two OIDC callers. A
  # function's identity reads only that function's secrets and holds only its roles (iam.tf).
  service_accounts = merge(
    {
      build     = { display_name = "hilft function builds (Cloud Build)", description = "builds the functions' images" }
      scheduler = { display_name = "hilft Cloud Scheduler", description = "the only caller of sweep (OIDC)" }
      tasks     = { display_name = "hilft Cloud Tasks", description = "the only caller of deadline (OIDC token of every task)" }
    },
    { for entry_point, function in local.spec.functions : entry_point => {
      display_name = "hilft ${entry_point}"
      description  = substr(function.does, 0, 256)
    } },
  )
  # Emails are derived, not read from the resources, so they are known at plan time and can key
  # for_each maps (IAM bindings) and be baked into environment variables without a cycle.
  service_account_emails = {
    for name, _ in local.service_accounts : name => "${var.prefix}-${replace(name, "_", "-")}@${var.project_id}.iam.gserviceaccount.com"
  }

  # Secret environment variables (their meaning: functions.json "secrets") => whether this
  # deployment uses them. Only used ones are created and wired: a Cloud Run revision does not
  # start when a secret it names has no version.
  secrets = {
    ALERT_WEBHOOK_SECRET     = var.alert_sinks.webhook
    ALERT_WEBHOOK_URL        = var.alert_sinks.webhook # may embed a token, so treated as a secret
    BLUESKY_APP_PASSWORD     = local.bluesky_enabled
    GOOGLE_CHAT_WEBHOOK_URL  = var.alert_sinks.google_chat
    HILFT_STAFF_TOKEN        = var.staff_auth == "token"
    META_APP_SECRET          = local.meta_enabled
    META_PAGE_ACCESS_TOKEN   = local.meta_enabled
    META_VERIFY_TOKEN        = local.meta_enabled
    MASTODON_ACCESS_TOKEN    = local.mastodon_enabled
    PAGERDUTY_ROUTING_KEY    = var.alert_sinks.pagerduty
    PAGERDUTY_WEBHOOK_SECRET = var.alert_sinks.pagerduty
    SLACK_WEBHOOK_URL        = var.alert_sinks.slack
    THREADS_ACCESS_TOKEN     = local.threads_enabled
    THREADS_APP_SECRET       = local.threads_enabled
    THREADS_VERIFY_TOKEN     = local.threads_enabled
    X_CLIENT_SECRET          = local.x_enabled
    X_CONSUMER_SECRET        = local.x_enabled
    X_USER_ACCESS_TOKEN      = local.x_enabled
  }
  enabled_secrets = toset([for name, used in local.secrets : name if used])

  # Who may invoke a function, by its caller in functions.json. Staff: Cloud Run IAM for the
  # on-call members; with staff_auth = "token" the function checks the shared token itself.
  invokers_by_caller = {
    public    = ["allUsers"]
    scheduler = ["serviceAccount:${local.service_account_emails.scheduler}"]
    staff     = var.staff_auth == "iam" ? var.oncall_members : ["allUsers"]
    tasks     = ["serviceAccount:${local.service_account_emails.tasks}"]
  }

  # One entry per entry point (the key is the Python function in functions/main.py). Adding an
  # entry point is one entry in functions.json. `invokers` is the complete Cloud Run invoker list;
  # `secrets` the only secrets its environment gets (those of disabled platforms/sinks are dropped).
  functions = {
    for entry_point, function in local.spec.functions : entry_point => {
      identity        = entry_point
      invokers        = local.invokers_by_caller[function.caller]
      ingress         = function.ingress == "internal" ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"
      min_instances   = function.warm ? var.min_instances : 0
      timeout_seconds = function.timeout_seconds
      secrets         = function.secrets
    }
  }

  # Identities that create Cloud Tasks (with the tasks identity's OIDC token, hence actAs on it).
  task_enqueuers = sort([for entry_point, function in local.spec.functions : entry_point if contains(function.queue, "enqueuer")])

  # The secrets each function's environment actually gets: its own, minus disabled platforms/sinks.
  function_secrets = {
    for entry_point, function in local.functions : entry_point => sort([for secret in function.secrets : secret if contains(local.enabled_secrets, secret)])
  }

  function_names = { for entry_point, _ in local.functions : entry_point => "${var.prefix}-${replace(entry_point, "_", "-")}" }

  # Cloud Run's deterministic URL (https://SERVICE-PROJECT_NUMBER.REGION.run.app) is known before
  # the function exists. deadline and sweep need their own URL (re-alert tasks, OIDC audience
  # checks), which the function's `url` attribute cannot give without a dependency cycle.
  function_urls = {
    for entry_point, name in local.function_names : entry_point => "https://${name}-${local.project_number}.${var.region}.run.app"
  }

  # The same function under its Cloud Functions address (https://REGION-PROJECT.cloudfunctions.net/NAME),
  # which stays valid for 2nd-gen functions; a token may be minted for either.
  function_legacy_urls = {
    for entry_point, name in local.function_names : entry_point => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}"
  }

  # Per function, on top of function_env (each variable: README, "Configuration").
  # HILFT_CLOUD_RUN_IAM: "true" exactly where Cloud Run IAM admits only named principals (no
  # public invoker). Cloud Run then verifies the caller's ID token and removes its signature
  # (SIGNATURE_REMOVED_BY_GOOGLE) before the request reaches the code, which may trust such a token's
  # claims only there (infra/README.md, "Tokens whose signature Cloud Run removed").
  # HILFT_STAFF_AUDIENCES: the audiences a staff token may carry, the function's own two URLs and
  # var.staff_token_audiences (gcloud's client: people's tokens from gcloud carry it); the code never
  # takes an audience from the request's Host header.
  function_own_env = {
    for entry_point, function in local.functions : entry_point => {
      HILFT_CLOUD_RUN_IAM   = length(setintersection(function.invokers, local.invokers_by_caller.public)) == 0 ? "true" : "false"
      HILFT_STAFF_AUDIENCES = local.spec.functions[entry_point].caller == "staff" ? join(",", concat([local.function_urls[entry_point], local.function_legacy_urls[entry_point]], var.staff_token_audiences)) : ""
    }
  }

  tasks_queue_name = "${var.prefix}-deadlines"
  tasks_queue_path = "projects/${var.project_id}/locations/${var.region}/queues/${local.tasks_queue_name}"

  # HILFT_CONFIG is read relative to the function's working directory, the root of the zip.
  policy_path_in_zip = trimprefix(abspath(var.policy_file), "${abspath(local.functions_dir)}/")

  # Requests one instance serves at once (= functions-framework's THREADS): deadline waits on its
  # sinks and takes more; Cloud Run functions serve more than one only with at least one vCPU.
  function_concurrency = { for name in keys(local.functions) : name => name == "deadline" ? var.deadline_concurrency : var.function_concurrency }
  function_cpu         = { for name, threads in local.function_concurrency : name => threads > 1 ? "1" : null }

  # Non-secret configuration, the same for every function (each variable: README, "Configuration").
  function_env = {
    BLUESKY_APPVIEW_URL             = var.bluesky_appview_url
    BLUESKY_HANDLE                  = var.bluesky_handle
    BLUESKY_PDS_URL                 = var.bluesky_pds_url
    GOOGLE_CLOUD_PROJECT            = var.project_id
    HILFT_BOARD_URL                 = local.function_urls.board
    HILFT_CONFIG                    = local.policy_path_in_zip
    HILFT_DEADLINE_URL              = local.function_urls.deadline
    HILFT_POLL_URL                  = local.function_urls.poll
    HILFT_RETENTION_DAYS            = tostring(var.retention_days)
    HILFT_SCHEDULER_SERVICE_ACCOUNT = local.service_account_emails.scheduler
    HILFT_STAFF_AUTH                = var.staff_auth # iam: handoff, ack and board sit behind Cloud Run IAM
    HILFT_SWEEP_URL                 = local.function_urls.sweep
    HILFT_TASKS_QUEUE               = local.tasks_queue_path
    HILFT_TASKS_SERVICE_ACCOUNT     = local.service_account_emails.tasks
    MASTODON_ACCOUNT_IDS            = join(",", var.mastodon_account_ids)
    MASTODON_BASE_URL               = var.mastodon_base_url
    META_GRAPH_BASE_URL             = var.meta_graph_base_url
    META_IG_USER_IDS                = join(",", var.meta_ig_user_ids)
    META_PAGE_IDS                   = join(",", var.meta_page_ids)
    PAGERDUTY_EVENTS_URL            = var.alert_sinks.pagerduty_events_url
    THREADS_API_BASE_URL            = var.threads_api_base_url
    THREADS_USER_IDS                = join(",", var.threads_user_ids)
    X_API_BASE_URL                  = var.x_api_base_url
    X_BRAND_USER_IDS                = join(",", var.x_brand_user_ids)
  }

  # (secret, identity) pairs: an identity may read a secret only if its function is wired to it.
  secret_accessors = distinct(flatten([
    for entry_point, secrets in local.function_secrets : [
      for secret in secrets : { secret = secret, identity = local.functions[entry_point].identity }
    ]
  ]))

  project_roles = concat(
    # Firestore has no per-collection IAM; datastore.user is its narrowest read/write role.
    [for entry_point, function in local.spec.functions : { identity = entry_point, role = "roles/datastore.user" } if function.firestore],
    # Cloud Build, as documented for a custom build service account of Cloud Run functions: logs,
    # the built image, and the function sources GCF stages in its own gcf-v2-* buckets.
    [for role in ["roles/artifactregistry.writer", "roles/logging.logWriter", "roles/storage.objectAdmin"] :
    { identity = "build", role = role }],
  )

  # Roles on the deadlines queue only: creating tasks, and cancelling those no longer needed.
  queue_roles = flatten([
    for entry_point, function in local.spec.functions : [
      for role in function.queue : { identity = entry_point, role = "roles/cloudtasks.${role}" }
    ]
  ])

  invoker_bindings = flatten([
    for entry_point, function in local.functions : [
      for member in function.invokers : { entry_point = entry_point, member = member }
    ]
  ])

  # Every composite query functions/hilft/adapters/firestore_store.py runs (its COMPOSITE_INDEXES;
  # tests/infra compares the two). Single-field queries use Firestore's automatic indexes.
  composite_indexes = [
    { collection = "mentions", fields = [["status", "ASCENDING"], ["due_at", "ASCENDING"]] },
    { collection = "mentions", fields = [["status", "ASCENDING"], ["next_alert_at", "ASCENDING"]] },
    { collection = "mentions", fields = [["platform", "ASCENDING"], ["conversation_id", "ASCENDING"], ["status", "ASCENDING"]] },
    # the storm-page settle check: an incident's unanswered posts due by a time (adapters/incident_store.py)
    { collection = "mentions", fields = [["incident_id", "ASCENDING"], ["status", "ASCENDING"], ["due_at", "ASCENDING"]] },
  ]

  # Documents carrying `expire_at` are deleted by Firestore's TTL once it has passed (retention_days).
  ttl_field       = "expire_at"
  ttl_collections = ["answers", "handoffs", "incident_alerts", "incidents", "mentions", "operator_alerts", "out_of_hours", "own_messages", "replies"]

  # Fields written but never queried whose values only grow: an automatic single-field index on them
  # limits write throughput (hotspot on the last index range) and costs storage for nothing.
  index_exemptions = [
    { collection = "handoffs", field = "created_at" },
    { collection = "mentions", field = "created_at" },
  ]

  # One google_firestore_field per (collection, field): TTL fields are unindexed too (their values
  # only grow and nothing queries them).
  firestore_fields = merge(
    { for collection in local.ttl_collections : "${collection}.${local.ttl_field}" => { collection = collection, field = local.ttl_field, ttl = true } },
    { for exemption in local.index_exemptions : "${exemption.collection}.${exemption.field}" => merge(exemption, { ttl = false }) },
  )
}
