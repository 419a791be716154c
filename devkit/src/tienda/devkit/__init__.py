"""Local infrastructure for Tienda: real Kafka and PostgreSQL without Docker."""
