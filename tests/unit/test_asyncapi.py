"""asyncapi/asyncapi.yaml is a valid AsyncAPI 3.0 document and agrees with the
code: the Avro schemas in schemas/, the event catalogue, the topic names and
their settings, and the messages the code actually writes."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from cprbroker.adapters.avro_codec import EventCodec
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.adapters.event_publisher import EventRecords
from cprbroker.adapters.person_records import FileEnd, FileInfo, encode_file_end, encode_person
from cprbroker.adapters.retry_topics import RetryTopics, redrive_state_topic
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import build_request
from cprbroker.core.delivery.retry import RetryLadder
from cprbroker.core.delivery.signing import EndpointSecrets
from cprbroker.core.events.apply import derive_person, extract_meta
from cprbroker.core.events.event import BusinessEvent
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.topics import TopicNames, TopicSpec, topic_specs
from cprbroker.processor.settings import DEFAULT_KNOWN_PNRS_TOPIC

REPO = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO / "asyncapi" / "asyncapi.yaml"
SCHEMAS = REPO / "schemas"
SCHEMA_OF_ASYNCAPI = REPO / "tests" / "fixtures" / "asyncapi" / "asyncapi-3.0.0.schema.json"
EXTRACT = REPO / "tests" / "fixtures" / "cpr" / "example-a-move-and-protection.txt"
BASE_URI = "urn:cprbroker:asyncapi"


@functools.cache
def document() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@functools.cache
def asyncapi_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_OF_ASYNCAPI.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def errors_of(instance: object) -> list[str]:
    return sorted(
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in asyncapi_validator().iter_errors(instance)
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    assert document()["asyncapi"] == "3.0.0"
    assert errors_of(document()) == []


def test_the_asyncapi_check_refuses_a_malformed_document() -> None:
    broken = copy.deepcopy(document())
    broken["operations"]["publishEvents"]["action"] = "publish"  # AsyncAPI 2 wording
    broken["channels"]["events"]["adress"] = broken["channels"]["events"].pop("address")
    errors = errors_of(broken)
    assert any(error.startswith("/operations/publishEvents") for error in errors)
    assert any(error.startswith("/channels/events") for error in errors)


def walk(node: object) -> Iterator[dict[str, Any]]:
    """Every mapping in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def references() -> list[str]:
    return [node["$ref"] for node in walk(document()) if isinstance(node.get("$ref"), str)]


def test_every_internal_reference_resolves() -> None:
    for reference in references():
        if reference.startswith("#/"):
            target: Any = document()
            for part in reference[2:].split("/"):
                assert isinstance(target, dict), reference
                assert part in target, reference
                target = target[part]


def referenced_schema_files() -> set[Path]:
    return {
        (ASYNCAPI.parent / reference).resolve()
        for reference in references()
        if not reference.startswith("#")
    }


def test_every_referenced_file_is_an_avro_schema_in_schemas() -> None:
    files = referenced_schema_files()
    assert files
    for path in files:
        assert path.parent == SCHEMAS.resolve(), path
        assert path.is_file(), path
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert path.name == f"{schema['namespace']}.{schema['name']}.avsc"


def named_types_of(root: str) -> set[str]:
    """Full names of every named Avro type ``root`` uses, itself included, by
    following type names through the files of schemas/."""
    by_name = {path.stem: json.loads(path.read_text("utf-8")) for path in SCHEMAS.glob("*.avsc")}
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, str):
            if node in by_name and node not in found:
                found.add(node)
                visit(by_name[node])
        elif isinstance(node, list):
            for branch in node:
                visit(branch)
        elif isinstance(node, dict):
            for field in node.get("fields", []):
                visit(field["type"])
            for key in ("items", "values"):
                if key in node:
                    visit(node[key])
            if isinstance(node.get("type"), dict | list):
                visit(node["type"])

    visit(root)
    return found


def test_every_named_type_of_cpr_events_is_referenced_and_nothing_else() -> None:
    used = named_types_of("dk.cprbroker.v1.BusinessEvent")
    assert "dk.cprbroker.v1.Address" in used  # reached through the snapshot and the change
    referenced = {path.stem for path in referenced_schema_files()}
    assert referenced == used


def test_the_events_message_carries_the_business_event_schema() -> None:
    message = document()["components"]["messages"]["businessEvent"]
    payload = resolve(message["payload"])
    assert payload["schemaFormat"].startswith("application/vnd.apache.avro")
    assert payload["schema"]["$ref"] == "../schemas/dk.cprbroker.v1.BusinessEvent.avsc"
    channel = document()["channels"]["events"]
    assert [resolve(m) for m in channel["messages"].values()] == [message]


def resolve(node: dict[str, Any]) -> Any:
    """``node``, or what its internal ``$ref`` points at."""
    while "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = document()
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def test_the_event_types_are_the_catalogues() -> None:
    listed = document()["components"]["schemas"]["EventType"]["enum"]
    assert listed == list(load_catalogue().event_types)


