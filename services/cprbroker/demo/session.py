"""One demo session, inside the event loop: receiver, every role, the demo
subscriber, the data into the inbox, and the live view until asked to stop.

Order: the receiver listens; the roles start (:func:`cprbroker.run.host.start_roles`);
the demo client and its catch-all subscription are created through the API,
and the session waits until the delivery role sees the subscription (so no
event is matched before it exists); the series is dropped into the inbox;
then the view refreshes every ``refresh`` seconds. On stop the roles drain,
the receiver stops, and the final figures are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TextIO

import structlog
from aiokafka.errors import KafkaError

from cprbroker.core.delivery.signing import generate_secret
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.demo.dashboard import Banner, LiveView
from cprbroker.demo.data import SeriesInBackground, drop_into_inbox
from cprbroker.demo.figures import Figures, KafkaOffsets, gather
from cprbroker.demo.receiver import DemoReceiver
from cprbroker.demo.setup import create_subscriber
from cprbroker.run.host import RoleFailedError, RunningRoles, start_roles
from cprbroker.run.settings import RunSettings

log = structlog.get_logger(__name__)

_SUBSCRIPTION_WAIT_S = 120.0


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How the session shows itself."""

    terminal: bool
    refresh: float = 1.0
    log_file: str | None = None


async def run_session(
    settings: RunSettings,
    series: SeriesInBackground,
    options: SessionOptions,
    out: TextIO,
    stop: asyncio.Event,
) -> None:
    """Run the demo until ``stop`` is set. Raises RoleFailedError when a role
    fails, and the start errors of the roles (KafkaUnavailableError, ...)."""
    secret = generate_secret()
    receiver = DemoReceiver([secret])
    receiver_url = await receiver.start()
    try:
        roles = await start_roles(settings)
        try:
            await _show(
                roles,
                receiver,
                receiver_url=receiver_url,
                secret=secret,
                series=series,
                options=options,
                out=out,
                stop=stop,
            )
        finally:
            await roles.stop()
    finally:
        await receiver.stop()


async def _show(
    roles: RunningRoles,
    receiver: DemoReceiver,
    *,
    receiver_url: str,
    secret: str,
    series: SeriesInBackground,
    options: SessionOptions,
    out: TextIO,
    stop: asyncio.Event,
) -> None:
    subscriber = await create_subscriber(
        roles.api.state.clients, roles.api.url, receiver_url, secret
    )
    await _delivery_sees(roles, subscriber.subscription_id)
    banner = Banner(
        api_url=roles.api.url,
        token=subscriber.token,
        subscription_id=subscriber.subscription_id,
        receiver_url=receiver_url,
        inbox=str(roles.settings.inbox.root),
        log_file=options.log_file,
    )
    out.write("\n".join(banner.lines()) + "\n")
    out.flush()
    if stop.is_set():
        return  # stopped while starting: no data to show
    data = await asyncio.to_thread(series.result)
    dropped = await asyncio.to_thread(drop_into_inbox, data, roles.settings.inbox)
    log.info("demo.files_dropped", files=len(dropped), events_expected=data.events_expected)
    offsets = KafkaOffsets(roles.settings.ingest.bootstrap_servers)
    try:
        await offsets.start()
    except KafkaError as exc:
        await offsets.stop()
        raise KafkaUnavailableError(f"cannot read offsets: {exc}") from exc
    view = LiveView(out, banner, terminal=options.terminal)
    started = time.monotonic()

    async def figures() -> Figures:
        return await gather(
            roles, offsets, receiver.tally, started=started, events_expected=data.events_expected
        )

    try:
        while not stop.is_set():
            if (failure := roles.failure()) is not None:
                raise RoleFailedError(failure)
            view.show(await figures())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=options.refresh)
        view.final(await figures())
    finally:
        await offsets.stop()


async def _delivery_sees(roles: RunningRoles, subscription_id: str) -> None:
    """Wait until the delivery role's view holds the subscription."""
    deadline = time.monotonic() + _SUBSCRIPTION_WAIT_S
    while roles.delivery.view.subscription(subscription_id) is None:
        if time.monotonic() > deadline:
            raise KafkaUnavailableError(
                f"the delivery role did not see subscription {subscription_id} "
                f"within {_SUBSCRIPTION_WAIT_S:.0f} s"
            )
        await asyncio.sleep(0.1)
