"""Every topic the code uses has a Strimzi KafkaTopic in deploy/k8s/base/topics.yaml,
created the way the roles would create it, and each KafkaTopic is valid for the CRD."""

from __future__ import annotations

import ast
import copy
import functools
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
from tests.unit.deploy_support import (
    FIXTURES,
    K8S_BASE,
    REPO,
    load_documents,
    load_json,
    used_topic_specs,
)

from cprbroker.core.topics import TopicNames, TopicSpec, topic_specs

TOPICS_FILE = K8S_BASE / "topics.yaml"
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


@functools.cache
def kafka_topics() -> dict[str, dict[str, Any]]:
    """The KafkaTopic resources of the base by Kafka topic name (shared: copy before changing)."""
    topics: dict[str, dict[str, Any]] = {}
    for document in load_documents(TOPICS_FILE):
        assert document["kind"] == "KafkaTopic", f"{TOPICS_FILE.name}: {document['kind']}"
        name = document["spec"].get("topicName") or document["metadata"]["name"]
        assert name not in topics, f"two KafkaTopics for {name}"
        topics[name] = document
    return topics


def config_map_environ() -> dict[str, str]:
    """The ConfigMap's settings: the environment the deployed roles see."""
    (document,) = load_documents(K8S_BASE / "configmap.yaml")
    return {key: str(value) for key, value in document["data"].items()}


def mismatches(specs: dict[str, TopicSpec], topics: dict[str, dict[str, Any]]) -> list[str]:
    """Why ``topics`` do not create ``specs`` as the roles would (empty: they do)."""
    problems = []
    for name, spec in sorted(specs.items()):
        resource = topics.get(name)
        if resource is None:
            problems.append(f"{name}: no KafkaTopic")
            continue
        body = resource["spec"]
        config = {key: str(value) for key, value in body.get("config", {}).items()}
        if body.get("partitions") != spec.partitions:
            problems.append(f"{name}: partitions {body.get('partitions')}, code {spec.partitions}")
        for key, wanted in spec.configs().items():
            if config.get(key) != wanted:
                problems.append(f"{name}: {key} {config.get(key)!r}, code {wanted!r}")
        if spec.retention_ms is None and "retention.ms" in config:
            problems.append(f"{name}: retention.ms set, the code leaves the broker default")
    return problems


def test_every_topic_the_code_uses_has_a_kafka_topic_created_as_the_code_would() -> None:
    assert mismatches(used_topic_specs(config_map_environ()), kafka_topics()) == []


def test_no_kafka_topic_is_left_for_a_topic_the_code_no_longer_uses() -> None:
    stale = set(kafka_topics()) - set(used_topic_specs(config_map_environ()))
    assert stale == set()


def test_the_check_reports_a_new_topic_name_without_a_kafka_topic() -> None:
    @dataclass(frozen=True, slots=True)
    class MoreTopicNames(TopicNames):
        replays: str = "cpr.replays"

    specs = {spec.name: spec for spec in topic_specs(MoreTopicNames())}
    assert mismatches(specs, kafka_topics()) == ["cpr.replays: no KafkaTopic"]


def test_the_check_reports_a_kafka_topic_created_differently_from_the_code() -> None:
    topics = copy.deepcopy(kafka_topics())
    topics["cpr.subscriptions"]["spec"]["config"]["cleanup.policy"] = "delete"
    topics["cpr.audit"]["spec"]["config"]["retention.ms"] = 86_400_000
    topics["cpr.events"]["spec"]["partitions"] = 3
    specs = used_topic_specs(config_map_environ())
    assert mismatches(specs, topics) == [
        "cpr.audit: retention.ms '86400000', code '16416000000'",
        "cpr.events: partitions 3, code 6",
        "cpr.subscriptions: cleanup.policy 'delete', code 'compact'",
    ]


def test_the_retry_tiers_follow_the_ladder_the_config_map_sets() -> None:
    environ = config_map_environ() | {"CPRBROKER_RETRY_LADDER": "1s,1m"}
    problems = mismatches(used_topic_specs(environ), kafka_topics())
    assert problems == [
        "cpr.deliveries.retry.1m: no KafkaTopic",
        "cpr.deliveries.retry.1s: no KafkaTopic",
    ]


@functools.cache
def topic_literals() -> dict[str, str]:
    """String constants in services/ shaped like cprbroker topic names, with a file using each."""
    shape = re.compile(r"cpr[.-][a-z0-9][a-z0-9._-]*[a-z0-9]")
    found: dict[str, str] = {}
    for path in sorted((REPO / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and shape.fullmatch(node.value)
            ):
                found.setdefault(node.value, str(path.relative_to(REPO)))
    return found


# Constants shaped like topic names that name something else.
NOT_TOPICS = {
    "cpr.ping",  # the CloudEvents type of the signed test ping (api/deliveries.py)
}


def test_every_topic_name_written_in_the_code_has_a_kafka_topic() -> None:
    literals = topic_literals()
    assert "cpr.known-pnrs" in literals  # the scan sees names outside TopicNames
    missing = {
        name: path
        for name, path in literals.items()
        if name not in kafka_topics() and name not in NOT_TOPICS
    }
    assert missing == {}


@functools.cache
def crd_validator() -> jsonschema.protocols.Validator:
    """The KafkaTopic CRD schema, strict as the API server's field validation:
    unknown fields are refused wherever the schema lists the fields."""

    def strict(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: strict(value) for key, value in node.items()}
            if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
                node.setdefault("additionalProperties", False)
        return node

    schema = strict(load_json(FIXTURES / "strimzi-kafkatopic-v1beta2.openapi.json"))
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("name", sorted(kafka_topics()))
def test_each_kafka_topic_is_valid_for_the_strimzi_crd(name: str) -> None:
    resource = kafka_topics()[name]
    errors = [error.message for error in crd_validator().iter_errors(resource)]
    assert errors == []
    assert resource["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert _K8S_NAME.fullmatch(resource["metadata"]["name"])
    assert len(resource["metadata"]["name"]) <= 253
    assert resource["metadata"]["labels"]["strimzi.io/cluster"] == "cprbroker"
    # topicName only where the topic name is no valid resource name (Strimzi's advice).
    assert ("topicName" in resource["spec"]) == (_K8S_NAME.fullmatch(name) is None)


def test_the_crd_check_refuses_unknown_and_out_of_range_fields() -> None:
    resource = copy.deepcopy(kafka_topics()["cpr.events"])
    resource["spec"]["partition"] = 6
    resource["spec"]["replicas"] = 0
    errors = sorted(error.message for error in crd_validator().iter_errors(resource))
    assert errors == [
        "0 is less than the minimum of 1",
        "Additional properties are not allowed ('partition' was unexpected)",
    ]


def test_topics_are_replicated_for_production() -> None:
    for name, resource in kafka_topics().items():
        spec = resource["spec"]
        assert spec["replicas"] >= 3, name
        assert int(spec["config"]["min.insync.replicas"]) == spec["replicas"] - 1, name
