"""The health endpoint of roles without an HTTP API: alive until crashed,
ready only once the role does its work (a real server on loopback)."""

from __future__ import annotations

import aiohttp

from cprbroker.adapters.health import serve_health


async def test_healthz_and_readyz_follow_the_role() -> None:
    state = {"alive": True, "ready": False}
    server = await serve_health(
        alive=lambda: state["alive"], ready=lambda: state["ready"], host="127.0.0.1", port=0
    )
    try:

        async def status(path: str) -> tuple[int, str]:
            async with http.get(server.url + path) as response:
                return response.status, (await response.json())["status"]

        async with aiohttp.ClientSession() as http:
            assert await status("/healthz") == (200, "alive")
            assert await status("/readyz") == (503, "starting")
            state["ready"] = True
            assert await status("/readyz") == (200, "ready")
            state["alive"] = False
            assert await status("/healthz") == (503, "crashed")
            async with http.get(server.url + "/metrics") as response:
                assert response.status == 404
    finally:
        await server.stop()
