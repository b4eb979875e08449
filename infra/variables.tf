# Sorted alphabetically (tests/infra checks it). Every variable is typed, described and, where
# a wrong value would only fail late at apply time, validated here.

variable "alert_sinks" {
  description = "Which alert sinks on-call uses. Each enabled sink gets its Secret Manager secrets created and wired (add their versions before deploying, see README). PagerDuty's events URL is configurable for EU accounts."
  type = object({
    google_chat          = optional(bool, false)
    pagerduty            = optional(bool, false)
    pagerduty_events_url = optional(string, "https://events.pagerduty.com/v2/enqueue")
    slack                = optional(bool, false)
    webhook              = optional(bool, false)
  })

  validation {
    condition     = anytrue([var.alert_sinks.google_chat, var.alert_sinks.pagerduty, var.alert_sinks.slack, var.alert_sinks.webhook])
    error_message = "Enable at least one alert sink (google_chat, pagerduty, slack or webhook): an overdue post must reach someone."
  }

  validation {
    condition     = startswith(var.alert_sinks.pagerduty_events_url, "https://")
    error_message = "alert_sinks.pagerduty_events_url must be an https:// URL."
  }
}

variable "bluesky_appview_url" {
  description = "Bluesky AppView that reads public posts and threads (BLUESKY_APPVIEW_URL)."
  type        = string
  default     = "https://public.api.bsky.app"

  validation {
    condition     = can(regex("^https://[^/]+$", var.bluesky_appview_url))
    error_message = "bluesky_appview_url must be an https:// origin without a path or trailing slash."
  }
}

variable "bluesky_handle" {
  description = "Handle of the brand's Bluesky account (BLUESKY_HANDLE), e.g. \"acme.bsky.social\". Empty turns Bluesky off; set, it needs BLUESKY_APP_PASSWORD (an app password allowed to send DMs)."
  type        = string
  default     = ""

  validation {
    condition     = var.bluesky_handle == "" || can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.bluesky_handle))
    error_message = "bluesky_handle must be a domain-style handle such as acme.bsky.social (no @), or empty."
  }
}

variable "bluesky_pds_url" {
  description = "The brand account's Bluesky PDS, where hilft logs in and writes (BLUESKY_PDS_URL)."
  type        = string
  default     = "https://bsky.social"

  validation {
    condition     = can(regex("^https://[^/]+$", var.bluesky_pds_url))
    error_message = "bluesky_pds_url must be an https:// origin without a path or trailing slash."
  }
}

variable "deadline_concurrency" {
  description = "Requests one deadline instance serves at once (its THREADS). deadline spends an alert waiting on Firestore and the sinks (Slack, PagerDuty, platform APIs), not on CPU, so one instance carries an alert spike with more threads than the other functions need."
  type        = number
  default     = 32

  validation {
    condition     = var.deadline_concurrency >= 1 && var.deadline_concurrency <= 80 && floor(var.deadline_concurrency) == var.deadline_concurrency
    error_message = "deadline_concurrency must be a whole number from 1 to 80 (Python serves requests on threads)."
  }
}

variable "deletion_protection" {
  description = "Protect the Firestore database (the data) from deletion: with protection, `terraform destroy` leaves it in place. Turn off only for throwaway test projects."
  type        = bool
  default     = true
}

variable "firestore_location" {
  description = "Firestore location: a multi-region (eur3, nam5, nam7) or a region such as europe-west3. Cannot be changed after creation."
  type        = string
  default     = "eur3"

  validation {
    condition     = can(regex("^(eur3|nam5|nam7|[a-z]+-[a-z]+[0-9]+)$", var.firestore_location))
    error_message = "firestore_location must be eur3, nam5, nam7 or a region such as europe-west3."
  }
}

variable "function_concurrency" {
  description = "Requests one function instance serves at once (also the functions-framework THREADS). Above 1 the functions get a full vCPU, as Cloud Run functions require."
  type        = number
  default     = 8

  validation {
    condition     = var.function_concurrency >= 1 && var.function_concurrency <= 80 && floor(var.function_concurrency) == var.function_concurrency
    error_message = "function_concurrency must be a whole number from 1 to 80 (Python serves requests on threads)."
  }
}

