terraform {
  # optional() object attributes with defaults need >= 1.3; 1.6 is the oldest release checked here.
  required_version = ">= 1.6"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Written against 5.40+ (build_config.service_account, Firestore delete protection and PITR);
      # the next major release may rename arguments, so it is opted into deliberately.
      version = ">= 5.40, < 7"
    }
    archive = {
      source = "hashicorp/archive"
      # 2.5 is the first release whose archive_file honours glob patterns in `excludes` (storage.tf).
      version = ">= 2.5, < 3"
    }
    time = {
      source = "hashicorp/time"
      # time_sleep: waiting for IAM propagation before the first build (iam.tf).
      version = ">= 0.9, < 1"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app        = "hilft"
    managed-by = "terraform"
  }
}
