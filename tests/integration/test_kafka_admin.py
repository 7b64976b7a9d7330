"""Topic administration on a real Kafka: what is created can be deleted again,
and deleting is idempotent."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka.admin import AIOKafkaAdminClient

from cprbroker.adapters.kafka_admin import delete_topics, ensure_topics
from cprbroker.core.topics import TopicSpec


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _settled(bootstrap: str, gone: set[str]) -> set[str]:
    """The topic list once ``gone`` left it (the broker's metadata follows
    the controller's a moment later), or as it is after 30 s."""
    for _ in range(300):
        topics = await _topics(bootstrap)
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

    deleted = await delete_topics(kafka_bootstrap, [names[0], names[1], f"{stem}.never-made"])

    assert deleted == sorted(names[:2])
    remaining = await _settled(kafka_bootstrap, set(names[:2]))
    assert names[2] in remaining
    assert not remaining & set(names[:2])
    assert await delete_topics(kafka_bootstrap, names[:2]) == []
    assert await delete_topics(kafka_bootstrap, [names[2]]) == [names[2]]
