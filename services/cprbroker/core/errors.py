"""The error tree of cprbroker. Third-party errors are translated into these at
the boundary (``raise ... from exc``), so callers handle one family.

::

    CprBrokerError
    ├── InputError                 bad input from outside; never retried
    │   ├── ExtractError           a CPR extract file or record is wrong
    │   │   ├── FramingError       the file as a whole is refused (000/999, counter)
    │   │   ├── SequenceError      the file does not follow the last applied one (gap, older)
    │   │   └── RecordError        one person is refused (file, line, field, value)
    │   ├── CatalogueError         the event catalogue file is wrong (file, key, value)
    │   ├── EventFormatError       an event or snapshot document is malformed (JSON pointer)
    │   ├── PnrError               a CPR number is not well-formed
    │   ├── ApiClientError         an API client record or operator request is wrong
    │   ├── SettingsError          a setting (environment variable or flag) is malformed
    │   ├── ValidationError        an API document is wrong at a JSON pointer
    │   ├── CallbackUrlError       a webhook URL is refused (scheme, host, address policy)
    │   ├── WebhookSecretError     a webhook secret is not ``whsec_`` + base64
    │   ├── WebhookSignatureError  a received webhook fails signature or timestamp checks
    │   └── DeliveryPolicyError    a retry ladder, duration or delivery setting is malformed
    └── InfrastructureError        something we depend on failed; retriable
        ├── LocalKafkaError        the local Kafka tooling could not fetch/start/stop
        ├── ReplicaStoreError      the local replica store could not be read or written
        └── KafkaUnavailableError  a Kafka request failed or timed out

Each class carries ``retriable``: whether trying the same thing again may work.
"""

from __future__ import annotations


class CprBrokerError(Exception):
    """Base of every error cprbroker raises on purpose."""

    retriable: bool = False


class InputError(CprBrokerError):
    """Input from outside is wrong; retrying the same input cannot help."""

    retriable = False


class ExtractError(InputError):
    """A CPR extract file, or a record in it, is wrong.

    ``source`` names the file (or other origin) and ``line`` the 1-based line
    (in files without line breaks: the record's ordinal), when known.
    """

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.line = line


class FramingError(ExtractError):
    """The file as a whole is refused: missing or misplaced 000/999, counter
    mismatch, truncated or wrongly sized records, wrong encoding."""

    def __init__(self, source: str, reason: str, *, line: int | None = None) -> None:
        where = f"{source}: line {line}" if line is not None else source
        super().__init__(f"{where}: file refused: {reason}", source=source, line=line)
        self.reason = reason


class SequenceError(ExtractError):
    """The file is refused because of where it stands in the sequence of
    extracts: its PRODDTOFORRIG is not the last applied PRODDTO (a gap), or it
    is older than the last applied file. The message names both dates."""


class RecordError(ExtractError):
    """One record is wrong, so the person it belongs to is refused.

    Carries the file, line, record type, field name and raw field value. The
    message repeats the value except for CPR-number fields (``value_in_message``
    false), so the message can be logged; ``value`` and ``pnr`` (the person
    refused, ``None`` if unknown) are for the caller to show on purpose.
    """

    def __init__(
        self,
        *,
        source: str,
        line: int,
        record_type: str,
        field: str,
        value: str,
        reason: str,
        pnr: str | None = None,
        value_in_message: bool = True,
    ) -> None:
        shown = repr(value) if value_in_message else f"<{len(value)} characters, not shown>"
        super().__init__(
            f"{source}: line {line}: record {record_type!r} field {field}: {reason}: {shown}",
            source=source,
            line=line,
        )
        self.record_type = record_type
        self.field = field
        self.value = value
        self.reason = reason
        self.pnr = pnr


class CatalogueError(InputError):
    """The event catalogue (the CPR-code to event-type mapping) is wrong; the
    message names the file, the key and the value."""


class EventFormatError(InputError):
    """An event or snapshot document (JSON or Avro) is malformed; the message
    names the JSON pointer of the first bad value, or the encoding fault."""


class PnrError(InputError):
    """A CPR number is not well-formed (the message never repeats the number)."""


class InfrastructureError(CprBrokerError):
    """A dependency (Kafka, the JVM, the network) failed; retrying may help."""

    retriable = True


class LocalKafkaError(InfrastructureError):
    """The local Kafka tooling could not fetch, format, start or stop a broker."""


class ReplicaStoreError(InfrastructureError):
    """The local replica store (the state directory of ``cprbroker events``)
    could not be opened, read or written."""


class KafkaUnavailableError(InfrastructureError):
    """A request to the Kafka cluster failed or timed out."""


class ValidationError(InputError):
    """A JSON document from outside (a subscription, a filter) is wrong.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value (``""``
    for the whole document), ``detail`` says what is wrong with it in words
    fit for an API client.
    """

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(f"{pointer or '(document)'}: {detail}")
        self.pointer = pointer
        self.detail = detail


class ApiClientError(InputError):
    """An API client name, record or operator request (create, revoke) is wrong."""


class SettingsError(InputError):
    """A setting from the environment or the command line is malformed; the
    message names the variable or flag and the value."""


class CallbackUrlError(InputError):
    """A webhook callback URL is refused: wrong scheme, no host, or an address the
    policy forbids (private, loopback, link-local, ... and not allow-listed)."""


class WebhookSecretError(InputError):
    """A webhook signing secret is not ``whsec_`` followed by base64 key bytes."""


class WebhookSignatureError(InputError):
    """A received webhook has missing headers, a stale timestamp or no valid signature."""


class DeliveryPolicyError(InputError):
    """A delivery setting (retry ladder, duration, clamp, threshold) is malformed."""
