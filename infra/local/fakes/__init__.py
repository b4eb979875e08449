"""Local fake servers for the outside APIs hilft calls (X, Meta Graph, Slack, Google Chat, PagerDuty).

Each fake verifies what the real API would verify (auth header, body shape), records what it
accepted, and can be told to fail, so end-to-end tests and the demo run on loopback only.
"""
