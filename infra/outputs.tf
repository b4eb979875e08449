output "board_url" {
  description = "The on-call board (Cloud Run IAM: open it through `gcloud run services proxy`, see README)."
  value       = local.function_urls.board
}

output "deadline_url" {
  description = "URL Cloud Tasks calls (HILFT_DEADLINE_URL)."
  value       = local.function_urls.deadline
}

output "firestore_kept_on_destroy" {
  description = "Whether `make destroy` keeps the Firestore database with its data, indexes and TTL policies (deletion_protection as deployed)."
  value       = var.deletion_protection
}

output "function_urls" {
  description = "Every entry point's URL (Cloud Run deterministic URLs)."
  value       = local.function_urls
}

output "meta_webhook_url" {
  description = "Callback URL to enter in the Meta app's Webhooks settings (Page and Instagram)."
  value       = local.function_urls.meta_webhook
}

output "secrets" {
  description = "Secret Manager secret ids by environment variable; each needs a version (README, \"Secrets\")."
  value       = { for name, secret in google_secret_manager_secret.managed : name => secret.secret_id }
}

output "service_accounts" {
  description = "Service account emails by role."
  value       = local.service_account_emails
}

output "source_bucket" {
  description = "Bucket holding the functions' source zips."
  value       = google_storage_bucket.sources.name
}

output "tasks_queue" {
  description = "Full path of the deadlines queue (HILFT_TASKS_QUEUE)."
  value       = local.tasks_queue_path
}

output "pagerduty_webhook_url" {
  description = "URL for a PagerDuty V3 webhook subscription (incident.acknowledged); its signing secret goes into PAGERDUTY_WEBHOOK_SECRET."
  value       = local.function_urls.pagerduty_webhook
}

output "threads_webhook_url" {
  description = "Callback URL to enter in the Threads app's Webhooks settings; its verify token is in THREADS_VERIFY_TOKEN."
  value       = local.function_urls.threads_webhook
}

output "x_webhook_url" {
  description = "URL to register with X (make register-webhooks)."
  value       = local.function_urls.x_webhook
}
