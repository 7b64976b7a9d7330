"""Topic administration on a Kafka cluster: list the topics, create what is
missing, and delete what a tool made for itself, idempotently."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError

from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.topics import TopicSpec


async def topic_names(bootstrap_servers: str) -> set[str]:
    """The names of every topic on the cluster."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        return set(await admin.list_topics())
    except KafkaError as exc:
        raise KafkaUnavailableError(f"could not list topics on {bootstrap_servers}: {exc}") from exc
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec], *, replication_factor: int = 1
) -> list[str]:
    """Create every topic in ``specs`` that does not exist yet.

    Returns the names of the topics created by this call. Existing topics are
    left as they are (their partition count and configs are not changed).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        wanted = [spec for spec in specs if spec.name not in existing]
        if not wanted:
            return []
        new_topics = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                topic_configs=spec.configs(),
            )
            for spec in wanted
        ]
        # Another process may create them between our listing and our request.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new_topics)
        return [spec.name for spec in wanted]
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"could not create topics on {bootstrap_servers}: {exc}"
        ) from exc
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, names: Iterable[str]) -> list[str]:
    """Delete every topic in ``names`` that exists; return the names deleted.

    For the benchmarks, which make topics of their own per run: a broker used
    for many runs would otherwise keep thousands of partitions nobody reads.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        doomed = sorted({name for name in names if name in existing})
        if doomed:
            # Another process may delete them between our listing and our request.
            with contextlib.suppress(UnknownTopicOrPartitionError):
                await admin.delete_topics(doomed)
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"could not delete topics on {bootstrap_servers}: {exc}"
        ) from exc
    finally:
        await admin.close()
    return doomed
