# Every API the stack uses. Left enabled on destroy: other workloads in the project may use them,
# and disabling an API can take its data with it.
resource "google_project_service" "enabled" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtasks.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])

  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}

# The project number is part of every function's deterministic URL (locals.tf). No depends_on: a
# data source that depends on a resource is read only at apply time, which would make every URL,
# and so every function, show as changed in each plan. Reading it needs the Cloud Resource Manager
# API, which new projects have enabled (README, "Prerequisites").
data "google_project" "this" {
  project_id = var.project_id
}
