"""The demo's live view: a screen redrawn every second on a terminal, or one
``demo.status key=value ...`` line whenever a figure changes when stdout is
not a terminal (logs, CI, tests). Rendering is pure; :class:`LiveView` writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from cprbroker.demo.figures import Figures

_BAR = 30
_CLEAR = "\x1b[H\x1b[J"  # cursor home, clear to the end of the screen


@dataclass(frozen=True, slots=True)
class Banner:
    """What the user needs to try the API by hand."""

    api_url: str
    token: str
    subscription_id: str
    receiver_url: str
    inbox: str
    log_file: str | None = None

    def lines(self) -> list[str]:
        """The banner, printed once at start and atop every screen."""
        lines = [
            f"API        {self.api_url}   (OpenAPI: {self.api_url}/v1/openapi.json)",
            f"token      {self.token}",
            f'try        curl -H "Authorization: Bearer {self.token}" '
            f"{self.api_url}/v1/subscriptions/{self.subscription_id}",
            f"webhook    {self.receiver_url}   (demo receiver: verifies every signature)",
            f"inbox      {self.inbox}   (drop delta files here, full extracts in full/)",
        ]
        if self.log_file is not None:
            lines.append(f"logs       {self.log_file}")
        return lines


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _bar(done: int | None, total: int | None) -> str:
    if done is None or not total:
        return "[" + " " * _BAR + "]"
    filled = min(_BAR, round(_BAR * done / total))
    return "[" + "#" * filled + "-" * (_BAR - filled) + "]"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def render_screen(figures: Figures, banner: Banner) -> list[str]:
    """The terminal screen for ``figures``."""
    f = figures
    current = f"   now: {f.current_file}" if f.current_file else ""
    lines = [
        f"cprbroker demo   {_clock(f.elapsed)}   Ctrl-C stops everything",
        "",
        *banner.lines(),
        "",
        f"files      {f.files_processed} processed, {f.files_rejected} rejected, "
        f"{f.files_waiting} in the inbox{current}",
        f"ingest     {f.persons_published:,} person messages published",
        f"processor  {_bar(f.person_messages_processed, f.person_messages)} "
        f"{_count(f.person_messages_processed)} / {_count(f.person_messages)} "
        "person messages processed",
        f"events     {_count(f.events)} on the events topic "
        f"(the deltas' ground truth: {f.events_expected:,})",
        f"delivery   {f.fanout_events:,} events matched, {f.deliveries_written:,} deliveries, "
        f"{f.delivered:,} delivered, {f.retrying:,} to retry, {f.dead_lettered:,} dead-lettered",
        f"receiver   {f.received:,} verified, {f.refused:,} refused (bad signature), "
        f"{f.duplicates:,} duplicates",
    ]
    lines.extend(f"rejected   {rejection}" for rejection in f.rejections)
    lines += ["", "last deliveries received"]
    lines += [f"  {line}" for line in f.last] or ["  (none yet)"]
    return lines


def status_fields(figures: Figures) -> dict[str, str]:
    """The figures as key-value pairs (the plain line; time left out)."""
    f = figures
    return {
        "files_processed": str(f.files_processed),
        "files_rejected": str(f.files_rejected),
        "files_waiting": str(f.files_waiting),
        "persons_published": str(f.persons_published),
        "person_messages": _count(f.person_messages).replace(",", ""),
        "person_messages_processed": _count(f.person_messages_processed).replace(",", ""),
        "events": _count(f.events).replace(",", ""),
        "events_expected": str(f.events_expected),
        "deliveries": str(f.deliveries_written),
        "delivered": str(f.delivered),
        "retrying": str(f.retrying),
        "dead_lettered": str(f.dead_lettered),
        "received": str(f.received),
        "refused": str(f.refused),
        "duplicates": str(f.duplicates),
    }


def status_line(figures: Figures) -> str:
    """``demo.status elapsed_s=12 files_processed=4 ...``."""
    pairs = " ".join(f"{key}={value}" for key, value in status_fields(figures).items())
    return f"demo.status elapsed_s={figures.elapsed:.0f} {pairs}"


class LiveView:
    """Shows figures on ``out``: a redrawn screen on a terminal, else status lines."""

    def __init__(self, out: TextIO, banner: Banner, *, terminal: bool) -> None:
        self._out = out
        self._banner = banner
        self._terminal = terminal
        self._last: dict[str, str] | None = None

    def show(self, figures: Figures) -> None:
        """Draw ``figures`` (plain mode: only when a figure changed)."""
        if self._terminal:
            self._out.write(_CLEAR + "\n".join(render_screen(figures, self._banner)) + "\n")
        else:
            fields = status_fields(figures)
            if fields == self._last:
                return
            self._last = fields
            self._out.write(status_line(figures) + "\n")
        self._out.flush()

    def final(self, figures: Figures) -> None:
        """The last figures, always written: a summary on a terminal, else a
        ``demo.final`` status line."""
        if self._terminal:
            self._out.write(summary(figures) + "\n")
        else:
            self._out.write(status_line(figures).replace("demo.status", "demo.final", 1) + "\n")
        self._out.flush()


def summary(figures: Figures) -> str:
    """What the session did, in one sentence."""
    f = figures
    return (
        f"after {_clock(f.elapsed)}: {f.files_processed} files processed, "
        f"{f.files_rejected} rejected; {_count(f.events)} events; {f.delivered:,} deliveries "
        f"sent, {f.received:,} received and verified ({f.refused:,} refused)"
    )
