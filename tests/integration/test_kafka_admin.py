"""Topic administration on a real Kafka: what is created is listed and can be
deleted again, and deleting is idempotent."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cprbroker.adapters.kafka_admin import delete_topics, ensure_topics, topic_names
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.topics import TopicSpec


async def _settled(bootstrap: str, gone: set[str]) -> set[str]:
    """The topic list once ``gone`` left it (the broker's metadata follows
    the controller's a moment later), or as it is after 30 s."""
    for _ in range(300):
        topics = await topic_names(bootstrap)
        if not topics & gone:
            return topics
        await asyncio.sleep(0.1)
    return topics


async def test_created_topics_are_deleted_and_others_left_alone(kafka_bootstrap: str) -> None:
    stem = f"test.admin.{uuid.uuid4().hex[:8]}"
    names = [f"{stem}.plain", f"{stem}.compacted", f"{stem}.kept"]
    created = await ensure_topics(
        kafka_bootstrap,
        [
            TopicSpec(names[0], 3, False, None),
            TopicSpec(names[1], 1, True, None),
            TopicSpec(names[2], 1, False, None),
        ],
    )
    assert sorted(created) == sorted(names)
    assert set(names) <= await topic_names(kafka_bootstrap)

    deleted = await delete_topics(kafka_bootstrap, [names[0], names[1], f"{stem}.never-made"])

    assert deleted == sorted(names[:2])
    remaining = await _settled(kafka_bootstrap, set(names[:2]))
    assert names[2] in remaining
    assert not remaining & set(names[:2])
    assert await delete_topics(kafka_bootstrap, names[:2]) == []
    assert await delete_topics(kafka_bootstrap, [names[2]]) == [names[2]]


async def test_an_unreachable_cluster_is_named() -> None:
    for call in (topic_names("127.0.0.1:1"), delete_topics("127.0.0.1:1", ["any"])):
        with pytest.raises(KafkaUnavailableError, match=r"topics on 127\.0\.0\.1:1"):
            await call
