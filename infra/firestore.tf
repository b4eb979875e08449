# The (default) database: the functions use the client's default. If the project already has one,
# import it first: terraform import google_firestore_database.main "projects/PROJECT/databases/(default)".
resource "google_firestore_database" "main" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # ABANDON keeps the data when the stack is destroyed; DELETE only when protection is off.
  deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.enabled]
}

locals {
  # Every composite query functions/hilft/adapters/firestore_store.py runs (its COMPOSITE_INDEXES;
  # tests/infra compares the two). Single-field queries use Firestore's automatic indexes.
  composite_indexes = [
    { collection = "mentions", fields = [["status", "ASCENDING"], ["due_at", "ASCENDING"]] },
    { collection = "mentions", fields = [["status", "ASCENDING"], ["next_alert_at", "ASCENDING"]] },
    { collection = "mentions", fields = [["platform", "ASCENDING"], ["conversation_id", "ASCENDING"], ["status", "ASCENDING"]] },
  ]

  # Documents carrying `expire_at` are deleted by Firestore's TTL once it has passed (retention_days).
  ttl_field       = "expire_at"
  ttl_collections = ["answers", "claims", "handoffs", "mentions"]

  # Fields written but never queried whose values only grow: an automatic single-field index on them
  # limits write throughput (hotspot on the last index range) and costs storage for nothing.
  index_exemptions = concat(
    [for collection in local.ttl_collections : { collection = collection, field = local.ttl_field, ttl = true }],
  )
}

resource "google_firestore_index" "composite" {
  for_each = {
    for index in local.composite_indexes :
    "${index.collection}:${join(",", [for field in index.fields : "${field[0]}:${field[1]}"])}" => index
  }

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }
}

resource "google_firestore_field" "unindexed" {
  for_each = { for exemption in local.index_exemptions : "${exemption.collection}.${exemption.field}" => exemption }

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collection
  field      = each.value.field

  # An empty index_config removes every single-field index of this field.
  index_config {}

  dynamic "ttl_config" {
    for_each = each.value.ttl ? [true] : []
    content {}
  }
}
