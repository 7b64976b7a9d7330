"""Settings of ``cprbroker run``: the four roles' own settings and the inbox,
built once from the environment (and flags) and kept consistent: one Kafka,
one set of topic names, one partition count, one callback allow-list."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from cprbroker.api.settings import ApiSettings
from cprbroker.core.errors import SettingsError
from cprbroker.core.topics import TopicNames
from cprbroker.delivery.settings import DeliverySettings
from cprbroker.ingest.inbox import InboxSettings
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.settings import ProcessorSettings

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
LOOPBACK_CIDRS = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything ``cprbroker run`` hosts.

    ``bootstrap_servers`` is None when no Kafka was named: ``cprbroker run``
    then starts the project's local broker. ``drain_timeout`` bounds how long
    a stop waits for the file being ingested before cancelling it (it is then
    published again on the next start).
    """

    ingest: IngestSettings = field(default_factory=IngestSettings)
    processor: ProcessorSettings = field(default_factory=ProcessorSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    bootstrap_servers: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RunSettings:
        """Each role's settings from ``environ`` (see their ``with_environ``),
        the inbox from ``CPRBROKER_INBOX``, ``CPRBROKER_INBOX_SETTLE``,
        ``CPRBROKER_INBOX_GAP_WAIT`` and ``CPRBROKER_INBOX_POLL`` (seconds).
        SettingsError names a bad variable."""
        bootstrap = environ.get(BOOTSTRAP_ENV, "").strip() or None
        return cls(
            ingest=IngestSettings().with_environ(environ),
            processor=ProcessorSettings().with_environ(environ),
            api=ApiSettings().with_environ(environ),
            delivery=DeliverySettings().with_environ(environ),
            inbox=InboxSettings().with_environ(environ),
            bootstrap_servers=bootstrap,
        )

    def with_bootstrap(self, bootstrap_servers: str) -> RunSettings:
        """Every role on the Kafka at ``bootstrap_servers``."""
        return replace(
            self,
            bootstrap_servers=bootstrap_servers,
            ingest=replace(self.ingest, bootstrap_servers=bootstrap_servers),
            processor=replace(self.processor, bootstrap_servers=bootstrap_servers),
            api=replace(self.api, bootstrap_servers=bootstrap_servers),
            delivery=replace(self.delivery, bootstrap_servers=bootstrap_servers),
        )

    def with_partitions(self, partitions: int) -> RunSettings:
        """Topics the roles create get ``partitions`` partitions."""
        return replace(
            self,
            ingest=replace(self.ingest, partitions=partitions),
            processor=replace(self.processor, partitions=partitions),
            api=replace(self.api, topic_partitions=partitions),
            delivery=replace(self.delivery, topic_partitions=partitions),
        )

    def allowing_callbacks(self, cidrs: tuple[str, ...]) -> RunSettings:
        """The API accepts, and delivery calls, webhook hosts in ``cidrs`` too."""
        api_cidrs = tuple(dict.fromkeys((*self.api.callback_allow_cidrs, *cidrs)))
        delivery_cidrs = tuple(dict.fromkeys((*self.delivery.callback_allow_cidrs, *cidrs)))
        return replace(
            self,
            api=replace(self.api, callback_allow_cidrs=api_cidrs),
            delivery=replace(self.delivery, callback_allow_cidrs=delivery_cidrs),
        )

    def namespaced(self, prefix: str) -> RunSettings:
        """Every topic, consumer group and processor app id prefixed with
        ``prefix`` (a run that must not meet earlier state on a shared Kafka)."""
        names = self.ingest.topics
        topics = replace(
            names, **{f.name: prefix + getattr(names, f.name) for f in dataclasses.fields(names)}
        )
        known = prefix + self.processor.known_pnrs_topic
        return replace(
            self,
            ingest=replace(self.ingest, topics=topics),
            processor=replace(
                self.processor,
                topics=topics,
                known_pnrs_topic=known,
                app_id=prefix + self.processor.app_id,
            ),
            api=replace(self.api, topics=topics, known_pnrs_topic=known),
            delivery=replace(
                self.delivery, topics=topics, group_id=prefix + self.delivery.group_id
            ),
        )

    def consistent(self) -> None:
        """Raise SettingsError when the roles disagree on topic names (each
        role reads its own variables; they must name the same topics)."""
        expected: TopicNames = self.ingest.topics
        for role, topics in (
            ("processor", self.processor.topics),
            ("api", self.api.topics),
            ("delivery", self.delivery.topics),
        ):
            if topics != expected:
                raise SettingsError(f"the {role} topics differ from ingest's: {topics}")
        if self.api.known_pnrs_topic != self.processor.known_pnrs_topic:
            raise SettingsError("the API and the processor name different known-PNR topics")
