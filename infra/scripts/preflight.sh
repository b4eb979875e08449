#!/usr/bin/env bash
# Checks everything `make plan/deploy/destroy` needs, before terraform starts, with one clear line
# per problem. Exit 0 when all is well; 1 otherwise. Reads PROJECT_ID and HILFT_TFVARS (default
# infra/terraform.tfvars). Makes no network call.
#
#   preflight.sh [plan|apply|destroy]   the tf.sh command about to run; without one, checks all.
#   python3 is needed by apply only (tf.sh reads terraform's JSON output with it there).
set -uo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TFVARS="${HILFT_TFVARS:-$INFRA_DIR/terraform.tfvars}"
problems=0
command="${1:-all}"

fail() {
  echo "preflight: $*" >&2
  problems=$((problems + 1))
}

# The project id from PROJECT_ID, else from the tfvars file (project_id = "...").
project_id() {
  if [[ -n "${PROJECT_ID:-}" ]]; then
    echo "$PROJECT_ID"
  elif [[ -f "$TFVARS" ]]; then
    sed -nE 's/^[[:space:]]*project_id[[:space:]]*=[[:space:]]*"([^"]*)".*/\1/p' "$TFVARS" | head -n 1
  fi
}

if ! command -v terraform >/dev/null 2>&1; then
  fail "terraform not found: install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install)"
else
  version="$(terraform version -json 2>/dev/null | sed -nE 's/.*"terraform_version"[[:space:]]*:[[:space:]]*"([0-9]+)\.([0-9]+)\.[0-9]+.*/\1 \2/p')"
  read -r major minor <<<"${version:-0 0}"
  if (( major < 1 || (major == 1 && minor < 6) )); then
    fail "terraform ${major}.${minor} is too old: hilft needs Terraform >= 1.6"
  fi
fi

if ! command -v gcloud >/dev/null 2>&1; then
  fail "gcloud not found: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"
else
  if [[ -z "$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null)" ]]; then
    fail "gcloud is not authenticated: run 'gcloud auth login'"
  fi
  adc="${CLOUDSDK_CONFIG:-$HOME/.config/gcloud}/application_default_credentials.json"
  if [[ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" && ! -f "$adc" ]]; then
    fail "terraform has no Google credentials: run 'gcloud auth application-default login'"
  fi
fi

if [[ ! -f "$TFVARS" ]]; then
  fail "$TFVARS not found: copy infra/terraform.tfvars.example to infra/terraform.tfvars and fill it in"
fi

project="$(project_id)"
if [[ -z "$project" ]]; then
  fail "no project id: set PROJECT_ID or project_id in $TFVARS"
elif [[ ! "$project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]]; then
  fail "project id '$project' is not a valid Google Cloud project id"
fi

if [[ ! -f "$INFRA_DIR/../functions/requirements.txt" ]]; then
  fail "functions/requirements.txt missing: restore it from git, or run 'make requirements'"
fi

if [[ "$command" == "apply" || "$command" == "all" ]] && ! command -v python3 >/dev/null 2>&1; then
  fail "python3 not found: scripts/tf.sh apply reads terraform's JSON output with it"
fi

if (( problems > 0 )); then
  exit 1
fi
echo "preflight: ok (project $project)"
