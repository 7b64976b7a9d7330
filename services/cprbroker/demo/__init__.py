"""``cprbroker demo``: the whole broker on synthetic data, a webhook receiver
that verifies signatures, and a live view of what happens."""
