"""The delivery role's picture of subscriptions and clients, kept current from
the compacted topics: the compiled matcher, signing secrets with rotation
grace, and status transitions (for redriving dead letters on re-enable).

The previous secret of a rotation is learnt by seeing the subscription's
record change; a process started after compaction dropped the old record
signs with the new secret only, even inside the grace period.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace

import structlog

from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.delivery_matching import may_receive
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.core.clients import ApiClient
from cprbroker.core.delivery.signing import EndpointSecrets
from cprbroker.core.errors import CprBrokerError
from cprbroker.core.subscriptions import (
    EventFacts,
    Subscription,
    SubscriptionIndex,
    SubscriptionState,
    SubscriptionStatus,
)

log = structlog.get_logger(__name__)

Transition = Callable[[Subscription], None]


class SubscriptionView:
    """Subscriptions, PNR lists and clients as the delivery role sees them.

    Listeners are attached to ``store`` at construction, so build the view
    before the store's logs start. ``on_activated``/``on_deactivated`` are
    called for status changes seen after :meth:`go_live` (history replayed at
    start-up triggers nothing: :meth:`inactive_now` covers it).
    """

    def __init__(
        self,
        store: SubscriptionStore,
        clients: ClientRegistry,
        *,
        rotation_grace: float,
        on_activated: Transition = lambda subscription: None,
        on_deactivated: Transition = lambda subscription: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clients = clients
        self.index = SubscriptionIndex()
        self._grace = rotation_grace
        self._secrets: dict[str, EndpointSecrets] = {}
        self._on_activated = on_activated
        self._on_deactivated = on_deactivated
        self._clock = clock
        self._live = False
        store.add_listener(self._subscription_changed)
        store.add_pnr_listener(self._pnr_changed)

    def go_live(self) -> None:
        """Start reporting status transitions (call once the state is loaded)."""
        self._live = True

    # -- keeping current -----------------------------------------------------

    def _subscription_changed(
        self, subscription_id: str, subscription: Subscription | None
    ) -> None:
        previous = self.index.get(subscription_id)
        if subscription is None:
            self.index.remove(subscription_id)
            self._secrets.pop(subscription_id, None)
            return
        self.index.put(subscription)
        self._track_secret(previous, subscription)
        if not self._live or previous is None:
            return
        was_active = previous.status.state is SubscriptionState.ACTIVE
        is_active = subscription.status.state is SubscriptionState.ACTIVE
        if is_active and not was_active:
            log.info("delivery.subscription_activated", subscription_id=subscription_id)
            self._on_activated(subscription)
        elif was_active and not is_active:
            log.info(
                "delivery.subscription_deactivated",
                subscription_id=subscription_id,
                state=subscription.status.state.value,
            )
            self._on_deactivated(subscription)

    def _track_secret(self, previous: Subscription | None, subscription: Subscription) -> None:
        secret = subscription.endpoint.secret
        known = self._secrets.get(subscription.id)
        try:
            if previous is None or known is None:
                self._secrets[subscription.id] = EndpointSecrets(current=secret)
            elif known.current != secret:
                # Rotated: the time of the change is the document's, so a
                # replay of the topic at start-up gives the same grace.
                changed = subscription.updated_at
                at = changed.timestamp() if changed is not None else self._clock()
                self._secrets[subscription.id] = known.rotate(secret, at, self._grace)
        except CprBrokerError:
            # The API validates secrets; a bad one here means a hand-made record.
            log.warning("delivery.bad_secret", subscription_id=subscription.id)
            self._secrets.pop(subscription.id, None)

    def _pnr_changed(self, subscription_id: str, pnr: str, on_list: bool) -> None:
        if on_list:
            self.index.add_pnr(subscription_id, pnr)
        else:
            self.index.remove_pnr(subscription_id, pnr)

    # -- reading -------------------------------------------------------------

    def subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription with this id, if it exists."""
        return self.index.get(subscription_id)

    def client(self, name: str) -> ApiClient | None:
        """The API client called ``name``, if known."""
        return self.clients.get(name)

    def secrets(self, subscription_id: str) -> EndpointSecrets | None:
        """The secrets to sign with for this subscription (None: unusable secret)."""
        return self._secrets.get(subscription_id)

    def recipients(self, facts: EventFacts) -> list[Subscription]:
        """The subscriptions a delivery of the event is made for: the filter
        matches, the subscription is not paused, and its owner may receive
        the event type."""
        found: list[Subscription] = []
        for subscription_id in self.index.match(facts):
            subscription = self.index.get(subscription_id)
            # The index matched the filter; a paused subscription gets nothing.
            if subscription is None or subscription.status.state is SubscriptionState.PAUSED:
                continue
            if may_receive(self.clients.get(subscription.owner), facts.type):
                found.append(subscription)
        return found

    def inactive_now(self) -> list[Subscription]:
        """Every subscription that is paused or disabled at this moment."""
        return [s for s in self.index if s.status.state is not SubscriptionState.ACTIVE]

    def active_now(self) -> list[Subscription]:
        """Every active subscription at this moment."""
        return [s for s in self.index if s.status.state is SubscriptionState.ACTIVE]

    # -- changing ------------------------------------------------------------

    async def disable(self, subscription_id: str, reason: str) -> Subscription | None:
        """Disable the subscription saying why; return it as stored, or None if
        it is gone or already disabled. Returns once this view has applied it."""
        current = self.store.get(subscription_id)
        if current is None or current.status.state is SubscriptionState.DISABLED:
            return None
        updated = replace(
            current,
            status=SubscriptionStatus.disabled(reason),
            updated_at=dt.datetime.fromtimestamp(self._clock(), tz=dt.UTC),
        )
        await self.store.put(updated)
        return updated
