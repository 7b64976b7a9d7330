"""A webhook receiver that verifies cprbroker's signatures.

Usage: WEBHOOK_SECRET=whsec_... python examples/receiver.py [PORT]

It uses the Standard Webhooks reference library (``pip install
standardwebhooks aiohttp``), answers 204 for every verified delivery and 401
for anything else, and prints each event once: delivery is at least once, and
a duplicate carries the same ``webhook-id``.
"""

from __future__ import annotations

import os
import sys

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

RECEIVED = web.AppKey("received", dict)


def build_app(secret: str) -> web.Application:
    """The receiving application; ``app[RECEIVED]`` holds the bodies received, by webhook-id."""
    webhook = Webhook(secret)
    events: dict[str, bytes] = {}

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return web.Response(status=401)
        message_id = request.headers["webhook-id"]
        if message_id not in events:
            events[message_id] = body
            print(body.decode())
        return web.Response(status=204)

    app = web.Application()
    app[RECEIVED] = events
    app.router.add_post("/cpr-events", receive)
    return app


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    web.run_app(build_app(os.environ["WEBHOOK_SECRET"]), host="127.0.0.1", port=port)
