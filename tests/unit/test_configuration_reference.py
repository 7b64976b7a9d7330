"""docs/configuration.md against the code: every environment variable the code
reads is documented, every documented one is read, by the roles the
document says, and its documented default is the default.

The code's variables are found statically (tests/unit/environ_names.py); the
document's are the first column of its tables. Each documented variable is
then probed: set to a valid sample value, it must change the settings of the
roles it is documented for (and of no other role: a role's own section lists
variables only that role reads), and set to its documented default, it must
change nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.unit.environ_names import Scan, scan_package, scan_sources
from tests.unit.role_settings import ROLE_SETTINGS, SettingsBuild, changes, roles_changed

from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings
from cprbroker.core.topics import TopicNames
from cprbroker.ingest.inbox import InboxSettings
from cprbroker.ingest.settings import IngestSettings
from cprbroker.run.settings import RunSettings

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "configuration.md"
README = REPO / "README.md"
PACKAGE = REPO / "services" / "cprbroker"

# Every settings object built from the environment, by the name the
# document's "Read by" column and sections use. The local Kafka's paths are
# relative to the checkout: here the current folder, so the documented
# relative defaults compare equal.
BUILDS: dict[str, SettingsBuild] = {
    **ROLE_SETTINGS,
    # The document lists ingest's and its inbox's variables in sections of their own.
    "ingest": lambda environ: IngestSettings().with_environ(environ),
    "inbox": lambda environ: InboxSettings().with_environ(environ),
    "local Kafka": lambda environ: LocalKafkaSettings.for_project(Path()).with_environ(environ),
}
RUN: SettingsBuild = RunSettings.from_environ

# Sections whose table has no "Read by" column: the one role they describe.
SECTION_ROLES = {
    "Ingest": "ingest",
    "Inbox": "inbox",
    "Processor": "processor",
    "API": "api",
    "Delivery": "delivery",
    "Local Kafka": "local Kafka",
}
# Sections repeating variables of several roles for one command.
COMPOSITE_SECTIONS = {"Run and demo": RUN}

# Read outside any settings object, so no probe can see them.
UNPROBED = {
    "CPRBROKER_LOG_LEVEL": "cprbroker.cli.main configures logging before any command runs",
}

# A valid value differing from the default, per variable (topic names: below).
SAMPLES = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka-1.example:9092,kafka-2.example:9092",
    "CPRBROKER_PARTITIONS": "12",
    "CPRBROKER_CALLBACK_ALLOW_CIDRS": "10.20.0.0/16, fd00::/8",
    "CPRBROKER_EVENT_CATALOGUE": "/etc/cprbroker/catalogue.toml",
    "CPRBROKER_KNOWN_PNRS_TOPIC": "site.cpr.known-pnrs",
    "CPRBROKER_LOG_LEVEL": "DEBUG",
    "CPRBROKER_INGEST_LINGER_MS": "5",
    "CPRBROKER_INGEST_BATCH_BYTES": "1048576",
    "CPRBROKER_INGEST_COMPRESSION": "zstd",
    "CPRBROKER_INGEST_WINDOW": "5000",
    "CPRBROKER_INBOX": "/srv/cpr/inbox",
    "CPRBROKER_INBOX_SETTLE": "2.5",
    "CPRBROKER_INBOX_GAP_WAIT": "600",
    "CPRBROKER_INBOX_POLL": "0.2",
    "CPRBROKER_INBOX_STALL": "900",
    "CPRBROKER_INBOX_HEALTH_HOST": "192.0.2.11",
    "CPRBROKER_INBOX_HEALTH_PORT": "9201",
    "CPRBROKER_PROCESSOR_APP_ID": "site-processor",
    "CPRBROKER_PROCESSOR_DATA_DIR": "/var/lib/cprbroker/processor",
    "CPRBROKER_PROCESSOR_HEALTH_HOST": "192.0.2.10",
    "CPRBROKER_PROCESSOR_HEALTH_PORT": "9200",
    "CPRBROKER_PROCESSOR_STORE": "memory",
    "CPRBROKER_PROCESSOR_BATCH_SIZE": "500",
    "CPRBROKER_PROCESSOR_BATCH_SECONDS": "0.1",
    "CPRBROKER_PROCESSOR_LINGER_MS": "5",
    "CPRBROKER_PROCESSOR_BATCH_BYTES": "1048576",
    "CPRBROKER_PROCESSOR_COMPRESSION": "lz4",
    "CPRBROKER_PROCESSOR_COMMIT_INTERVAL": "5",
    "CPRBROKER_PROCESSOR_EVENT_SOURCE": "urn:example:cpr",
    "CPRBROKER_API_HOST": "0.0.0.0",  # noqa: S104 - a sample value, nothing binds it
    "CPRBROKER_API_PORT": "8443",
    "CPRBROKER_API_MAX_BODY_BYTES": "2097152",
    "CPRBROKER_DELIVERY_GROUP": "site-delivery",
    "CPRBROKER_TOPIC_PARTITIONS": "12",
    "CPRBROKER_RETRY_LADDER": "10s,1m,1h",
    "CPRBROKER_RETRY_JITTER": "0.1",
    "CPRBROKER_SHORT_RETRY_ATTEMPTS": "5",
    "CPRBROKER_SHORT_RETRY_WINDOW": "10s",
    "CPRBROKER_RETRY_AFTER_MAX": "2h",
    "CPRBROKER_WEBHOOK_TIMEOUT": "5s",
    "CPRBROKER_WEBHOOK_CONNECTIONS_PER_HOST": "16",
    "CPRBROKER_DELIVERY_CONCURRENCY": "4",
    "CPRBROKER_DELIVERY_MAX_IN_FLIGHT": "500",
    "CPRBROKER_CIRCUIT_OPEN": "1m",
    "CPRBROKER_FAILURE_WINDOW": "7d",
    "CPRBROKER_SECRET_ROTATION_GRACE": "1h",
    "CPRBROKER_METRICS_HOST": "0.0.0.0",  # noqa: S104 - a sample value, nothing binds it
    "CPRBROKER_METRICS_PORT": "off",
    "CPRBROKER_DRAIN_TIMEOUT": "1m",
    "CPRBROKER_KAFKA_JARS_DIR": "/opt/kafka/libs",
    "CPRBROKER_KAFKA_STATE_DIR": "/srv/kafka/state",
    "CPRBROKER_KAFKA_JAVA": "/usr/lib/jvm/java-21/bin/java",
    "JAVA_HOME": "/usr/lib/jvm/java-21",
    "CPRBROKER_KAFKA_MVN": "/opt/maven/bin/mvn",
    "CPRBROKER_KAFKA_HEAP_MB": "1024",
    "CPRBROKER_KAFKA_PORT": "19092",
    "CPRBROKER_KAFKA_QUICK_JIT": "yes",
    "CPRBROKER_KAFKA_START_TIMEOUT": "120",
    "CPRBROKER_KAFKA_STOP_TIMEOUT": "10",
} | {
    f"CPRBROKER_TOPIC_{f.name.upper()}": f"site.{f.default}" for f in dataclasses.fields(TopicNames)
}


@dataclass(frozen=True)
class Row:
    """One variable row of a table in the document."""

    section: str
    variable: str
    default: str | None  # the value the Default cell starts with, if it starts with one
    flags: tuple[str, ...]  # the options named in the Flag cell
    read_by: tuple[str, ...] | None  # the "Read by" cell, when the table has that column
    line: int

    def __str__(self) -> str:
        return f"{self.variable} ({self.section}, docs/configuration.md:{self.line})"

    def key(self) -> str:
        """A test id: section and variable."""
        return f"{self.section}:{self.variable}"


def document_rows(text: str) -> list[Row]:
    """The variable rows of every table in ``text``, with their section."""
    rows, section, header = [], "", None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            section, header = line.lstrip("#").strip(), None
        elif not line.startswith("|"):
            header = None
        else:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not set(line) <= set("|- "):
                columns = dict(zip(header, cells, strict=True))
                variable = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", columns["Variable"])
                assert variable, f"docs/configuration.md:{number}: no `VARIABLE` in {line!r}"
                default = re.match(r"`([^`]*)`", columns["Default"])
                read_by = columns.get("Read by")
                rows.append(
                    Row(
                        section,
                        variable.group(1),
                        default.group(1) if default else None,
                        tuple(re.findall(r"`(--[a-z-]+)", columns["Flag"])),
                        tuple(r.strip() for r in read_by.split(",")) if read_by else None,
                        number,
                    )
                )
    return rows


ROWS = document_rows(DOC.read_text(encoding="utf-8"))
PROBED_ROWS = [row for row in ROWS if row.variable not in UNPROBED]


def builds_of(row: Row) -> dict[str, SettingsBuild]:
    """The settings ``row`` says its variable changes."""
    if row.section in COMPOSITE_SECTIONS:
        return {row.section: COMPOSITE_SECTIONS[row.section]}
    if row.read_by is not None:
        unknown = set(row.read_by) - set(BUILDS)
        assert not unknown, f"{row}: Read by names {unknown}; known: {sorted(BUILDS)}"
        return {role: BUILDS[role] for role in row.read_by}
    assert row.section in SECTION_ROLES, f"{row}: section {row.section!r} has no role here"
    role = SECTION_ROLES[row.section]
    return {role: BUILDS[role]}


@pytest.fixture(scope="module")
def scan() -> Scan:
    return scan_package(PACKAGE)


def test_the_scan_works_out_every_composed_name(scan: Scan) -> None:
    assert scan.unresolved == [], "extend tests/unit/environ_names.py for these forms"


def test_the_scan_finds_each_form_the_settings_modules_use(scan: Scan) -> None:
    topic_names = {f"CPRBROKER_TOPIC_{f.name.upper()}" for f in dataclasses.fields(TopicNames)}
    assert topic_names <= set(scan.names)  # f"{ENV_PREFIX}TOPIC_{f.name.upper()}"
    assert {
        "KAFKA_BOOTSTRAP_SERVERS",  # BOOTSTRAP_ENV = "..."
        "CPRBROKER_API_HOST",  # ENV_PREFIX + "API_HOST"
        "CPRBROKER_API_PORT",  # ENV_PREFIX + name, name from a table
        "CPRBROKER_PROCESSOR_APP_ID",  # f"{ENV_PREFIX}PROCESSOR_{suffix}", a module table
        "CPRBROKER_KAFKA_HEAP_MB",  # text(name) inside number(name, kind), from a table
        "JAVA_HOME",  # environ.get("JAVA_HOME", "")
        "CPRBROKER_LOG_LEVEL",  # os.environ.get("CPRBROKER_LOG_LEVEL", ...)
    } <= set(scan.names)


SAMPLE_PACKAGE = {
    "pkg.names": """