variable "function_memory" {
  description = "Memory of every function instance, in Cloud Run notation."
  type        = string
  default     = "512Mi"

  validation {
    condition     = contains(["256Mi", "512Mi", "1Gi", "2Gi", "4Gi"], var.function_memory)
    error_message = "function_memory must be one of 256Mi, 512Mi, 1Gi, 2Gi, 4Gi (at most 4Gi with one vCPU)."
  }
}

variable "mastodon_account_ids" {
  description = "Numeric ids of the brand's Mastodon accounts on that instance (MASTODON_ACCOUNT_IDS)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.mastodon_account_ids : can(regex("^[0-9]+$", id))])
    error_message = "mastodon_account_ids must be numeric Mastodon account ids."
  }
}

variable "mastodon_base_url" {
  description = "The brand's Mastodon instance (MASTODON_BASE_URL), e.g. \"https://mastodon.social\". Empty turns Mastodon off; set, it needs MASTODON_ACCESS_TOKEN."
  type        = string
  default     = ""

  validation {
    condition     = var.mastodon_base_url == "" || can(regex("^https://[^/]+$", var.mastodon_base_url))
    error_message = "mastodon_base_url must be an https:// origin without a path or trailing slash, or empty."
  }
}

variable "max_instances" {
  description = "Upper bound of instances per function: caps cost and the load on Firestore during a storm."
  type        = number
  default     = 20

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 100 && floor(var.max_instances) == var.max_instances
    error_message = "max_instances must be a whole number from 1 to 100."
  }
}

variable "meta_graph_base_url" {
  description = "Base URL of the Meta Graph API including the version (META_GRAPH_BASE_URL)."
  type        = string
  default     = "https://graph.facebook.com/v21.0"

  validation {
    condition     = can(regex("^https://[^/]+/v[0-9]+\\.[0-9]+$", var.meta_graph_base_url))
    error_message = "meta_graph_base_url must look like https://graph.facebook.com/v21.0 (https, versioned, no trailing slash)."
  }
}

variable "meta_ig_user_ids" {
  description = "Instagram professional account ids of the brand (META_IG_USER_IDS). Empty together with meta_page_ids turns Meta off."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.meta_ig_user_ids : can(regex("^[0-9]+$", id))])
    error_message = "meta_ig_user_ids must be numeric ids."
  }
}

variable "meta_page_ids" {
  description = "Facebook Page ids of the brand (META_PAGE_IDS). Empty together with meta_ig_user_ids turns Meta off."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.meta_page_ids : can(regex("^[0-9]+$", id))])
    error_message = "meta_page_ids must be numeric ids."
  }
}

variable "min_instances" {
  description = "Warm instances kept for each webhook function (x_webhook, meta_webhook): avoids cold starts on the platforms' short timeouts, at a cost. Other functions scale to zero."
  type        = number
  default     = 0

  validation {
    condition     = var.min_instances >= 0 && var.min_instances <= 10 && floor(var.min_instances) == var.min_instances
    error_message = "min_instances must be a whole number from 0 to 10."
  }
}

variable "oncall_members" {
  description = "Who may call handoff, ack and board (Cloud Run invoker), as IAM members: \"group:oncall@example.com\" or \"user:alice@example.com\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for member in var.oncall_members : can(regex("^(group|user):[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$", member))])
    error_message = "oncall_members entries must be \"group:<email>\" or \"user:<email>\"."
  }
}

variable "operator_notification_channels" {
  description = "Cloud Monitoring notification channels (projects/PROJECT/notificationChannels/ID) told when a hilft function logs an ERROR, i.e. an operator must act. Empty: the incident shows in Cloud Monitoring only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for channel in var.operator_notification_channels : can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/notificationChannels/[0-9]+$", channel))])
    error_message = "operator_notification_channels entries must look like projects/PROJECT/notificationChannels/ID."
  }
}

variable "policy_file" {
  description = "Policy file (TOML, see functions/policy.toml), relative to infra/. It must live inside functions/ so it ships in the zip; HILFT_CONFIG is set to its path there."
  type        = string
  default     = "../functions/policy.toml"

  validation {
    condition     = endswith(var.policy_file, ".toml")
    error_message = "policy_file must be a .toml file."
  }
}

variable "poll_schedule" {
  description = "Cron schedule (UTC) of the job that calls poll for Bluesky and Mastodon (only created when one of them is on). Every minute keeps a post's promise clock honest."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = can(regex("^\\S+( \\S+){4}$", var.poll_schedule))
    error_message = "poll_schedule must be a five-field cron expression such as \"* * * * *\"."
  }
}

