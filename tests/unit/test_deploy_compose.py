"""deploy/compose.yaml: valid for the Compose Specification's schema, Apache Kafka
in KRaft mode from its official image, each role a service of the one image,
with settings the roles read and health checks where they serve HTTP."""

from __future__ import annotations

import base64
import copy
import functools
import re
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from tests.unit.deploy_support import (
    DEPLOY,
    FIXTURES,
    HEALTH_PORTS,
    REPO,
    ROLE_SETTINGS,
    image_environ,
    interpolate,
    load_documents,
    load_json,
    roles_reading,
    settings_errors,
)

from cprbroker.cli import COMMANDS, build_parser, chosen_command

COMPOSE_FILE = DEPLOY / "compose.yaml"


@functools.cache
def compose() -> dict[str, Any]:
    (document,) = load_documents(COMPOSE_FILE)
    return document


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]  # type: ignore[no-any-return]


def role_services() -> dict[str, dict[str, Any]]:
    """The services running a cprbroker role, by role."""
    return {
        service["command"][0]: service
        for service in services().values()
        if service.get("image", "").startswith("${CPRBROKER_IMAGE")
    }


def environ_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as its container sees it: the image's, then the
    service's (with the variables unset on the host)."""
    own = {key: interpolate(str(value)) for key, value in service["environment"].items()}
    return image_environ() | own


@functools.cache
def compose_validator() -> jsonschema.protocols.Validator:
    schema = load_json(FIXTURES / "compose-spec.schema.json")
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def test_the_compose_file_is_valid_for_the_compose_specification() -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in compose_validator().iter_errors(compose())
    ]
    assert errors == []


def test_the_schema_check_refuses_a_misspelled_healthcheck_field() -> None:
    document = copy.deepcopy(compose())
    document["services"]["api"]["healthcheck"]["intervall"] = "5s"
    errors = [error.message for error in compose_validator().iter_errors(document)]
    assert "'intervall' does not match any of the regexes: '^x-'" in errors


def test_kafka_is_the_official_apache_image_in_kraft_mode() -> None:
    kafka = services()["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", kafka["image"])
    environment = kafka["environment"]
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in environment)
    node = environment["KAFKA_NODE_ID"]
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:9093"
    # KRaft formats the storage with this id: 16 bytes in URL-safe base64.
    cluster_id = environment["CLUSTER_ID"]
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert kafka["healthcheck"]["test"][0] == "CMD"


def test_the_roles_reach_kafka_on_its_advertised_internal_listener() -> None:
    kafka = services()["kafka"]["environment"]
    listeners = dict(
        entry.split("://", 1) for entry in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    internal = listeners[kafka["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    for role, service in role_services().items():
        assert environ_of(service)["KAFKA_BOOTSTRAP_SERVERS"] == internal, role
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy", role


def test_each_role_is_a_service_of_the_one_image_running_its_command() -> None:
    commands = COMMANDS
    roles = role_services()
    assert sorted(roles) == sorted(ROLE_SETTINGS)
    for role, service in roles.items():
        assert role in commands, f"cprbroker has no {role} command"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", role
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert (context / service["build"]["dockerfile"]).is_file(), role
        assert context == REPO, role


def test_each_role_command_line_parses_as_that_cprbroker_command() -> None:
    for role, service in role_services().items():
        args = build_parser(chosen_command(service["command"])).parse_args(service["command"])
        assert args.command == role


def test_every_variable_the_roles_get_is_a_setting_some_role_reads() -> None:
    names = {name for service in role_services().values() for name in service["environment"]}
    assert [name for name in sorted(names) if not roles_reading(name)] == []


def test_every_role_accepts_its_environment() -> None:
    for role, service in role_services().items():
        assert settings_errors(environ_of(service)) == {}, role


@pytest.mark.parametrize("role", sorted(HEALTH_PORTS))
def test_roles_serving_http_are_health_checked_on_healthz_at_their_port(role: str) -> None:
    service = role_services()[role]
    check = service["healthcheck"]["test"]
    (url,) = [item for item in check if item.startswith("http://")]
    settings = ROLE_SETTINGS[role](environ_of(service))
    assert urlsplit(url).path == "/healthz"
    assert urlsplit(url).port == getattr(settings, HEALTH_PORTS[role])
    # The image has python, not curl: the check is a stdlib one-liner.
    assert check[:3] == ["CMD", "python", "-c"]


def test_roles_serving_no_http_get_no_http_health_check() -> None:
    for role, service in role_services().items():
        if role not in HEALTH_PORTS:
            assert "healthcheck" not in service, role


def test_published_ports_bind_to_loopback_only() -> None:
    for name, service in services().items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), name


def test_the_processor_keeps_its_replica_on_a_named_volume_at_its_data_dir() -> None:
    service = role_services()["processor"]
    settings = ROLE_SETTINGS["processor"](environ_of(service))
    data_dir = str(settings.data_dir)  # type: ignore[attr-defined]
    assert data_dir.startswith("/")
    mounts = dict(volume.rsplit(":", 1)[::-1] for volume in service["volumes"])
    assert mounts[data_dir] in compose()["volumes"]


def test_every_named_volume_is_declared() -> None:
    declared = set(compose()["volumes"])
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, name
