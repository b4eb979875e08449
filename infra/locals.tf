locals {
  # Everything the stack decides lives here, with no reference to a resource except the project
  # number, so tests/infra can evaluate it offline (terraform without providers).
  functions_dir  = "${path.module}/../functions"
  project_number = data.google_project.this.number

  x_enabled    = length(var.x_brand_user_ids) > 0
  meta_enabled = length(var.meta_page_ids) + length(var.meta_ig_user_ids) > 0

  # Identities, least privilege: each runtime gets only its own secrets and roles (iam.tf).
  service_accounts = {
    alerter   = "hilft deadline and sweep: alerts on-call, re-schedules re-alerts"
    build     = "hilft function builds (Cloud Build)"
    scheduler = "hilft Cloud Scheduler: the only caller of sweep"
    staff     = "hilft handoff, ack and board, behind Cloud Run IAM"
    tasks     = "hilft Cloud Tasks: the only caller of deadline"
    webhook   = "hilft x_webhook and meta_webhook"
  }
  # Emails are derived, not read from the resources, so they are known at plan time and can key
  # for_each maps (IAM bindings) and be baked into environment variables without a cycle.
  service_account_emails = {
    for name, _ in local.service_accounts : name => "${var.prefix}-${name}@${var.project_id}.iam.gserviceaccount.com"
  }

  # Secret environment variables (CONTRACT.md) => whether this deployment uses them. Only used ones
  # are created and wired: a Cloud Run revision does not start when a secret it names has no version.
  secrets = {
    ALERT_WEBHOOK_SECRET     = var.alert_sinks.webhook
    ALERT_WEBHOOK_URL        = var.alert_sinks.webhook # may embed a token, so treated as a secret
    GOOGLE_CHAT_WEBHOOK_URL  = var.alert_sinks.google_chat
    META_APP_SECRET          = local.meta_enabled
    META_PAGE_ACCESS_TOKEN   = local.meta_enabled
    META_VERIFY_TOKEN        = local.meta_enabled
    PAGERDUTY_ROUTING_KEY    = var.alert_sinks.pagerduty
    PAGERDUTY_WEBHOOK_SECRET = var.alert_sinks.pagerduty
    SLACK_WEBHOOK_URL        = var.alert_sinks.slack
    X_CLIENT_SECRET          = local.x_enabled
    X_CONSUMER_SECRET        = local.x_enabled
    X_USER_ACCESS_TOKEN      = local.x_enabled
  }
  enabled_secrets = toset([for name, used in local.secrets : name if used])
  alert_secrets   = ["ALERT_WEBHOOK_SECRET", "ALERT_WEBHOOK_URL", "GOOGLE_CHAT_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL"]
  # Sending DMs and replies (handoff, and deadline's automatic handoff); Meta calls carry an appsecret_proof.
  reply_secrets = ["META_APP_SECRET", "META_PAGE_ACCESS_TOKEN", "X_USER_ACCESS_TOKEN"]

  # One entry per entry point of CONTRACT.md (the key is the Python function in functions/main.py).
  # Adding an entry point is one line here. `invokers` is the complete Cloud Run invoker list;
  # `secrets` the only secrets its environment gets (those of disabled platforms/sinks are dropped).
  functions = {
    x_webhook    = { identity = "webhook", invokers = ["allUsers"], min_instances = var.min_instances, timeout_seconds = 60, secrets = ["X_CLIENT_SECRET", "X_CONSUMER_SECRET"] }
    meta_webhook = { identity = "webhook", invokers = ["allUsers"], min_instances = var.min_instances, timeout_seconds = 60, secrets = ["META_APP_SECRET", "META_VERIFY_TOKEN"] }
    deadline     = { identity = "alerter", invokers = ["serviceAccount:${local.service_account_emails.tasks}"], min_instances = 0, timeout_seconds = 120, secrets = concat(local.alert_secrets, local.reply_secrets) }
    sweep        = { identity = "alerter", invokers = ["serviceAccount:${local.service_account_emails.scheduler}"], min_instances = 0, timeout_seconds = 300, secrets = local.alert_secrets }
    handoff      = { identity = "staff", invokers = var.oncall_members, min_instances = 0, timeout_seconds = 60, secrets = local.reply_secrets }
    ack          = { identity = "staff", invokers = var.oncall_members, min_instances = 0, timeout_seconds = 60, secrets = local.alert_secrets }
    board        = { identity = "staff", invokers = var.oncall_members, min_instances = 0, timeout_seconds = 60, secrets = [] }
    # Public like the platform webhooks: PagerDuty carries no Google identity; the function
    # fails closed without PAGERDUTY_WEBHOOK_SECRET and checks X-PagerDuty-Signature itself.
    pagerduty_webhook = { identity = "staff", invokers = ["allUsers"], min_instances = 0, timeout_seconds = 60, secrets = ["PAGERDUTY_WEBHOOK_SECRET"] }
  }

  # Runtime identities that create Cloud Tasks (with the tasks identity's OIDC token) and delete them.
  task_enqueuers = ["alerter", "staff", "webhook"]

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

  tasks_queue_name = "${var.prefix}-deadlines"
  tasks_queue_path = "projects/${var.project_id}/locations/${var.region}/queues/${local.tasks_queue_name}"

  # HILFT_CONFIG is read relative to the function's working directory, the root of the zip.
  policy_path_in_zip = trimprefix(abspath(var.policy_file), "${abspath(local.functions_dir)}/")

  # Cloud Run functions serve more than one request per instance only with at least one vCPU.
  function_cpu = var.function_concurrency > 1 ? "1" : null

  # Non-secret configuration, the same for every function (CONTRACT.md "Configuration").
  function_env = {
    GOOGLE_CLOUD_PROJECT            = var.project_id
    HILFT_BOARD_URL                 = local.function_urls.board
    HILFT_CONFIG                    = local.policy_path_in_zip
    HILFT_DEADLINE_URL              = local.function_urls.deadline
    HILFT_RETENTION_DAYS            = tostring(var.retention_days)
    HILFT_SCHEDULER_SERVICE_ACCOUNT = local.service_account_emails.scheduler
    HILFT_STAFF_AUTH                = "iam" # handoff, ack and board sit behind Cloud Run IAM (iam.tf)
    HILFT_SWEEP_URL                 = local.function_urls.sweep
    HILFT_TASKS_QUEUE               = local.tasks_queue_path
    HILFT_TASKS_SERVICE_ACCOUNT     = local.service_account_emails.tasks
    META_GRAPH_BASE_URL             = var.meta_graph_base_url
    META_IG_USER_IDS                = join(",", var.meta_ig_user_ids)
    META_PAGE_IDS                   = join(",", var.meta_page_ids)
    PAGERDUTY_EVENTS_URL            = var.alert_sinks.pagerduty_events_url
    THREADS                         = tostring(var.function_concurrency) # functions-framework's gunicorn threads
    X_API_BASE_URL                  = var.x_api_base_url
    X_BRAND_USER_IDS                = join(",", var.x_brand_user_ids)
  }

  # (secret, identity) pairs: an identity may read a secret only if one of its functions is wired to it.
  secret_accessors = distinct(flatten([
    for entry_point, secrets in local.function_secrets : [
      for secret in secrets : { secret = secret, identity = local.functions[entry_point].identity }
    ]
  ]))

  project_roles = concat(
    # Firestore has no per-collection IAM; datastore.user is its narrowest read/write role.
    [for identity in ["alerter", "staff", "webhook"] : { identity = identity, role = "roles/datastore.user" }],
    # Cloud Build, as documented for a custom build service account of Cloud Run functions: logs,
    # the built image, and the function sources GCF stages in its own gcf-v2-* buckets.
    [for role in ["roles/artifactregistry.writer", "roles/logging.logWriter", "roles/storage.objectAdmin"] :
    { identity = "build", role = role }],
  )

  queue_roles = flatten([
    for identity in local.task_enqueuers : [
      { identity = identity, role = "roles/cloudtasks.enqueuer" },
      # Cancelling a task that is no longer needed (answered, acknowledged) is best effort but saves a call.
      { identity = identity, role = "roles/cloudtasks.taskDeleter" },
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
  ]

  # Documents carrying `expire_at` are deleted by Firestore's TTL once it has passed (retention_days).
  ttl_field       = "expire_at"
  ttl_collections = ["answers", "handoffs", "mentions"]

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
