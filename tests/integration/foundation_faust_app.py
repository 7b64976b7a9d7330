"""A minimal faust-streaming worker for the foundation test: count words into a Table.

Run as ``python -m tests.integration.foundation_faust_app worker --without-web``
with its configuration in ``FOUNDATION_*`` environment variables (this is a
test program; the product's roles take typed settings instead).

Every record on the source topic is one word (its key). The agent adds one to
the word's count in the ``counts`` table, whose changelog topic is the only
durable copy of the counts, and publishes ``word -> count`` on the counts
topic so the test can watch what the worker believes.
"""

from __future__ import annotations

import os

import faust

APP_ID = os.environ["FOUNDATION_APP_ID"]

app = faust.App(
    APP_ID,
    broker=f"kafka://{os.environ['FOUNDATION_BOOTSTRAP']}",
    store=os.environ.get("FOUNDATION_STORE", "memory://"),
    datadir=os.environ["FOUNDATION_DATA_DIR"],
    topic_partitions=1,
    topic_replication_factor=1,
    table_standby_replicas=0,
    consumer_auto_offset_reset="earliest",
    # Commit after every event and often: the test kills the worker once the
    # commit is visible, and should not wait long for it.
    broker_commit_every=1,
    broker_commit_interval=0.5,
    # A killed worker leaves its group member behind until its session times
    # out: keep that short, yet long enough that a worker on a busy machine
    # is not thrown out of its group for a slow heartbeat.
    broker_session_timeout=10.0,
    broker_heartbeat_interval=1.0,
    broker_rebalance_timeout=20.0,
    stream_recovery_delay=0.0,
    web_enabled=False,
)

source = app.topic(
    os.environ["FOUNDATION_SOURCE_TOPIC"],
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)
counts_out = app.topic(
    os.environ["FOUNDATION_COUNTS_TOPIC"],
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)
counts = app.Table(
    "counts",
    default=int,
    partitions=1,
    key_type=str,
    value_type=int,
)


@app.agent(source)
async def count_words(stream: faust.StreamT[bytes]) -> None:
    async for event in stream.events():
        word = bytes(event.key).decode()
        counts[word] += 1
        await counts_out.send(key=word.encode(), value=str(counts[word]).encode())


if __name__ == "__main__":
    app.main()
