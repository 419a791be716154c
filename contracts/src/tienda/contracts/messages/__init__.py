"""Message payloads, one module per producer."""
