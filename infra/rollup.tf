# The SLA report's daily roll-up: sweep, asked for {"run": "rollup"}, rolls up every ended day of
# the last week that has no final roll-up (service/report.py), so no day's figures are lost when its
# posts expire and a report reads roll-ups, not posts. Time zone: any hour after midnight works.
resource "google_cloud_scheduler_job" "rollup" {
  name             = "${var.prefix}-rollup"
  description      = "hilft daily SLA report roll-up"
  region           = var.region
  schedule         = "30 2 * * *" # 03:30/04:30 in Berlin: yesterday has ended in Europe's time zones
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s" # longer than sweep's own timeout (local.functions.sweep)

  retry_config {
    # Idempotent, and the next day's run catches up on a missed day: a few retries suffice.
    retry_count          = 3
    min_backoff_duration = "60s"
    max_backoff_duration = "600s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = local.function_urls.sweep
    body        = base64encode("{\"run\": \"rollup\"}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = local.service_account_emails.scheduler
      audience              = local.function_urls.sweep
    }
  }

  depends_on = [google_cloud_run_service_iam_member.invoker, google_service_account.identity]
}
