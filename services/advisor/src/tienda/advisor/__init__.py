"""The advisor worker: commercial requests to the post-sales executive and each account's timeline."""

SERVICE = "advisor"
