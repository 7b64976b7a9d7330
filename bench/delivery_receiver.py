"""The webhook receiver of the delivery benchmark, as a process of its own:
it answers 204 to every POST and remembers the ``webhook-id`` and arrival time
of each; ``bench/delivery.py`` starts it (:class:`Receiver`) and reads the
arrivals back.

    python bench/delivery_receiver.py     # prints its port, serves until killed
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()


class Receiver:
    """The receiver process (``bench/delivery_receiver.py``), seen from the benchmark."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(SCRIPT)],
            stdout=subprocess.PIPE,
        )
        if self._process.stdout is None:
            raise RuntimeError("the receiver process has no stdout")
        self.base = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    async def arrivals(self, http: aiohttp.ClientSession) -> list[tuple[str, float]]:
        async with http.get(self.base + "/arrivals") as response:
            return [(str(i), float(t)) for i, t in await response.json()]

    async def reset(self, http: aiohttp.ClientSession) -> None:
        async with http.post(self.base + "/reset"):
            pass

    async def wait_for(
        self, http: aiohttp.ClientSession, ids: set[str], timeout: float
    ) -> dict[str, float]:
        """First arrival time of each id in ``ids``, once all arrived."""
        deadline = time.monotonic() + timeout
        while True:
            # Counting is cheap; fetching every arrival only once enough came.
            async with http.get(self.base + "/count") as response:
                arrived = int(await response.text())
            if arrived < len(ids) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                continue
            first: dict[str, float] = {}
            for webhook_id, at in await self.arrivals(http):
                first.setdefault(webhook_id, at)
            if ids <= first.keys():
                return {i: first[i] for i in ids}
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(ids & first.keys())} of {len(ids)} arrived")
            await asyncio.sleep(0.25)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


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