ENV_PREFIX = "CPRBROKER_"
TABLE = (("ALPHA", 1), ("BETA", 2))

@dataclass
class Names:
    first: str = "a"
    second_one: str = "b"
    kind: ClassVar[str] = "x"
""",
    "pkg.read": """
import os
from pkg.names import ENV_PREFIX, TABLE, Names

def read(environ):
    def text(name):
        return environ.get(ENV_PREFIX + name, "")
    text("DIRECT")
    for suffix, _ in TABLE:
        text(f"GROUP_{suffix}")
    topics = {f.name: text(f"NAME_{f.name.upper()}") for f in fields(Names)}
    return os.environ.get("HOME_DIR"), os.environ["LITERAL_KEY"], "KAFKA_BOOTSTRAP_SERVERS"

class Reader:
    def text(self, name):
        return self._environ.get(ENV_PREFIX + name)

def use(reader, thing):
    reader.text("METHOD_ARGUMENT")
    return thing.environ.get(f"{ENV_PREFIX}{thing.attribute}", "")
""",
}


def test_the_scan_follows_tables_helpers_fields_and_imports_and_says_what_it_cannot() -> None:
    found = scan_sources({name: (Path(name), text) for name, text in SAMPLE_PACKAGE.items()})
    assert set(found.names) == {
        "CPRBROKER_DIRECT",
        "CPRBROKER_GROUP_ALPHA",
        "CPRBROKER_GROUP_BETA",
        "CPRBROKER_NAME_FIRST",
        "CPRBROKER_NAME_SECOND_ONE",
        "CPRBROKER_METHOD_ARGUMENT",
        "HOME_DIR",
        "LITERAL_KEY",
        "KAFKA_BOOTSTRAP_SERVERS",
    }
    assert len(found.unresolved) == 1
    assert "thing.attribute" in found.unresolved[0]


def test_every_variable_the_code_reads_is_documented(scan: Scan) -> None:
    documented = {row.variable for row in ROWS}
    missing = {name: sorted(scan.names[name]) for name in sorted(set(scan.names) - documented)}
    assert missing == {}, "read by the code (where shown) but not in docs/configuration.md"


def test_every_documented_variable_is_one_the_code_reads(scan: Scan) -> None:
    unread = sorted(str(row) for row in ROWS if row.variable not in scan.names)
    assert unread == []


def test_each_probed_row_names_known_settings() -> None:
    for row in PROBED_ROWS:
        assert builds_of(row), row


@pytest.mark.parametrize("row", PROBED_ROWS, ids=Row.key)
def test_a_sample_value_changes_exactly_the_settings_the_document_names(row: Row) -> None:
    assert row.variable in SAMPLES, f"{row}: add a valid sample value to SAMPLES"
    environ = {row.variable: SAMPLES[row.variable]}
    if row.section in COMPOSITE_SECTIONS:
        assert changes(COMPOSITE_SECTIONS[row.section], environ), row
        return
    assert roles_changed(environ, BUILDS) == set(builds_of(row)), row


@pytest.mark.parametrize(
    "row", [row for row in PROBED_ROWS if row.default is not None], ids=Row.key
)
def test_the_documented_default_changes_nothing(row: Row) -> None:
    assert row.default is not None
    assert row.default != SAMPLES[row.variable], f"{row}: the sample must differ from the default"
    for role, build in builds_of(row).items():
        assert not changes(build, {row.variable: row.default}), f"{row}: not {role}'s default"


@pytest.mark.parametrize("name", sorted(UNPROBED))
def test_unprobed_variables_are_documented_and_change_no_settings(name: str) -> None:
    assert name in {row.variable for row in ROWS}
    environ: Mapping[str, str] = {name: SAMPLES[name]}
    assert roles_changed(environ, BUILDS) == set()
    assert not changes(RUN, environ)


def test_each_documented_flag_is_an_option_of_some_command() -> None:
    commands = (PACKAGE / "commands").glob("*.py")
    defined = {
        flag
        for path in commands
        for flag in re.findall(r"add_argument\(\s*\"(--[a-z-]+)\"", path.read_text("utf-8"))
    }
    unknown = sorted(f"{row}: {flag}" for row in ROWS for flag in row.flags if flag not in defined)
    assert unknown == []
    assert sum(len(row.flags) for row in ROWS) > 20  # the cells were read


def test_the_readme_links_the_configuration_reference() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "](docs/configuration.md)" in readme, (
        "README.md must link docs/configuration.md (its Configuration section)"
    )
