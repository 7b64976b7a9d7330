"""Each role's settings, built from an environment the way its command builds
them, and which of them an environment changes.

The settings objects are the authority on environment variables: a role
reads a variable when setting it changes that role's settings. The
deployment tests and the configuration reference test share this notion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cprbroker.api.settings import ApiSettings
from cprbroker.delivery.settings import DeliverySettings
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.settings import ProcessorSettings

SettingsBuild = Callable[[Mapping[str, str]], object]

# The roles deployed one per container, each built as its command does.
ROLE_SETTINGS: dict[str, SettingsBuild] = {
    "ingest": lambda environ: IngestSettings().with_environ(environ),
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
