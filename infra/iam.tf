resource "google_service_account" "identity" {
  for_each = local.service_accounts

  account_id   = "${var.prefix}-${replace(each.key, "_", "-")}"
  display_name = each.value.display_name
  description  = each.value.description

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "runtime" {
  for_each = { for grant in local.project_roles : "${grant.identity}:${grant.role}" => grant }

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${local.service_account_emails[each.value.identity]}"

  depends_on = [google_service_account.identity]
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${local.service_account_emails.build}"

  depends_on = [google_service_account.identity]
}

resource "google_cloud_tasks_queue_iam_member" "runtime" {
  for_each = { for grant in local.queue_roles : "${grant.identity}:${grant.role}" => grant }

  name     = google_cloud_tasks_queue.deadlines.name
  location = var.region
  role     = each.value.role
  member   = "serviceAccount:${local.service_account_emails[each.value.identity]}"

  depends_on = [google_service_account.identity]
}

# A task carries an OIDC token of the tasks identity; whoever creates it must be allowed to act as it.
# Granted on the tasks identity only, never project-wide.
resource "google_service_account_iam_member" "act_as_tasks" {
  for_each = toset(local.task_enqueuers)

  service_account_id = google_service_account.identity["tasks"].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${local.service_account_emails[each.key]}"
}

# Who may call which function: the complete list per function lives in local.functions.invokers.
# allUsers only on the four webhooks (X, Meta, Threads, PagerDuty), each verifying its sender's signature itself,
# and on the staff functions only when staff_auth = "token" (they check the shared token themselves).
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = { for binding in local.invoker_bindings : "${binding.entry_point}:${binding.member}" => binding }

  location = var.region
  service  = google_cloudfunctions2_function.entry_point[each.value.entry_point].name
  role     = "roles/run.invoker"
  member   = each.value.member

  depends_on = [google_service_account.identity]
}

# IAM grants take a while to reach every Google service: without a pause, the first build can fail
# because the build identity cannot read the sources yet, and a first revision because its identity
# cannot read its secrets yet (the wait the google provider's own Cloud Run functions examples use).
resource "time_sleep" "iam_propagation" {
  create_duration = "60s"

  triggers = {
    grants = sha256(jsonencode([
      keys(google_project_iam_member.runtime),
      keys(google_secret_manager_secret_iam_member.accessor),
      keys(google_cloud_tasks_queue_iam_member.runtime),
      keys(google_service_account_iam_member.act_as_tasks),
      google_storage_bucket_iam_member.build_reads_sources.member,
    ]))
  }
}
