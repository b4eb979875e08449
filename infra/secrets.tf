# Secrets are created empty: values never pass through Terraform or its state. Add a version to
# each before the functions deploy (infra/README.md, "Secrets"; scripts/tf.sh apply checks).
resource "google_secret_manager_secret" "managed" {
  for_each = local.enabled_secrets

  secret_id = "${var.prefix}-${lower(replace(each.key, "_", "-"))}"
  labels = {
    env-var = lower(each.key)
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = { for pair in local.secret_accessors : "${pair.secret}:${pair.identity}" => pair }

  secret_id = google_secret_manager_secret.managed[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${local.service_account_emails[each.value.identity]}"

  depends_on = [google_service_account.identity]
}
