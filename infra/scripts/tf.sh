#!/usr/bin/env bash
# terraform plan | apply | destroy for infra/, with the operator's infra/terraform.tfvars.
#
#   PROJECT_ID        overrides project_id of the tfvars file
#   TF_STATE_BUCKET   keep state in this GCS bucket (prefix TF_STATE_PREFIX, default "hilft")
#                     instead of infra/terraform.tfstate
#   AUTO_APPROVE=1    no interactive confirmation (CI)
#
# apply runs in two steps, because a function does not start while a secret it reads has no
# version: first the APIs and the (empty) secrets, then a check that each secret has a version
# (printing the commands to add the missing ones), then everything.
#
# destroy with deletion protection (the default) keeps Firestore: the database, and with it its
# indexes and TTL policies, are removed from the state first (terraform state rm), so Terraform
# forgets them instead of deleting the indexes and TTL policies of data that stays.
#
# Needs terraform, gcloud, bash and python3 (apply only), not the project's .venv. Arrays that may
# be empty expand as ${a[@]+"${a[@]}"}: bash before 4.4 treats "${a[@]}" of an empty array as
# unset under `set -u`.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TFVARS="${HILFT_TFVARS:-$INFRA_DIR/terraform.tfvars}"
command="${1:-}"

case "$command" in
  plan | apply | destroy) ;;
  *)
    echo "usage: $0 plan|apply|destroy" >&2
    exit 2
    ;;
esac

"$INFRA_DIR/scripts/preflight.sh" "$command"

tf() { terraform -chdir="$INFRA_DIR" "$@"; }

var_args=(-var-file="$TFVARS")
if [[ -n "${PROJECT_ID:-}" ]]; then
  var_args+=(-var "project_id=$PROJECT_ID")
fi
approve=()
if [[ "${AUTO_APPROVE:-0}" == "1" ]]; then
  approve=(-auto-approve)
fi
project="${PROJECT_ID:-$(sed -nE 's/^[[:space:]]*project_id[[:space:]]*=[[:space:]]*"([^"]*)".*/\1/p' "$TFVARS" | head -n 1)}"

backend_file="$INFRA_DIR/backend_override.tf"
if [[ -n "${TF_STATE_BUCKET:-}" ]]; then
  printf 'terraform {\n  backend "gcs" {}\n}\n' >"$backend_file"
  tf init -input=false -reconfigure \
    -backend-config="bucket=$TF_STATE_BUCKET" -backend-config="prefix=${TF_STATE_PREFIX:-hilft}"
else
  rm -f "$backend_file"
  tf init -input=false
fi

# Secret ids (from the `secrets` output) that have no enabled version yet.
secrets_without_version() {
  local ids
  ids="$(tf output -json secrets | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin).values()))')"
  local id
  for id in $ids; do
    if [[ -z "$(gcloud secrets versions list "$id" --project="$project" --filter='state=ENABLED' \
      --limit=1 --format='value(name)' 2>/dev/null)" ]]; then
      echo "$id"
    fi
  done
}

case "$command" in
  plan)
    mkdir -p "$INFRA_DIR/.build"
    tf plan -input=false "${var_args[@]}" -out="$INFRA_DIR/.build/tfplan"
    ;;
  apply)
    tf apply -input=false "${var_args[@]}" ${approve[@]+"${approve[@]}"} \
      -target=google_project_service.enabled -target=google_secret_manager_secret.managed
    missing="$(secrets_without_version)"
    if [[ -n "$missing" ]]; then
      echo "These secrets have no version yet; add each value (never commit it), then run this again:" >&2
      for id in $missing; do
        echo "  printf '%s' \"\$VALUE\" | gcloud secrets versions add $id --project=$project --data-file=-" >&2
      done
      exit 3
    fi
    tf apply -input=false "${var_args[@]}" ${approve[@]+"${approve[@]}"}
    echo
    echo "Deployed. Next: make register-webhooks (X) and the Meta steps it prints."
    ;;
  destroy)
    # The deployed value, not the tfvars file's: protection is only off once an apply turned it off.
    # Unknown (no state, or a stack from before this output) counts as protected.
    kept="$(tf output -raw firestore_kept_on_destroy 2>/dev/null || echo true)"
    if [[ "$kept" != "false" ]]; then
      echo "deletion_protection is on: the Firestore database, its data, indexes and TTL policies are kept;" >&2
      echo "terraform forgets them first (state rm). Import them before deploying into this project again." >&2
      for address in google_firestore_field.unindexed google_firestore_index.composite google_firestore_database.main; do
        if [[ -n "$(tf state list "$address" 2>/dev/null)" ]]; then
          tf state rm "$address"
        fi
      done
    fi
    tf destroy -input=false "${var_args[@]}" ${approve[@]+"${approve[@]}"}
    ;;
esac
