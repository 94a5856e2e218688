"""Event delivery: the durable outbox, the dispatcher (order, retries, backoff) and its sinks (HTTP, gRPC)."""
