"""Prometheus metrics of the delivery role, and the small HTTP server that
serves them with the health checks (``/metrics``, ``/healthz``, ``/readyz``).

Each role instance has its own registry, so several roles (or several tests)
in one process never collide on metric names.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from cprbroker.adapters.health import HttpEndpoint, add_health_routes, serve_app

# From a loopback answer (milliseconds) to a hung endpoint hitting the timeout.
_ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Event ingested to 2xx: fractions of a second when all is well, up to days
# when a delivery climbed the whole retry ladder.
_FRESHNESS_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 1800.0, 7200.0, 21600.0, 86400.0, 259200.0,
)  # fmt: skip


class DeliveryMetrics:
    """The delivery role's counters and histograms."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.deliveries = Counter(
            "cprbroker_deliveries",
            "Deliveries by how a stage finished them: delivered, retry_scheduled, "
            "dead_lettered, dropped",
            ["outcome"],
            registry=self.registry,
        )
        self.attempts = Counter(
            "cprbroker_delivery_attempts",
            "HTTP attempts by result: the status class (2xx, 4xx, 5xx, 3xx) or the error kind",
            ["result"],
            registry=self.registry,
        )
        self.attempt_latency = Histogram(
            "cprbroker_delivery_attempt_latency_seconds",
            "Seconds from the start of an HTTP attempt to its answer or error",
            buckets=_ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        self.freshness = Histogram(
            "cprbroker_delivery_freshness_seconds",
            "Seconds from the event's ingestion on the events topic to the 2xx of its delivery",
            buckets=_FRESHNESS_BUCKETS,
            registry=self.registry,
        )
        self.fanout_events = Counter(
            "cprbroker_fanout_events",
            "Events read from the events topic by the fan-out",
            registry=self.registry,
        )
        self.fanout_deliveries = Counter(
            "cprbroker_fanout_deliveries",
            "Deliveries the fan-out wrote (one per matching subscription and event)",
            registry=self.registry,
        )
        self.disabled = Counter(
            "cprbroker_subscriptions_disabled",
            "Subscriptions the delivery role disabled, by reason (gone, failing)",
            ["reason"],
            registry=self.registry,
        )
        self.redriven = Counter(
            "cprbroker_dead_letters_redriven",
            "Dead letters sent again after their subscription was re-enabled",
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "cprbroker_deliveries_in_flight",
            "Deliveries being attempted right now, by stage",
            ["stage"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def metrics_app(metrics: DeliveryMetrics, ready: Callable[[], bool]) -> web.Application:
    """``/metrics`` (Prometheus text), ``/healthz`` (alive) and ``/readyz`` (503
    until ``ready()``)."""

    async def serve_metrics(request: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    # Delivery has no crashed state to report: a failed stage stops the role.
    add_health_routes(app, alive=lambda: True, ready=ready)
    return app


async def serve_metrics(
    metrics: DeliveryMetrics, ready: Callable[[], bool], host: str, port: int
) -> HttpEndpoint:
    """Start serving :func:`metrics_app` on ``host:port`` (0 = any free port)."""
    return await serve_app(metrics_app(metrics, ready), host, port)
