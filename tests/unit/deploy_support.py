"""What the deployment tests share: paths, YAML and schema loading, which
environment variables the roles read, and every topic the code uses.

The roles' settings objects are the authority on environment variables: a
variable is "read" when setting it changes some role's settings (or makes the
role refuse the value); see :mod:`tests.unit.role_settings`. The topics come
from the same functions the roles call to create their topics, plus the
processor's faust-internal topics.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from tests.unit.role_settings import ROLE_SETTINGS, changes

from cprbroker.api.runner import api_topic_specs
from cprbroker.api.settings import ApiSettings
from cprbroker.core.errors import SettingsError
from cprbroker.core.topics import TopicSpec, topic_specs
from cprbroker.delivery.runner import delivery_topic_specs
from cprbroker.delivery.settings import DeliverySettings
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.settings import ProcessorSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
FIXTURES = REPO / "tests" / "fixtures" / "deploy"

# The roles that serve /healthz and /readyz over HTTP (every deployed one), and
# the settings attribute holding that port ...
HEALTH_PORTS = {
    "api": "port",
    "delivery": "metrics_port",
    "processor": "health_port",
    "ingest": "health_port",
}
# ... and the setting naming the address it listens on.
HEALTH_HOSTS = {
    "api": "host",
    "delivery": "metrics_host",
    "processor": "health_host",
    "ingest": "health_host",
}

# Values that differ from every default and are malformed for most settings:
# one of them changes or breaks any setting a role reads.
_PROBES = ("7", "not a valid value!", "10.99.0.0/16", "123s")


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The non-empty YAML documents of ``path``."""
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document]


def load_json(path: Path) -> Any:
    """``path`` parsed as JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def roles_reading(name: str) -> list[str]:
    """The roles whose settings change, or refuse the value, when ``name`` is set."""
    readers = []
    for role, build in ROLE_SETTINGS.items():
        for probe in _PROBES:
            try:
                if changes(build, {name: probe}):
                    readers.append(role)
                    break
            except SettingsError:
                readers.append(role)
                break
    return readers


def settings_errors(environ: Mapping[str, str]) -> dict[str, str]:
    """Per role, the error its settings raise for ``environ`` (empty: all accept it)."""
    errors = {}
    for role, build in ROLE_SETTINGS.items():
        try:
            build(environ)
        except SettingsError as exc:
            errors[role] = str(exc)
    return errors


def image_environ() -> dict[str, str]:
    """The ``ENV`` settings of the runtime stage of deploy/Dockerfile (no ``${...}``)."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    runtime = text.split(" AS runtime", 1)[1]
    return {
        name: value
        for line in runtime.splitlines()
        if line.startswith("ENV ")
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", line)
        if "$" not in value
    }


def interpolate(value: str, variables: Mapping[str, str] | None = None) -> str:
    """Compose's ``${NAME}`` and ``${NAME:-default}`` substitution."""
    variables = variables or {}

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        return variables.get(name) or default

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", substitute, value)


def used_topic_specs(environ: Mapping[str, str]) -> dict[str, TopicSpec]:
    """Every topic the roles use under ``environ``, by name, as the roles create them.

    Two roles asking for the same topic must agree on how it is created.
    """
    ingest = IngestSettings().with_environ(environ)
    processor = ProcessorSettings().with_environ(environ)
    specs: list[TopicSpec] = [
        *topic_specs(ingest.topics, ingest.partitions),
        *processor_specs(processor),
        *api_topic_specs(ApiSettings().with_environ(environ)),
        *delivery_topic_specs(DeliverySettings().with_environ(environ)),
    ]
    return merge_specs(specs)


def merge_specs(specs: Iterable[TopicSpec]) -> dict[str, TopicSpec]:
    """``specs`` by name; AssertionError when two differ for one name."""
    merged: dict[str, TopicSpec] = {}
    for spec in specs:
        known = merged.setdefault(spec.name, spec)
        assert known == spec, f"roles disagree on topic {spec.name}: {known} vs {spec}"
    return merged


def processor_specs(settings: ProcessorSettings) -> list[TopicSpec]:
    """The processor's shared topics and the internal topics its faust app declares."""
    from cprbroker.processor.runner import processor_topic_specs

    return [*processor_topic_specs(settings), *_faust_topics(settings)]


@functools.cache
def _faust_topics(settings: ProcessorSettings) -> tuple[TopicSpec, ...]:
    # The app is only built, never started: its tables' changelogs, its own
    # internal topic and the assignor's leader topic are declared on it.
    from cprbroker.processor.app import Processor

    processor = Processor(settings, None, partitions=settings.partitions)  # type: ignore[arg-type]
    app = processor.app
    topics = [table.changelog_topic for table in app.tables.values()]
    topics.append(processor.loads_topic)
    topics.append(app._leader_assignor._leader_topic)
    return tuple(
        TopicSpec(
            name=topic.get_topic_name(),
            partitions=topic.partitions,
            compacted=bool(topic.compacting),
            retention_ms=None if topic.retention is None else int(topic.retention * 1000),
        )
        for topic in topics
    )
