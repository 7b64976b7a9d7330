"""The error tree of cprbroker. Third-party errors are translated into these at
the boundary (``raise ... from exc``), so callers handle one family.

::

    CprBrokerError
    ├── InputError                 bad input from outside; never retried
    │   ├── ExtractError           a CPR extract file or record is wrong
    │   │   ├── FramingError       the file as a whole is refused (000/999, counter)
    │   │   └── RecordError        one person is refused (file, line, field, value)
    │   ├── PnrError               a CPR number is not well-formed
    │   ├── ApiClientError         an API client record or operator request is wrong
    │   ├── ValidationError        an API document is wrong at a JSON pointer
    │   ├── CallbackUrlError       a webhook URL is refused (scheme, host, address policy)
    │   ├── WebhookSecretError     a webhook secret is not ``whsec_`` + base64
    │   ├── WebhookSignatureError  a received webhook fails signature or timestamp checks
    │   └── DeliveryPolicyError    a retry ladder, duration or delivery setting is malformed
    └── InfrastructureError        something we depend on failed; retriable
        ├── LocalKafkaError        the local Kafka tooling could not fetch/start/stop
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


class InfrastructureError(CprBrokerError):
    """A dependency (Kafka, the JVM, the network) failed; retrying may help."""

    retriable = True


class LocalKafkaError(InfrastructureError):
    """The local Kafka tooling could not fetch, format, start or stop a broker."""


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


class CallbackUrlError(InputError):
    """A webhook callback URL is refused: wrong scheme, no host, or an address the
    policy forbids (private, loopback, link-local, ... and not allow-listed)."""


class WebhookSecretError(InputError):
    """A webhook signing secret is not ``whsec_`` followed by base64 key bytes."""


class WebhookSignatureError(InputError):
    """A received webhook has missing headers, a stale timestamp or no valid signature."""


class DeliveryPolicyError(InputError):
    """A delivery setting (retry ladder, duration, clamp, threshold) is malformed."""
