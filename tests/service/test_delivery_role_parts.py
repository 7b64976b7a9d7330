"""The delivery role's smaller parts: commit points, retry tier topics, the
delivery record format, events read straight from Avro, the body fast path,
the partition cache and the settings from the environment."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st
from tests.service.delivery_harness import make_event

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.delivery_attempts import AttemptLogEntry, AttemptStatus
from cprbroker.adapters.delivery_matching import event_document, event_facts
from cprbroker.adapters.delivery_outbox import KeyPartitioner
from cprbroker.adapters.delivery_records import (
    DeliveryRecord,
    EventRef,
    Origin,
    decode_delivery,
)
from cprbroker.adapters.delivery_scan import partition_of_key
from cprbroker.adapters.retry_topics import RetryTopics, delay_label
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import encode_delivery_body
from cprbroker.core.delivery.retry import RetryLadder
from cprbroker.core.errors import EventFormatError, SettingsError
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.subscriptions import AddressKey
from cprbroker.delivery.entries import delivery_body
from cprbroker.delivery.offsets import OffsetTracker
from cprbroker.delivery.settings import DeliverySettings

# -- commit points ------------------------------------------------------------------


def test_the_commit_point_stays_at_the_lowest_unfinished_offset() -> None:
    tracker = OffsetTracker()
    assert tracker.committable() is None
    for offset in (10, 11, 12, 14):  # 13 is a gap (a transaction marker, compaction)
        tracker.take(offset)
    assert tracker.committable() == 10
    tracker.finish(11)
    tracker.finish(14)
    assert tracker.committable() == 10  # 10 still runs: nothing past it may be committed
    tracker.finish(10)
    assert tracker.committable() == 12
    tracker.finish(12)
    assert tracker.committable() == 15
    assert tracker.pending == 0


@given(st.permutations(list(range(30))))
def test_the_commit_point_never_passes_an_unfinished_record(order: list[int]) -> None:
    tracker = OffsetTracker()
    for offset in range(30):
        tracker.take(offset)
    finished: set[int] = set()
    for offset in order:
        tracker.finish(offset)
        finished.add(offset)
        point = tracker.committable()
        assert point is not None
        assert all(o in finished for o in range(point))
        assert point == 30 or point not in finished


def test_offsets_must_be_taken_in_order() -> None:
    tracker = OffsetTracker()
    tracker.take(5)
    with pytest.raises(ValueError, match="offset 4 taken after 5"):
        tracker.take(4)


# -- retry tier topics ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(5, "5s"), (300, "5m"), (1800, "30m"), (7200, "2h"), (36000, "10h"), (1.5, "1500ms"),
     (86400, "1d"), (90, "90s")],
)  # fmt: skip
def test_delay_labels(seconds: float, label: str) -> None:
    assert delay_label(seconds) == label


def test_the_svix_ladder_has_one_topic_per_distinct_delay() -> None:
    tiers = RetryTopics("cpr.deliveries", RetryLadder())
    assert tiers.topics() == tuple(
        f"cpr.deliveries.retry.{label}" for label in ("5s", "5m", "30m", "2h", "5h", "10h")
    )
    assert tiers.topic_for_wait(4.2) == "cpr.deliveries.retry.5s"
    assert tiers.topic_for_wait(5.9) == "cpr.deliveries.retry.5s"  # within the jitter
    assert tiers.topic_for_wait(120) == "cpr.deliveries.retry.5m"
    assert tiers.topic_for_wait(10 * 86400) == "cpr.deliveries.retry.10h"
    specs = {spec.name: spec for spec in tiers.specs(6)}
    assert specs["cpr.deliveries.retry.10h"].retention_ms == 7 * 86_400_000
    assert not any(spec.compacted for spec in specs.values())


# -- the delivery record ------------------------------------------------------------


def test_a_delivery_record_round_trips_with_the_event_embedded_once() -> None:
    document = event_to_dict(make_event(1))
    ref = EventRef("cpr.events", 2, 41, 1_717_146_000_000)
    record = DeliveryRecord(
        "sub-1",
        document,
        ref,
        origin=Origin.REDRIVE,
        retries=2,
        attempts=5,
        due_at=12.5,
        first_failed_at=3.0,
        last_error="status 503",
    )
    raw = record.encode()
    assert json.loads(raw)["event"] == document
    assert decode_delivery(raw) == record
    assert record.message_id.startswith("msg_")
    assert record.fresh(Origin.REDELIVER) == replace(
        record,
        origin=Origin.REDELIVER,
        retries=0,
        attempts=0,
        due_at=0.0,
        first_failed_at=None,
        last_error=None,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"v": 2}', "unknown delivery record version"),
        (b'{"v": 1, "subscription_id": "s"}', "/event: required field is missing"),
        (
            b'{"v": 1, "subscription_id": "", "event": {}, '
            b'"event_ref": {"topic": "t", "partition": 0, "offset": 0, "timestamp_ms": 0}}',
            "subscription_id",
        ),
    ],
)
def test_malformed_delivery_records_are_named(raw: bytes, message: str) -> None:
    with pytest.raises(EventFormatError, match=message):
        decode_delivery(raw)


def test_an_attempt_log_entry_round_trips() -> None:
    entry = AttemptLogEntry(
        at=1_717_146_000.25,
        subscription_id="sub-1",
        delivery_id="msg_1",
        event_id="ev-1",
        event_type="cpr.person.moved",
        attempt=3,
        status=AttemptStatus.FAILED,
        stage="retry.5m",
        http_status=503,
        latency_ms=12.5,
        error="status 503",
        next_attempt_at=1_717_146_300.5,
        event_ref=EventRef("cpr.events", 1, 2, 3),
    )
    assert AttemptLogEntry.from_json(entry.to_json()) == entry


# -- events straight from Avro ------------------------------------------------------


@pytest.mark.parametrize("protected", [False, True])
def test_the_event_document_from_avro_is_the_events_json_form(protected: bool) -> None:
    event = make_event(3, protected=protected)
    codec = default_codec()
    assert event_document(codec, codec.encode(event)) == event_to_dict(event)


def test_event_facts_come_from_the_json_form() -> None:
    facts = event_facts(event_to_dict(make_event(3, municipality="0101", before="0147")))
    assert (facts.type, facts.cpr_event_code, facts.derived_mark) == (
        "cpr.person.moved",
        "A01",
        None,
    )
    assert (facts.municipality_before, facts.municipality_after) == ("0147", "0101")
    assert facts.address_after == AddressKey("0101", "1234", "12")
    assert facts.address_before is None  # an address change from nothing
    assert facts.age == 54
    assert facts.occurred_at == dt.datetime.fromisoformat("2024-03-04T15:36")  # CPR local time


def test_partly_unknown_times_fall_back_to_the_production_date() -> None:
    document = event_to_dict(make_event(1))
    document["occurred_at"] = "1961-00-00T12:99"
    assert event_facts(document).occurred_at == dt.datetime.fromisoformat("2024-03-05T00:00")


# -- the body fast path -------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "protected", "may_see"),
    [
        (PayloadLevel.FULL, False, False),
        (PayloadLevel.FULL, True, False),
        (PayloadLevel.FULL, True, True),
        (PayloadLevel.THIN, True, False),
    ],
)
def test_the_delivery_body_is_byte_for_byte_the_cores(
    level: PayloadLevel, protected: bool, may_see: bool
) -> None:
    on = dt.date(2024, 6, 1)
    expected = encode_delivery_body(
        event_to_dict(make_event(1, protected=protected)), level, may_see_protected=may_see, on=on
    )
    got = delivery_body(
        event_to_dict(make_event(1, protected=protected)),
        level,
        may_see_protected=may_see,
        on=on,
        source="urn:cprbroker:events",
    )
    assert got == expected


# -- partitions ---------------------------------------------------------------------


@given(st.binary(min_size=1, max_size=40), st.integers(min_value=1, max_value=64))
def test_the_key_partitioner_agrees_with_the_default_one(key: bytes, partitions: int) -> None:
    all_partitions = list(range(partitions))
    expected = DefaultPartitioner()(key, all_partitions, all_partitions)
    cached = KeyPartitioner(max_keys=3)
    assert cached(key, all_partitions, all_partitions) == expected
    assert cached(key, all_partitions, all_partitions) == expected
    assert partition_of_key(key, partitions) == expected


# -- settings -----------------------------------------------------------------------


def test_settings_come_from_the_environment() -> None:
    settings = DeliverySettings().with_environ(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "CPRBROKER_RETRY_LADDER": "1s, 2s ,1m",
            "CPRBROKER_RETRY_JITTER": "0",
            "CPRBROKER_SHORT_RETRY_WINDOW": "2s",
            "CPRBROKER_WEBHOOK_TIMEOUT": "1500ms",
            "CPRBROKER_WEBHOOK_CONNECTIONS_PER_HOST": "4",
            "CPRBROKER_DELIVERY_CONCURRENCY": "3",
            "CPRBROKER_CALLBACK_ALLOW_CIDRS": "127.0.0.0/8, ::1/128",
            "CPRBROKER_FAILURE_WINDOW": "3d",
            "CPRBROKER_METRICS_PORT": "off",
            "CPRBROKER_TOPIC_DELIVERIES": "x.deliveries",
        }
    )
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.ladder == RetryLadder((1.0, 2.0, 60.0), 0.0)
    assert settings.short_retry.deadline == 2.0
    assert (settings.http.timeout, settings.http.max_connections_per_host) == (1.5, 4)
    assert settings.concurrency_per_subscription == 3
    assert settings.callback_allow_cidrs == ("127.0.0.0/8", "::1/128")
    assert settings.failure_window == 3 * 86400
    assert settings.metrics_port is None
    assert settings.retry_topics.topics()[0] == "x.deliveries.retry.1s"
    assert settings.redrive_topic == "x.deliveries.redrives"


@pytest.mark.parametrize(
    ("environ", "partitions"),
    [
        ({}, 6),
        ({"CPRBROKER_PARTITIONS": "12"}, 12),
        ({"CPRBROKER_TOPIC_PARTITIONS": "3"}, 3),
        ({"CPRBROKER_PARTITIONS": "12", "CPRBROKER_TOPIC_PARTITIONS": "3"}, 3),
    ],
)
def test_delivery_takes_the_partition_count_every_role_reads(
    environ: dict[str, str], partitions: int
) -> None:
    assert DeliverySettings().with_environ(environ).topic_partitions == partitions


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CPRBROKER_RETRY_LADDER", "5s,soon", "CPRBROKER_RETRY_LADDER"),
        ("CPRBROKER_DELIVERY_CONCURRENCY", "many", "CPRBROKER_DELIVERY_CONCURRENCY"),
        ("CPRBROKER_DELIVERY_CONCURRENCY", "0", "concurrency_per_subscription"),
        ("CPRBROKER_CALLBACK_ALLOW_CIDRS", "localhost", "not a CIDR"),
        ("CPRBROKER_SHORT_RETRY_WINDOW", "-1s", "CPRBROKER_SHORT_RETRY_WINDOW"),
        ("CPRBROKER_PARTITIONS", "six", "CPRBROKER_PARTITIONS"),
    ],
)
def test_malformed_settings_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        DeliverySettings().with_environ({name: value})


@given(st.floats(min_value=-2e9, max_value=5e9, allow_nan=False))
def test_attempt_times_read_as_datetime_writes_them(epoch: float) -> None:
    entry = AttemptLogEntry(
        at=epoch, subscription_id="s", delivery_id="d", event_id="e", event_type="t",
        attempt=1, status=AttemptStatus.DELIVERED, stage="send",
    )  # fmt: skip
    expected = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).isoformat(timespec="milliseconds")
    assert entry.to_document()["at"] == expected
