"""The kustomize base in deploy/k8s/base: it resolves, every resource is valid
for Kubernetes' own schemas, and it runs the roles the way the code expects
(commands, settings, probes, ports, volumes)."""

from __future__ import annotations

import copy
import functools
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml
from tests.unit.deploy_support import (
    HEALTH_HOSTS,
    HEALTH_PORTS,
    K8S_BASE,
    ROLE_SETTINGS,
    image_environ,
    load_documents,
    roles_reading,
    settings_errors,
)

from cprbroker.cli import COMMANDS, build_parser, chosen_command

KUBERNETES_VERSION = "1.30"


@functools.cache
def kustomization() -> dict[str, Any]:
    (document,) = load_documents(K8S_BASE / "kustomization.yaml")
    return document


@functools.cache
def resources() -> tuple[dict[str, Any], ...]:
    """Every resource of the base, read file by file from the kustomization's list."""
    documents: list[dict[str, Any]] = []
    for entry in kustomization()["resources"]:
        documents.extend(load_documents(K8S_BASE / entry))
    return tuple(documents)


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in resources() if doc["kind"] == kind}


def config_map_environ() -> dict[str, str]:
    (config,) = of_kind("ConfigMap").values()
    return {key: str(value) for key, value in config["data"].items()}


def pod_environ() -> dict[str, str]:
    """The environment of a role's container: the image's, then the ConfigMap's."""
    return image_environ() | config_map_environ()


def role_of(deployment: dict[str, Any]) -> str:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return str(container["args"][0])


def deployments_by_role() -> dict[str, dict[str, Any]]:
    return {role_of(doc): doc for doc in of_kind("Deployment").values()}


def test_the_kustomization_lists_every_manifest_and_each_one_exists() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {path.name for path in K8S_BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_there_is_one_deployment_per_role_running_a_cprbroker_command() -> None:
    commands = COMMANDS
    roles = deployments_by_role()
    assert sorted(roles) == sorted(ROLE_SETTINGS)
    for role in roles:
        assert role in commands, f"cprbroker has no {role} command"


def test_each_role_command_line_parses_as_that_cprbroker_command() -> None:
    for role, deployment in deployments_by_role().items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "command" not in container, role  # the image's entrypoint is cprbroker
        args = container["args"]
        assert build_parser(chosen_command(args)).parse_args(args).command == role


def validate(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    "document",
    [doc for doc in resources() if doc["kind"] != "KafkaTopic"],
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)
def test_each_resource_is_valid_for_the_kubernetes_schema(document: dict[str, Any]) -> None:
    validate(document)


def test_the_schema_check_refuses_a_misspelled_field() -> None:
    deployment = copy.deepcopy(of_kind("Deployment")["cprbroker-api"])
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        validate(deployment)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not here")
def test_kubectl_kustomize_builds_the_base_into_valid_resources() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S_BASE)], capture_output=True, text=True, check=True
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(built) if doc]
    names = sorted((doc["kind"], doc["metadata"]["name"]) for doc in documents)
    assert names == sorted((doc["kind"], doc["metadata"]["name"]) for doc in resources())
    for document in documents:
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "cprbroker"
        if document["kind"] != "KafkaTopic":
            validate(document)
    images = {
        container["image"]
        for doc in documents
        if doc["kind"] == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"cprbroker:0.1.0"}


def test_every_config_map_key_is_a_setting_some_role_reads() -> None:
    unread = [name for name in config_map_environ() if not roles_reading(name)]
    assert unread == []


def test_every_role_accepts_the_config_map() -> None:
    assert settings_errors(pod_environ()) == {}


def test_every_role_reads_the_config_map_and_the_secret_that_exist() -> None:
    config_maps, secrets = set(of_kind("ConfigMap")), set(of_kind("Secret"))
    for role, deployment in deployments_by_role().items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        sources = container["envFrom"]
        assert [s["configMapRef"]["name"] for s in sources if "configMapRef" in s] == sorted(
            config_maps
        ), role
        # The Secret comes last, so its keys override the ConfigMap's.
        assert "secretRef" in sources[-1], role
        assert sources[-1]["secretRef"]["name"] in secrets, role


@pytest.mark.parametrize("role", sorted(HEALTH_PORTS))
def test_roles_serving_http_have_liveness_and_readiness_probes_on_their_port(role: str) -> None:
    deployment = deployments_by_role()[role]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    liveness, readiness = (
        container["livenessProbe"]["httpGet"],
        container["readinessProbe"]["httpGet"],
    )
    assert (liveness["path"], readiness["path"]) == ("/healthz", "/readyz")
    settings = ROLE_SETTINGS[role](pod_environ())
    assert (
        ports[liveness["port"]] == ports[readiness["port"]] == getattr(settings, HEALTH_PORTS[role])
    )
    # The role listens on every interface, or the kubelet could not reach it.
    assert getattr(settings, HEALTH_HOSTS[role]) == "0.0.0.0"  # noqa: S104


def test_roles_serving_no_http_get_no_http_probe() -> None:
    # A probe on a port nobody serves would restart the pod forever.
    for role, deployment in deployments_by_role().items():
        if role not in HEALTH_PORTS:
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            probes = [key for key in container if key.endswith("Probe")]
            assert probes == [], role


def test_services_select_a_deployment_and_target_a_port_it_declares() -> None:
    for name, service in of_kind("Service").items():
        selector = service["spec"]["selector"]
        matching = [
            deployment
            for deployment in of_kind("Deployment").values()
            if selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, name
        (container,) = matching[0]["spec"]["template"]["spec"]["containers"]
        declared = {port["name"] for port in container["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= declared, name


def test_there_are_services_for_the_api_and_the_metrics() -> None:
    targets = {
        (service["spec"]["selector"]["app.kubernetes.io/component"], port["targetPort"])
        for service in of_kind("Service").values()
        for port in service["spec"]["ports"]
    }
    assert targets == {("api", "http"), ("delivery", "metrics")}


def test_pods_run_unprivileged_with_a_writable_tmp_only() -> None:
    for role, deployment in deployments_by_role().items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, role
        assert pod["securityContext"]["runAsUser"] != 0, role
        assert pod["automountServiceAccountToken"] is False, role
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, role
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, role
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert "/tmp" in mounts, role  # noqa: S108


def volume_at(deployment: dict[str, Any], path: str) -> dict[str, Any]:
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == path]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    return volume


def test_the_processor_keeps_rocksdb_on_an_empty_dir_at_its_data_dir() -> None:
    settings = ROLE_SETTINGS["processor"](pod_environ())
    assert settings.store == "rocksdb"  # type: ignore[attr-defined]
    volume = volume_at(deployments_by_role()["processor"], str(settings.data_dir))  # type: ignore[attr-defined]
    assert "emptyDir" in volume


def test_ingest_runs_alone_with_its_inbox_on_a_claim_of_the_base() -> None:
    deployment = deployments_by_role()["ingest"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    volume = volume_at(deployment, "/var/lib/cprbroker/inbox")
    assert volume["persistentVolumeClaim"]["claimName"] in of_kind("PersistentVolumeClaim")
