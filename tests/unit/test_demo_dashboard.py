"""The demo's live view: the screen, the plain status lines (printed only when
a figure changes) and the final line."""

from __future__ import annotations

import dataclasses
import io

from cprbroker.demo.dashboard import Banner, LiveView, render_screen, status_line, summary
from cprbroker.demo.figures import Figures

BANNER = Banner(
    api_url="http://127.0.0.1:8080",
    token="cprb_token",  # noqa: S106 - a placeholder, not a credential
    subscription_id="sub-1",
    receiver_url="http://127.0.0.1:9000/webhook",
    inbox="var/demo/inbox",
)


def figures(**changes: object) -> Figures:
    base = Figures(
        elapsed=75.2,
        files_waiting=1,
        files_processed=2,
        files_rejected=1,
        current_file="D240306.L907001",
        persons_published=20_100,
        person_messages=20_000,
        person_messages_processed=10_000,
        events=120,
        events_expected=225,
        fanout_events=120,
        deliveries_written=120,
        delivered=100,
        retrying=2,
        dead_lettered=0,
        received=100,
        refused=0,
        duplicates=3,
        last=("14:00:01  moved  A01  010170-****  kommune 0101->0147",),
        rejections=("D240309.L907001: gap",),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_screen_shows_the_api_token_progress_and_last_deliveries() -> None:
    screen = "\n".join(render_screen(figures(), BANNER))
    assert "01:15" in screen
    assert "http://127.0.0.1:8080" in screen
    assert (
        'curl -H "Authorization: Bearer cprb_token" http://127.0.0.1:8080/v1/subscriptions/sub-1'
        in screen
    )
    assert "[###############---------------] 10,000 / 20,000" in screen
    assert "120 on the events topic (the deltas' ground truth: 225)" in screen
    assert "100 delivered, 2 to retry" in screen
    assert "now: D240306.L907001" in screen
    assert "rejected   D240309.L907001: gap" in screen
    assert "010170-****" in screen


def test_unknown_kafka_figures_show_as_question_marks() -> None:
    screen = "\n".join(render_screen(figures(person_messages=None, events=None, last=()), BANNER))
    assert "? / ? person messages" not in screen  # processed is known
    assert "10,000 / ? person messages" in screen
    assert "? on the events topic" in screen
    assert "(none yet)" in screen
    line = status_line(figures(events=None))
    assert " events=? " in line


def test_the_status_line_is_key_values() -> None:
    line = status_line(figures())
    assert line.startswith("demo.status elapsed_s=75 ")
    pairs = dict(pair.split("=", 1) for pair in line.split()[1:])
    assert pairs["person_messages_processed"] == "10000"
    assert pairs["received"] == "100"
    assert pairs["events_expected"] == "225"
    assert pairs["files_rejected"] == "1"


def test_plain_view_writes_only_when_a_figure_changes() -> None:
    out = io.StringIO()
    view = LiveView(out, BANNER, terminal=False)
    view.show(figures())
    view.show(figures(elapsed=80.0))  # only the clock moved
    view.show(figures(received=101))
    view.final(figures(received=101))
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["demo.status", "demo.status", "demo.final"]
    assert "received=101" in lines[-1]


def test_terminal_view_redraws_and_ends_with_a_summary() -> None:
    out = io.StringIO()
    view = LiveView(out, BANNER, terminal=True)
    view.show(figures())
    view.show(figures())
    view.final(figures())
    text = out.getvalue()
    assert text.count("\x1b[H\x1b[J") == 2
    assert text.rstrip().endswith(summary(figures()))
    assert "100 received and verified" in summary(figures())
