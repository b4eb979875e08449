# The backstop: every minute sweep handles anything past due without an alert (a lost task).
resource "google_cloud_scheduler_job" "sweep" {
  name             = "${var.prefix}-sweep"
  description      = "hilft sweep backstop"
  region           = var.region
  schedule         = var.sweep_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s" # longer than sweep's own timeout (local.functions.sweep)

  retry_config {
    # The next run comes within minutes anyway; retry a failed run briefly, then wait for it.
    retry_count          = 2
    min_backoff_duration = "10s"
    max_backoff_duration = "60s"
    max_doublings        = 2
  }

  http_target {
    http_method = "POST"
    uri         = local.function_urls.sweep
    body        = base64encode("{}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = local.service_account_emails.scheduler
      # sweep compares the token's audience with HILFT_SWEEP_URL: the same deterministic URL.
      audience = local.function_urls.sweep
    }
  }

  depends_on = [google_cloud_run_service_iam_member.invoker, google_service_account.identity]
}

# Bluesky and Mastodon have no usable webhooks: poll fetches what is new, every minute by default,
# and checks stored Threads posts for deletion. Only when one of the three is on; poll checks the token's audience (HILFT_POLL_URL) and e-mail itself.
resource "google_cloud_scheduler_job" "poll" {
  for_each = local.polling_enabled ? toset(["poll"]) : toset([])

  name             = "${var.prefix}-poll"
  description      = "hilft poll: Bluesky and Mastodon, Threads deletions"
  region           = var.region
  schedule         = var.poll_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "140s" # longer than poll's own timeout (functions.json)

  retry_config {
    # The next run comes within a minute and resumes from the saved cursors: no retries.
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = local.function_urls.poll
    body        = base64encode("{}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = local.service_account_emails.scheduler
      audience              = local.function_urls.poll
    }
  }

  depends_on = [google_cloud_run_service_iam_member.invoker, google_service_account.identity]
}
