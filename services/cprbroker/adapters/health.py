"""Health endpoints, ``/healthz`` (200 while the role is alive, 503 once it
crashed) and ``/readyz`` (503 until the role does its work, e.g. the processor
holds partitions and recovered its table), for Kubernetes probes and load
balancers; and the small HTTP server that serves them, alone (the processor)
or beside ``/metrics`` (delivery)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from cprbroker.core.errors import SettingsError


def add_health_routes(
    app: web.Application, *, alive: Callable[[], bool], ready: Callable[[], bool]
) -> None:
    """Route ``/healthz`` and ``/readyz`` of ``app``."""

    async def healthz(request: web.Request) -> web.Response:
        if alive():
            return web.json_response({"status": "alive"})
        return web.json_response({"status": "crashed"}, status=503)

    async def readyz(request: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "starting"}, status=503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)


def health_app(*, alive: Callable[[], bool], ready: Callable[[], bool]) -> web.Application:
    """An application answering ``/healthz`` and ``/readyz`` only."""
    app = web.Application()
    add_health_routes(app, alive=alive, ready=ready)
    return app


class HttpEndpoint:
    """A running endpoint server (health checks, metrics)."""

    def __init__(self, runner: web.AppRunner) -> None:
        self._runner = runner

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:9109``."""
        host, port = self._runner.addresses[0][:2]
        return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop serving."""
        await self._runner.cleanup()


async def serve_app(app: web.Application, host: str, port: int) -> HttpEndpoint:
    """Serve ``app`` on ``host:port`` (0 = any free port). SettingsError names
    the address when it cannot be listened on (taken, or not this host's)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise SettingsError(f"cannot listen on {host}:{port}: {reason}") from exc
    except BaseException:
        await runner.cleanup()
        raise
    return HttpEndpoint(runner)


async def serve_health(
    *, alive: Callable[[], bool], ready: Callable[[], bool], host: str, port: int
) -> HttpEndpoint:
    """Serve :func:`health_app` on ``host:port`` (0 = any free port)."""
    return await serve_app(health_app(alive=alive, ready=ready), host, port)
