# One Cloud Run function (2nd gen) per entry point in local.functions, all built from one zip.
resource "google_cloudfunctions2_function" "entry_point" {
  #checkov:skip=CKV_GCP_124:X, Meta, Threads, PagerDuty and the staff's browsers call from the internet; deadline, sweep and poll are internal-only, every function is guarded by Cloud Run IAM or its sender's signature
  for_each = local.functions

  name        = local.function_names[each.key]
  location    = var.region
  description = "hilft ${each.key}: ${local.spec.functions[each.key].does}"

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
    service_account_email            = local.service_account_emails[each.value.identity] # its own identity
    available_memory                 = var.function_memory
    available_cpu                    = local.function_cpu[each.key]
    max_instance_request_concurrency = local.function_concurrency[each.key]
    min_instance_count               = each.value.min_instances
    max_instance_count               = var.max_instances
    timeout_seconds                  = each.value.timeout_seconds
    # deadline and sweep: internal only. Cloud Tasks and Cloud Scheduler of the same project calling
    # the run.app URL count as internal (infra/README.md, "Ingress"); the internet does not.
    ingress_settings               = each.value.ingress
    all_traffic_on_latest_revision = true
    # THREADS: functions-framework's gunicorn threads, as many as the requests the instance takes.
    # HILFT_CLOUD_RUN_IAM and HILFT_STAFF_AUDIENCES: per function (local.function_own_env).
    environment_variables = merge(local.function_env, local.function_own_env[each.key], { THREADS = tostring(local.function_concurrency[each.key]) })

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

  # A revision only starts once its identity can read its secrets and the build identity can build:
  # after every grant, and after the grants had time to propagate.
  depends_on = [
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.accessor,
    google_storage_bucket_iam_member.build_reads_sources,
    time_sleep.iam_propagation,
  ]
}
