"""command, shell, script: changed unless creates/removes say otherwise; check mode runs nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule, make_ctx

from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeConnection, table

pytestmark = pytest.mark.unit


def run_fake(module: str, args: dict[str, object], conn: FakeConnection, **kw: object):  # type: ignore[no-untyped-def]
    mod = lookup(module)
    assert mod is not None
    return mod.run(make_ctx(module, args, conn, **kw))  # type: ignore[arg-type]


def test_shell_runs_through_the_shell_and_reports_changed(run_local: RunModule) -> None:
    res = run_local("shell", {"cmd": "echo one | tr o O"})
    assert res.changed and not res.failed
    assert res.rc == 0 and res.stdout == "One\n"


def test_command_does_not_interpret_shell_syntax(run_local: RunModule) -> None:
    res = run_local("command", {"cmd": "echo a | tr a b"})
    assert res.stdout == "a | tr a b\n"


def test_command_argv_is_quoted_word_by_word(run_local: RunModule) -> None:
    res = run_local("command", {"argv": ["printf", "%s|", "two words", "*", "$(id)"]})
    assert res.stdout == "two words|*|$(id)|"


def test_a_non_zero_exit_fails_with_the_return_code(run_local: RunModule) -> None:
    res = run_local("shell", {"cmd": "echo oops >&2; exit 3"})
    assert res.failed and res.rc == 3 and res.stderr == "oops\n"


def test_creates_skips_when_the_path_exists(run_local: RunModule, tmp_path: Path) -> None:
    marker = tmp_path / "done"
    args = {"cmd": f"touch {marker}", "creates": str(marker)}
    assert run_local("shell", args).changed
    second = run_local("shell", args)
    assert not second.changed and "exists" in second.msg


def test_removes_skips_when_the_path_is_absent(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("command", {"cmd": "false", "removes": str(tmp_path / "nope")})
    assert not res.changed and not res.failed


def test_chdir_runs_in_that_directory(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("shell", {"cmd": "pwd", "chdir": str(tmp_path)})
    assert res.stdout.strip() == str(tmp_path)


def test_stdin_is_fed_to_the_command(run_local: RunModule) -> None:
    assert run_local("shell", {"cmd": "cat", "stdin": "hi"}).stdout == "hi\n"


def test_check_mode_skips_a_command_without_creates_or_removes() -> None:
    conn = FakeConnection("h1")
    res = run_fake("shell", {"cmd": "rm -rf /srv/app"}, conn, check=True)
    assert res.skipped and not res.changed
    assert conn.commands == []


def test_check_mode_predicts_from_creates_without_running() -> None:
    conn = FakeConnection("h1", table({r"\[ -e": (0, "", "")}))
    res = run_fake(
        "shell", {"cmd": "make install", "creates": "/usr/local/bin/app"}, conn, check=True
    )
    assert res.changed and res.msg == "would run (check mode)"
    assert not any("make install" in c for c in conn.commands)


def test_check_mode_with_creates_present_is_ok() -> None:
    conn = FakeConnection("h1", table({r"\[ -e": (0, "creates\n", "")}))
    res = run_fake(
        "shell", {"cmd": "make install", "creates": "/usr/local/bin/app"}, conn, check=True
    )
    assert not res.changed and not res.skipped


def test_a_timed_out_command_fails_saying_so() -> None:
    conn = FakeConnection("h1", delay=0.2)
    mod = lookup("shell")
    assert mod is not None
    ctx = make_ctx("shell", {"cmd": "sleep 1"}, conn)
    from dataclasses import replace

    res = mod.run(replace(ctx, timeout=0.05))
    assert res.failed and "timed out" in res.msg


def test_script_uploads_and_runs_a_controller_script(run_local: RunModule, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    script = tmp_path / "files" / "hello.sh"
    script.write_text('#!/bin/sh\necho "hello $1"\n')
    res = run_local("script", {"cmd": "hello.sh world"})
    assert res.changed and res.stdout == "hello world\n"


def test_command_and_shell_register_ansibles_keys(run_local: RunModule, tmp_path: Path) -> None:
    res = run_local("command", {"cmd": "echo hi"})
    assert res.registered is not None
    value = dict(res.registered)
    assert sorted(value) == sorted(
        [
            "changed",
            "cmd",
            "delta",
            "end",
            "failed",
            "msg",
            "rc",
            "start",
            "stderr",
            "stderr_lines",
            "stdout",
            "stdout_lines",
        ]
    )
    assert value["cmd"] == ["echo", "hi"] and value["stdout"] == "hi" and value["msg"] == ""
    assert value["delta"].startswith("0:00:")
    shell = run_local("shell", {"cmd": "exit 3"})
    assert shell.registered is not None and shell.registered["cmd"] == "exit 3"
    # Ansible's command reports a failed run as changed, with its own message
    assert shell.failed and shell.changed and shell.registered["msg"] == "non-zero return code"


def test_creates_and_removes_register_rc_0_and_why(run_local: RunModule, tmp_path: Path) -> None:
    made = tmp_path / "made"
    made.write_text("")
    res = run_local("command", {"cmd": "echo hi", "creates": str(made)})
    assert res.registered is not None and not res.changed
    assert res.registered["rc"] == 0
    assert res.registered["stdout"] == f"skipped, since {made} exists"
    assert res.registered["stdout_lines"] == [f"skipped, since {made} exists"]
    assert res.registered["msg"] == f"Did not run command since '{made}' exists"
    assert res.registered["start"] is None
    gone = run_local("shell", {"cmd": "echo hi", "removes": str(tmp_path / "nope")})
    assert gone.registered is not None and gone.registered["rc"] == 0
    assert gone.registered["stdout"] == f"skipped, since {tmp_path / 'nope'} does not exist"


def test_command_expands_set_variables_and_tilde_as_ansible(run_local: RunModule) -> None:
    res = run_local(
        "command",
        {"cmd": 'printf "[%s]" "$GREETING" ${GREETING}x $NOT_SET_ANYWHERE_X ~ "a b*"'},
        environment={"GREETING": "hi there"},
    )
    home = os.path.expanduser("~")
    assert res.stdout == f"[hi there][hi therex][$NOT_SET_ANYWHERE_X][{home}][a b*]"
    kept = run_local(
        "command",
        {"argv": ["printf", "%s", "$GREETING"], "expand_argument_vars": False},
        environment={"GREETING": "hi"},
    )
    assert kept.stdout == "$GREETING"
