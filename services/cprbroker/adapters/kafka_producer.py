"""Starting a Kafka producer with cprbroker's error at the boundary."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cprbroker.core.errors import KafkaUnavailableError


async def start_producer(producer: AIOKafkaProducer, bootstrap_servers: str) -> None:
    """Start ``producer``; if Kafka cannot be reached, release it and raise
    :class:`KafkaUnavailableError` naming ``bootstrap_servers``."""
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise KafkaUnavailableError(f"cannot reach {bootstrap_servers}: {exc}") from exc
