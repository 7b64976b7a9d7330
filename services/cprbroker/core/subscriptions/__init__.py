"""Subscriptions: the domain model, filter semantics, the compiled index that
matches events against all subscriptions at once, and the JSON forms with
validation that the API and the subscriptions topic use."""

from __future__ import annotations

from .facts import AddressKey, EventFacts, age_on, normalize_house_number
from .filter_document import filter_to_document, parse_filter
from .index import SubscriptionIndex
from .matching import OnList, matches
from .model import (
    CATCH_ALL,
    AddressCriterion,
    AgeRange,
    Endpoint,
    Filter,
    PayloadLevel,
    Subscription,
    SubscriptionState,
    SubscriptionStatus,
)
from .subscription_document import (
    SubscriptionRequest,
    parse_endpoint,
    parse_name,
    parse_payload_level,
    parse_requested_status,
    parse_subscription_request,
    subscription_from_document,
    subscription_to_document,
)

__all__ = [
    "CATCH_ALL",
    "AddressCriterion",
    "AddressKey",
    "AgeRange",
    "Endpoint",
    "EventFacts",
    "Filter",
    "OnList",
    "PayloadLevel",
    "Subscription",
    "SubscriptionIndex",
    "SubscriptionRequest",
    "SubscriptionState",
    "SubscriptionStatus",
    "age_on",
    "filter_to_document",
    "matches",
    "normalize_house_number",
    "parse_endpoint",
    "parse_filter",
    "parse_name",
    "parse_payload_level",
    "parse_requested_status",
    "parse_subscription_request",
    "subscription_from_document",
    "subscription_to_document",
]
