resource "google_service_account" "identity" {
  for_each = local.service_accounts

  account_id   = "${var.prefix}-${each.key}"
  display_name = each.value

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
resource "google_service_account_iam_member" "act_as_tasks" {
  for_each = toset(local.task_enqueuers)

  service_account_id = google_service_account.identity["tasks"].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${local.service_account_emails[each.key]}"
}

# Who may call which function: the complete list per function lives in local.functions.invokers.
# allUsers only on the three webhooks (X, Meta, PagerDuty); each verifies its sender's signature itself.
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = { for binding in local.invoker_bindings : "${binding.entry_point}:${binding.member}" => binding }

  location = var.region
  service  = google_cloudfunctions2_function.entry_point[each.value.entry_point].name
  role     = "roles/run.invoker"
  member   = each.value.member

  depends_on = [google_service_account.identity]
}
