"""The ``cprbroker`` command frame: every command is reachable and documented."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from cprbroker import cli


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_registers_under_its_name_with_the_listed_summary(name: str) -> None:
    parser = cli.build_parser(name)
    subparsers = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
    assert name in subparsers.choices
    helps = {action.dest: action.help for action in subparsers._choices_actions}
    assert helps[name] == cli.COMMANDS[name][1]


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_answers_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"cprbroker {name}" in capsys.readouterr().out


def test_the_chosen_command_is_the_first_non_option_argument() -> None:
    assert cli.chosen_command(["parse", "file.txt"]) == "parse"
    assert cli.chosen_command(["--help"]) is None
    assert cli.chosen_command(["nonsense"]) is None


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["nonsense"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_command_modules_exist() -> None:
    for module_name, _summary in cli.COMMANDS.values():
        assert hasattr(importlib.import_module(module_name), "register")


def test_ingest_health_flags_go_with_watch_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extract = tmp_path / "d.txt"
    extract.write_text("", encoding="utf-8")
    assert cli.main(["ingest", "--health-port", "9200", str(extract)]) == 2
    assert "--health-port and --no-health go with --watch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["ingest", "--watch", str(tmp_path), "--health-port", "1", "--no-health"])