def expected_topics() -> dict[str, TopicSpec]:
    """The topics the roles use under default settings, besides faust's own."""
    names = TopicNames()
    specs = [*topic_specs(names), *RetryTopics(names.deliveries, RetryLadder()).specs(6)]
    specs.append(TopicSpec(DEFAULT_KNOWN_PNRS_TOPIC, 6, True, None))
    specs.append(TopicSpec(redrive_state_topic(names.deliveries), 6, True, None))
    return {spec.name: spec for spec in specs}


def channel_topics() -> dict[str, str]:
    """Topic name -> channel id, parameters expanded by their listed values."""
    topics: dict[str, str] = {}
    for channel_id, channel in document()["channels"].items():
        address = channel["address"]
        if address is None:
            continue
        expansions = [address]
        for name, parameter in channel.get("parameters", {}).items():
            values = resolve(parameter)["enum"]
            expansions = [a.replace(f"{{{name}}}", v) for a in expansions for v in values]
        for topic in expansions:
            assert topic not in topics, f"two channels for {topic}"
            topics[topic] = channel_id
    return topics


def test_the_channel_addresses_are_the_topics_the_code_uses() -> None:
    assert sorted(channel_topics()) == sorted(expected_topics())


def test_the_webhook_channel_has_no_fixed_address() -> None:
    webhook = document()["channels"]["webhook"]
    assert webhook["address"] is None
    (operation,) = [
        op for op in document()["operations"].values() if resolve(op["channel"]) is webhook
    ]
    assert operation["action"] == "send"
    assert operation["bindings"]["http"]["method"] == "POST"


def test_the_kafka_bindings_say_how_each_topic_is_created() -> None:
    channels = document()["channels"]
    for topic, spec in expected_topics().items():
        binding = channels[channel_topics()[topic]]["bindings"]["kafka"]
        configuration = binding["topicConfiguration"]
        assert binding["partitions"] == spec.partitions, topic
        assert configuration["cleanup.policy"] == [spec.configs()["cleanup.policy"]], topic
        assert configuration.get("retention.ms") == spec.retention_ms, topic


# --- the messages the code writes fit the schemas the document gives ---------


@functools.cache
def registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT7)
    return Registry().with_resource(BASE_URI, resource)


def violations(instance: object, schema_name: str) -> list[str]:
    validator = jsonschema.Draft7Validator(
        {"$ref": f"{BASE_URI}#/components/schemas/{schema_name}"},
        registry=registry(),
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )
    return sorted(
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(instance)
    )


@functools.cache
def derived() -> tuple[Any, tuple[BusinessEvent, ...]]:
    """The example delta file, parsed, and the events it gives on an empty replica."""
    extract = parse_extract(EXTRACT.read_bytes(), source=EXTRACT.name)
    meta = extract_meta(extract)
    catalogue = load_catalogue()
    events = [
        event
        for person in extract.persons
        for event in derive_person(None, person, meta, catalogue).events
    ]
    return extract, tuple(events)


def test_the_example_gives_a_move_and_a_protection() -> None:
    types = {event.type for event in derived()[1]}
    assert {"cpr.person.moved", "cpr.person.protection_changed"} <= types


def test_the_headers_the_processor_writes_on_cpr_events_fit_the_document() -> None:
    records = EventRecords(EventCodec.from_directory(SCHEMAS))
    for event in derived()[1]:
        key, _, headers = records.record(event)
        assert violations({name: value.decode() for name, value in headers}, "EventHeaders") == []
        assert violations(key.decode(), "Pnr") == []


SECRET = "whsec_" + base64.b64encode(bytes(range(24))).decode()
OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(24, 48))).decode()
# 2024-06-01 12:00 UTC: the example's protection (2024-03-04 .. 2025-03-04) is in force.
NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize("level", list(PayloadLevel))
@pytest.mark.parametrize("may_see_protected", [False, True])
def test_the_webhook_requests_the_delivery_role_sends_fit_the_document(
    level: PayloadLevel, may_see_protected: bool
) -> None:
    secrets = EndpointSecrets(SECRET, OLD_SECRET, previous_valid_until=NOW + 60)
    for event in derived()[1]:
        request = build_request(
            event_to_dict(event),
            subscription_id="sub-0001",
            level=level,
            may_see_protected=may_see_protected,
            secrets=secrets,
            now=NOW,
        )
        body = json.loads(request.body)
        assert violations(body, "CloudEvent") == []
        assert violations(dict(request.headers), "WebhookHeaders") == []
        # Rotation: both signatures travel, and the header schema admits that.
        assert request.headers["webhook-signature"].count("v1,") == 2


def test_a_withheld_name_and_address_is_described_too() -> None:
    # The mover of the example, under the other person's name-and-address protection.
    events = {event.type: event_to_dict(event) for event in derived()[1]}
    moved = events["cpr.person.moved"]
    protections = events["cpr.person.protection_changed"]["active_protections"]
    moved["active_protections"] = moved["snapshot"]["protections"] = protections
    request = build_request(
        moved,
        subscription_id="sub-0001",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(SECRET),
        now=NOW,
    )
    body = json.loads(request.body)
    assert body["data"]["withheld"] == ["/snapshot/address", "/change/after"]
    assert violations(body, "CloudEvent") == []


