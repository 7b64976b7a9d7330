"""Each role's settings, built from an environment the way its command builds
them, and which of them an environment changes.

The settings objects are the authority on environment variables: a role
reads a variable when setting it changes that role's settings. The
deployment tests and the configuration reference test share this notion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cprbroker.api.settings import ApiSettings
from cprbroker.delivery.settings import DeliverySettings
from cprbroker.ingest.inbox import InboxSettings
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.settings import ProcessorSettings

SettingsBuild = Callable[[Mapping[str, str]], object]


@dataclass(frozen=True)
class WatchSettings:
    """What ``cprbroker ingest --watch`` (ingest as deployed) reads: ingest's
    settings and the inbox's, which hold its health endpoint."""

    ingest: IngestSettings
    inbox: InboxSettings

    @property
    def health_port(self) -> int | None:
        return self.inbox.health_port

    @property
    def health_host(self) -> str:
        return self.inbox.health_host


def watch_settings(environ: Mapping[str, str]) -> WatchSettings:
    return WatchSettings(
        IngestSettings().with_environ(environ), InboxSettings().with_environ(environ)
    )


# The roles deployed one per container, each built as its command does.
ROLE_SETTINGS: dict[str, SettingsBuild] = {
    "ingest": watch_settings,
    "processor": lambda environ: ProcessorSettings().with_environ(environ),
    "api": lambda environ: ApiSettings().with_environ(environ),
    "delivery": lambda environ: DeliverySettings().with_environ(environ),
}


def changes(build: SettingsBuild, environ: Mapping[str, str]) -> bool:
    """Whether the settings ``build`` makes of ``environ`` differ from those it
    makes of an empty environment. A value the settings refuse raises."""
    return build(environ) != build({})


def roles_changed(
    environ: Mapping[str, str], builds: Mapping[str, SettingsBuild] = ROLE_SETTINGS
) -> set[str]:
    """The roles of ``builds`` whose settings ``environ`` changes."""
    return {role for role, build in builds.items() if changes(build, environ)}
