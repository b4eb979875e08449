# One task per promised time (warning, due, re-alert, handoff) targets `deadline`. Values equal
# TASKS_QUEUE_CONFIG in functions/hilft/settings.py (tests/infra compares them). A deleted queue's
# name cannot be reused for about 7 days: change var.prefix if you recreate the stack quickly.
resource "google_cloud_tasks_queue" "deadlines" {
  name     = local.tasks_queue_name
  location = var.region

  rate_limits {
    max_dispatches_per_second = 500
    max_concurrent_dispatches = 1000
  }

  retry_config {
    max_attempts       = 100
    min_backoff        = "1s"
    max_backoff        = "300s"
    max_doublings      = 5
    max_retry_duration = "86400s"
  }

  stackdriver_logging_config {
    # The ratio samples every task operation log alike, failed dispatches included: 10% shows the
    # traffic at a tenth of the log volume. Failures are not lost with it: deadline logs each
    # attempt it answers with an error, and the queue's metrics count every failed attempt.
    sampling_ratio = 0.1
  }

  depends_on = [google_project_service.enabled]
}