variable "prefix" {
  description = "Prefix of every resource name (functions, service accounts, queue, secrets). Short, because Cloud Run's deterministic URLs and service account ids have length limits."
  type        = string
  default     = "hilft"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,10}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 2-12 characters: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen."
  }
}

variable "project_id" {
  description = "Google Cloud project id to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "python_runtime" {
  description = "Cloud Run functions Python runtime."
  type        = string
  default     = "python312"

  validation {
    condition     = contains(["python311", "python312", "python313"], var.python_runtime)
    error_message = "python_runtime must be python311, python312 or python313 (hilft needs Python 3.11+)."
  }
}

variable "region" {
  description = "Region of the functions, the Cloud Tasks queue and the Cloud Scheduler job."
  type        = string
  default     = "europe-west3"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west3."
  }
}

variable "retention_days" {
  description = "Days a mention (and its handoffs and claims) is kept before Firestore's TTL deletes it (HILFT_RETENTION_DAYS). Personal data: keep it short."
  type        = number
  default     = 90

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number from 1 to 3650."
  }
}

variable "staff_auth" {
  description = "How handoff, ack and board know the on-call staff (HILFT_STAFF_AUTH): \"iam\" puts them behind Cloud Run IAM for oncall_members (recommended); \"token\" makes them public and has them check one shared bearer token (HILFT_STAFF_TOKEN, a secret you add) instead."
  type        = string
  default     = "iam"

  validation {
    condition     = contains(["iam", "token"], var.staff_auth)
    error_message = "staff_auth must be \"iam\" or \"token\" (\"off\" exists for the local demo only)."
  }
}

variable "staff_token_audiences" {
  description = "Audiences a staff ID token may carry besides the function's own URLs (HILFT_STAFF_AUDIENCES). The default is the OAuth client of the gcloud CLI: `gcloud auth print-identity-token` and `gcloud run services proxy` mint a person's token for it (a user account cannot choose another audience), and Cloud Run IAM accepts it (Cloud Run docs, \"Authenticating developers\"). Who may call at all is still decided by Cloud Run IAM (oncall_members). Empty: only tokens minted for the function's URL."
  type        = list(string)
  default     = ["32555940559.apps.googleusercontent.com"]

  validation {
    condition     = alltrue([for audience in var.staff_token_audiences : length(audience) > 0 && !strcontains(audience, ",") && trimspace(audience) == audience])
    error_message = "staff_token_audiences: non-empty audiences without commas or spaces."
  }
}

variable "sweep_schedule" {
  description = "Cron schedule (UTC) of the sweep: the backstop that catches anything past due without an alert, and the outage evaluation that resolves quiet incidents. Every minute: detection with trigger = \"sweep\" and the quiet resolve depend on it."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = can(regex("^\\S+( \\S+){4}$", var.sweep_schedule))
    error_message = "sweep_schedule must be a five-field cron expression such as \"*/5 * * * *\"."
  }
}

variable "threads_api_base_url" {
  description = "Base URL of the Threads API including the version (THREADS_API_BASE_URL)."
  type        = string
  default     = "https://graph.threads.net/v1.0"

  validation {
    condition     = can(regex("^https://[^/]+/v[0-9]+\\.[0-9]+$", var.threads_api_base_url))
    error_message = "threads_api_base_url must look like https://graph.threads.net/v1.0 (https, versioned, no trailing slash)."
  }
}

variable "threads_user_ids" {
  description = "Threads user ids of the brand (THREADS_USER_IDS). Empty turns Threads off."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.threads_user_ids : can(regex("^[0-9]+$", id))])
    error_message = "threads_user_ids must be numeric Threads user ids."
  }
}

variable "x_api_base_url" {
  description = "Base URL of the X API (X_API_BASE_URL)."
  type        = string
  default     = "https://api.x.com"

  validation {
    condition     = can(regex("^https://[^/]+$", var.x_api_base_url))
    error_message = "x_api_base_url must be an https:// origin without a path or trailing slash."
  }
}

variable "x_brand_user_ids" {
  description = "Numeric X user ids of the brand's own accounts (X_BRAND_USER_IDS). Empty turns X off."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.x_brand_user_ids : can(regex("^[0-9]+$", id))])
    error_message = "x_brand_user_ids must be numeric X user ids (not handles)."
  }
}
