# One Cloud Run function (2nd gen) per entry point in local.functions, all built from one zip.
resource "google_cloudfunctions2_function" "entry_point" {
  #checkov:skip=CKV_GCP_124:X and Meta call the webhooks from the internet; every other function is guarded by Cloud Run IAM (iam.tf) and verifies its caller's token itself
  for_each = local.functions

  name        = local.function_names[each.key]
  location    = var.region
  description = "hilft ${each.key} (CONTRACT.md)"

  build_config {
    runtime         = var.python_runtime
    entry_point     = each.key
    service_account = google_service_account.identity["build"].id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.functions_zip.name
      }
    }
  }

  service_config {
    service_account_email            = local.service_account_emails[each.value.identity]
    available_memory                 = var.function_memory
    available_cpu                    = local.function_cpu
    max_instance_request_concurrency = var.function_concurrency
    min_instance_count               = each.value.min_instances
    max_instance_count               = var.max_instances
    timeout_seconds                  = each.value.timeout_seconds
    ingress_settings                 = "ALLOW_ALL" # X and Meta call from the internet; IAM guards the rest
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_env

    dynamic "secret_environment_variables" {
      for_each = toset(local.function_secrets[each.key])
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.managed[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.min_instances <= var.max_instances
      error_message = "min_instances must not exceed max_instances."
    }
  }

  # A revision only starts once its identity can read its secrets and the build identity can build.
  depends_on = [
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.accessor,
    google_storage_bucket_iam_member.build_reads_sources,
  ]
}
