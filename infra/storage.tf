# Holds the zipped functions/ directory. Object names carry the zip's hash, so new code is a new
# object and redeploys every function; unchanged code plans no change.
resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:holds only the open-source function code; access logs would need a second bucket for no security gain
  name                        = "${var.project_id}-${var.prefix}-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # only rebuildable code zips: never block `terraform destroy`

  versioning {
    enabled = true
  }

  lifecycle_rule {
    # Noncurrent versions only: the object a function was built from stays.
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}

# Zipped by Terraform itself (no build step): the archive provider writes fixed timestamps and, with
# output_file_mode, fixed permissions, so the hash only changes when a file's content does.
data "archive_file" "functions" {
  type             = "zip"
  source_dir       = local.functions_dir
  output_path      = "${path.module}/.build/functions.zip"
  output_file_mode = "0644"
  excludes = [
    "__pycache__", "**/__pycache__", "**/__pycache__/**", "**/*.pyc",
    "*.egg-info", "*.egg-info/**", ".pytest_cache", ".mypy_cache", ".ruff_cache",
  ]

  lifecycle {
    precondition {
      condition     = fileexists("${local.functions_dir}/main.py") && fileexists("${local.functions_dir}/requirements.txt")
      error_message = "functions/main.py and functions/requirements.txt must exist (run `make requirements`)."
    }
    precondition {
      condition     = fileexists(var.policy_file) && startswith(abspath(var.policy_file), "${abspath(local.functions_dir)}/")
      error_message = "policy_file must be an existing file inside functions/ (it ships in the zip)."
    }
  }
}

resource "google_storage_bucket_object" "functions_zip" {
  name   = "functions-${data.archive_file.functions.output_md5}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.functions.output_path
}
