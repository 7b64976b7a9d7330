"""Settings of ``cprbroker run`` and ``cprbroker demo``: one Kafka, one set of
names for every role, the demo's names apart on a shared Kafka, the inbox
from the environment, and a demo folder that is never someone else's."""

from __future__ import annotations

from pathlib import Path

import pytest

from cprbroker.commands.demo import MARKER, prepare_workdir
from cprbroker.core.errors import InputError, SettingsError
from cprbroker.ingest.inbox import InboxSettings
from cprbroker.run.settings import LOOPBACK_CIDRS, RunSettings


def test_the_environment_reaches_every_role() -> None:
    settings = RunSettings.from_environ(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
            "CPRBROKER_TOPIC_EVENTS": "site.events",
            "CPRBROKER_INBOX": "/srv/inbox",
            "CPRBROKER_INBOX_GAP_WAIT": "5",
        }
    )
    assert settings.bootstrap_servers == "kafka:9092"
    for role in (settings.ingest, settings.processor, settings.api, settings.delivery):
        assert role.bootstrap_servers == "kafka:9092"
        assert role.topics.events == "site.events"
    assert settings.inbox.root == Path("/srv/inbox")
    assert settings.inbox.gap_wait_seconds == 5.0
    settings.consistent()


def test_no_bootstrap_means_the_local_kafka_is_to_be_started() -> None:
    settings = RunSettings.from_environ({})
    assert settings.bootstrap_servers is None
    local = settings.with_bootstrap("127.0.0.1:40000")
    assert {
        local.ingest.bootstrap_servers,
        local.processor.bootstrap_servers,
        local.api.bootstrap_servers,
        local.delivery.bootstrap_servers,
    } == {"127.0.0.1:40000"}


def test_namespaced_settings_share_nothing_with_the_plain_ones() -> None:
    plain = RunSettings()
    demo = plain.namespaced("demo-1234.")
    plain_names = set(vars_of(plain))
    demo_names = set(vars_of(demo))
    assert plain_names.isdisjoint(demo_names)
    assert all(name.startswith("demo-1234.") for name in demo_names)
    demo.consistent()


def vars_of(settings: RunSettings) -> list[str]:
    topics = settings.ingest.topics
    return [
        *(getattr(topics, name) for name in topics.__dataclass_fields__),
        settings.processor.known_pnrs_topic,
        settings.processor.app_id,
        settings.delivery.group_id,
        settings.delivery.redrive_topic,
    ]


def test_loopback_is_allowed_for_api_and_delivery_alike() -> None:
    settings = RunSettings.from_environ({"CPRBROKER_CALLBACK_ALLOW_CIDRS": "10.0.0.0/8"})
    allowed = settings.allowing_callbacks(LOOPBACK_CIDRS)
    assert allowed.api.callback_allow_cidrs == ("10.0.0.0/8", *LOOPBACK_CIDRS)
    assert allowed.delivery.callback_allow_cidrs == ("10.0.0.0/8", *LOOPBACK_CIDRS)
    assert allowed.allowing_callbacks(LOOPBACK_CIDRS) == allowed


def test_partitions_reach_every_role() -> None:
    settings = RunSettings().with_partitions(3)
    assert settings.ingest.partitions == 3
    assert settings.processor.partitions == 3
    assert settings.api.topic_partitions == 3
    assert settings.delivery.topic_partitions == 3


def test_roles_naming_different_topics_are_refused() -> None:
    settings = RunSettings()
    broken = RunSettings(
        ingest=settings.ingest,
        processor=settings.processor,
        api=settings.api,
        delivery=settings.namespaced("x.").delivery,
    )
    with pytest.raises(SettingsError, match="delivery"):
        broken.consistent()


def test_bad_inbox_settings_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="CPRBROKER_INBOX_SETTLE"):
        InboxSettings().with_environ({"CPRBROKER_INBOX_SETTLE": "soon"})
    with pytest.raises(SettingsError, match="poll"):
        InboxSettings(poll_seconds=0)
    with pytest.raises(SettingsError, match="gap"):
        InboxSettings(gap_wait_seconds=-1)


def test_the_demo_folder_is_wiped_only_when_it_is_the_demos(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=MARKER):
        prepare_workdir(foreign)
    assert (foreign / "thesis.tex").exists()

    demo = tmp_path / "demo"
    prepare_workdir(demo)
    (demo / "inbox").mkdir()
    (demo / "inbox" / "old-file").write_text("x", encoding="utf-8")
    prepare_workdir(demo)
    assert (demo / MARKER).exists()
    assert not (demo / "inbox").exists()
