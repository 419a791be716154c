"""Tienda's reliable messaging core, the only way messages enter and leave a service.

In: a consumed record is decoded, deduplicated on its event id (the inbox), handled in
one database transaction, and its offset committed only after that transaction.
Out: handlers emit messages into the outbox in that same transaction; a relay
publishes them with an idempotent producer. What can never be processed goes to the
service's dead-letter topic with the reason in headers.
"""
