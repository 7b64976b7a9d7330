"""The pure parts of the local Kafka tooling: configuration, ports, the jar stamp."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from cprbroker.adapters.local_kafka import BrokerState, read_state, stop_broker
from cprbroker.adapters.local_kafka_jars import (
    STAMP_NAME,
    JarStamp,
    count_downloads,
    fetch_jars,
    pom_sha256,
    require_jars,
)
from cprbroker.adapters.local_kafka_probe import choose_free_ports, parse_bootstrap_servers
from cprbroker.adapters.local_kafka_settings import (
    LocalKafkaSettings,
    find_project_root,
    jvm_command,
    render_server_properties,
)
from cprbroker.core.errors import LocalKafkaError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def properties(text: str) -> dict[str, str]:
    entries = [line.split("=", 1) for line in text.splitlines() if line and line[0] != "#"]
    return dict(entries)


def test_server_properties_describe_one_kraft_node_on_loopback(tmp_path: Path) -> None:
    rendered = properties(
        render_server_properties(port=19092, controller_port=19093, data_dir=tmp_path / "data")
    )
    assert rendered["process.roles"] == "broker,controller"
    assert rendered["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert rendered["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert rendered["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert rendered["log.dirs"] == str(tmp_path / "data")
    assert rendered["offsets.topic.replication.factor"] == "1"
    assert rendered["transaction.state.log.replication.factor"] == "1"
    assert rendered["group.initial.rebalance.delay.ms"] == "0"
    all_hosts = rendered["listeners"] + rendered["advertised.listeners"]
    assert "0.0.0.0" not in all_hosts  # noqa: S104  (that is what must not be there)
    assert "localhost" not in all_hosts


def test_jvm_command_bounds_the_broker_heap_and_uses_the_jar_folder(tmp_path: Path) -> None:
    settings = LocalKafkaSettings(
        project_root=tmp_path, jars_dir=tmp_path / "libs", state_dir=tmp_path / "run", heap_mb=640
    )
    broker = jvm_command(
        settings, logs_dir=tmp_path / "logs", main_class="kafka.Kafka", arguments=["s.properties"]
    )
    assert broker[0] == "java"
    assert "-Xmx640m" in broker
    assert broker[broker.index("-cp") + 1] == str(tmp_path / "libs" / "*")
    assert broker[-2:] == ["kafka.Kafka", "s.properties"]
    assert f"-Dkafka.logs.dir={tmp_path / 'logs'}" in broker
    tool = jvm_command(
        settings,
        logs_dir=tmp_path,
        main_class="kafka.tools.StorageTool",
        arguments=[],
        short_lived=True,
    )
    assert "-Xmx640m" not in tool
    assert "-XX:TieredStopAtLevel=1" in tool
    assert "-XX:TieredStopAtLevel=1" not in broker
    quick = LocalKafkaSettings(
        project_root=tmp_path, jars_dir=tmp_path, state_dir=tmp_path, quick_jit=True
    )
    assert "-XX:TieredStopAtLevel=1" in jvm_command(
        quick, logs_dir=tmp_path, main_class="kafka.Kafka", arguments=[]
    )


def test_free_ports_are_distinct_bindable_and_not_excluded() -> None:
    taken = choose_free_ports(1)[0]
    ports = choose_free_ports(5, exclude={taken})
    assert len(set(ports)) == 5
    assert taken not in ports
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # raises if the port were in use


def test_bootstrap_servers_are_parsed_and_bad_ones_named() -> None:
    assert parse_bootstrap_servers("127.0.0.1:9092, kafka-1:9093") == [
        ("127.0.0.1", 9092),
        ("kafka-1", 9093),
    ]
    assert parse_bootstrap_servers("[::1]:9092") == [("::1", 9092)]
    with pytest.raises(LocalKafkaError, match="'kafka-1'"):
        parse_bootstrap_servers("127.0.0.1:9092,kafka-1")
    with pytest.raises(LocalKafkaError, match="no bootstrap server"):
        parse_bootstrap_servers(" , ")


def test_settings_from_environment(tmp_path: Path) -> None:
    base = LocalKafkaSettings.for_project(tmp_path)
    assert base.jars_dir == tmp_path / ".cache/kafka/libs"
    assert base.state_dir == tmp_path / ".cache/kafka/run"
    assert base.pom == tmp_path / "deploy/kafka/pom.xml"
    assert base.with_environ({}) == base
    changed = base.with_environ(
        {
            "JAVA_HOME": "/opt/jdk",
            "CPRBROKER_KAFKA_HEAP_MB": "768",
            "CPRBROKER_KAFKA_STATE_DIR": "/srv/kafka-state",
            "CPRBROKER_KAFKA_START_TIMEOUT": "12.5",
        }
    )
    assert changed.java == "/opt/jdk/bin/java"
    assert (changed.heap_mb, changed.state_dir, changed.start_timeout_s) == (
        768,
        Path("/srv/kafka-state"),
        12.5,
    )
    explicit = base.with_environ({"JAVA_HOME": "/opt/jdk", "CPRBROKER_KAFKA_JAVA": "/usr/bin/java"})
    assert explicit.java == "/usr/bin/java"
    assert base.with_environ({"CPRBROKER_KAFKA_QUICK_JIT": "yes"}).quick_jit
    with pytest.raises(LocalKafkaError, match="QUICK_JIT='maybe'"):
        base.with_environ({"CPRBROKER_KAFKA_QUICK_JIT": "maybe"})
    with pytest.raises(LocalKafkaError, match="CPRBROKER_KAFKA_HEAP_MB='lots'"):
        base.with_environ({"CPRBROKER_KAFKA_HEAP_MB": "lots"})


def test_project_root_is_found_from_inside_the_checkout() -> None:
    assert find_project_root(PROJECT_ROOT / "services" / "cprbroker") == PROJECT_ROOT
    with pytest.raises(LocalKafkaError, match=r"deploy/kafka/pom\.xml"):
        find_project_root(Path("/"))


def test_stamp_round_trips_and_rejects_damage() -> None:
    stamp = JarStamp(pom_sha256="ab" * 32, jars=("a.jar", "b.jar"))
    assert JarStamp.from_json(stamp.to_json()) == stamp
    assert JarStamp.from_json("{") is None
    assert JarStamp.from_json('{"pom_sha256": 1, "jars": []}') is None
    assert JarStamp.from_json('{"pom_sha256": "x", "jars": [1]}') is None
    assert JarStamp.from_json("[]") is None


def test_stamp_covers_only_the_same_pom_with_every_jar_present() -> None:
    stamp = JarStamp(pom_sha256="abc", jars=("a.jar", "b.jar"))
    assert stamp.covers("abc", ["a.jar", "b.jar", "extra.jar"])
    assert not stamp.covers("abd", ["a.jar", "b.jar"])
    assert not stamp.covers("abc", ["a.jar"])
    assert not JarStamp(pom_sha256="abc", jars=()).covers("abc", [])


def test_downloads_are_counted_from_maven_batch_output() -> None:
    output = (
        "[INFO] Downloading from central: https://repo/x.pom\n"
        "[INFO] Downloaded from central: https://repo/x.pom (2 kB at 9 kB/s)\n"
        "[INFO] Downloaded from central: https://repo/x.jar (1 MB at 2 MB/s)\n"
        "[INFO] Copying x.jar to /libs/x.jar\n"
    )
    assert count_downloads(output) == 2
    assert count_downloads("[INFO] BUILD SUCCESS\n") == 0


def fake_checkout(tmp_path: Path, pom: str) -> LocalKafkaSettings:
    (tmp_path / "deploy/kafka").mkdir(parents=True)
    (tmp_path / "deploy/kafka/pom.xml").write_text(pom)
    # A Maven that does not exist: any attempt to run it fails loudly.
    settings = LocalKafkaSettings.for_project(tmp_path)
    return LocalKafkaSettings(
        project_root=settings.project_root,
        jars_dir=settings.jars_dir,
        state_dir=settings.state_dir,
        mvn=str(tmp_path / "no-maven-here"),
    )


def test_fetch_runs_nothing_when_the_stamp_matches_the_pom(tmp_path: Path) -> None:
    settings = fake_checkout(tmp_path, "<project>v1</project>")
    settings.jars_dir.mkdir(parents=True)
    (settings.jars_dir / "kafka.jar").write_bytes(b"x" * 10)
    stamp = JarStamp(pom_sha256=pom_sha256(settings.pom), jars=("kafka.jar",))
    (settings.jars_dir / STAMP_NAME).write_text(stamp.to_json())

    outcome = fetch_jars(settings)

    assert (outcome.mode, outcome.jars, outcome.total_bytes, outcome.downloaded) == (
        "up-to-date",
        1,
        10,
        0,
    )
    assert require_jars(settings) == stamp


def test_fetch_for_a_changed_pom_clears_old_jars_and_needs_maven(tmp_path: Path) -> None:
    settings = fake_checkout(tmp_path, "<project>v2</project>")
    settings.jars_dir.mkdir(parents=True)
    (settings.jars_dir / "kafka-old.jar").write_bytes(b"old")
    old = JarStamp(pom_sha256="sha-of-v1", jars=("kafka-old.jar",))
    (settings.jars_dir / STAMP_NAME).write_text(old.to_json())
    with pytest.raises(LocalKafkaError, match=r"another\s+deploy/kafka/pom\.xml"):
        require_jars(settings)

    with pytest.raises(LocalKafkaError, match=r"Maven .* is not on PATH"):
        fetch_jars(settings)

    # An older Kafka's jars would shadow the new ones on the classpath.
    assert not (settings.jars_dir / "kafka-old.jar").exists()
    assert not (settings.jars_dir / STAMP_NAME).exists()


def test_missing_jar_makes_the_stamp_insufficient(tmp_path: Path) -> None:
    settings = fake_checkout(tmp_path, "<project/>")
    settings.jars_dir.mkdir(parents=True)
    stamp = JarStamp(pom_sha256=pom_sha256(settings.pom), jars=("gone.jar",))
    (settings.jars_dir / STAMP_NAME).write_text(stamp.to_json())
    with pytest.raises(LocalKafkaError, match="cprbroker kafka fetch"):
        require_jars(settings)


def test_stop_ignores_a_recorded_pid_that_is_not_its_broker(tmp_path: Path) -> None:
    settings = LocalKafkaSettings.for_project(tmp_path)
    settings.state_dir.mkdir(parents=True)
    # A stale record whose PID now belongs to someone else (here: this test).
    stale = BrokerState(
        pid=os.getpid(),
        port=1,
        controller_port=2,
        cluster_id="x",
        properties=str(settings.state_dir / "server.properties"),
        data_dir="d",
        server_log="s",
        jvm_log="j",
        started_at="2026-01-01T00:00:00+00:00",
    )
    (settings.state_dir / "broker.json").write_text(stale.to_json())
    assert read_state(settings.state_dir) == stale

    assert stop_broker(settings) == "not-running"  # and this process is still here

    assert read_state(settings.state_dir) is None