def test_the_schema_check_refuses_an_unknown_event_type_or_a_bad_signature() -> None:
    event = derived()[1][0]
    request = build_request(
        event_to_dict(event),
        subscription_id="sub-0001",
        level=PayloadLevel.THIN,
        may_see_protected=False,
        secrets=EndpointSecrets(SECRET),
        now=NOW,
    )
    body = json.loads(request.body)
    body["type"] = "cpr.person.teleported"
    assert any(v.startswith("/type:") for v in violations(body, "CloudEvent"))
    headers = dict(request.headers) | {"webhook-signature": "v2,abc"}
    assert any(v.startswith("/webhook-signature") for v in violations(headers, "WebhookHeaders"))


def test_the_person_record_messages_ingest_writes_fit_the_document() -> None:
    extract, _ = derived()
    file = FileInfo.of(extract_meta(extract), full=False, source=EXTRACT.name)
    persons = list(extract.persons)
    assert persons
    for person in persons:
        header, _, body = encode_person(file, person).partition(b"\n")
        value = json.loads(header)
        assert violations(value, "PersonRecordValue") == []
        assert violations(person.pnr, "Pnr") == []
        records = body.decode("latin-1").split("\n")
        assert len(records) == len(value["lines"])
        assert all(record[3:13] == person.pnr for record in records)
    end = json.loads(encode_file_end(FileEnd(file, 0, 6, len(persons))))
    assert violations(end, "FileEndValue") == []


def test_the_state_and_delivery_records_the_code_writes_fit_the_document() -> None:
    from cprbroker.adapters.delivery_attempts import AttemptLogEntry, AttemptStatus
    from cprbroker.adapters.delivery_dlq import DlqCursor, RedriveState
    from cprbroker.adapters.delivery_records import DeliveryRecord, EventRef, Origin
    from cprbroker.adapters.ingest_state import encode_mark
    from cprbroker.core.audit import AuditEntry, PnrOutcome
    from cprbroker.core.clients import ApiClient
    from cprbroker.core.events.apply import file_mark
    from cprbroker.core.subscriptions.subscription_document import (
        subscription_from_document,
        subscription_to_document,
    )

    extract, events = derived()
    event = event_to_dict(events[0])
    at = dt.datetime.fromtimestamp(NOW, tz=dt.UTC)
    ref = EventRef("cpr.events", 3, 1234, int(NOW * 1000))
    schemas = document()["components"]["schemas"]
    messages = document()["components"]["messages"]
    assert schemas["DeliveryValue"]["properties"]["origin"]["enum"] == [o.value for o in Origin]
    statuses = schemas["AttemptValue"]["properties"]["status"]["enum"]
    assert statuses == [status.value for status in AttemptStatus]

    subscription = subscription_from_document(
        {
            "id": "sub-0001",
            "owner": "hr-system",
            "name": "moves in Copenhagen",
            "endpoint": {"url": "https://hr.example/hooks/cpr", "secret": SECRET},
            "filter": {"event_types": ["cpr.person.moved"], "municipalities": ["0101"]},
            "payload_level": "full",
            "status": "active",
        }
    )
    written = {
        "SubscriptionValue": subscription_to_document(subscription),
        "ApiClientValue": json.loads(ApiClient("hr-system", "ab" * 32, at).to_json()),
        "ExtractSequenceValue": json.loads(
            encode_mark(file_mark(extract), file_id=extract.file_id, persons=2, full=False)
        ),
        "AuditEntryValue": json.loads(
            AuditEntry(
                at,
                "hr-system",
                "pnrs.add",
                "ok",
                "req-1",
                on_behalf_of="user-17",
                subscription_id="sub-0001",
                status=201,
                pnrs=(PnrOutcome(event["pnr"], "ADDED"),),
            ).to_json()
        ),
    }
    for origin in Origin:
        record = DeliveryRecord("sub-0001", event, ref, origin=origin, retries=1, attempts=3)
        written[f"DeliveryValue/{origin.value}"] = json.loads(record.encode())
    for status in AttemptStatus:
        entry = AttemptLogEntry(
            NOW, "sub-0001", "msg_" + "0" * 32, event["id"], event["type"], 1, status, "send",
            http_status=503, latency_ms=12.5, error="HTTP 503", next_attempt_at=NOW + 5,
            event_ref=ref,
        )  # fmt: skip
        written[f"AttemptValue/{status.value}"] = entry.to_document()
    for name, value in written.items():
        assert violations(value, name.split("/")[0]) == [], name
    redrive = json.loads(RedriveState(active=True, cursor=DlqCursor(2, 40)).to_json())
    payload = messages["redriveState"]["payload"]
    validator = jsonschema.Draft7Validator(payload)
    assert list(validator.iter_errors(redrive)) == []
