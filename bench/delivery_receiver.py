"""The webhook receiver of the delivery benchmark, as a process of its own:
it answers 204 to every POST and remembers the ``webhook-id`` and arrival time
of each; ``bench/delivery.py`` starts it and reads the arrivals back.

    python bench/delivery_receiver.py     # prints its port, serves until killed
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web


def serve_receiver() -> None:
    """Run the receiver: records webhook-id and arrival time of
    every POST, answers 204; ``GET /arrivals`` hands them over; prints its port."""
    arrivals: list[tuple[str, float]] = []

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        arrivals.append((request.headers.get("webhook-id", ""), time.time()))
        return web.Response(status=204)

    async def dump(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(len(arrivals)))

    async def reset(request: web.Request) -> web.Response:
        arrivals.clear()
        return web.Response(status=204)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook/{sub}", receive)
        app.router.add_get("/arrivals", dump)
        app.router.add_get("/count", count)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__":
    serve_receiver()
