"""The pure side of webhook delivery: envelope, payload shaping, signing, retry
policy, circuit breaker and callback-URL policy. No I/O, no event loop; the
HTTP sender lives in :mod:`cprbroker.adapters.webhook_http`."""
