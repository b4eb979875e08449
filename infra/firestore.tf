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
  for_each = local.firestore_fields

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
