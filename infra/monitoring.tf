# The log alert the code relies on: every ERROR line of a hilft function is a condition only an
# operator can fix (a platform revoked hilft's access, a handoff impossible for a bad token, an
# alert sink rejecting alerts, a polled account's credentials refused). hilft logs JSON with a
# Cloud Logging `severity`, so the filter needs no text matching.
resource "google_logging_metric" "errors" {
  name        = "${var.prefix}-errors"
  description = "ERROR lines of hilft's functions: each needs an operator (see the line's message)."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for name in values(local.function_names) : "\"${name}\""])})",
    "severity>=ERROR",
  ])

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "function"
      value_type  = "STRING"
      description = "The Cloud Run service that logged the line."
    }
  }

  label_extractors = {
    function = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "operator" {
  display_name = "${var.prefix}: an operator must act"
  combiner     = "OR"

  conditions {
    display_name = "ERROR lines in hilft's functions"

    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.errors.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.function"]
      }

      trigger {
        count = 1
      }
    }
  }

  # Empty: the incident shows in Cloud Monitoring only. Add e-mail, Slack or PagerDuty channels.
  notification_channels = var.operator_notification_channels

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A hilft function logged an ERROR: something only an operator can fix (revoked platform access, a rejected token, an alert sink refusing alerts). Read the lines in Logs Explorer (`severity>=ERROR`, service `${var.prefix}-*`); the board lists revoked accounts too."
  }

  depends_on = [google_project_service.enabled]
}
